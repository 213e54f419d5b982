//! Laterality: the side a line's diagnoses name (ICD-10-CM titles say
//! "right" or "left"; the digit that means a side differs between
//! categories, so the title is read, not the code) must agree with RT/LT and
//! with the line's laterality.

use super::{Report, Rule, RuleContext, RuleMeta, RuleSource, finding};
use crate::domain::claim::Laterality;
use crate::domain::code_system::CodeSystem;
use crate::domain::finding::Severity;
use crate::domain::search::words;
use crate::domain::validity;

/// A side that contradicts the pointed diagnoses.
#[derive(Debug, Clone, Copy)]
pub struct LateralityMismatch;

fn side_of_title(title: &str) -> Option<Laterality> {
    let mut side = None;
    for word in words(title) {
        let this = match word.as_str() {
            "right" => Laterality::Right,
            "left" => Laterality::Left,
            "bilateral" => Laterality::Bilateral,
            _ => continue,
        };
        if side.is_some_and(|s| s != this) {
            return None;
        }
        side = Some(this);
    }
    side
}

impl LateralityMismatch {
    const META: RuleMeta = RuleMeta {
        id: "LATERALITY_MISMATCH",
        description: "RT/LT and the line's laterality agree with the side its diagnoses name",
        severity: Severity::Error,
        source: RuleSource::Cms,
        enabled_by_default: true,
    };
}

impl Rule for LateralityMismatch {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }
    fn evaluate(&self, context: &RuleContext<'_>, out: &mut Report) {
        for (number, line, date) in context.lines() {
            let Some(date) = date else { continue };
            let stated = if line.has_modifier("RT") && !line.has_modifier("LT") {
                Some((Laterality::Right, "modifiers"))
            } else if line.has_modifier("LT") && !line.has_modifier("RT") {
                Some((Laterality::Left, "modifiers"))
            } else {
                match line.laterality {
                    Laterality::Left | Laterality::Right => Some((line.laterality, "laterality")),
                    _ => None,
                }
            };
            let Some((side, field)) = stated else {
                continue;
            };
            for pointer in &line.diagnosis_pointers {
                let Some(code) = (*pointer as usize)
                    .checked_sub(1)
                    .and_then(|i| context.claim.diagnosis_codes.get(i))
                else {
                    continue;
                };
                let Some((_, concept)) = validity::find(
                    context.catalog,
                    CodeSystem::Icd10Cm,
                    &crate::domain::codes::canonical(CodeSystem::Icd10Cm, code),
                    date,
                ) else {
                    continue;
                };
                let named = side_of_title(
                    concept
                        .long_description
                        .as_deref()
                        .unwrap_or(&concept.display),
                );
                if named.is_some_and(|n| n != side && n != Laterality::Bilateral) {
                    out.push(finding(
                        self,
                        number,
                        format!("lines[{}].{field}", number - 1),
                        format!("the line says {side:?} but diagnosis {code} names the other side"),
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{clean_claim, fired};

    #[test]
    fn a_left_modifier_on_a_right_sided_diagnosis_fires() {
        let mut claim = clean_claim();
        claim.diagnosis_codes = vec!["D23.61".into()];
        claim.lines[0].anatomic_site = Some("arm".into());
        claim.lines[0].modifiers = vec!["LT".into()];
        assert_eq!(
            fired(&LateralityMismatch, &claim),
            [("LATERALITY_MISMATCH", 1, "lines[0].modifiers".into())]
        );
        claim.lines[0].modifiers.clear();
        claim.lines[0].laterality = Laterality::Left;
        assert_eq!(fired(&LateralityMismatch, &claim).len(), 1);
    }

    #[test]
    fn matching_or_unsided_diagnoses_are_silent() {
        let mut claim = clean_claim();
        claim.diagnosis_codes = vec!["D23.61".into()];
        claim.lines[0].modifiers = vec!["RT".into()];
        assert!(fired(&LateralityMismatch, &claim).is_empty());
        claim.diagnosis_codes = vec!["D23.5".into()];
        claim.lines[0].modifiers = vec!["LT".into()];
        assert!(
            fired(&LateralityMismatch, &claim).is_empty(),
            "the trunk has no side"
        );
    }
}
