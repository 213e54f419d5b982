//! Size documentation: an excision or repair line needs its measurement,
//! recorded to one decimal as CPT states the bands.

use super::{Rule, RuleContext, RuleMeta, RuleSource, finding};
use crate::domain::finding::{Finding, Severity};
use crate::domain::procedures::{finer_than_one_decimal, measured_size};

/// A missing or over-precise size.
#[derive(Debug, Clone, Copy)]
pub struct SizeDocumentation;

impl SizeDocumentation {
    const META: RuleMeta = RuleMeta {
        id: "SIZE_DOCUMENTATION",
        description: "Excision and repair lines carry their size, to one decimal",
        severity: Severity::Warning,
        source: RuleSource::Cpt,
        enabled_by_default: true,
    };
}

impl Rule for SizeDocumentation {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }
    fn evaluate(&self, context: &RuleContext<'_>, out: &mut Vec<Finding>) {
        for (number, line, _) in context.lines() {
            let Some(attributes) = context
                .catalog
                .procedures
                .attributes
                .get(line.procedure_code.as_str())
            else {
                continue;
            };
            let Some((value, field, what)) = measured_size(attributes, line) else {
                continue;
            };
            let path = format!("lines[{}].{field}", number - 1);
            match value {
                None => out.push(finding(
                    self,
                    number,
                    path,
                    format!("no {what}: the code cannot be checked against its size band"),
                )),
                Some(value) if finer_than_one_decimal(value) => out.push(finding(
                    self,
                    number,
                    path,
                    format!(
                        "{what} {value} cm has more than one decimal; document it to one decimal"
                    ),
                )),
                Some(_) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{clean_claim, fired};

    #[test]
    fn missing_and_over_precise_sizes_warn() {
        let mut claim = clean_claim();
        claim.lines[0].excised_diameter_cm = None;
        assert_eq!(fired(&SizeDocumentation, &claim).len(), 1);
        claim.lines[0].excised_diameter_cm = Some(3.05);
        assert_eq!(fired(&SizeDocumentation, &claim).len(), 1);
    }

    #[test]
    fn one_decimal_is_silent() {
        assert!(fired(&SizeDocumentation, &clean_claim()).is_empty());
    }
}
