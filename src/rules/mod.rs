//! The pure rule engine: each rule checks one thing about a claim against
//! the catalog snapshot and reports findings. No I/O, so every rule is a
//! plain unit test (one file per rule, tests beside it).
//!
//! The engine runs a versioned rule set in a fixed order and derives the
//! disposition: any error rejects, warnings alone accept with warnings.

use chrono::NaiveDate;

use crate::domain::catalog::{CatalogSnapshot, PayerRuleSetting};
use crate::domain::claim::{Claim, PriorClaim, ServiceLine};
use crate::domain::finding::{Disposition, Finding, Severity};

pub mod age_sex;
pub mod claim_structure;
pub mod diagnosis_codes;
pub mod diagnosis_pointers;
pub mod diagnosis_procedure;
pub mod duplicate_line;
pub mod em_same_day;
pub mod excision_site;
pub mod excision_size;
pub mod history;
pub mod laterality;
pub mod lesion_behavior;
pub mod modifier_57;
pub mod modifier_codes;
pub mod modifier_conflicts;
pub mod modifier_procedure;
pub mod mue;
pub mod ncci_ptp;
pub mod payer_cosmetic;
pub mod place_of_service;
pub mod procedure_codes;
pub mod repair_bundling;
pub mod size_documentation;
pub mod small_benign_repair;
pub mod taxonomy;
pub mod units;

#[cfg(test)]
pub mod test_support;

/// Version of the rule set; stored with every decision so it can be replayed.
pub const RULESET_VERSION: &str = "2026.11.0";

/// Where a rule comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleSource {
    /// CMS code sets, fee schedule and manuals.
    Cms,
    /// National Correct Coding Initiative.
    Ncci,
    /// CPT coding conventions.
    Cpt,
    /// A payer's policy.
    Payer,
    /// claimscrub's own rule.
    House,
}

/// What a rule sees.
#[derive(Debug, Clone, Copy)]
pub struct RuleContext<'a> {
    /// The claim.
    pub claim: &'a Claim,
    /// The reference data.
    pub catalog: &'a CatalogSnapshot,
    /// Earlier accepted claims of the same member (history edits).
    pub history: &'a [PriorClaim],
}

impl<'a> RuleContext<'a> {
    /// The payer's setting of `rule_id` on the claim's date of service.
    pub fn setting(&self, rule_id: &str) -> Option<&'a PayerRuleSetting> {
        let date = self.claim.date_of_service?;
        self.catalog
            .payer_setting(self.claim.payer_id.trim(), rule_id, date)
    }

    /// A parameter of the payer's setting of `rule_id`.
    pub fn parameter(&self, rule_id: &str, name: &str) -> Option<&'a str> {
        self.setting(rule_id)
            .and_then(|s| s.parameters.get(name))
            .map(String::as_str)
    }

    /// The lines with their 1-based numbers and dates of service.
    pub fn lines(&self) -> impl Iterator<Item = (u32, &'a ServiceLine, Option<NaiveDate>)> + 'a {
        let claim = self.claim;
        claim.lines.iter().enumerate().map(move |(i, line)| {
            (
                u32::try_from(i + 1).unwrap_or(u32::MAX),
                line,
                claim.line_date(line),
            )
        })
    }
}

