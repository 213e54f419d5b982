//! Duplicate lines: the same service billed twice with nothing (a site, a
//! side, a distinct-service or repeat modifier) that tells the two apart.

use super::{Report, Rule, RuleContext, RuleMeta, RuleSource, finding};
use crate::domain::claim::ServiceLine;
use crate::domain::finding::Severity;

/// What makes two lines the same service.
fn signature(
    line: &ServiceLine,
) -> (
    String,
    Vec<String>,
    Option<String>,
    Option<u64>,
    Option<u64>,
) {
    let mut modifiers: Vec<String> = line.modifiers.iter().map(|m| m.to_string()).collect();
    modifiers.sort();
    (
        line.procedure_code.to_string(),
        modifiers,
        line.anatomic_site.clone(),
        line.excised_diameter_cm.map(f64::to_bits),
        line.repair_length_cm.map(f64::to_bits),
    )
}

/// A line identical to an earlier one.
#[derive(Debug, Clone, Copy)]
pub struct DuplicateLine;

impl DuplicateLine {
    const META: RuleMeta = RuleMeta {
        id: "DUPLICATE_LINE",
        description: "The same service appears twice on the claim",
        severity: Severity::Error,
        source: RuleSource::House,
        enabled_by_default: true,
    };
}

impl Rule for DuplicateLine {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }
    fn evaluate(&self, context: &RuleContext<'_>, out: &mut Report) {
        let lines: Vec<_> = context.lines().collect();
        for (i, (number, line, date)) in lines.iter().enumerate() {
            let earlier = lines[..i].iter().find(|(_, other, other_date)| {
                other_date == date && signature(other) == signature(line)
            });
            if let Some((first, _, _)) = earlier {
                let mut f = finding(
                    self,
                    *number,
                    format!("lines[{}]", number - 1),
                    format!("line {number} repeats line {first}"),
                );
                f.suggestion = Some(
                    "remove the duplicate, or bill units on one line, or mark a distinct service (XS/59, RT/LT, 76)"
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
    use crate::rules::test_support::{clean_claim, excision, fired};

    #[test]
    fn an_identical_line_fires_on_the_repeat() {
        let mut claim = clean_claim();
        claim.lines.push(claim.lines[0].clone());
        assert_eq!(
            fired(&DuplicateLine, &claim),
            [("DUPLICATE_LINE", 2, "lines[1]".into())]
        );
    }

    #[test]
    fn a_second_lesion_with_xs_is_not_a_duplicate() {
        let mut claim = clean_claim();
        let mut second = excision("11404", 3.5, "trunk", &[1]);
        second.modifiers = vec!["XS".into()];
        claim.lines.push(second);
        assert!(fired(&DuplicateLine, &claim).is_empty());
    }
}
