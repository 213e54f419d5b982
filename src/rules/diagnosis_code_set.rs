//! ICD-9-CM diagnoses (HI qualifiers BK/BF). ICD-10-CM replaced ICD-9-CM
//! for dates of service from 2015-10-01 (45 CFR 162.1002): a later claim
//! with ICD-9 codes is rejected. An earlier one was coded right for its
//! day, but claimscrub holds no ICD-9-CM code set, so its diagnosis edits
//! are named as not checked rather than passed.

use chrono::NaiveDate;

use super::{Report, Rule, RuleContext, RuleMeta, RuleSource, finding};
use crate::domain::claim::DiagnosisCodeSet;
use crate::domain::finding::{NotCheckedReason, Severity};

/// The first date of service that must be coded in ICD-10-CM.
pub const ICD10_MANDATE: NaiveDate = match NaiveDate::from_ymd_opt(2015, 10, 1) {
    Some(date) => date,
    None => panic!("a calendar date"),
};

/// ICD-9-CM diagnoses on a claim.
#[derive(Debug, Clone, Copy)]
pub struct Icd9Diagnoses;

impl Icd9Diagnoses {
    const META: RuleMeta = RuleMeta {
        id: "DX_ICD9_CODE_SET",
        description: "Diagnoses are coded in ICD-10-CM from 2015-10-01 (HI qualifiers ABK/ABF)",
        severity: Severity::Error,
        source: RuleSource::Cms,
        enabled_by_default: true,
    };
}

impl Rule for Icd9Diagnoses {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }
    fn evaluate(&self, context: &RuleContext<'_>, out: &mut Report) {
        if context.claim.diagnosis_code_set != DiagnosisCodeSet::Icd9Cm {
            return;
        }
        match context.claim.date_of_service {
            Some(date) if date < ICD10_MANDATE => out.not_checked(
                self,
                0,
                NotCheckedReason::NoReleaseInEffect,
                format!(
                    "the diagnoses are ICD-9-CM, right for {date}; no ICD-9-CM code set is loaded"
                ),
            ),
            _ => {
                let mut f = finding(
                    self,
                    0,
                    "diagnosis_codes",
                    "the diagnoses are ICD-9-CM (BK/BF); dates of service from 2015-10-01 are coded in ICD-10-CM",
                );
                f.suggestion =
                    Some("code the diagnoses in ICD-10-CM with qualifiers ABK and ABF".into());
                out.push(f);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{clean_claim, date, fired, not_checked};

    #[test]
    fn icd9_after_the_mandate_fires_and_before_it_is_not_checked() {
        let mut claim = clean_claim();
        assert!(fired(&Icd9Diagnoses, &claim).is_empty());
        claim.diagnosis_code_set = DiagnosisCodeSet::Icd9Cm;
        assert_eq!(
            fired(&Icd9Diagnoses, &claim),
            [("DX_ICD9_CODE_SET", 0, "diagnosis_codes".into())]
        );
        claim.date_of_service = Some(date("2006-10-03"));
        assert!(fired(&Icd9Diagnoses, &claim).is_empty());
        assert_eq!(not_checked(&Icd9Diagnoses, &claim).len(), 1);
    }
}
