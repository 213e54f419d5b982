//! The rendering provider's NUCC taxonomy code exists.

use super::{Report, Rule, RuleContext, RuleMeta, RuleSource, finding};
use crate::domain::code_system::CodeSystem;
use crate::domain::finding::Severity;
use crate::domain::validity::{self, Validity};

/// An unknown or malformed taxonomy code.
#[derive(Debug, Clone, Copy)]
pub struct TaxonomyInvalid;

impl TaxonomyInvalid {
    const META: RuleMeta = RuleMeta {
        id: "TAXONOMY_INVALID",
        description: "Rendering provider taxonomy is not a NUCC code",
        severity: Severity::Error,
        source: RuleSource::Cms,
        enabled_by_default: true,
    };
}

impl Rule for TaxonomyInvalid {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }
    fn evaluate(&self, context: &RuleContext<'_>, out: &mut Report) {
        let code = context.claim.rendering_provider.taxonomy_code.as_str();
        let Some(date) = context.claim.date_of_service else {
            return;
        };
        if code.is_empty() {
            return;
        }
        let check = validity::check(context.catalog, CodeSystem::Taxonomy, code, date);
        let builtin_only = check.release.is_none_or(|r| r.version.builtin);
        match check.validity {
            Validity::Valid => {}
            Validity::UnknownCode if builtin_only => {
                let mut f = finding(
                    self,
                    0,
                    "rendering_provider.taxonomy_code",
                    format!(
                        "{code} is not in claimscrub's built-in taxonomy subset; import the NUCC file to check it"
                    ),
                );
                f.severity = Severity::Warning;
                out.push(f);
            }
            _ => out.push(finding(
                self,
                0,
                "rendering_provider.taxonomy_code",
                format!("{code:?} is not a NUCC provider taxonomy code"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{clean_claim, fired};

    #[test]
    fn malformed_taxonomies_fire_and_known_ones_are_silent() {
        let mut claim = clean_claim();
        assert!(fired(&TaxonomyInvalid, &claim).is_empty());
        claim.rendering_provider.taxonomy_code = "207N00000Y".into();
        assert_eq!(
            fired(&TaxonomyInvalid, &claim),
            [(
                "TAXONOMY_INVALID",
                0,
                "rendering_provider.taxonomy_code".into()
            )]
        );
    }
}
