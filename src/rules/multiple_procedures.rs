//! Multiple procedures and modifier 51. When several procedures whose MPFS
//! multiple-procedure indicator is 2 (standard payment adjustment) are
//! billed on one date, the payer pays the highest-valued in full and
//! reduces the others. Medicare ranks them itself and does not require 51;
//! some commercial payers want 51 on the second and later procedures. The
//! payer's setting says which: `modifier_51=required` runs this edit, and
//! anything else (Medicare's `not_required`) checks nothing.

use std::collections::BTreeMap;

use super::{Report, Rule, RuleContext, RuleMeta, RuleSource, finding};
use crate::domain::finding::{FieldFix, Severity};
use crate::domain::limits::ClaimLimits;

/// A later procedure of a multiple-procedure day without modifier 51.
#[derive(Debug, Clone, Copy)]
pub struct MultipleProcedureModifier51;

impl MultipleProcedureModifier51 {
    const META: RuleMeta = RuleMeta {
        id: "MULTIPLE_PROCEDURE_MODIFIER_51",
        description: "Second and later procedures of a day carry modifier 51 where the payer requires it",
        severity: Severity::Warning,
        source: RuleSource::Payer,
        enabled_by_default: false,
    };
}

impl Rule for MultipleProcedureModifier51 {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }
    fn evaluate(&self, context: &RuleContext<'_>, out: &mut Report) {
        if context.parameter(self.id(), "modifier_51") != Some("required") {
            return;
        }
        // Per date: the lines under indicator 2 with their work RVUs.
        let mut days: BTreeMap<chrono::NaiveDate, Vec<(u32, f64, bool, usize)>> = BTreeMap::new();
        for (number, line, date) in context.lines() {
            let Some(date) = date else { continue };
            let code = line.procedure_code.as_str();
            let Some((_, row)) = context.fee_row(self, number, code, date, out) else {
                continue;
            };
            if row.mult_proc == "2" {
                days.entry(date).or_default().push((
                    number,
                    row.work_rvu.unwrap_or(0.0),
                    line.has_modifier("51"),
                    line.modifiers.len(),
                ));
            }
        }
        for lines in days.values_mut() {
            if lines.len() < 2 {
                continue;
            }
            // The highest-valued procedure (work RVU) is the primary; the
            // built-in fee schedule carries no RVUs, so there, and on ties,
            // the first line is.
            lines.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            for (number, _, has_51, modifiers) in &lines[1..] {
                if *has_51 {
                    continue;
                }
                let field = format!("lines[{}].modifiers", number - 1);
                let mut f = finding(
                    self,
                    *number,
                    field.clone(),
                    "a second or later procedure of the day without modifier 51, which this payer requires",
                );
                f.suggestion = Some("append 51 to every procedure but the highest-valued".into());
                // A line that already carries the four modifiers an 837P
                // line holds (SV101-3..6) needs a coder to choose which goes.
                if *modifiers < ClaimLimits::default().max_modifiers {
                    f.fixes = vec![FieldFix::add(field, "51")];
                }
                out.push(f);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::catalog::PayerRuleSetting;
    use crate::rules::test_support::{catalog, clean_claim, date, excision};

    fn fired(requirement: &str, claim: &crate::domain::claim::Claim) -> Vec<String> {
        let mut catalog = catalog();
        catalog.payer_rules = vec![PayerRuleSetting {
            payer_id: claim.payer_id.to_string(),
            rule_id: "MULTIPLE_PROCEDURE_MODIFIER_51".into(),
            effective_from: date("2000-01-01"),
            effective_to: None,
            enabled: true,
            severity: None,
            parameters: [("modifier_51".to_owned(), requirement.to_owned())].into(),
        }];
        crate::rules::RuleSet::standard()
            .evaluate(claim, &catalog, &[])
            .findings
            .into_iter()
            .filter(|f| f.rule_id == "MULTIPLE_PROCEDURE_MODIFIER_51")
            .map(|f| f.field_path)
            .collect()
    }

    #[test]
    fn a_payer_that_requires_51_gets_it_on_the_later_procedure() {
        let mut claim = clean_claim();
        claim.lines.push(excision("11402", 1.5, "trunk", &[1]));
        claim.lines[1].modifiers = vec!["XS".into()];
        assert_eq!(fired("required", &claim), ["lines[1].modifiers"]);
        claim.lines[1].modifiers.push("51".into());
        assert!(fired("required", &claim).is_empty());
        claim.lines[1].modifiers.pop();
        assert!(
            fired("not_required", &claim).is_empty(),
            "Medicare ranks them itself"
        );
    }
}
