//! Medical necessity of benign lesion removal: Medicare (LCD L35498 /
//! L34200) and some commercial payers cover it only with an indication
//! (bleeding, itching, pain, inflammation, obstruction, recent change,
//! suspected malignancy, prior biopsy, recurrent trauma); otherwise it is
//! cosmetic. Runs only for payers whose settings enable it; the `policy`
//! parameter names the payer's policy in the message.
//!
//! An 837P has no field for the indication, so the evidence is the
//! diagnoses the line points to, read through the coverage policy of the
//! default data set (`reference/default/coverage_policies.csv`): a sign,
//! symptom or covered neoplasm shows the indication; a cosmetic encounter
//! or an unspecified disorder with nothing beside it is the cosmetic case.
//! `documented_indications`, when a caller sends it, is extra evidence and
//! is never required. A diagnosis the policy does not list is not checked.

use super::{Report, Rule, RuleContext, RuleMeta, RuleSource, finding};
use crate::domain::catalog::CoverageEvidence;
use crate::domain::code_system::CodeSystem;
use crate::domain::codes;
use crate::domain::finding::{NotCheckedReason, Severity};

/// Modifiers by which the submitter bills a possibly non-covered service
/// knowingly: an advance beneficiary notice is on file (GA, GX) or none is
/// needed (GY, GZ).
const BILLED_KNOWINGLY: [&str; 4] = ["GA", "GX", "GY", "GZ"];

/// A benign excision whose diagnoses show no indication.
#[derive(Debug, Clone, Copy)]
pub struct BenignRemovalWithoutIndication;

impl BenignRemovalWithoutIndication {
    const META: RuleMeta = RuleMeta {
        id: "BENIGN_REMOVAL_NO_INDICATION",
        description: "Benign lesion removal whose diagnoses show no indication may be denied as cosmetic",
        severity: Severity::Warning,
        source: RuleSource::Payer,
        enabled_by_default: false,
    };
}

impl Rule for BenignRemovalWithoutIndication {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }
    fn evaluate(&self, context: &RuleContext<'_>, out: &mut Report) {
        let policy = context
            .parameter(self.id(), "policy")
            .unwrap_or("the payer's policy");
        let knowledge = &context.catalog.procedures;
        for (number, line, _) in context.lines() {
            let Some(attributes) = knowledge.attributes.get(line.procedure_code.as_str()) else {
                continue;
            };
            if knowledge.coverage_entries(attributes).next().is_none() {
                continue;
            }
            if !line.documented_indications.is_empty()
                || BILLED_KNOWINGLY.iter().any(|m| line.has_modifier(m))
            {
                continue;
            }
            let mut cosmetic = None;
            let mut unlisted = Vec::new();
            let mut indicated = false;
            for (_, code) in context.claim.pointed_diagnoses(line) {
                let canonical = codes::canonical(CodeSystem::Icd10Cm, code);
                match knowledge
                    .coverage_evidence(attributes, &canonical)
                    .map(|e| e.evidence)
                {
                    Some(CoverageEvidence::Indication) => indicated = true,
                    Some(CoverageEvidence::Cosmetic) => {
                        cosmetic.get_or_insert(codes::display(CodeSystem::Icd10Cm, &canonical));
                    }
                    None => unlisted.push(codes::display(CodeSystem::Icd10Cm, &canonical)),
                }
            }
            if indicated {
                continue;
            }
            if let Some(code) = cosmetic {
                let mut f = finding(
                    self,
                    number,
                    format!("lines[{}].diagnosis_pointers", number - 1),
                    format!(
                        "benign lesion removal pointing only at {code} and no sign or symptom is cosmetic under {policy}"
                    ),
                );
                // No machine fix: the sign must be documented, and GA
                // attests a signed advance beneficiary notice the claim
                // cannot show.
                f.suggestion = Some(
                    "code and point the line to the documented sign (e.g. L29.89 itching, R23.8 skin change, inflammation, bleeding), or append GA when an advance beneficiary notice is on file"
                        .into(),
                );
                out.push(f);
            } else {
                out.not_checked(
                    self,
                    number,
                    NotCheckedReason::NoCoveragePolicy,
                    if unlisted.is_empty() {
                        "the line points to no diagnosis".to_owned()
                    } else {
                        format!(
                            "the coverage policy lists none of the line's diagnoses ({})",
                            unlisted.join(", ")
                        )
                    },
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::claim::Indication;
    use crate::domain::finding::NotCheckedReason;
    use crate::rules::RuleSet;
    use crate::rules::test_support::{catalog, clean_claim};

    fn evaluate(
        payer: &str,
        diagnoses: &[&str],
        indications: &[Indication],
        modifiers: &[&str],
    ) -> (Vec<String>, Vec<NotCheckedReason>) {
        let mut catalog = catalog();
        catalog.payer_rules = crate::domain::default_data::parse()
            .expect("defaults")
            .payer_rules;
        let mut claim = clean_claim();
        claim.payer_id = payer.into();
        claim.diagnosis_codes = diagnoses.iter().map(|d| (*d).into()).collect();
        claim.lines[0].diagnosis_pointers = (1..=diagnoses.len() as u32).collect();
        claim.lines[0].documented_indications = indications.to_vec();
        claim.lines[0].modifiers = modifiers.iter().map(|m| (*m).into()).collect();
        let evaluation = RuleSet::standard().evaluate(&claim, &catalog, &[]);
        let policy = "BENIGN_REMOVAL_NO_INDICATION";
        (
            evaluation
                .findings
                .into_iter()
                .filter(|f| f.rule_id == policy)
                .map(|f| f.field_path)
                .collect(),
            evaluation
                .not_checked
                .into_iter()
                .filter(|n| n.rule_id == policy)
                .map(|n| n.reason)
                .collect(),
        )
    }

    fn fires(payer: &str, diagnoses: &[&str]) -> bool {
        !evaluate(payer, diagnoses, &[], &[]).0.is_empty()
    }

    #[test]
    fn covered_neoplasms_and_signs_show_the_indication() {
        for diagnoses in [
            &["D23.5"][..],
            &["D22.5"],
            &["D48.5"],
            &["D49.2"],
            &["L82.1", "R23.8"],
            &["Z41.1", "L29.89"],
        ] {
            assert!(!fires("MEDICARE", diagnoses), "{diagnoses:?}");
        }
    }

    #[test]
    fn a_cosmetic_diagnosis_alone_warns_unless_ga_or_an_indication_is_there() {
        for diagnoses in [&["Z41.1"][..], &["L82.1"], &["L98.9"]] {
            assert_eq!(
                evaluate("MEDICARE", diagnoses, &[], &[]).0,
                ["lines[0].diagnosis_pointers"],
                "{diagnoses:?}"
            );
        }
        assert!(!fires("BCBS", &["Z41.1"]), "not enabled for BCBS");
        assert!(
            evaluate("MEDICARE", &["Z41.1"], &[], &["GA"]).0.is_empty(),
            "an advance beneficiary notice is on file"
        );
        assert!(
            evaluate("MEDICARE", &["Z41.1"], &[Indication::Bleeding], &[])
                .0
                .is_empty(),
            "a documented indication adds evidence"
        );
    }

    #[test]
    fn a_diagnosis_the_policy_does_not_list_is_not_checked() {
        assert_eq!(
            evaluate("MEDICARE", &["L72.0"], &[], &[]),
            (Vec::new(), vec![NotCheckedReason::NoCoveragePolicy])
        );
    }
}
