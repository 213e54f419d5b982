//! Age and sex conflicts of diagnoses, from the CMS Medicare Code Editor's
//! lists as loaded (`claimscrub import mce`): a code flagged `male` or
//! `female` for a patient of the other sex, and one flagged `newborn`,
//! `pediatric`, `maternity` or `adult` for a patient outside the MCE's age
//! band (`domain::mce::AGE_BANDS`). Runs only when the claim carries the
//! patient's birth date or sex; without an MCE release in effect it says
//! the edit was not checked.

use chrono::Datelike;

use super::{Report, Rule, RuleContext, RuleMeta, RuleSource, finding};
use crate::domain::claim::Sex;
use crate::domain::code_system::CodeSystem;
use crate::domain::codes;
use crate::domain::finding::{NotCheckedReason, Severity};
use crate::domain::mce;

/// A diagnosis that does not fit the patient's age or sex.
#[derive(Debug, Clone, Copy)]
pub struct AgeSexConflict;

impl AgeSexConflict {
    const META: RuleMeta = RuleMeta {
        id: "DX_AGE_SEX_CONFLICT",
        description: "Diagnosis does not fit the patient's age or sex (MCE lists)",
        severity: Severity::Error,
        source: RuleSource::Cms,
        enabled_by_default: true,
    };
}

impl Rule for AgeSexConflict {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }
    fn evaluate(&self, context: &RuleContext<'_>, out: &mut Report) {
        let patient = &context.claim.patient;
        let Some(date) = context.claim.date_of_service else {
            return;
        };
        let age = patient.birth_date.map(|born| {
            let years = date.year()
                - born.year()
                - i32::from((date.month(), date.day()) < (born.month(), born.day()));
            u32::try_from(years).unwrap_or(0)
        });
        let sex = matches!(patient.sex, Sex::Female | Sex::Male).then_some(patient.sex);
        if age.is_none() && sex.is_none() {
            out.not_checked(
                self,
                0,
                NotCheckedReason::FieldNotSent,
                "the claim carries neither the patient's birth date nor sex",
            );
            return;
        }
        for (i, code) in context.claim.diagnosis_codes.iter().enumerate() {
            let canonical = codes::canonical(CodeSystem::Icd10Cm, code);
            let Some(flags) = context.mce_flags(self, &canonical, date, out) else {
                continue;
            };
            let shown = codes::display(CodeSystem::Icd10Cm, &canonical);
            for flag in flags {
                let conflict = match flag {
                    "male" => sex
                        .filter(|s| *s == Sex::Female)
                        .map(|_| "a female patient".to_owned()),
                    "female" => sex
                        .filter(|s| *s == Sex::Male)
                        .map(|_| "a male patient".to_owned()),
                    _ => mce::age_band(flag, date).and_then(|(low, high)| {
                        age.filter(|a| *a < low || *a > high).map(|a| {
                            format!("age {a} (the MCE's {flag} codes are for ages {low}-{high})")
                        })
                    }),
                };
                if let Some(conflict) = conflict {
                    out.push(finding(
                        self,
                        0,
                        format!("diagnosis_codes[{i}]"),
                        format!("{shown} is on the MCE {flag} list, which does not fit {conflict}"),
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::finding::NotCheckedReason;
    use crate::rules::test_support::{clean_claim, date, fired, not_checked};

    /// The MCE lists of the date decide: v43.1 dropped the sex flags from
    /// 2024-10-01 on, so N40.0 for a woman conflicts only before that date.
    #[test]
    fn newborn_maternity_and_sex_flags_of_the_date_conflict() {
        let mut claim = clean_claim();
        claim.date_of_service = Some(date("2024-06-03"));
        claim.patient.birth_date = Some(date("1950-03-01"));
        claim.patient.sex = Sex::Female;
        claim.diagnosis_codes = vec!["Z38.00".into(), "N40.0".into(), "O80".into()];
        let paths: Vec<String> = fired(&AgeSexConflict, &claim)
            .into_iter()
            .map(|(_, _, p)| p)
            .collect();
        assert_eq!(
            paths,
            [
                "diagnosis_codes[0]",
                "diagnosis_codes[1]",
                "diagnosis_codes[2]"
            ],
            "a newborn code at 74; a male code for a woman; maternity at 74"
        );
        claim.date_of_service = Some(date("2026-01-15"));
        claim.diagnosis_codes = vec!["N40.0".into()];
        assert!(
            fired(&AgeSexConflict, &claim).is_empty(),
            "no sex flag on N40.0 in FY2026"
        );
    }

    #[test]
    fn fitting_patients_and_claims_without_demographics_are_silent() {
        let mut claim = clean_claim();
        claim.diagnosis_codes = vec!["O80".into(), "Z38.00".into()];
        assert!(
            fired(&AgeSexConflict, &claim).is_empty(),
            "no birth date or sex on the claim"
        );
        claim.patient.sex = Sex::Female;
        claim.patient.birth_date = Some(date("1990-03-01"));
        claim.diagnosis_codes = vec!["O80".into()];
        assert!(fired(&AgeSexConflict, &claim).is_empty());
    }

    #[test]
    fn without_an_mce_release_the_edit_is_not_checked() {
        let mut claim = clean_claim();
        claim.patient.sex = Sex::Male;
        claim.date_of_service = Some(date("2015-09-30"));
        assert_eq!(
            not_checked(&AgeSexConflict, &claim),
            [(0, NotCheckedReason::NoReleaseInEffect)]
        );
    }
}
