//! Specialty plausibility: the rendering provider's NUCC taxonomy group
//! against the service it bills. A psychiatrist billing a skin excision is
//! almost always the wrong rendering provider on the claim. The groups that
//! do not perform a service type are data (`implausible_specialties.csv` of
//! the default data set), matched by taxonomy code prefix; a warning,
//! because a dual-boarded provider can be right.

use super::{Report, Rule, RuleContext, RuleMeta, RuleSource, finding};
use crate::domain::finding::Severity;

/// A service the rendering provider's specialty does not perform.
#[derive(Debug, Clone, Copy)]
pub struct SpecialtyImplausible;

impl SpecialtyImplausible {
    const META: RuleMeta = RuleMeta {
        id: "SPECIALTY_IMPLAUSIBLE",
        description: "The rendering provider's taxonomy group does not perform the line's service",
        severity: Severity::Warning,
        source: RuleSource::House,
        enabled_by_default: true,
    };
}

impl Rule for SpecialtyImplausible {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }
    fn evaluate(&self, context: &RuleContext<'_>, out: &mut Report) {
        let taxonomy = context.claim.rendering_provider.taxonomy_code.as_str();
        if taxonomy.is_empty() {
            return;
        }
        let knowledge = &context.catalog.procedures;
        for (number, line, _) in context.lines() {
            let Some(attributes) = knowledge.attributes.get(line.procedure_code.as_str()) else {
                continue;
            };
            let Some(group) = knowledge.implausible_specialty(attributes.service_type, taxonomy)
            else {
                continue;
            };
            let mut f = finding(
                self,
                number,
                "rendering_provider.taxonomy_code",
                format!(
                    "{taxonomy} ({}) rendering {}: {}",
                    group.classification,
                    line.procedure_code.as_str(),
                    group.note
                ),
            );
            f.suggestion = Some(
                "check the rendering provider (NM1*82 / PRV*PE): the surgeon who performed the service, with their taxonomy"
                    .into(),
            );
            out.push(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{clean_claim, fired, line};

    #[test]
    fn a_psychiatrist_on_a_skin_excision_warns() {
        let mut claim = clean_claim();
        claim.rendering_provider.taxonomy_code = "2084P0800X".into();
        assert_eq!(
            fired(&SpecialtyImplausible, &claim),
            [(
                "SPECIALTY_IMPLAUSIBLE",
                1,
                "rendering_provider.taxonomy_code".into()
            )]
        );
    }

    #[test]
    fn a_dermatologist_and_a_pathologist_on_88305_are_plausible() {
        assert!(fired(&SpecialtyImplausible, &clean_claim()).is_empty());
        let mut claim = clean_claim();
        claim.rendering_provider.taxonomy_code = "207ZP0102X".into();
        claim.lines = vec![line("88305", &[], &[1])];
        assert!(fired(&SpecialtyImplausible, &claim).is_empty());
    }
}
