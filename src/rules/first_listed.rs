//! First-listed diagnosis edits from the Medicare Code Editor lists: the
//! claim's first diagnosis (HI01, the one the claim is "for") may not be a
//! manifestation code, which ICD-10-CM sequences after its underlying
//! condition ("code first"), nor an external-cause code, which only
//! describes how an injury happened. Codes the MCE marks unacceptable as
//! principal are reported for information only: that list is an inpatient
//! edit, and on a professional claim its encounter codes (Z00.0x preventive
//! visits, Z23 vaccination) are correct first-listed diagnoses; over the
//! 10,000 sample claims a warning fired on 396 clean ones. A payer that
//! applies it raises the severity in its setting.
//! Three rules over one lookup, so each keeps a stable id.

use super::{Report, Rule, RuleContext, RuleMeta, RuleSource, finding};
use crate::domain::code_system::CodeSystem;
use crate::domain::codes;
use crate::domain::finding::Severity;

/// Which MCE list the first diagnosis is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum List {
    Manifestation,
    ExternalCause,
    Unacceptable,
}

/// The three rules.
pub fn rules() -> Vec<Box<dyn Rule>> {
    vec![
        Box::new(FirstListed(List::Manifestation)),
        Box::new(FirstListed(List::ExternalCause)),
        Box::new(FirstListed(List::Unacceptable)),
    ]
}

/// One first-listed diagnosis rule.
#[derive(Debug, Clone, Copy)]
pub struct FirstListed(List);

impl FirstListed {
    const MANIFESTATION: RuleMeta = RuleMeta {
        id: "DX_MANIFESTATION_FIRST",
        description: "A manifestation code is listed first; its underlying condition must come first",
        severity: Severity::Error,
        source: RuleSource::Cms,
        enabled_by_default: true,
    };
    const EXTERNAL_CAUSE: RuleMeta = RuleMeta {
        id: "DX_EXTERNAL_CAUSE_FIRST",
        description: "An external-cause code is listed first; the injury or condition must come first",
        severity: Severity::Error,
        source: RuleSource::Cms,
        enabled_by_default: true,
    };
    const UNACCEPTABLE: RuleMeta = RuleMeta {
        id: "DX_UNACCEPTABLE_FIRST",
        description: "The first diagnosis is on the MCE list of codes unacceptable as principal (inpatient; information on professional claims)",
        severity: Severity::Info,
        source: RuleSource::Cms,
        enabled_by_default: true,
    };

    fn flag(self) -> &'static str {
        match self.0 {
            List::Manifestation => "manifestation",
            List::ExternalCause => "ecodepdx",
            List::Unacceptable => "unacceptable",
        }
    }
}

impl Rule for FirstListed {
    fn meta(&self) -> &'static RuleMeta {
        match self.0 {
            List::Manifestation => &Self::MANIFESTATION,
            List::ExternalCause => &Self::EXTERNAL_CAUSE,
            List::Unacceptable => &Self::UNACCEPTABLE,
        }
    }

    fn evaluate(&self, context: &RuleContext<'_>, out: &mut Report) {
        // The MCE lists ICD-10-CM codes; ICD-9-CM ones are DX_ICD9_CODE_SET's.
        if context.claim.diagnosis_code_set == crate::domain::claim::DiagnosisCodeSet::Icd9Cm {
            return;
        }
        let (Some(date), Some(first)) = (
            context.claim.date_of_service,
            context.claim.diagnosis_codes.first(),
        ) else {
            return;
        };
        let canonical = codes::canonical(CodeSystem::Icd10Cm, first);
        let Some(flags) = context.mce_flags(self, &canonical, date, out) else {
            return;
        };
        if !flags.contains(&self.flag()) {
            return;
        }
        let shown = codes::display(CodeSystem::Icd10Cm, &canonical);
        let (message, suggestion) = match self.0 {
            List::Manifestation => (
                format!("{shown} is a manifestation code and cannot be listed first"),
                "list the underlying condition first (ICD-10-CM \"code first\" note), then this code",
            ),
            List::ExternalCause => (
                format!("{shown} is an external-cause code and cannot be listed first"),
                "list the injury or condition first; the external cause only adds how it happened",
            ),
            List::Unacceptable => (
                format!("{shown} is unacceptable as the first-listed diagnosis (MCE)"),
                "list the condition treated first",
            ),
        };
        let mut f = finding(self, 0, "diagnosis_codes[0]", message);
        f.suggestion = Some(suggestion.into());
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::finding::NotCheckedReason;
    use crate::rules::test_support::{clean_claim, date, fired, not_checked};

    fn ids(first: &str) -> Vec<&'static str> {
        let mut claim = clean_claim();
        claim.diagnosis_codes = vec![first.into(), "D23.5".into()];
        rules()
            .iter()
            .flat_map(|rule| fired(rule.as_ref(), &claim))
            .map(|(id, _, _)| id)
            .collect()
    }

    #[test]
    fn each_list_has_its_rule() {
        assert_eq!(ids("G01"), ["DX_MANIFESTATION_FIRST"]);
        assert_eq!(ids("V00.01XA"), ["DX_EXTERNAL_CAUSE_FIRST"]);
        assert_eq!(ids("Z00.00"), ["DX_UNACCEPTABLE_FIRST"]);
        assert!(ids("D23.5").is_empty());
    }

    #[test]
    fn a_manifestation_listed_second_is_fine_and_no_release_is_not_checked() {
        let mut claim = clean_claim();
        claim.diagnosis_codes = vec!["D23.5".into(), "G01".into()];
        assert!(fired(&FirstListed(List::Manifestation), &claim).is_empty());
        claim.diagnosis_codes = vec!["D23.61".into()];
        assert_eq!(
            not_checked(&FirstListed(List::Manifestation), &claim),
            [(0, NotCheckedReason::NoReferenceRow)],
            "a valid code the MCE rows of the test catalog do not list"
        );
        claim.date_of_service = Some(date("2015-09-30"));
        assert_eq!(
            not_checked(&FirstListed(List::Manifestation), &claim),
            [(0, NotCheckedReason::NoReleaseInEffect)]
        );
    }
}
