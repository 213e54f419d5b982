//! Age and sex conflicts of diagnoses, from a reference table of ICD-10-CM
//! ranges (as the CMS Medicare Code Editor groups them): newborn codes for
//! age 0, maternity codes for ages 9-64, and sex-specific ranges. Runs only
//! when the claim carries the patient's birth date or sex.

use chrono::Datelike;

use super::{Rule, RuleContext, RuleMeta, RuleSource, finding};
use crate::domain::claim::Sex;
use crate::domain::code_system::CodeSystem;
use crate::domain::codes;
use crate::domain::finding::{Finding, Severity};

/// Who a range of codes applies to.
#[derive(Debug, Clone, Copy)]
enum Applies {
    /// Age in whole years within the bounds.
    Age(u32, u32),
    /// One sex only.
    Only(Sex),
}

/// (first code prefix, last code prefix, constraint, what the range is).
const TABLE: [(&str, &str, Applies, &str); 12] = [
    (
        "P00",
        "P96",
        Applies::Age(0, 0),
        "perinatal (newborn) condition",
    ),
    ("Z38", "Z38", Applies::Age(0, 0), "liveborn infant"),
    (
        "O00",
        "O9A",
        Applies::Age(9, 64),
        "pregnancy, childbirth or the puerperium",
    ),
    (
        "O00",
        "O9A",
        Applies::Only(Sex::Female),
        "pregnancy, childbirth or the puerperium",
    ),
    (
        "C51",
        "C58",
        Applies::Only(Sex::Female),
        "female genital organ malignancy",
    ),
    (
        "D25",
        "D28",
        Applies::Only(Sex::Female),
        "female genital organ benign neoplasm",
    ),
    (
        "N70",
        "N98",
        Applies::Only(Sex::Female),
        "female pelvic or genital disorder",
    ),
    (
        "C60",
        "C63",
        Applies::Only(Sex::Male),
        "male genital organ malignancy",
    ),
    (
        "D29",
        "D29",
        Applies::Only(Sex::Male),
        "male genital organ benign neoplasm",
    ),
    (
        "N40",
        "N53",
        Applies::Only(Sex::Male),
        "male genital disorder",
    ),
    (
        "Z3A",
        "Z3A",
        Applies::Only(Sex::Female),
        "weeks of gestation",
    ),
    (
        "Z33",
        "Z34",
        Applies::Only(Sex::Female),
        "pregnant state or supervision of pregnancy",
    ),
];

/// A diagnosis that does not fit the patient's age or sex.
#[derive(Debug, Clone, Copy)]
pub struct AgeSexConflict;

impl AgeSexConflict {
    const META: RuleMeta = RuleMeta {
        id: "DX_AGE_SEX_CONFLICT",
        description: "Diagnosis does not fit the patient's age or sex",
        severity: Severity::Error,
        source: RuleSource::Cms,
        enabled_by_default: true,
    };
}

impl Rule for AgeSexConflict {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }
    fn evaluate(&self, context: &RuleContext<'_>, out: &mut Vec<Finding>) {
        let patient = &context.claim.patient;
        let age = patient
            .birth_date
            .zip(context.claim.date_of_service)
            .map(|(born, dos)| {
                let years = dos.year()
                    - born.year()
                    - i32::from((dos.month(), dos.day()) < (born.month(), born.day()));
                u32::try_from(years).unwrap_or(0)
            });
        for (i, code) in context.claim.diagnosis_codes.iter().enumerate() {
            let canonical = codes::canonical(CodeSystem::Icd10Cm, code);
            let category = canonical.get(..3).unwrap_or_default();
            for (first, last, applies, what) in TABLE {
                if category < first || category > last {
                    continue;
                }
                let conflict = match applies {
                    Applies::Age(low, high) => age
                        .filter(|a| *a < low || *a > high)
                        .map(|a| format!("age {a}")),
                    Applies::Only(sex) => matches!(patient.sex, Sex::Female | Sex::Male)
                        .then_some(patient.sex)
                        .filter(|s| *s != sex)
                        .map(|s| format!("{s:?} patient").to_lowercase()),
                };
                if let Some(conflict) = conflict {
                    out.push(finding(
                        self,
                        0,
                        format!("diagnosis_codes[{i}]"),
                        format!(
                            "{} is a {what} code, which does not fit a {conflict}",
                            codes::display(CodeSystem::Icd10Cm, &canonical)
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
    use crate::rules::test_support::{clean_claim, date, fired};

    #[test]
    fn newborn_maternity_and_sex_specific_codes_conflict() {
        let mut claim = clean_claim();
        claim.patient.birth_date = Some(date("1970-03-01"));
        claim.patient.sex = Sex::Male;
        claim.diagnosis_codes = vec!["P83.88".into(), "N40.0".into(), "O80".into()];
        let paths: Vec<String> = fired(&AgeSexConflict, &claim)
            .into_iter()
            .map(|(_, _, p)| p)
            .collect();
        assert_eq!(
            paths,
            ["diagnosis_codes[0]", "diagnosis_codes[2]"],
            "a newborn code at 55; maternity for a man"
        );
        claim.patient.sex = Sex::Female;
        claim.patient.birth_date = Some(date("1950-03-01"));
        claim.diagnosis_codes = vec!["O80".into()];
        assert_eq!(fired(&AgeSexConflict, &claim).len(), 1, "maternity at 75");
    }

    #[test]
    fn fitting_patients_and_claims_without_demographics_are_silent() {
        let mut claim = clean_claim();
        claim.diagnosis_codes = vec!["N40.0".into(), "P83.88".into()];
        assert!(
            fired(&AgeSexConflict, &claim).is_empty(),
            "no birth date or sex on the claim"
        );
        claim.patient.sex = Sex::Male;
        claim.diagnosis_codes = vec!["N40.0".into()];
        assert!(fired(&AgeSexConflict, &claim).is_empty());
    }
}
