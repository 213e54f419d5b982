//! A same-day visit with a minor procedure (000 or 010 global days) is part
//! of the procedure unless it is significant and separately identifiable,
//! which modifier 25 on the visit says.

use super::{Report, Rule, RuleContext, RuleMeta, RuleSource, finding};
use crate::domain::finding::Severity;
use crate::domain::service_type::ServiceType;

/// An E/M line without 25 next to a minor procedure of the same day.
#[derive(Debug, Clone, Copy)]
pub struct EmWithoutModifier25;

impl EmWithoutModifier25 {
    const META: RuleMeta = RuleMeta {
        id: "EM_MISSING_MODIFIER_25",
        description: "A same-day E/M with a 000/010-global procedure needs modifier 25",
        severity: Severity::Error,
        source: RuleSource::Ncci,
        enabled_by_default: true,
    };
}

impl Rule for EmWithoutModifier25 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }
    fn evaluate(&self, context: &RuleContext<'_>, out: &mut Report) {
        let is_em = |code: &str| {
            context
                .catalog
                .procedures
                .attributes
                .get(code)
                .is_some_and(|a| a.service_type == ServiceType::EvaluationManagement)
        };
        let lines: Vec<_> = context.lines().collect();
        for (number, line, date) in &lines {
            if !is_em(line.procedure_code.as_str()) || line.has_modifier("25") {
                continue;
            }
            let Some(date) = date else { continue };
            let minor = lines.iter().find_map(|(_, other, other_date)| {
                let code = other.procedure_code.as_str();
                let global = context
                    .catalog
                    .fee_schedule(*date)?
                    .global_row(code)?
                    .global_days
                    .clone();
                (other_date.as_ref() == Some(date)
                    && !is_em(code)
                    && (global == "000" || global == "010"))
                    .then(|| (code.to_owned(), global))
            });
            if let Some((code, global)) = minor {
                let mut f = finding(
                    self,
                    *number,
                    format!("lines[{}].modifiers", number - 1),
                    format!(
                        "{} on the day of {code} ({global}-day global) has no modifier 25",
                        line.procedure_code.as_str()
                    ),
                );
                f.suggestion = Some(
                    "append 25 to the visit if it was significant and separately identifiable; otherwise remove it"
                        .into(),
                );
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
    fn a_same_day_visit_without_25_fires() {
        let mut claim = clean_claim();
        claim.lines.insert(0, line("99213", &[], &[1]));
        assert_eq!(
            fired(&EmWithoutModifier25, &claim),
            [("EM_MISSING_MODIFIER_25", 1, "lines[0].modifiers".into())]
        );
    }

    #[test]
    fn a_visit_with_25_or_alone_is_silent() {
        let mut claim = clean_claim();
        claim.lines.insert(0, line("99213", &["25"], &[1]));
        assert!(fired(&EmWithoutModifier25, &claim).is_empty());
        claim.lines = vec![line("99213", &[], &[1])];
        assert!(fired(&EmWithoutModifier25, &claim).is_empty());
    }
}
