//! The pure rule engine: each rule checks one thing about a claim against
//! the catalog snapshot and reports findings. No I/O, so every rule is a
//! plain unit test (one file per rule, tests beside it).
//!
//! The engine ([`RuleSet`], `rule_set.rs`) runs a versioned rule set in a
//! fixed order and derives the disposition: any error rejects, warnings
//! alone accept with warnings. What a rule is lives in `rule.rs`; this file
//! only registers the rules. Adding a rule: a file here with its tests
//! (the rule's `const META: RuleMeta`, its `evaluate`), a `pub mod` line and
//! one line in [`RuleSet::standard`].
//!
//! One rule per file, with these exceptions: `diagnosis_codes` (four ids),
//! `first_listed` (three) and `procedure_codes` (three) report the outcomes of one validity check
//! under stable ids; `diagnosis_pointers`, `history`, `modifier_codes`,
//! `place_of_service` and `units` each hold two rules that share their
//! helpers (pointer positions, the member history, the modifier release,
//! the place-of-service release, the line units).

pub mod add_on_codes;
pub mod age_sex;
pub mod claim_balance;
pub mod claim_structure;
pub mod diagnosis_code_set;
pub mod diagnosis_codes;
pub mod diagnosis_pointers;
pub mod diagnosis_procedure;
pub mod diagnosis_site;
pub mod duplicate_line;
pub mod em_same_day;
pub mod excision_site;
pub mod excision_size;
pub mod first_listed;
pub mod history;
pub mod laterality;
pub mod lesion_behavior;
pub mod modifier_57;
pub mod modifier_codes;
pub mod modifier_conflicts;
pub mod modifier_procedure;
pub mod mue;
pub mod multiple_procedures;
pub mod ncci_ptp;
pub mod payer_cosmetic;
pub mod place_of_service;
pub mod procedure_codes;
pub mod repair_bundling;
pub mod size_documentation;
pub mod small_benign_repair;
pub mod specialty;
pub mod taxonomy;
pub mod units;

#[cfg(test)]
mod fix_properties;
mod rule;
mod rule_set;
#[cfg(test)]
pub mod test_support;

pub use rule::{Report, Rule, RuleContext, RuleMeta, RuleSource, finding};
pub use rule_set::{Evaluation, RuleDescription, RuleSet};

/// Version of the rule set; stored with every decision so it can be replayed.
pub const RULESET_VERSION: &str = "2026.12.0";

impl RuleSet {
    /// Every built-in rule, in evaluation order.
    pub fn standard() -> Self {
        let mut rules: Vec<Box<dyn Rule>> = vec![
            Box::new(claim_structure::ClaimStructure),
            Box::new(claim_balance::ChargesOutOfBalance),
        ];
        rules.extend(procedure_codes::rules());
        rules.push(Box::new(diagnosis_code_set::Icd9Diagnoses));
        rules.extend(diagnosis_codes::rules());
        rules.extend(first_listed::rules());
        rules.extend(diagnosis_pointers::rules());
        rules.extend(modifier_codes::rules());
        rules.push(Box::new(modifier_procedure::ModifierNotAllowed));
        rules.push(Box::new(modifier_conflicts::ModifierConflict));
        rules.extend(place_of_service::rules());
        rules.push(Box::new(taxonomy::TaxonomyInvalid));
        rules.push(Box::new(specialty::SpecialtyImplausible));
        rules.extend(units::rules());
        rules.push(Box::new(duplicate_line::DuplicateLine));
        rules.push(Box::new(excision_size::SizeBandMismatch));
        rules.push(Box::new(size_documentation::SizeDocumentation));
        rules.push(Box::new(excision_site::AnatomicSiteMismatch));
        rules.push(Box::new(diagnosis_site::DiagnosisSiteMismatch));
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
        rules.push(Box::new(multiple_procedures::MultipleProcedureModifier51));
        rules.push(Box::new(ncci_ptp::NcciPtpEdit));
        rules.push(Box::new(mue::MueExceeded));
        rules.push(Box::new(add_on_codes::AddOnWithoutPrimary));
        Self {
            version: RULESET_VERSION,
            rules,
        }
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
}
