//! Units of service: at least one, and one per E/M visit.

use super::{Report, Rule, RuleContext, RuleMeta, RuleSource, finding};
use crate::domain::finding::Severity;
use crate::domain::service_type::ServiceType;

/// The unit rules.
pub fn rules() -> Vec<Box<dyn Rule>> {
    vec![Box::new(UnitsZero), Box::new(EmUnitsExceedOne)]
}

/// A line with zero units.
#[derive(Debug, Clone, Copy)]
pub struct UnitsZero;

impl UnitsZero {
    const META: RuleMeta = RuleMeta {
        id: "UNITS_ZERO",
        description: "A service line bills at least one unit",
        severity: Severity::Error,
        source: RuleSource::Cms,
        enabled_by_default: true,
    };
}

impl Rule for UnitsZero {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }
    fn evaluate(&self, context: &RuleContext<'_>, out: &mut Report) {
        for (number, line, _) in context.lines() {
            if line.units.is_zero() {
                out.push(finding(
                    self,
                    number,
                    format!("lines[{}].units", number - 1),
                    "units must be at least 1",
                ));
            }
        }
    }
}

/// An E/M visit billed with more than one unit.
#[derive(Debug, Clone, Copy)]
pub struct EmUnitsExceedOne;

impl EmUnitsExceedOne {
    const META: RuleMeta = RuleMeta {
        id: "EM_UNITS_EXCEED_1",
        description: "An evaluation and management visit is one unit",
        severity: Severity::Error,
        source: RuleSource::Cpt,
        enabled_by_default: true,
    };
}

impl Rule for EmUnitsExceedOne {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }
    fn evaluate(&self, context: &RuleContext<'_>, out: &mut Report) {
        for (number, line, _) in context.lines() {
            let em = context
                .catalog
                .procedures
                .attributes
                .get(line.procedure_code.as_str())
                .is_some_and(|a| a.service_type == ServiceType::EvaluationManagement);
            if em && line.units.exceeds(1) {
                let mut f = finding(
                    self,
                    number,
                    format!("lines[{}].units", number - 1),
                    format!("{} units of a visit code; a visit is one unit", line.units),
                );
                f.suggestion = Some("bill 1 unit".into());
                out.push(f);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{clean_claim, fired, line};

    #[test]
    fn zero_units_and_multi_unit_visits_fire() {
        let mut claim = clean_claim();
        claim.lines[0].units = 0.into();
        assert_eq!(
            fired(&UnitsZero, &claim),
            [("UNITS_ZERO", 1, "lines[0].units".into())]
        );
        let mut visit = line("99213", &["25"], &[1]);
        visit.units = 2.into();
        claim.lines = vec![visit];
        assert_eq!(fired(&EmUnitsExceedOne, &claim).len(), 1);
    }

    #[test]
    fn single_units_are_silent() {
        let mut claim = clean_claim();
        claim.lines.push(line("99213", &["25"], &[1]));
        assert!(fired(&UnitsZero, &claim).is_empty());
        assert!(fired(&EmUnitsExceedOne, &claim).is_empty());
    }
}
