//! Lesion behaviour: benign excision codes (114xx) go with benign or
//! uncertain diagnoses, malignant ones (116xx) with malignant diagnoses, as
//! pathology establishes them.

use super::{Report, Rule, RuleContext, RuleMeta, RuleSource, finding};
use crate::domain::code_system::CodeSystem;
use crate::domain::codes;
use crate::domain::finding::{FieldFix, Severity};

/// Behaviour a diagnosis implies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Implies {
    Malignant,
    InSitu,
    Benign,
    Other,
}

/// ICD-10-CM chapter 2 ranges: C malignant, D00-D09 in situ, D10-D36
/// benign, D37-D49 uncertain; epidermal cysts (L72) and seborrheic
/// keratoses (L82) are benign skin lesions too.
fn implied(code: &str) -> Implies {
    let canonical = codes::canonical(CodeSystem::Icd10Cm, code);
    let category: u32 = canonical
        .get(1..3)
        .and_then(|n| n.parse().ok())
        .unwrap_or(99);
    match canonical.chars().next() {
        Some('C') => Implies::Malignant,
        Some('D') if category <= 9 => Implies::InSitu,
        Some('D') if category <= 36 => Implies::Benign,
        Some('L') if matches!(category, 72 | 82) => Implies::Benign,
        _ => Implies::Other,
    }
}

/// An excision code whose behaviour contradicts the pointed diagnoses.
#[derive(Debug, Clone, Copy)]
pub struct LesionBehaviorMismatch;

impl LesionBehaviorMismatch {
    const META: RuleMeta = RuleMeta {
        id: "LESION_BEHAVIOR_MISMATCH",
        description: "Benign excision codes need benign or uncertain diagnoses, malignant ones malignant diagnoses",
        severity: Severity::Error,
        source: RuleSource::Cpt,
        enabled_by_default: true,
    };
}

impl Rule for LesionBehaviorMismatch {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }
    fn evaluate(&self, context: &RuleContext<'_>, out: &mut Report) {
        let knowledge = &context.catalog.procedures;
        for (number, line, _) in context.lines() {
            let Some(this) = knowledge.attributes.get(line.procedure_code.as_str()) else {
                continue;
            };
            let Some(behavior) = this.lesion_behavior.as_deref() else {
                continue;
            };
            let pointed: Vec<Implies> = line
                .diagnosis_pointers
                .iter()
                .filter_map(|p| {
                    context
                        .claim
                        .diagnosis_codes
                        .get((*p as usize).checked_sub(1)?)
                })
                .map(|code| implied(code))
                .collect();
            let malignant = pointed.contains(&Implies::Malignant);
            let in_situ_only = !malignant && pointed.contains(&Implies::InSitu);
            let twin_of = |diagnosed: &str| {
                knowledge.attributes.iter().find(|(_, a)| {
                    a.service_type == this.service_type
                        && a.site_family == this.site_family
                        && a.size_lower_exclusive == this.size_lower_exclusive
                        && a.lesion_behavior.as_deref() == Some(diagnosed)
                })
            };
            let field = format!("lines[{}].procedure_code", number - 1);
            // Carcinoma in situ is malignant for CPT (a non-invasive
            // carcinoma), so the malignant code of the same site and size is
            // the fix; it stays a warning because payers' policies on in-situ
            // lesions differ (domain rules §6.5).
            if behavior == "benign" && in_situ_only {
                let mut f = finding(
                    self,
                    number,
                    field.clone(),
                    format!(
                        "{} is a benign excision code but the line's diagnosis is an in-situ carcinoma",
                        line.procedure_code.as_str()
                    ),
                );
                f.severity = Severity::Warning;
                if let Some((code, _)) = twin_of("malignant") {
                    f.suggested_code = Some(code.clone());
                    f.suggestion = Some(format!(
                        "carcinoma in situ is excised with the malignant code of the same site and size: {code}"
                    ));
                    f.fixes = vec![FieldFix::set(field, code.as_str())];
                }
                out.push(f);
                continue;
            }
            let mismatch = match behavior {
                "benign" => malignant.then_some("malignant"),
                "malignant" => (!malignant
                    && !pointed.contains(&Implies::InSitu)
                    && pointed.contains(&Implies::Benign))
                .then_some("benign"),
                _ => None,
            };
            let Some(diagnosed) = mismatch else { continue };
            let mut f = finding(
                self,
                number,
                field.clone(),
                format!(
                    "{} is a {behavior} excision code but the line's diagnoses are {diagnosed}",
                    line.procedure_code.as_str()
                ),
            );
            if let Some((code, _)) = twin_of(diagnosed) {
                f.suggested_code = Some(code.clone());
                f.suggestion = Some(format!(
                    "bill the {diagnosed} excision code {code}, or correct the diagnosis"
                ));
                f.fixes = vec![FieldFix::set(field, code.as_str())];
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
    fn a_malignant_diagnosis_on_a_benign_code_and_the_reverse_fire() {
        let mut claim = clean_claim();
        claim.diagnosis_codes = vec!["C44.519".into()];
        assert_eq!(fired(&LesionBehaviorMismatch, &claim).len(), 1);
        claim.diagnosis_codes = vec!["D23.5".into()];
        claim.lines = vec![excision("11604", 3.5, "trunk", &[1])];
        assert_eq!(fired(&LesionBehaviorMismatch, &claim).len(), 1);
    }

    #[test]
    fn an_in_situ_diagnosis_on_a_benign_code_warns_with_the_malignant_code() {
        let mut claim = clean_claim();
        claim.diagnosis_codes = vec!["D04.5".into()];
        let found = crate::rules::test_support::report(&LesionBehaviorMismatch, &claim).findings;
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert_eq!(
            found[0].fixes,
            [FieldFix::set("lines[0].procedure_code", "11604")]
        );
    }

    #[test]
    fn matching_and_uncertain_behaviour_are_silent() {
        let mut claim = clean_claim();
        assert!(fired(&LesionBehaviorMismatch, &claim).is_empty());
        claim.diagnosis_codes = vec!["D48.5".into()];
        assert!(
            fired(&LesionBehaviorMismatch, &claim).is_empty(),
            "uncertain behaviour is coded benign"
        );
        claim.diagnosis_codes = vec!["C44.519".into()];
        claim.lines = vec![excision("11604", 3.5, "trunk", &[1])];
        assert!(fired(&LesionBehaviorMismatch, &claim).is_empty());
    }
}
