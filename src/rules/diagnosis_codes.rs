//! ICD-10-CM validity of the claim's diagnoses on the date of service:
//! unknown codes, headers, missing 7th characters and codes of another
//! fiscal year. Four rules over one check, so each keeps a stable id.

use chrono::NaiveDate;

use super::{Report, Rule, RuleContext, RuleMeta, RuleSource, finding};
use crate::domain::claim::DiagnosisCodeSet;
use crate::domain::code_system::CodeSystem;
use crate::domain::codes;
use crate::domain::finding::Severity;
use crate::domain::validity::{self, Validity};

/// What went wrong with a diagnosis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Problem {
    Invalid,
    NotBillable,
    Missing7th,
    NotEffective,
}

/// The four rules.
pub fn rules() -> Vec<Box<dyn Rule>> {
    vec![
        Box::new(DiagnosisRule(Problem::Invalid)),
        Box::new(DiagnosisRule(Problem::NotBillable)),
        Box::new(DiagnosisRule(Problem::Missing7th)),
        Box::new(DiagnosisRule(Problem::NotEffective)),
    ]
}

/// One ICD-10-CM validity rule.
#[derive(Debug, Clone, Copy)]
pub struct DiagnosisRule(Problem);

fn claim_date(context: &RuleContext<'_>) -> Option<NaiveDate> {
    context
        .claim
        .date_of_service
        .or_else(|| context.claim.lines.iter().find_map(|l| l.date_of_service))
}

/// The metadata of each of the four rules.
const fn meta(id: &'static str, description: &'static str) -> RuleMeta {
    RuleMeta {
        id,
        description,
        severity: Severity::Error,
        source: RuleSource::Cms,
        enabled_by_default: true,
    }
}

impl DiagnosisRule {
    const INVALID: RuleMeta = meta("ICD10CM_INVALID_CODE", "Diagnosis is not an ICD-10-CM code");
    const NOT_BILLABLE: RuleMeta = meta(
        "ICD10CM_NOT_BILLABLE",
        "Diagnosis is a header, not coded to the full number of characters",
    );
    const MISSING_7TH: RuleMeta = meta(
        "ICD10CM_MISSING_7TH_CHARACTER",
        "Diagnosis needs its 7th character (encounter or sequela)",
    );
    const NOT_EFFECTIVE: RuleMeta = meta(
        "ICD10CM_NOT_EFFECTIVE_ON_DOS",
        "Diagnosis is not valid in the fiscal year of the date of service",
    );
}

