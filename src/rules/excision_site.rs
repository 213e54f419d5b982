//! Anatomic site: an excision or repair code covers one family of sites.

use super::{Report, Rule, RuleContext, RuleMeta, RuleSource, finding};
use crate::domain::finding::{FieldFix, NotCheckedReason, Severity};
use crate::domain::procedures::same_band;
use crate::domain::service_type::ServiceType;

/// A site outside the code's site family.
#[derive(Debug, Clone, Copy)]
pub struct AnatomicSiteMismatch;

impl AnatomicSiteMismatch {
    const META: RuleMeta = RuleMeta {
        id: "ANATOMIC_SITE_MISMATCH",
        description: "The anatomic site is outside the code's site family",
        severity: Severity::Error,
        source: RuleSource::Cpt,
        enabled_by_default: true,
    };
}

impl Rule for AnatomicSiteMismatch {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }
    fn evaluate(&self, context: &RuleContext<'_>, out: &mut Report) {
        let knowledge = &context.catalog.procedures;
        for (number, line, _) in context.lines() {
            let Some(this) = knowledge.attributes.get(line.procedure_code.as_str()) else {
                continue;
            };
            let Some(family) = this
                .site_family
                .as_ref()
                .and_then(|f| knowledge.site_families.get(f))
            else {
                continue;
            };
            let Some(site) = line.anatomic_site.as_deref() else {
                out.not_checked(
                    self,
                    number,
                    NotCheckedReason::FieldNotSent,
                    if this.service_type == ServiceType::Excision {
                        "the line carries no anatomic site (an 837P has none); DX_SITE_MISMATCH reads the site its diagnoses name"
                    } else {
                        "the line carries no anatomic site (an 837P has none)"
                    },
                );
                continue;
            };
            if family.anatomic_sites.iter().any(|s| s == site) {
                continue;
            }
            let mut f = finding(
                self,
                number,
                format!("lines[{}].anatomic_site", number - 1),
                format!(
                    "{} covers {}, not {site}",
                    line.procedure_code.as_str(),
                    family.display
                ),
            );
            // The same service in the family that covers the site, same band.
            let mut candidates: Vec<_> = knowledge.attributes.iter().collect();
            candidates.sort_by(|a, b| a.0.cmp(b.0));
            let replacement = candidates.into_iter().find(|(_, a)| {
                a.service_type == this.service_type
                    && a.lesion_behavior == this.lesion_behavior
                    && same_band(this, a, line)
                    && a.site_family
                        .as_ref()
                        .and_then(|id| knowledge.site_families.get(id))
                        .is_some_and(|fam| fam.anatomic_sites.iter().any(|s| s == site))
            });
            if let Some((code, _)) = replacement {
                f.suggested_code = Some(code.clone());
                f.suggestion = Some(format!("a {site} site is billed with {code}"));
                f.fixes = vec![FieldFix::set(
                    format!("lines[{}].procedure_code", number - 1),
                    code.as_str(),
                )];
            }
            out.push(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{clean_claim, excision, fired};

    #[test]
    fn a_face_lesion_on_a_trunk_code_fires_and_suggests_the_face_code() {
        let mut claim = clean_claim();
        claim.lines = vec![excision("11404", 3.5, "face", &[1])];
        assert_eq!(
            fired(&AnatomicSiteMismatch, &claim),
            [("ANATOMIC_SITE_MISMATCH", 1, "lines[0].anatomic_site".into())]
        );
        let catalog = crate::rules::test_support::catalog();
        let mut out = Report::default();
        AnatomicSiteMismatch.evaluate(
            &RuleContext {
                claim: &claim,
                catalog: &catalog,
                history: &[],
            },
            &mut out,
        );
        assert_eq!(out.findings[0].suggested_code.as_deref(), Some("11444"));
    }

    #[test]
    fn sites_of_the_family_are_silent() {
        for site in ["trunk", "arm", "leg"] {
            let mut claim = clean_claim();
            claim.lines = vec![excision("11404", 3.5, site, &[1])];
            assert!(fired(&AnatomicSiteMismatch, &claim).is_empty(), "{site}");
        }
    }
}
