//! Size documentation: an excision or repair size is recorded to one
//! decimal, as CPT states the bands. A line without a size gets no finding
//! here: an 837P carries none, and `SIZE_BAND_MISMATCH` lists its band as
//! not checked.

use super::{Report, Rule, RuleContext, RuleMeta, RuleSource, finding};
use crate::domain::finding::Severity;
use crate::domain::procedures::{finer_than_one_decimal, measured_size};

/// An over-precise size.
#[derive(Debug, Clone, Copy)]
pub struct SizeDocumentation;

impl SizeDocumentation {
    const META: RuleMeta = RuleMeta {
        id: "SIZE_DOCUMENTATION",
        description: "Excision and repair sizes are documented to one decimal",
        severity: Severity::Warning,
        source: RuleSource::Cpt,
        enabled_by_default: true,
    };
}

impl Rule for SizeDocumentation {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }
    fn evaluate(&self, context: &RuleContext<'_>, out: &mut Report) {
        for (number, line, _) in context.lines() {
            let Some(attributes) = context
                .catalog
                .procedures
                .attributes
                .get(line.procedure_code.as_str())
            else {
                continue;
            };
            let Some((Some(value), field, what)) = measured_size(attributes, line) else {
                continue;
            };
            if finer_than_one_decimal(value) {
                out.push(finding(
                    self,
                    number,
                    format!("lines[{}].{field}", number - 1),
                    format!(
                        "{what} {value} cm has more than one decimal; document it to one decimal"
                    ),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{clean_claim, fired};

    #[test]
    fn an_over_precise_size_warns_and_a_missing_one_does_not() {
        let mut claim = clean_claim();
        claim.lines[0].excised_diameter_cm = None;
        assert!(
            fired(&SizeDocumentation, &claim).is_empty(),
            "not sent is not a finding"
        );
        claim.lines[0].excised_diameter_cm = Some(3.05);
        assert_eq!(fired(&SizeDocumentation, &claim).len(), 1);
    }

    #[test]
    fn one_decimal_is_silent() {
        assert!(fired(&SizeDocumentation, &clean_claim()).is_empty());
    }
}
