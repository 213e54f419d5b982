//! Size bands: the excised diameter (or summed repair length) must fall in
//! the code's band; bands are contiguous half-open intervals (lower, upper].

use super::{Report, Rule, RuleContext, RuleMeta, RuleSource, finding};
use crate::domain::catalog::ProcedureAttributes;
use crate::domain::finding::{FieldFix, NotCheckedReason, Severity};
use crate::domain::procedures::{band_display, in_band, measured_size};

/// A size outside the code's band.
#[derive(Debug, Clone, Copy)]
pub struct SizeBandMismatch;

/// The code of the same family, behaviour and measure whose band holds `value`.
fn matching_code<'a>(
    context: &'a RuleContext<'_>,
    this: &ProcedureAttributes,
    value: f64,
) -> Option<&'a str> {
    context
        .catalog
        .procedures
        .attributes
        .iter()
        .filter(|(_, a)| {
            a.service_type == this.service_type
                && a.site_family == this.site_family
                && a.lesion_behavior == this.lesion_behavior
                && a.size_measure == this.size_measure
        })
        .find(|(_, a)| in_band(a, value))
        .map(|(code, _)| code.as_str())
}

impl SizeBandMismatch {
    const META: RuleMeta = RuleMeta {
        id: "SIZE_BAND_MISMATCH",
        description: "The documented size is outside the code's size band",
        severity: Severity::Error,
        source: RuleSource::Cpt,
        enabled_by_default: true,
    };
}

impl Rule for SizeBandMismatch {
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
            let Some((value, field, what)) = measured_size(attributes, line) else {
                continue;
            };
            let Some(value) = value else {
                out.not_checked(
                    self,
                    number,
                    NotCheckedReason::FieldNotSent,
                    format!("the line carries no {what} (an 837P has none): its size band is not checked"),
                );
                continue;
            };
            if in_band(attributes, value) {
                continue;
            }
            let mut f = finding(
                self,
                number,
                format!("lines[{}].{field}", number - 1),
                format!(
                    "{value} cm is outside the band of {} ({})",
                    line.procedure_code.as_str(),
                    band_display(attributes)
                ),
            );
            if let Some(code) = matching_code(context, attributes, value) {
                f.suggested_code = Some(code.to_owned());
                f.suggestion = Some(format!("{value} cm is billed with {code}"));
                f.fixes = vec![FieldFix::set(
                    format!("lines[{}].procedure_code", number - 1),
                    code,
                )];
            }
            out.push(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{clean_claim, excision, fired, not_checked, report};

    #[test]
    fn a_diameter_outside_the_band_fires_with_the_right_code() {
        let mut claim = clean_claim();
        claim.lines = vec![excision("11404", 4.05, "trunk", &[1])];
        assert_eq!(
            fired(&SizeBandMismatch, &claim),
            [(
                "SIZE_BAND_MISMATCH",
                1,
                "lines[0].excised_diameter_cm".into()
            )]
        );
        let found = report(&SizeBandMismatch, &claim).findings;
        assert_eq!(found[0].suggested_code.as_deref(), Some("11406"));
        assert_eq!(
            found[0].fixes,
            [FieldFix::set("lines[0].procedure_code", "11406")]
        );
    }

    /// An 837P carries no excised size: the band is listed as not checked,
    /// never a finding.
    #[test]
    fn a_line_without_its_size_is_not_checked() {
        let mut claim = clean_claim();
        claim.lines[0].excised_diameter_cm = None;
        assert!(fired(&SizeBandMismatch, &claim).is_empty());
        assert_eq!(
            not_checked(&SizeBandMismatch, &claim),
            [(1, NotCheckedReason::FieldNotSent)]
        );
    }

    #[test]
    fn band_edges_belong_to_the_lower_code() {
        for (code, diameter) in [
            ("11404", 4.0),
            ("11404", 3.05),
            ("11403", 3.0),
            ("11406", 4.05),
        ] {
            let mut claim = clean_claim();
            claim.lines = vec![excision(code, diameter, "trunk", &[1])];
            assert!(
                fired(&SizeBandMismatch, &claim).is_empty(),
                "{code} {diameter}"
            );
        }
    }
}
