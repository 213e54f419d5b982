//! Diagnosis pointers (SV107): every line points at one or more of the
//! claim's diagnoses, by 1-based position. More than four pointers, or a
//! pointer outside 1-12, cannot be written in SV107 and is refused at the
//! door (`domain::limits`); a pointer past the claim's last diagnosis is a
//! finding here.

use super::{Report, Rule, RuleContext, RuleMeta, RuleSource, finding};
use crate::domain::finding::Severity;

/// The pointer rules.
pub fn rules() -> Vec<Box<dyn Rule>> {
    vec![Box::new(PointerMissing), Box::new(PointerOutOfRange)]
}

/// A line without a diagnosis pointer.
#[derive(Debug, Clone, Copy)]
pub struct PointerMissing;

impl PointerMissing {
    const META: RuleMeta = RuleMeta {
        id: "DX_POINTER_MISSING",
        description: "Every service line points at least one diagnosis",
        severity: Severity::Error,
        source: RuleSource::Cms,
        enabled_by_default: true,
    };
}

impl Rule for PointerMissing {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }
    fn evaluate(&self, context: &RuleContext<'_>, out: &mut Report) {
        for (number, line, _) in context.lines() {
            if line.diagnosis_pointers.is_empty() {
                let mut f = finding(
                    self,
                    number,
                    format!("lines[{}].diagnosis_pointers", number - 1),
                    "the line points no diagnosis",
                );
                f.suggestion =
                    Some("point the diagnosis that supports this service (1 = the first)".into());
                out.push(f);
            }
        }
    }
}

/// A pointer past the end of the diagnosis list (or 0).
#[derive(Debug, Clone, Copy)]
pub struct PointerOutOfRange;

impl PointerOutOfRange {
    const META: RuleMeta = RuleMeta {
        id: "DX_POINTER_INVALID",
        description: "A diagnosis pointer must name one of the claim's diagnoses",
        severity: Severity::Error,
        source: RuleSource::Cms,
        enabled_by_default: true,
    };
}

impl Rule for PointerOutOfRange {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }
    fn evaluate(&self, context: &RuleContext<'_>, out: &mut Report) {
        let count = context.claim.diagnosis_codes.len();
        for (number, line, _) in context.lines() {
            for (j, pointer) in line.diagnosis_pointers.iter().enumerate() {
                if *pointer == 0 || *pointer as usize > count {
                    out.push(finding(
                        self,
                        number,
                        format!("lines[{}].diagnosis_pointers[{j}]", number - 1),
                        format!(
                            "pointer {pointer} does not name a diagnosis (the claim has {count})"
                        ),
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
    fn missing_and_out_of_range_pointers_fire() {
        let mut claim = clean_claim();
        claim.lines[0].diagnosis_pointers.clear();
        assert_eq!(
            fired(&PointerMissing, &claim),
            [(
                "DX_POINTER_MISSING",
                1,
                "lines[0].diagnosis_pointers".into()
            )]
        );
        claim.lines[0].diagnosis_pointers = vec![1, 2];
        assert_eq!(
            fired(&PointerOutOfRange, &claim)[0].2,
            "lines[0].diagnosis_pointers[1]"
        );
    }

    #[test]
    fn valid_pointers_are_silent() {
        let claim = clean_claim();
        for rule in rules() {
            assert!(fired(rule.as_ref(), &claim).is_empty(), "{}", rule.id());
        }
    }
}
