//! Laterality: the side a line's diagnoses name (ICD-10-CM titles say
//! "right" or "left"; the digit that means a side differs between
//! categories, so the title is read, not the code) must agree with RT/LT and
//! with the line's laterality.

use super::{Report, Rule, RuleContext, RuleMeta, RuleSource, finding};
use crate::domain::catalog::ConceptRelease;
use crate::domain::claim::Laterality;
use crate::domain::code_system::CodeSystem;
use crate::domain::codes;
use crate::domain::concept::Concept;
use crate::domain::finding::{FieldFix, Severity};
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

/// The sibling of `concept` whose title names `side` where `concept`'s
/// names the other one (D23.61 right upper limb → D23.62 left upper limb).
fn side_twin<'a>(
    release: &'a ConceptRelease,
    concept: &Concept,
    side: Laterality,
) -> Option<&'a Concept> {
    let parent = concept.parent_code.as_deref()?;
    let title = |c: &Concept| {
        c.long_description
            .clone()
            .unwrap_or_else(|| c.display.clone())
    };
    let (from, to) = match side {
        Laterality::Left => ("right", "left"),
        Laterality::Right => ("left", "right"),
        _ => return None,
    };
    let wanted = title(concept).to_lowercase().replace(from, to);
    release
        .children_of(parent)
        .find(|c| title(c).to_lowercase() == wanted)
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
            // The modifier and the line's own laterality agree (or the line
            // names none): the diagnosis is the odd one out, so its twin of
            // the stated side is the fix.
            let sides_agree =
                matches!(line.laterality, Laterality::Unspecified) || line.laterality == side;
            let pointed: Vec<(usize, String)> = context
                .claim
                .pointed_diagnoses(line)
                .map(|(index, code)| (index, codes::canonical(CodeSystem::Icd10Cm, code)))
                .collect();
            let mut reported: Vec<&str> = Vec::new();
            for (_, canonical) in &pointed {
                // A code pointed at twice is one conflict, fixed at both places.
                if reported.contains(&canonical.as_str()) {
                    continue;
                }
                reported.push(canonical);
                let code = codes::display(CodeSystem::Icd10Cm, canonical);
                let Some((release, concept)) =
                    validity::find(context.catalog, CodeSystem::Icd10Cm, canonical, date)
                else {
                    continue;
                };
                let named = side_of_title(
                    concept
                        .long_description
                        .as_deref()
                        .unwrap_or(&concept.display),
                );
                if named.is_some_and(|n| n != side && n != Laterality::Bilateral) {
                    let mut f = finding(
                        self,
                        number,
                        format!("lines[{}].{field}", number - 1),
                        format!("the line says {side:?} but diagnosis {code} names the other side"),
                    );
                    if let Some(twin) = sides_agree
                        .then(|| side_twin(release, concept, side))
                        .flatten()
                    {
                        let shown = codes::display(CodeSystem::Icd10Cm, &twin.code);
                        f.suggested_code = Some(shown.clone());
                        f.suggestion = Some(format!(
                            "the line's side is {side:?}: code the diagnosis of that side, {shown}"
                        ));
                        let positions: Vec<usize> = pointed
                            .iter()
                            .filter(|(_, other)| other == canonical)
                            .map(|(index, _)| *index)
                            .collect();
                        // Another line pointing at the same diagnosis would
                        // inherit the other side: a coder splits it.
                        let shared = context.claim.lines.iter().enumerate().any(|(i, other)| {
                            i + 1 != number as usize
                                && other
                                    .diagnosis_pointers
                                    .iter()
                                    .any(|p| positions.contains(&(*p as usize).wrapping_sub(1)))
                        });
                        if !shared {
                            f.fixes = positions
                                .iter()
                                .map(|index| {
                                    FieldFix::set(
                                        format!("diagnosis_codes[{index}]"),
                                        shown.clone(),
                                    )
                                })
                                .collect();
                        }
                    }
                    out.push(f);
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

    /// LT on a left forearm with D23.61 (right upper limb): the modifier and
    /// the site agree, so the diagnosis of the left side is the fix.
    #[test]
    fn the_fix_is_the_diagnosis_of_the_side_the_line_states() {
        let mut claim = clean_claim();
        claim.diagnosis_codes = vec!["D23.61".into()];
        claim.lines[0].anatomic_site = Some("arm".into());
        claim.lines[0].modifiers = vec!["LT".into()];
        claim.lines[0].laterality = Laterality::Left;
        let found = crate::rules::test_support::report(&LateralityMismatch, &claim).findings;
        assert_eq!(found[0].suggested_code.as_deref(), Some("D23.62"));
        assert_eq!(
            found[0].fixes,
            [FieldFix::set("diagnosis_codes[0]", "D23.62")]
        );
        claim.lines[0].laterality = Laterality::Right;
        let found = crate::rules::test_support::report(&LateralityMismatch, &claim).findings;
        assert!(
            found.iter().all(|f| f.fixes.is_empty()),
            "LT and a right laterality disagree: a coder decides"
        );
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
