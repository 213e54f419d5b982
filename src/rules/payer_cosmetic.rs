//! Medical necessity of benign lesion removal: Medicare (LCD L35498 /
//! L34200) and some commercial payers cover it only with a documented
//! indication (bleeding, itching, pain, inflammation, obstruction, recent
//! change, suspected malignancy, prior biopsy, recurrent trauma); otherwise
//! it is cosmetic. Runs only for payers whose settings enable it; the
//! `policy` parameter names the payer's policy in the message.

use super::{Rule, RuleContext, RuleMeta, RuleSource, finding};
use crate::domain::finding::{Finding, Severity};
use crate::domain::service_type::ServiceType;

/// A benign excision with no documented indication.
#[derive(Debug, Clone, Copy)]
pub struct BenignRemovalWithoutIndication;

impl BenignRemovalWithoutIndication {
    const META: RuleMeta = RuleMeta {
        id: "BENIGN_REMOVAL_NO_INDICATION",
        description: "Benign lesion removal without a documented indication may be denied as cosmetic",
        severity: Severity::Warning,
        source: RuleSource::Payer,
        enabled_by_default: false,
    };
}

impl Rule for BenignRemovalWithoutIndication {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }
    fn evaluate(&self, context: &RuleContext<'_>, out: &mut Vec<Finding>) {
        let policy = context
            .parameter(self.id(), "policy")
            .unwrap_or("the payer's policy");
        for (number, line, _) in context.lines() {
            let benign_excision = context
                .catalog
                .procedures
                .attributes
                .get(line.procedure_code.as_str())
                .is_some_and(|a| {
                    a.service_type == ServiceType::Excision
                        && a.lesion_behavior.as_deref() == Some("benign")
                });
            if benign_excision && line.documented_indications.is_empty() {
                let mut f = finding(
                    self,
                    number,
                    format!("lines[{}].documented_indications", number - 1),
                    format!(
                        "benign lesion removal without a documented indication is cosmetic under {policy}"
                    ),
                );
                f.suggestion = Some(
                    "document the indication (bleeding, itching, pain, inflammation, obstruction, recent change, suspected malignancy) or obtain an advance beneficiary notice (GA)"
                        .into(),
                );
                out.push(f);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::claim::Indication;
    use crate::rules::RuleSet;
    use crate::rules::test_support::{catalog, clean_claim};

    fn rule_ids(payer: &str, indications: &[Indication]) -> Vec<String> {
        let mut catalog = catalog();
        catalog.payer_rules = crate::domain::default_data::parse()
            .expect("defaults")
            .payer_rules;
        let mut claim = clean_claim();
        claim.payer_id = payer.into();
        claim.lines[0].documented_indications = indications.to_vec();
        RuleSet::standard()
            .evaluate(&claim, &catalog, &[])
            .1
            .into_iter()
            .map(|f| f.rule_id)
            .collect()
    }

    #[test]
    fn medicare_warns_without_an_indication_and_payers_without_the_policy_do_not() {
        assert_eq!(rule_ids("MEDICARE", &[]), ["BENIGN_REMOVAL_NO_INDICATION"]);
        assert!(rule_ids("MEDICARE", &[Indication::Bleeding]).is_empty());
        assert!(rule_ids("BCBS", &[]).is_empty(), "not enabled for BCBS");
    }
}
