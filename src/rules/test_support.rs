//! Fixtures for rule tests: the default data set plus two small ICD-10-CM
//! fiscal-year releases, and a clean claim to break one field at a time.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::catalog::{CatalogSnapshot, ConceptRelease, FeeScheduleRelease};
use crate::domain::claim::{Claim, Provider, ServiceLine};
use crate::domain::code_system::{CodeSystem, CodeSystemVersion};
use crate::domain::concept::Concept;
use crate::domain::default_data;

/// A date.
pub fn date(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

/// Release metadata of `system` labelled `label`, in effect from `from`.
pub fn version(system: CodeSystem, label: &str, from: &str, builtin: bool) -> CodeSystemVersion {
    CodeSystemVersion {
        system,
        version: label.into(),
        effective_from: date(from),
        effective_to: None,
        builtin,
        source_file_name: String::new(),
        sha256: label.into(),
        concept_count: 0,
        billable_count: None,
        load_time: DateTime::<Utc>::from_timestamp(1_700_000_000, 0).expect("time"),
    }
}

fn concept(code: &str, title: &str, billable: bool, terminated: Option<&str>) -> Concept {
    Concept {
        code: code.into(),
        display: title.into(),
        long_description: Some(title.into()),
        billable,
        parent_code: (code.len() > 3)
            .then(|| code[..code.len() - 1].trim_end_matches('X').to_owned()),
        added_date: None,
        effective_date: None,
        termination_date: terminated.map(date),
        properties: Vec::new(),
    }
}

fn icd_codes(fy2026: bool) -> Vec<Concept> {
    let mut codes = vec![
        concept("D23", "Other benign neoplasms of skin", false, None),
        concept("D235", "Other benign neoplasm of skin of trunk", true, None),
        concept(
            "D236",
            "Other benign neoplasm of skin of upper limb, including shoulder",
            false,
            None,
        ),
        concept(
            "D2361",
            "Other benign neoplasm of skin of right upper limb, including shoulder",
            true,
            None,
        ),
        concept(
            "D2362",
            "Other benign neoplasm of skin of left upper limb, including shoulder",
            true,
            None,
        ),
        concept(
            "C44519",
            "Basal cell carcinoma of skin of other part of trunk",
            true,
            None,
        ),
        concept("D485", "Neoplasm of uncertain behavior of skin", true, None),
        concept("L720", "Epidermal cyst", true, None),
        concept(
            "S2101",
            "Laceration without foreign body of right breast",
            false,
            None,
        ),
        concept(
            "S2101XA",
            "Laceration without foreign body of right breast, initial encounter",
            true,
            None,
        ),
        concept("I10", "Essential (primary) hypertension", true, None),
    ];
    if fy2026 {
        codes.push(concept(
            "C50A1",
            "Malignant inflammatory neoplasm of right breast",
            true,
            None,
        ));
    }
    codes
}

/// Rows of the MCE v43.1 code master, as published.
fn mce_codes() -> Vec<Concept> {
    [
        ("D235", &[("2015-10-01:", "")][..]),
        ("G01", &[("2015-10-01:", "manifestation")]),
        ("V0001XA", &[("2015-10-01:", "ecodepdx")]),
        ("Z0000", &[("2015-10-01:", "adult|unacceptable")]),
        ("Z3800", &[("2015-10-01:", "newborn")]),
        (
            "N400",
            &[
                ("2015-10-01:2024-09-30", "adult|male"),
                ("2024-10-01:", "adult"),
            ],
        ),
        (
            "O80",
            &[
                ("2015-10-01:2024-09-30", "female|maternity"),
                ("2024-10-01:", "maternity"),
            ],
        ),
    ]
    .into_iter()
    .map(|(code, periods)| Concept {
        properties: periods
            .iter()
            .map(|(period, flags)| (format!("period:{period}"), (*flags).to_owned()))
            .collect(),
        ..concept(code, code, true, None)
    })
    .collect()
}

/// The default data set with ICD-10-CM FY2025 and FY2026 releases, a
/// terminated Level II modifier, MCE rows and one add-on code edit.
pub fn catalog() -> CatalogSnapshot {
    let set = default_data::parse().expect("default data set");
    let mut snapshot = CatalogSnapshot {
        procedures: set.knowledge.clone(),
        ..CatalogSnapshot::default()
    };
    let builtin = |system| CodeSystemVersion {
        effective_from: default_data::builtin_effective_from(system),
        ..version(system, "default", "2000-01-01", true)
    };
    snapshot.concepts.insert(
        CodeSystem::Cpt,
        vec![Arc::new(ConceptRelease::new(
            builtin(CodeSystem::Cpt),
            set.procedures.clone(),
        ))],
    );
    let mut modifiers = set.modifiers.clone();
    modifiers.push(concept(
        "JG",
        "Drug acquired under the 340B program",
        true,
        Some("2024-12-31"),
    ));
    snapshot.concepts.insert(
        CodeSystem::Modifier,
        vec![Arc::new(ConceptRelease::new(
            builtin(CodeSystem::Modifier),
            modifiers,
        ))],
    );
    snapshot.concepts.insert(
        CodeSystem::Pos,
        vec![Arc::new(ConceptRelease::new(
            builtin(CodeSystem::Pos),
            set.places_of_service.clone(),
        ))],
    );
    snapshot.concepts.insert(
        CodeSystem::Taxonomy,
        vec![Arc::new(ConceptRelease::new(
            builtin(CodeSystem::Taxonomy),
            set.taxonomies.clone(),
        ))],
    );
    snapshot.concepts.insert(
        CodeSystem::Icd10Cm,
        vec![
            Arc::new(ConceptRelease::new(
                version(CodeSystem::Icd10Cm, "FY2025", "2024-10-01", false),
                icd_codes(false),
            )),
            Arc::new(ConceptRelease::new(
                version(CodeSystem::Icd10Cm, "FY2026", "2025-10-01", false),
                icd_codes(true),
            )),
        ],
    );
    snapshot.concepts.insert(
        CodeSystem::Mce,
        vec![Arc::new(ConceptRelease::new(
            version(CodeSystem::Mce, "v43.1", "2015-10-01", false),
            mce_codes(),
        ))],
    );
    snapshot.concepts.insert(
        CodeSystem::NcciAoc,
        vec![Arc::new(ConceptRelease::new(
            version(CodeSystem::NcciAoc, "2024-06-03", "2024-06-03", false),
            vec![Concept {
                properties: vec![
                    ("edit_type".into(), "1".into()),
                    ("primaries".into(), "11102;11104;11106".into()),
                ],
                ..concept("11103", "11103", true, None)
            }],
        ))],
    );
    snapshot.fee_schedules = vec![Arc::new(FeeScheduleRelease {
        version: builtin(CodeSystem::Mpfs),
        rows: set
            .fee_schedule
            .iter()
            .map(|(c, m, r)| ((c.clone(), m.clone()), r.clone()))
            .collect(),
    })];
    snapshot
}

/// A benign trunk excision of 3.5 cm with its diagnosis: no rule fires.
pub fn clean_claim() -> Claim {
    Claim {
        claim_id: "CLM-1".into(),
        payer_id: "AETNA".into(),
        date_of_service: Some(date("2026-01-15")),
        place_of_service: "11".into(),
        rendering_provider: Provider {
            npi: "1234567893".into(),
            taxonomy_code: "207N00000X".into(),
        },
        diagnosis_codes: vec!["D23.5".into()],
        lines: vec![excision("11404", 3.5, "trunk", &[1])],
        ..Claim::default()
    }
}

/// An excision line.
pub fn excision(code: &str, diameter: f64, site: &str, pointers: &[u32]) -> ServiceLine {
    ServiceLine {
        procedure_code: code.into(),
        units: 1.into(),
        diagnosis_pointers: pointers.to_vec(),
        excised_diameter_cm: Some(diameter),
        anatomic_site: Some(site.into()),
        ..ServiceLine::default()
    }
}

/// A line of any code with one unit.
pub fn line(code: &str, modifiers: &[&str], pointers: &[u32]) -> ServiceLine {
    ServiceLine {
        procedure_code: code.into(),
        modifiers: modifiers.iter().map(|m| (*m).into()).collect(),
        units: 1.into(),
        diagnosis_pointers: pointers.to_vec(),
        ..ServiceLine::default()
    }
}

/// What `rule` reports for `claim` over [`catalog`].
pub fn report(rule: &dyn super::Rule, claim: &Claim) -> super::Report {
    let catalog = catalog();
    let context = super::RuleContext {
        claim,
        catalog: &catalog,
        history: &[],
    };
    let mut out = super::Report::default();
    rule.evaluate(&context, &mut out);
    out
}

/// The rule ids `rule` reports for `claim`, with their lines and fields.
pub fn fired(rule: &dyn super::Rule, claim: &Claim) -> Vec<(&'static str, u32, String)> {
    report(rule, claim)
        .findings
        .into_iter()
        .map(|f| (rule.id(), f.line_number, f.field_path))
        .collect()
}

/// The reasons `rule` gives for what it could not check, with their lines.
pub fn not_checked(
    rule: &dyn super::Rule,
    claim: &Claim,
) -> Vec<(u32, crate::domain::finding::NotCheckedReason)> {
    report(rule, claim)
        .not_checked
        .into_iter()
        .map(|n| (n.line_number, n.reason))
        .collect()
}
