//! Excision includes the simple (single-layer) closure of its own wound
//! (CPT; NCCI policy manual ch. III): a simple repair at an excision site is
//! reportable only for a separate wound, marked with 59 or XS/XE/XP/XU.

use super::{Report, Rule, RuleContext, RuleMeta, RuleSource, finding};
use crate::domain::finding::Severity;
use crate::domain::procedures::DISTINCT_SERVICE_MODIFIERS;
use crate::domain::service_type::ServiceType;

/// A simple repair at the site of a same-day excision.
#[derive(Debug, Clone, Copy)]
pub struct SimpleRepairIncluded;

impl SimpleRepairIncluded {
    const META: RuleMeta = RuleMeta {
        id: "REPAIR_BUNDLED_WITH_EXCISION",
        description: "Simple repair of an excision wound is included in the excision",
        severity: Severity::Error,
        source: RuleSource::Ncci,
        enabled_by_default: true,
    };
}

impl Rule for SimpleRepairIncluded {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }
    fn evaluate(&self, context: &RuleContext<'_>, out: &mut Report) {
        let attributes = &context.catalog.procedures.attributes;
        let kind = |code: &str| attributes.get(code).map(|a| a.service_type);
        let lines: Vec<_> = context.lines().collect();
        for (number, line, date) in &lines {
            if kind(line.procedure_code.as_str()) != Some(ServiceType::SimpleRepair)
                || DISTINCT_SERVICE_MODIFIERS
                    .iter()
                    .any(|m| line.has_modifier(m))
            {
                continue;
            }
            let excision = lines.iter().find(|(_, other, other_date)| {
                other_date == date
                    && kind(other.procedure_code.as_str()) == Some(ServiceType::Excision)
                    && other.anatomic_site.is_some()
                    && other.anatomic_site == line.anatomic_site
            });
            if let Some((excision_line, excision, _)) = excision {
                let mut f = finding(
                    self,
                    *number,
                    format!("lines[{}].procedure_code", number - 1),
                    format!(
                        "simple repair {} at the site of excision {} (line {excision_line}) is included in the excision",
                        line.procedure_code.as_str(),
                        excision.procedure_code.as_str()
                    ),
                );
                f.suggestion = Some(
                    "remove the repair line, or mark a separate wound with XS (or 59) and document it".into(),
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

    fn repair(code: &str, modifiers: &[&str]) -> crate::domain::claim::ServiceLine {
        let mut repair = line(code, modifiers, &[1]);
        repair.repair_length_cm = Some(2.0);
        repair.anatomic_site = Some("trunk".into());
        repair
    }

    #[test]
    fn a_simple_repair_of_the_excision_wound_fires() {
        let mut claim = clean_claim();
        claim.lines.push(repair("12001", &[]));
        assert_eq!(
            fired(&SimpleRepairIncluded, &claim),
            [(
                "REPAIR_BUNDLED_WITH_EXCISION",
                2,
                "lines[1].procedure_code".into()
            )]
        );
    }

    #[test]
    fn separate_wounds_and_layered_repairs_are_silent() {
        let mut claim = clean_claim();
        claim.lines.push(repair("12001", &["XS"]));
        assert!(fired(&SimpleRepairIncluded, &claim).is_empty());
        claim.lines[1] = repair("12032", &[]);
        assert!(
            fired(&SimpleRepairIncluded, &claim).is_empty(),
            "intermediate repair is separately reportable"
        );
    }
}
