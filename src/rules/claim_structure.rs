//! Parts an 837P requires that a submitter can fix: identifiers present, at
//! least one line and one diagnosis. The upper limits (50 lines, 12
//! diagnoses, 4 modifiers) are not findings: a claim beyond them cannot be
//! an 837P at all and is refused at the door (`domain::limits`).

use super::{Report, Rule, RuleContext, RuleMeta, RuleSource, finding};
use crate::domain::finding::Severity;

/// A claim that breaks an 837P structural limit.
#[derive(Debug, Clone, Copy)]
pub struct ClaimStructure;

impl ClaimStructure {
    const META: RuleMeta = RuleMeta {
        id: "CLAIM_STRUCTURE",
        description: "Claim id, date of service and payer present; at least one line and one diagnosis",
        severity: Severity::Error,
        source: RuleSource::Cms,
        enabled_by_default: true,
    };
}

impl Rule for ClaimStructure {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }
    fn evaluate(&self, context: &RuleContext<'_>, out: &mut Report) {
        let claim = context.claim;
        let mut claim_level =
            |path: &str, message: String| out.push(finding(self, 0, path, message));
        if claim.claim_id.trim().is_empty() {
            claim_level("claim_id", "the claim has no claim id".into());
        }
        if claim.date_of_service.is_none() {
            claim_level("date_of_service", "the claim has no date of service".into());
        }
        if claim.payer_id.as_str().is_empty() {
            claim_level("payer_id", "the claim names no payer".into());
        }
        if claim.lines.is_empty() {
            claim_level("lines", "the claim has no service lines".into());
        }
        if claim.diagnosis_codes.is_empty() {
            claim_level("diagnosis_codes", "the claim has no diagnosis".into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{clean_claim, fired};

    #[test]
    fn missing_parts_fire_at_their_fields() {
        let mut claim = clean_claim();
        claim.claim_id.clear();
        claim.payer_id = " ".into();
        claim.diagnosis_codes.clear();
        let paths: Vec<String> = fired(&ClaimStructure, &claim)
            .into_iter()
            .map(|(_, _, path)| path)
            .collect();
        assert_eq!(paths, ["claim_id", "payer_id", "diagnosis_codes"]);
        claim.lines.clear();
        assert!(
            fired(&ClaimStructure, &claim)
                .iter()
                .any(|(_, _, path)| path == "lines")
        );
    }

    #[test]
    fn a_well_formed_claim_is_silent() {
        assert!(fired(&ClaimStructure, &clean_claim()).is_empty());
    }
}