/// One check.
pub trait Rule: Send + Sync {
    /// Stable id, e.g. `ICD10CM_NOT_BILLABLE`.
    fn id(&self) -> &'static str;
    /// What it checks.
    fn description(&self) -> &'static str;
    /// Severity before payer overrides.
    fn default_severity(&self) -> Severity;
    /// Where it comes from.
    fn source(&self) -> RuleSource;
    /// Whether it runs for payers that have no setting for it; payer
    /// policies run only where a payer setting enables them.
    fn enabled_by_default(&self) -> bool {
        true
    }
    /// Appends what it finds to `out`.
    fn evaluate(&self, context: &RuleContext<'_>, out: &mut Vec<Finding>);
}

/// Builds a finding of `rule` with its default severity.
pub fn finding(
    rule: &dyn Rule,
    line_number: u32,
    field_path: impl Into<String>,
    message: impl Into<String>,
) -> Finding {
    Finding {
        rule_id: rule.id(),
        severity: rule.default_severity(),
        line_number,
        field_path: field_path.into(),
        message: message.into(),
        suggested_code: None,
        suggestion: None,
    }
}

/// A versioned, ordered rule set.
pub struct RuleSet {
    /// Version.
    pub version: &'static str,
    /// Rules in evaluation order.
    pub rules: Vec<Box<dyn Rule>>,
}

impl RuleSet {
    /// Every built-in rule, in evaluation order.
    pub fn standard() -> Self {
        let mut rules: Vec<Box<dyn Rule>> = vec![Box::new(claim_structure::ClaimStructure)];
        rules.extend(procedure_codes::rules());
        rules.extend(diagnosis_codes::rules());
        rules.extend(diagnosis_pointers::rules());
        rules.extend(modifier_codes::rules());
        rules.push(Box::new(modifier_procedure::ModifierNotAllowed));
        rules.push(Box::new(modifier_conflicts::ModifierConflict));
        rules.extend(place_of_service::rules());
        rules.push(Box::new(taxonomy::TaxonomyInvalid));
        rules.extend(units::rules());
        rules.push(Box::new(duplicate_line::DuplicateLine));
        rules.push(Box::new(excision_size::SizeBandMismatch));
        rules.push(Box::new(size_documentation::SizeDocumentation));
        rules.push(Box::new(excision_site::AnatomicSiteMismatch));
        rules.push(Box::new(lesion_behavior::LesionBehaviorMismatch));
        rules.push(Box::new(laterality::LateralityMismatch));
        rules.push(Box::new(diagnosis_procedure::AbscessOnExcision));
        rules.push(Box::new(age_sex::AgeSexConflict));
        rules.push(Box::new(payer_cosmetic::BenignRemovalWithoutIndication));
        rules.push(Box::new(history::DuplicateClaim));
        rules.push(Box::new(history::EmInGlobalPeriod));
        rules.push(Box::new(em_same_day::EmWithoutModifier25));
        rules.push(Box::new(repair_bundling::SimpleRepairIncluded));
        rules.push(Box::new(small_benign_repair::SmallBenignExcisionRepair));
        rules.push(Box::new(modifier_57::DecisionForMinorSurgery));
        rules.push(Box::new(ncci_ptp::NcciPtpEdit));
        rules.push(Box::new(mue::MueExceeded));
        Self {
            version: RULESET_VERSION,
            rules,
        }
    }

    /// Runs every rule the claim's payer has enabled, with the payer's
    /// severity overrides; findings in rule order, then line order.
    pub fn evaluate(
        &self,
        claim: &Claim,
        catalog: &CatalogSnapshot,
        history: &[PriorClaim],
    ) -> (Disposition, Vec<Finding>) {
        let context = RuleContext {
            claim,
            catalog,
            history,
        };
        let mut findings = Vec::new();
        for rule in &self.rules {
            let setting = context.setting(rule.id());
            if !setting.map_or(rule.enabled_by_default(), |s| s.enabled) {
                continue;
            }
            let first = findings.len();
            rule.evaluate(&context, &mut findings);
            if let Some(severity) = setting.and_then(|s| s.severity) {
                for finding in &mut findings[first..] {
                    finding.severity = severity;
                }
            }
        }
        (Disposition::of(&findings), findings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_are_unique_upper_snake() {
        let set = RuleSet::standard();
        let mut ids: Vec<&str> = set.rules.iter().map(|r| r.id()).collect();
        for id in &ids {
            assert!(
                id.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'),
                "{id}"
            );
        }
        let count = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), count, "duplicate rule ids");
    }

    #[test]
    fn a_clean_claim_is_accepted() {
        let catalog = test_support::catalog();
        let (disposition, findings) =
            RuleSet::standard().evaluate(&test_support::clean_claim(), &catalog, &[]);
        assert_eq!(findings, Vec::new());
        assert_eq!(disposition, Disposition::Accept);
    }
}
