//! NCCI policy manual ch. III: a benign excision of 0.5 cm or less (11400,
//! 11420, 11440) includes intermediate and complex repair of its wound,
//! unless another lesion excised in the session is larger than 0.5 cm.

use super::{Report, Rule, RuleContext, RuleMeta, RuleSource, finding};
use crate::domain::finding::Severity;
use crate::domain::procedures::DISTINCT_SERVICE_MODIFIERS;
use crate::domain::service_type::ServiceType;

/// A layered repair billed with only benign excisions of 0.5 cm or less.
#[derive(Debug, Clone, Copy)]
pub struct SmallBenignExcisionRepair;

impl SmallBenignExcisionRepair {
    const META: RuleMeta = RuleMeta {
        id: "REPAIR_INCLUDED_IN_SMALL_BENIGN_EXCISION",
        description: "Benign excisions of 0.5 cm or less include intermediate and complex repair",
        severity: Severity::Error,
        source: RuleSource::Ncci,
        enabled_by_default: true,
    };
}

impl Rule for SmallBenignExcisionRepair {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }
    fn evaluate(&self, context: &RuleContext<'_>, out: &mut Report) {
        let attributes = &context.catalog.procedures.attributes;
        let lines: Vec<_> = context.lines().collect();
        let excisions: Vec<_> = lines
            .iter()
            .filter_map(|(_, l, date)| {
                attributes
                    .get(l.procedure_code.as_str())
                    .filter(|a| a.service_type == ServiceType::Excision)
                    .map(|a| (a, date))
            })
            .collect();
        let only_small_benign = !excisions.is_empty()
            && excisions.iter().all(|(a, _)| {
                a.lesion_behavior.as_deref() == Some("benign")
                    && a.size_upper_inclusive.is_some_and(|u| u <= 0.5)
            });
        if !only_small_benign {
            return;
        }
        for (number, line, date) in &lines {
            let layered = attributes
                .get(line.procedure_code.as_str())
                .is_some_and(|a| a.service_type == ServiceType::IntermediateRepair);
            let same_day = excisions.iter().any(|(_, d)| *d == date);
            if layered
                && same_day
                && !DISTINCT_SERVICE_MODIFIERS
                    .iter()
                    .any(|m| line.has_modifier(m))
            {
                let mut f = finding(
                    self,
                    *number,
                    format!("lines[{}].procedure_code", number - 1),
                    format!(
                        "{} is included in a benign excision of 0.5 cm or less",
                        line.procedure_code.as_str()
                    ),
                );
                f.suggestion = Some(
                    "remove the repair, or mark a separate wound with XS (or 59) and document it"
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
    use crate::rules::test_support::{clean_claim, excision, fired, line};

    fn layered() -> crate::domain::claim::ServiceLine {
        let mut repair = line("12032", &[], &[1]);
        repair.repair_length_cm = Some(3.0);
        repair.anatomic_site = Some("trunk".into());
        repair
    }

    #[test]
    fn a_layered_repair_with_a_tiny_benign_excision_fires() {
        let mut claim = clean_claim();
        claim.lines = vec![excision("11400", 0.4, "trunk", &[1]), layered()];
        assert_eq!(fired(&SmallBenignExcisionRepair, &claim).len(), 1);
    }

    #[test]
    fn a_larger_lesion_in_the_session_or_xs_is_silent() {
        let mut claim = clean_claim();
        claim.lines = vec![
            excision("11400", 0.4, "trunk", &[1]),
            excision("11402", 1.5, "arm", &[1]),
            layered(),
        ];
        assert!(fired(&SmallBenignExcisionRepair, &claim).is_empty());
        claim.lines = vec![excision("11400", 0.4, "trunk", &[1]), layered()];
        claim.lines[1].modifiers = vec!["XS".into()];
        assert!(fired(&SmallBenignExcisionRepair, &claim).is_empty());
    }
}
