//! Medicare does not pay an E/M billed with 57 (decision for surgery) on the
//! day of or the day before a procedure with a 000 or 010 global period
//! (Medicare Claims Processing Manual ch. 12 §30.6.6); 57 is for major
//! (090-day) procedures. Enabled per payer (Medicare by default).

use chrono::Days;

use super::{Report, Rule, RuleContext, RuleMeta, RuleSource, finding};
use crate::domain::finding::Severity;
use crate::domain::service_type::ServiceType;

/// A 57 visit before a minor procedure.
#[derive(Debug, Clone, Copy)]
pub struct DecisionForMinorSurgery;

impl DecisionForMinorSurgery {
    const META: RuleMeta = RuleMeta {
        id: "MODIFIER_57_MINOR_PROCEDURE",
        description: "57 on an E/M with a 000/010-global procedure the same or next day is not payable (Medicare)",
        severity: Severity::Error,
        source: RuleSource::Payer,
        enabled_by_default: false,
    };
}

impl Rule for DecisionForMinorSurgery {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }
    fn evaluate(&self, context: &RuleContext<'_>, out: &mut Report) {
        let attributes = &context.catalog.procedures.attributes;
        let lines: Vec<_> = context.lines().collect();
        for (number, line, date) in &lines {
            let Some(date) = date else { continue };
            let em = attributes
                .get(line.procedure_code.as_str())
                .is_some_and(|a| a.service_type == ServiceType::EvaluationManagement);
            if !em || !line.has_modifier("57") {
                continue;
            }
            let minor = lines.iter().find_map(|(_, other, other_date)| {
                let other_date = (*other_date)?;
                let next_day = date.checked_add_days(Days::new(1))?;
                if other_date != *date && other_date != next_day {
                    return None;
                }
                let code = other.procedure_code.as_str();
                let global = context.catalog.fee_schedule(other_date)?.global_row(code)?;
                matches!(global.global_days.as_str(), "000" | "010").then(|| code.to_owned())
            });
            if let Some(code) = minor {
                let mut f = finding(
                    self,
                    *number,
                    format!("lines[{}].modifiers", number - 1),
                    format!(
                        "57 with {code}, a minor (000/010-global) procedure: the visit is not payable with 57"
                    ),
                );
                f.suggestion =
                    Some("use 25 if the visit was significant and separately identifiable".into());
                out.push(f);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{clean_claim, fired, line};

    #[test]
    fn a_57_visit_with_an_excision_fires_and_25_is_silent() {
        let mut claim = clean_claim();
        claim.lines.insert(0, line("99213", &["57"], &[1]));
        assert_eq!(fired(&DecisionForMinorSurgery, &claim).len(), 1);
        claim.lines[0].modifiers = vec!["25".into()];
        assert!(fired(&DecisionForMinorSurgery, &claim).is_empty());
    }
}
