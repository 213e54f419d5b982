//! Structural limits of an 837P claim that a submitter can fix: identifiers
//! present, at least one line and at most 50, one to twelve diagnoses, at
//! most four modifiers per line.

use super::{Rule, RuleContext, RuleSource, finding};
use crate::domain::finding::{Finding, Severity};

/// Most service lines on a professional claim (837P loop 2400 repeat).
const MAX_LINES: usize = 50;
/// Most diagnoses (HI segment, CMS-1500 box 21 A-L).
const MAX_DIAGNOSES: usize = 12;
/// Most modifiers per line (SV101-3 to SV101-6).
const MAX_MODIFIERS: usize = 4;

/// A claim that breaks an 837P structural limit.
#[derive(Debug, Clone, Copy)]
pub struct ClaimStructure;

impl Rule for ClaimStructure {
    fn id(&self) -> &'static str {
        "CLAIM_STRUCTURE"
    }
    fn description(&self) -> &'static str {
        "Claim id, date of service and payer present; 1-50 lines; 1-12 diagnoses; at most 4 modifiers per line"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn source(&self) -> RuleSource {
        RuleSource::Cms
    }
    fn evaluate(&self, context: &RuleContext<'_>, out: &mut Vec<Finding>) {
        let claim = context.claim;
        let mut claim_level =
            |path: &str, message: String| out.push(finding(self, 0, path, message));
        if claim.claim_id.trim().is_empty() {
            claim_level("claim_id", "the claim has no claim id".into());
        }
        if claim.date_of_service.is_none() {
            claim_level("date_of_service", "the claim has no date of service".into());
        }
        if claim.payer_id.trim().is_empty() {
            claim_level("payer_id", "the claim names no payer".into());
        }
        if claim.lines.is_empty() {
            claim_level("lines", "the claim has no service lines".into());
        }
        if claim.lines.len() > MAX_LINES {
            claim_level(
                "lines",
                format!("{} lines; at most {MAX_LINES}", claim.lines.len()),
            );
        }
        if claim.diagnosis_codes.is_empty() {
            claim_level("diagnosis_codes", "the claim has no diagnosis".into());
        }
        if claim.diagnosis_codes.len() > MAX_DIAGNOSES {
            claim_level(
                "diagnosis_codes",
                format!(
                    "{} diagnoses; at most {MAX_DIAGNOSES}",
                    claim.diagnosis_codes.len()
                ),
            );
        }
        for (number, line, _) in context.lines() {
            if line.modifiers.len() > MAX_MODIFIERS {
                out.push(finding(
                    self,
                    number,
                    format!("lines[{}].modifiers", number - 1),
                    format!(
                        "{} modifiers; at most {MAX_MODIFIERS}",
                        line.modifiers.len()
                    ),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{clean_claim, fired};

    #[test]
    fn missing_parts_and_limits_fire_at_their_fields() {
        let mut claim = clean_claim();
        claim.claim_id.clear();
        claim.payer_id = " ".into();
        claim.diagnosis_codes = vec!["D23.5".into(); 13];
        claim.lines[0].modifiers = vec!["XS".into(); 5];
        let paths: Vec<String> = fired(&ClaimStructure, &claim)
            .into_iter()
            .map(|(_, _, path)| path)
            .collect();
        assert_eq!(
            paths,
            [
                "claim_id",
                "payer_id",
                "diagnosis_codes",
                "lines[0].modifiers"
            ]
        );
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
