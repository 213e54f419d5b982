//! The claim's total charge is the sum of its line charges (X12 SNIP
//! level 3 balancing: CLM02 = ΣSV102). A payer's front end rejects an
//! unbalanced claim; here it is that claim's finding, so one bad claim
//! does not reject the others of its transaction set.

use super::{Report, Rule, RuleContext, RuleMeta, RuleSource, finding};
use crate::domain::claim::Quantity;
use crate::domain::finding::Severity;

/// CLM02 differs from the sum of SV102.
#[derive(Debug, Clone, Copy)]
pub struct ChargesOutOfBalance;

impl ChargesOutOfBalance {
    const META: RuleMeta = RuleMeta {
        id: "CHARGES_OUT_OF_BALANCE",
        description: "The claim's total charge equals the sum of its line charges",
        severity: Severity::Error,
        source: RuleSource::House,
        enabled_by_default: true,
    };
}

impl Rule for ChargesOutOfBalance {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }
    fn evaluate(&self, context: &RuleContext<'_>, out: &mut Report) {
        // Charges are X12 data: a protobuf claim carries none, and then
        // there is nothing to balance.
        let Some(total) = context.claim.total_charge else {
            return;
        };
        let sum = context
            .claim
            .lines
            .iter()
            .try_fold(Quantity::default(), |sum, line| {
                sum.checked_add(line.charge?)
            });
        if sum != Some(total) {
            let lines = sum.map_or_else(
                || "not all lines have a charge".to_owned(),
                |s| format!("the lines add up to {s}"),
            );
            let mut f = finding(
                self,
                0,
                "total_charge",
                format!("the total charge is {total}; {lines}"),
            );
            f.suggestion = Some("make CLM02 the sum of the lines' SV102".into());
            out.push(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support::{clean_claim, fired, line};

    fn amount(text: &str) -> Option<Quantity> {
        Quantity::parse(text)
    }

    #[test]
    fn a_total_other_than_the_lines_fires() {
        let mut claim = clean_claim();
        claim.lines = vec![line("99213", &[], &[1]), line("11404", &[], &[1])];
        claim.lines[0].charge = amount("40");
        claim.lines[1].charge = amount("150.50");
        claim.total_charge = amount("190.5");
        assert!(fired(&ChargesOutOfBalance, &claim).is_empty());
        claim.total_charge = amount("200");
        assert_eq!(
            fired(&ChargesOutOfBalance, &claim),
            [("CHARGES_OUT_OF_BALANCE", 0, "total_charge".into())]
        );
        claim.total_charge = amount("190.5");
        claim.lines[1].charge = None;
        assert_eq!(fired(&ChargesOutOfBalance, &claim).len(), 1);
    }

    #[test]
    fn a_claim_without_charges_is_silent() {
        assert!(fired(&ChargesOutOfBalance, &clean_claim()).is_empty());
    }
}
