//! Place of service: a CMS-assigned code, and no procedures at a telehealth
//! place of service.

use super::{Report, Rule, RuleContext, RuleMeta, RuleSource, finding};
use crate::domain::code_system::CodeSystem;
use crate::domain::finding::Severity;
use crate::domain::service_type::ServiceType;
use crate::domain::validity::{self, Validity};

/// Telehealth places of service (02 other than home, 10 in the patient's home).
const TELEHEALTH: [&str; 2] = ["02", "10"];

/// The place-of-service rules.
pub fn rules() -> Vec<Box<dyn Rule>> {
    vec![Box::new(PosInvalid), Box::new(TelehealthProcedure)]
}

/// An unassigned place-of-service code.
#[derive(Debug, Clone, Copy)]
pub struct PosInvalid;

impl PosInvalid {
    const META: RuleMeta = RuleMeta {
        id: "POS_INVALID",
        description: "Place of service is not an assigned CMS code",
        severity: Severity::Error,
        source: RuleSource::Cms,
        enabled_by_default: true,
    };
}

impl Rule for PosInvalid {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }
    fn evaluate(&self, context: &RuleContext<'_>, out: &mut Report) {
        let claim = context.claim;
        let mut check = |value: &str, line: u32, path: String, date| {
            if validity::check(context.catalog, CodeSystem::Pos, value, date).validity
                != Validity::Valid
            {
                out.push(finding(
                    self,
                    line,
                    path,
                    format!("place of service {value:?} is not an assigned CMS code"),
                ));
            }
        };
        if let Some(date) = claim.date_of_service {
            check(&claim.place_of_service, 0, "place_of_service".into(), date);
        }
        for (number, line, date) in context.lines() {
            if let (Some(pos), Some(date)) = (&line.place_of_service, date) {
                check(
                    pos,
                    number,
                    format!("lines[{}].place_of_service", number - 1),
                    date,
                );
            }
        }
    }
}

/// A procedure billed at a telehealth place of service.
#[derive(Debug, Clone, Copy)]
pub struct TelehealthProcedure;

impl TelehealthProcedure {
    const META: RuleMeta = RuleMeta {
        id: "POS_TELEHEALTH_PROCEDURE",
        description: "Hands-on procedures cannot be performed at a telehealth place of service",
        severity: Severity::Error,
        source: RuleSource::House,
        enabled_by_default: true,
    };
}

impl Rule for TelehealthProcedure {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }
    fn evaluate(&self, context: &RuleContext<'_>, out: &mut Report) {
        for (number, line, _) in context.lines() {
            let place = context.claim.line_place(line);
            let hands_on = context
                .catalog
                .procedures
                .attributes
                .get(line.procedure_code.as_str())
                .is_some_and(|a| a.service_type != ServiceType::EvaluationManagement);
            if hands_on && TELEHEALTH.contains(&place) {
                let mut f = finding(
                    self,
                    number,
                    format!("lines[{}].procedure_code", number - 1),
                    format!(
                        "{} cannot be performed by telehealth (place of service {place})",
                        line.procedure_code.as_str()
                    ),
                );
                f.suggestion = Some(
                    "bill the place where the procedure was performed, such as 11 (office)".into(),
                );
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
    fn unassigned_codes_and_telehealth_procedures_fire() {
        let mut claim = clean_claim();
        claim.place_of_service = "00".into();
        assert_eq!(
            fired(&PosInvalid, &claim),
            [("POS_INVALID", 0, "place_of_service".into())]
        );
        claim.place_of_service = "02".into();
        assert_eq!(fired(&TelehealthProcedure, &claim).len(), 1);
    }

    #[test]
    fn telehealth_visits_and_office_procedures_are_silent() {
        let mut claim = clean_claim();
        assert!(fired(&PosInvalid, &claim).is_empty());
        assert!(fired(&TelehealthProcedure, &claim).is_empty());
        claim.place_of_service = "10".into();
        claim.lines = vec![line("99213", &["95"], &[1])];
        assert!(fired(&TelehealthProcedure, &claim).is_empty());
    }
}
