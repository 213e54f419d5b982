//! Site from the diagnosis: skin-lesion diagnoses name their body site in
//! the ICD-10-CM title (D23.5 "skin of trunk", D23.39 "other parts of
//! face", D23.4 "scalp and neck", D23.6x "upper limb", D23.7x "lower
//! limb"), and excision codes come in site families. The pointed diagnosis
//! must name a site of the code's family. This works on an 837P, which has
//! no anatomic-site field; a title that names no site checks nothing.

use super::{Report, Rule, RuleContext, RuleMeta, RuleSource, finding};
use crate::domain::code_system::CodeSystem;
use crate::domain::codes;
use crate::domain::finding::{FieldFix, Severity};
use crate::domain::procedures::same_band;
use crate::domain::search::words;
use crate::domain::service_type::ServiceType;
use crate::domain::validity;

/// An excision code whose family does not hold the site its diagnosis names.
#[derive(Debug, Clone, Copy)]
pub struct DiagnosisSiteMismatch;

/// The anatomic sites (claimscrub's site vocabulary) an ICD-10-CM title
/// names. A limb includes its hand or foot ("upper limb, including
/// shoulder" covers the hand), so it names both.
fn sites_of_title(title: &str) -> Vec<&'static str> {
    let words: Vec<String> = words(title).collect();
    let has = |w: &str| words.iter().any(|x| x == w);
    let follows = |a: &str, b: &str| words.windows(2).any(|p| p[0] == a && p[1] == b);
    let mut sites = Vec::new();
    if has("trunk") {
        sites.push("trunk");
    }
    if follows("upper", "limb") {
        sites.extend(["arm", "hand"]);
    }
    if follows("lower", "limb") {
        sites.extend(["leg", "foot"]);
    }
    if has("scalp") {
        sites.push("scalp");
    }
    if has("neck") {
        sites.push("neck");
    }
    if has("face") {
        sites.extend(["face", "nose"]);
    }
    for (word, site) in [
        ("ear", "ear"),
        ("eyelid", "eyelid"),
        ("lip", "lip"),
        ("nose", "nose"),
    ] {
        if has(word) && !sites.contains(&site) {
            sites.push(site);
        }
    }
    sites
}

impl DiagnosisSiteMismatch {
    const META: RuleMeta = RuleMeta {
        id: "DX_SITE_MISMATCH",
        description: "The body site the line's diagnosis names is outside the excision code's site family",
        severity: Severity::Error,
        source: RuleSource::Cpt,
        enabled_by_default: true,
    };
}

impl Rule for DiagnosisSiteMismatch {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }
    fn evaluate(&self, context: &RuleContext<'_>, out: &mut Report) {
        let knowledge = &context.catalog.procedures;
        for (number, line, date) in context.lines() {
            let Some(date) = date else { continue };
            let Some(this) = knowledge.attributes.get(line.procedure_code.as_str()) else {
                continue;
            };
            if this.service_type != ServiceType::Excision {
                continue;
            }
            let Some(family) = this
                .site_family
                .as_ref()
                .and_then(|f| knowledge.site_families.get(f))
            else {
                continue;
            };
            for (_, code) in context.claim.pointed_diagnoses(line) {
                let canonical = codes::canonical(CodeSystem::Icd10Cm, code);
                let Some((_, concept)) =
                    validity::find(context.catalog, CodeSystem::Icd10Cm, &canonical, date)
                else {
                    continue;
                };
                let sites = sites_of_title(
                    concept
                        .long_description
                        .as_deref()
                        .unwrap_or(&concept.display),
                );
                if sites.is_empty()
                    || sites
                        .iter()
                        .any(|s| family.anatomic_sites.iter().any(|f| f == s))
                {
                    continue;
                }
                let shown = codes::display(CodeSystem::Icd10Cm, &canonical);
                let mut f = finding(
                    self,
                    number,
                    format!("lines[{}].procedure_code", number - 1),
                    format!(
                        "{} covers {}, but diagnosis {shown} names the {}",
                        line.procedure_code.as_str(),
                        family.display,
                        sites.join(" / ")
                    ),
                );
                // The same service, behaviour and band in the families that
                // hold the named site; a fix only when exactly one does.
                let mut replacements: Vec<&String> = knowledge
                    .attributes
                    .iter()
                    .filter(|(_, a)| {
                        a.service_type == this.service_type
                            && a.lesion_behavior == this.lesion_behavior
                            && same_band(this, a, line)
                            && a.site_family
                                .as_ref()
                                .and_then(|id| knowledge.site_families.get(id))
                                .is_some_and(|fam| {
                                    fam.anatomic_sites
                                        .iter()
                                        .any(|s| sites.contains(&s.as_str()))
                                })
                    })
                    .map(|(code, _)| code)
                    .collect();
                replacements.sort();
                match replacements.as_slice() {
                    [code] => {
                        f.suggested_code = Some((*code).clone());
                        f.suggestion = Some(format!("a lesion of that site is billed with {code}"));
                        f.fixes = vec![FieldFix::set(
                            format!("lines[{}].procedure_code", number - 1),
                            code.as_str(),
                        )];
                    }
                    [] => {}
                    several => {
                        f.suggestion = Some(format!(
                            "bill the code of the site excised: {}",
                            several
                                .iter()
                                .map(|c| c.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ));
                    }
                }
                out.push(f);
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{clean_claim, report};

    #[test]
    fn titles_name_their_sites() {
        assert_eq!(
            sites_of_title("Other benign neoplasm of skin of trunk"),
            ["trunk"]
        );
        assert_eq!(
            sites_of_title("Other benign neoplasm of skin of right upper limb, including shoulder"),
            ["arm", "hand"]
        );
        assert_eq!(
            sites_of_title("Other benign neoplasm of skin of scalp and neck"),
            ["scalp", "neck"]
        );
        assert!(sites_of_title("Epidermal cyst").is_empty());
    }

    /// D23.61 (upper limb) on a trunk code is in its family (arms); on the
    /// face code it is not, and two families hold the arm and the hand.
    #[test]
    fn a_diagnosis_of_another_site_fires() {
        let mut claim = clean_claim();
        claim.diagnosis_codes = vec!["D23.61".into()];
        assert!(report(&DiagnosisSiteMismatch, &claim).findings.is_empty());
        claim.lines[0].procedure_code = "11444".into();
        let found = report(&DiagnosisSiteMismatch, &claim).findings;
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].field_path, "lines[0].procedure_code");
        assert!(found[0].fixes.is_empty(), "arm and hand are two families");
        claim.diagnosis_codes = vec!["D23.5".into()];
        let found = report(&DiagnosisSiteMismatch, &claim).findings;
        assert_eq!(
            found[0].fixes,
            [FieldFix::set("lines[0].procedure_code", "11404")]
        );
    }
}
