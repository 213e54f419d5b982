//! Property test of the structured fixes: for any claim built from the
//! codes, modifiers, sizes and sites the rules know, applying a finding's
//! fixes to the claim and validating again clears that finding.

use proptest::prelude::*;

use super::RuleSet;
use super::test_support::{catalog, clean_claim};
use crate::domain::claim::{Claim, Laterality, ServiceLine};

const CODES: [&str; 16] = [
    "11402", "11403", "11404", "11406", "11424", "11444", "11604", "12001", "11405", "88305",
    "99213", "11103", "12002", "12013", "12032", "12052",
];
const MODIFIERS: [&str; 9] = ["26", "TC", "LT", "RT", "XS", "51", "59", "25", "GA"];
const DIAGNOSES: [&str; 10] = [
    "D23.5", "D23.61", "D23.62", "D23.39", "D04.5", "C44.519", "Z41.1", "L82.1", "D48.5", "L72.0",
];
const SITES: [&str; 5] = ["trunk", "arm", "face", "scalp", "hand"];

fn pick(values: &'static [&'static str]) -> impl Strategy<Value = &'static str> {
    prop::sample::select(values)
}

fn line() -> impl Strategy<Value = ServiceLine> {
    (
        pick(&CODES),
        prop::collection::vec(pick(&MODIFIERS), 0..3),
        prop::collection::vec(1..4_u32, 1..3),
        prop::option::of(prop::sample::select(vec![0.4, 1.5, 2.5, 3.5, 4.2, 5.0])),
        prop::option::of(pick(&SITES)),
        prop::sample::select(vec![
            Laterality::Unspecified,
            Laterality::Left,
            Laterality::Right,
        ]),
        prop::option::of(prop::sample::select(vec![1.5, 3.0, 6.0, 9.0])),
    )
        .prop_map(
            |(code, modifiers, pointers, size, site, laterality, length)| ServiceLine {
                procedure_code: code.into(),
                modifiers: modifiers.into_iter().map(Into::into).collect(),
                units: 1.into(),
                diagnosis_pointers: pointers,
                excised_diameter_cm: size,
                anatomic_site: site.map(str::to_owned),
                laterality,
                repair_length_cm: length,
                ..ServiceLine::default()
            },
        )
}

fn claim() -> impl Strategy<Value = Claim> {
    (
        pick(&["MEDICARE", "AETNA", "BCBS"]),
        prop::collection::vec(pick(&DIAGNOSES), 1..4),
        prop::collection::vec(line(), 1..4),
    )
        .prop_map(|(payer, diagnoses, lines)| Claim {
            payer_id: payer.into(),
            diagnosis_codes: diagnoses.into_iter().map(Into::into).collect(),
            lines,
            ..clean_claim()
        })
}

proptest! {
    #[test]
    fn applying_a_fix_clears_its_finding(claim in claim()) {
        let mut snapshot = catalog();
        snapshot.payer_rules = crate::domain::default_data::parse()
            .expect("default data")
            .payer_rules;
        let rules = RuleSet::standard();
        let before = rules.evaluate(&claim, &snapshot, &[]).findings;
        for finding in before.iter().filter(|f| !f.fixes.is_empty()) {
            let mut fixed = claim.clone();
            for fix in &finding.fixes {
                prop_assert!(fixed.apply_fix(fix).is_ok(), "{fix:?} of {finding:?}");
            }
            let after = rules.evaluate(&fixed, &snapshot, &[]).findings;
            prop_assert!(
                !after.iter().any(|f| f.rule_id == finding.rule_id
                    && f.line_number == finding.line_number
                    && f.field_path == finding.field_path
                    && f.message == finding.message),
                "{finding:?} survives its fix; after: {after:?}"
            );
        }
    }
}
