//! The engine: a versioned, ordered set of rules run over one claim with
//! each payer's settings (enabled, severity, parameters) applied the same
//! way for evaluation and for describing the rules.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::rule::{Report, Rule, RuleContext, RuleSource};
use crate::domain::catalog::{CatalogSnapshot, PayerRuleSetting};
use crate::domain::claim::{Claim, PriorClaim};
use crate::domain::finding::{Disposition, Finding, NotChecked, Severity};

/// A versioned, ordered rule set.
pub struct RuleSet {
    pub version: &'static str,
    /// Rules in evaluation order.
    pub rules: Vec<Box<dyn Rule>>,
}

impl RuleSet {
    /// Runs every rule the claim's payer has enabled, with the payer's
    /// severity overrides; findings in rule order, then line order. What
    /// could not be checked never changes the disposition.
    pub fn evaluate(
        &self,
        claim: &Claim,
        catalog: &CatalogSnapshot,
        history: &[PriorClaim],
    ) -> Evaluation {
        let context = RuleContext {
            claim,
            catalog,
            history,
        };
        let mut report = Report::default();
        for rule in &self.rules {
            let effective = effective(rule.as_ref(), context.setting(rule.id()));
            if !effective.enabled {
                continue;
            }
            let first = report.findings.len();
            rule.evaluate(&context, &mut report);
            if effective.severity != rule.default_severity() {
                for finding in &mut report.findings[first..] {
                    finding.severity = effective.severity;
                }
            }
        }
        Evaluation {
            disposition: Disposition::of(&report.findings),
            findings: report.findings,
            not_checked: report.not_checked,
        }
    }

    /// Every rule as `payer` (none when empty) has it on `date`: whether it
    /// runs, the severity it reports and its parameters, decided exactly as
    /// [`Self::evaluate`] decides them.
    pub fn describe(
        &self,
        catalog: &CatalogSnapshot,
        payer: &str,
        date: NaiveDate,
    ) -> Vec<RuleDescription> {
        self.rules
            .iter()
            .map(|rule| {
                let setting = catalog.payer_setting(payer, rule.id(), date);
                let effective = effective(rule.as_ref(), setting);
                RuleDescription {
                    rule_id: rule.id(),
                    description: rule.description(),
                    default_severity: rule.default_severity(),
                    source: rule.source(),
                    enabled: effective.enabled,
                    effective_severity: effective.severity,
                    parameters: setting.map(|s| s.parameters.clone()).unwrap_or_default(),
                }
            })
            .collect()
    }
}

/// The rules' answer on one claim.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// Derived from the findings alone.
    pub disposition: Disposition,
    /// In rule order, then line order.
    pub findings: Vec<Finding>,
    /// The edits that could not run, and why.
    pub not_checked: Vec<NotChecked>,
}

/// A rule as one payer has it.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleDescription {
    /// Stable id.
    pub rule_id: &'static str,
    /// What it checks.
    pub description: &'static str,
    /// Severity before payer overrides.
    pub default_severity: Severity,
    /// Where it comes from.
    pub source: RuleSource,
    /// Whether it runs for the payer.
    pub enabled: bool,
    /// The severity it reports for the payer.
    pub effective_severity: Severity,
    /// The payer's parameters.
    pub parameters: BTreeMap<String, String>,
}

/// Whether a rule runs and at which severity, given a payer's setting.
struct Effective {
    enabled: bool,
    severity: Severity,
}

fn effective(rule: &dyn Rule, setting: Option<&PayerRuleSetting>) -> Effective {
    Effective {
        enabled: setting.map_or(rule.enabled_by_default(), |s| s.enabled),
        severity: setting
            .and_then(|s| s.severity)
            .unwrap_or(rule.default_severity()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::test_support;

    #[test]
    fn a_clean_claim_is_accepted() {
        let catalog = test_support::catalog();
        let evaluation = RuleSet::standard().evaluate(&test_support::clean_claim(), &catalog, &[]);
        assert_eq!(evaluation.findings, Vec::new());
        assert_eq!(evaluation.disposition, Disposition::Accept);
    }

    /// What `describe` says a payer runs is what `evaluate` runs for it.
    #[test]
    fn describe_and_evaluate_apply_payer_settings_alike() {
        let mut catalog = test_support::catalog();
        catalog.payer_rules = crate::domain::default_data::parse()
            .expect("default data")
            .payer_rules;
        let rules = RuleSet::standard();
        let date = test_support::date("2026-01-15");
        let policy = "BENIGN_REMOVAL_NO_INDICATION";
        let described = |payer: &str| {
            rules
                .describe(&catalog, payer, date)
                .into_iter()
                .find(|r| r.rule_id == policy)
                .expect("the policy is registered")
        };
        let mut claim = test_support::clean_claim();
        claim.diagnosis_codes = vec!["Z41.1".into()];
        for (payer, runs) in [("MEDICARE", true), ("BCBS", false), ("", false)] {
            assert_eq!(described(payer).enabled, runs, "{payer}");
            claim.payer_id = payer.into();
            let findings = rules.evaluate(&claim, &catalog, &[]).findings;
            assert_eq!(
                findings.iter().any(|f| f.rule_id == policy),
                runs,
                "{payer}"
            );
        }
        assert_eq!(
            described("MEDICARE").effective_severity,
            described("MEDICARE").default_severity
        );
    }
}