impl Rule for DiagnosisRule {
    fn meta(&self) -> &'static RuleMeta {
        match self.0 {
            Problem::Invalid => &Self::INVALID,
            Problem::NotBillable => &Self::NOT_BILLABLE,
            Problem::Missing7th => &Self::MISSING_7TH,
            Problem::NotEffective => &Self::NOT_EFFECTIVE,
        }
    }

    fn evaluate(&self, context: &RuleContext<'_>, out: &mut Report) {
        // ICD-9-CM codes are DX_ICD9_CODE_SET's to judge, not ICD-10-CM's.
        if context.claim.diagnosis_code_set == DiagnosisCodeSet::Icd9Cm {
            return;
        }
        let Some(date) = claim_date(context) else {
            return;
        };
        for (i, code) in context.claim.diagnosis_codes.iter().enumerate() {
            let check = validity::check(context.catalog, CodeSystem::Icd10Cm, code, date);
            let shown = codes::display(CodeSystem::Icd10Cm, &check.canonical);
            // Six characters that a 7th-character extension completes
            // (S01.112 -> S01.112A, S01.01X -> S01.01XA) lack the 7th
            // character. Extensions are letters; a digit in 7th place is a
            // subdivision (C44.129 -> C44.1291), so that code is a header.
            let needs_seventh = matches!(
                check.validity,
                Validity::UnknownCode | Validity::HeaderNotBillable
            ) && check.canonical.len() == 6
                && check.release.is_some_and(|r| {
                    r.search
                        .by_code_prefix(&check.canonical)
                        .iter()
                        .map(|h| r.search.code_at(h.position))
                        .any(|code| code.len() == 7 && code.as_bytes()[6].is_ascii_alphabetic())
                });
            let problem = match check.validity {
                Validity::Valid => continue,
                _ if needs_seventh => Problem::Missing7th,
                Validity::UnknownCode | Validity::InvalidFormat => Problem::Invalid,
                Validity::HeaderNotBillable => Problem::NotBillable,
                Validity::NotEffectiveOnDate | Validity::Terminated => Problem::NotEffective,
            };
            if problem != self.0 {
                continue;
            }
            let builtin_only = check.release.is_some_and(|r| r.version.builtin);
            let release = check
                .release
                .map_or_else(|| "none loaded".to_owned(), |r| r.version.version.clone());
            let mut f = finding(
                self,
                0,
                format!("diagnosis_codes[{i}]"),
                match problem {
                    Problem::Invalid if builtin_only => format!(
                        "{shown} is not in claimscrub's built-in ICD-10-CM subset; import the official release to check it"
                    ),
                    Problem::Invalid => {
                        format!("{shown} is not an ICD-10-CM code (release {release})")
                    }
                    Problem::NotBillable => format!("{shown} is a header and cannot be billed"),
                    Problem::Missing7th => format!("{shown} needs a 7th character"),
                    Problem::NotEffective => match CodeSystem::Icd10Cm.code_set_start() {
                        Some(start) if date < start => format!(
                            "ICD-10-CM took effect on {start}; services on {date} are coded in ICD-9-CM"
                        ),
                        _ => {
                            format!("{shown} is not valid on {date} (ICD-10-CM release {release})")
                        }
                    },
                },
            );
            if problem == Problem::Invalid && builtin_only {
                f.severity = Severity::Warning;
            }
            if let Some(first) = check.suggestions.first() {
                f.suggested_code = Some(codes::display(CodeSystem::Icd10Cm, &first.code));
                f.suggestion = Some(format!(
                    "code to a billable subcode: {}",
                    check
                        .suggestions
                        .iter()
                        .take(8)
                        .map(|c| codes::display(CodeSystem::Icd10Cm, &c.code))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            out.push(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{clean_claim, date, fired};

    fn with_dx(code: &str, dos: &str) -> crate::domain::claim::Claim {
        let mut claim = clean_claim();
        claim.diagnosis_codes = vec![code.into()];
        claim.date_of_service = Some(date(dos));
        claim
    }

    #[test]
    fn icd9_diagnoses_are_left_to_the_code_set_rule() {
        let mut claim = with_dx("7061", "2026-01-15");
        assert!(!fired(&DiagnosisRule(Problem::Invalid), &claim).is_empty());
        claim.diagnosis_code_set = DiagnosisCodeSet::Icd9Cm;
        for rule in rules() {
            assert!(fired(rule.as_ref(), &claim).is_empty(), "{}", rule.id());
        }
    }

    fn ids(code: &str, dos: &str) -> Vec<&'static str> {
        rules()
            .iter()
            .flat_map(|r| fired(r.as_ref(), &with_dx(code, dos)))
            .map(|(id, _, _)| id)
            .collect()
    }

    #[test]
    fn each_kind_of_bad_diagnosis_has_its_own_rule() {
        assert_eq!(ids("D99.9", "2026-01-15"), ["ICD10CM_INVALID_CODE"]);
        assert_eq!(ids("D23.6", "2026-01-15"), ["ICD10CM_NOT_BILLABLE"]);
        assert_eq!(
            ids("S21.01X", "2026-01-15"),
            ["ICD10CM_MISSING_7TH_CHARACTER"]
        );
        assert_eq!(
            ids("S21.01", "2026-01-15"),
            ["ICD10CM_NOT_BILLABLE"],
            "a shorter header"
        );
        assert_eq!(
            ids("C50.A1", "2025-09-30"),
            ["ICD10CM_NOT_EFFECTIVE_ON_DOS"]
        );
    }

    #[test]
    fn valid_codes_pass_with_or_without_the_dot() {
        for code in ["D23.5", "D235", "s21.01xa", "C50.A1"] {
            assert!(ids(code, "2026-01-15").is_empty(), "{code}");
        }
    }

    #[test]
    fn a_header_suggests_its_children() {
        let rule = DiagnosisRule(Problem::NotBillable);
        let catalog = crate::rules::test_support::catalog();
        let claim = with_dx("D23.6", "2026-01-15");
        let mut out = Report::default();
        rule.evaluate(
            &RuleContext {
                claim: &claim,
                catalog: &catalog,
                history: &[],
            },
            &mut out,
        );
        assert_eq!(out.findings[0].suggested_code.as_deref(), Some("D23.61"));
        assert_eq!(out.findings[0].field_path, "diagnosis_codes[0]");
    }
}
