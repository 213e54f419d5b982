//! claimscrub's own default data set (`reference/default/`, written by the
//! project, embedded in the binary), parsed into domain types. `app` loads it
//! on first start (so the quick start works with no files) as built-in
//! releases that any official import of the same system takes precedence
//! over; the rules' tests read it directly.

use chrono::NaiveDate;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::domain::catalog::{
    CoverageEntry, CoverageEvidence, FeeScheduleRow, ImplausibleSpecialty, Payer, PayerRuleSetting,
    ProcedureAttributes, ProcedureKnowledge, ProfileLink, SiteFamily,
};
use crate::domain::code_system::CodeSystem;
use crate::domain::concept::Concept;
use crate::domain::finding::Severity;
use crate::domain::mpfs_status::MpfsStatus;
use crate::domain::service_type::ServiceType;

/// The embedded files, by name.
const FILES: [(&str, &str); 11] = [
    (
        "procedures.csv",
        include_str!("../../reference/default/procedures.csv"),
    ),
    (
        "site_families.csv",
        include_str!("../../reference/default/site_families.csv"),
    ),
    (
        "modifiers.csv",
        include_str!("../../reference/default/modifiers.csv"),
    ),
    (
        "payers.csv",
        include_str!("../../reference/default/payers.csv"),
    ),
    ("pos.csv", include_str!("../../reference/default/pos.csv")),
    (
        "taxonomies.csv",
        include_str!("../../reference/default/taxonomies.csv"),
    ),
    (
        "icd10cm.csv",
        include_str!("../../reference/default/icd10cm.csv"),
    ),
    (
        "profile_links.csv",
        include_str!("../../reference/default/profile_links.csv"),
    ),
    (
        "payer_rules.csv",
        include_str!("../../reference/default/payer_rules.csv"),
    ),
    (
        "coverage_policies.csv",
        include_str!("../../reference/default/coverage_policies.csv"),
    ),
    (
        "implausible_specialties.csv",
        include_str!("../../reference/default/implausible_specialties.csv"),
    ),
];

/// The first date of service a built-in release of `system` answers for;
/// it answers until an official release of its system is loaded.
///
/// - ICD-10-CM: from the day the code set took effect, 2015-10-01.
/// - MPFS: the built-in indicators reproduce the PPRRVU 2023 January file
///   (`verify.py`), and a year's fee schedule answers from January 1 of its
///   year.
/// - CPT, modifiers, place of service, taxonomy: from the HIPAA compliance
///   date of electronic claims, 2003-10-16 (45 CFR 162.900); no 837 claim is
///   dated earlier, and the built-in facts (code numbers, size bands, site
///   families) held throughout.
pub fn builtin_effective_from(system: CodeSystem) -> NaiveDate {
    let (year, month, day) = match system {
        CodeSystem::Icd10Cm => (2015, 10, 1),
        CodeSystem::Mpfs => (2023, 1, 1),
        _ => (2003, 10, 16),
    };
    NaiveDate::from_ymd_opt(year, month, day).expect("a valid constant date")
}

/// The default data set, parsed.
#[derive(Debug, Clone)]
pub struct DefaultDataSet {
    /// Version label of every built-in release: `claimscrub-default-<sha256 prefix>`.
    pub label: String,
    /// sha256 over every embedded file.
    pub sha256: String,
    /// CPT codes of the seed family, with claimscrub's own descriptions.
    pub procedures: Vec<Concept>,
    /// Procedure knowledge (attributes, site families, profile guidance).
    pub knowledge: ProcedureKnowledge,
    /// MPFS indicators of the family.
    pub fee_schedule: Vec<(String, String, FeeScheduleRow)>,
    /// Modifiers the rules use.
    pub modifiers: Vec<Concept>,
    pub places_of_service: Vec<Concept>,
    /// Taxonomies the profiles reference.
    pub taxonomies: Vec<Concept>,
    /// ICD-10-CM codes the profiles reference.
    pub diagnoses: Vec<Concept>,
    pub payers: Vec<Payer>,
    /// Default payer rule settings.
    pub payer_rules: Vec<PayerRuleSetting>,
}

/// A defect in an embedded file (a bug in claimscrub, caught by unit tests).
#[derive(Debug, thiserror::Error)]
#[error("reference/default/{file}: {reason}")]
pub struct DefaultDataError {
    file: &'static str,
    reason: String,
}

#[derive(Deserialize)]
struct ProcedureRow {
    code: String,
    description: String,
    service_type: String,
    lesion_behavior: String,
    site_family: String,
    size_measure: String,
    size_lower_exclusive_cm: Option<f64>,
    size_upper_inclusive_cm: Option<f64>,
    typical_pos: String,
    status: String,
    pctc: String,
    global_days: String,
    mult_proc: String,
    bilat: String,
    asst: String,
    co_surg: String,
    team_surg: String,
}

#[derive(Deserialize)]
struct SiteFamilyRow {
    site_family: String,
    display: String,
    anatomic_sites: String,
}

#[derive(Deserialize)]
struct ModifierRow {
    modifier: String,
    level: String,
    description: String,
    when_to_use: String,
}

#[derive(Deserialize)]
struct PayerRow {
    payer_id: String,
    name: String,
    payer_type: String,
    notes: String,
}

#[derive(Deserialize)]
struct CoverageRow {
    policy: String,
    service_type: String,
    lesion_behavior: String,
    diagnosis_prefix: String,
    evidence: String,
    note: String,
}

#[derive(Deserialize)]
struct ImplausibleSpecialtyRow {
    service_type: String,
    taxonomy_prefix: String,
    classification: String,
    note: String,
}

#[derive(Deserialize)]
struct PosRow {
    code: String,
    name: String,
    description: String,
}

#[derive(Deserialize)]
struct TaxonomyRow {
    code: String,
    label: String,
    classification: String,
    specialization: String,
    note: String,
}

#[derive(Deserialize)]
struct DiagnosisRow {
    code: String,
    title: String,
    billable: u8,
}

#[derive(Deserialize)]
struct PayerRuleRow {
    payer_id: String,
    rule_id: String,
    effective_from: NaiveDate,
    enabled: bool,
    severity: String,
    parameters: String,
}

#[derive(Deserialize)]
struct ProfileLinkRow {
    procedure_scope: String,
    kind: String,
    target: String,
    relevance: String,
    note: String,
}

fn rows<T: for<'de> Deserialize<'de>>(file: &'static str) -> Result<Vec<T>, DefaultDataError> {
    let text = FILES
        .iter()
        .find(|(name, _)| *name == file)
        .map(|(_, text)| *text)
        .ok_or_else(|| DefaultDataError {
            file,
            reason: "not embedded".into(),
        })?;
    csv::Reader::from_reader(text.as_bytes())
        .deserialize()
        .collect::<Result<Vec<T>, _>>()
        .map_err(|e| DefaultDataError {
            file,
            reason: e.to_string(),
        })
}

fn non_empty(value: String) -> Option<String> {
    (!value.is_empty()).then_some(value)
}

fn list(value: &str) -> Vec<String> {
    value
        .split(';')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn concept(
    code: String,
    display: String,
    long_description: Option<String>,
    properties: Vec<(String, String)>,
) -> Concept {
    Concept {
        code,
        display,
        long_description,
        billable: true,
        parent_code: None,
        added_date: None,
        effective_date: None,
        termination_date: None,
        properties: properties
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .collect(),
    }
}

/// Parses the embedded files.
pub fn parse() -> Result<DefaultDataSet, DefaultDataError> {
    let mut hasher = Sha256::new();
    for (name, text) in FILES {
        hasher.update(name.as_bytes());
        hasher.update(text.as_bytes());
    }
    let sha256: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();

    let mut procedures = Vec::new();
    let mut knowledge = ProcedureKnowledge::default();
    let mut fee_schedule = Vec::new();
    for row in rows::<ProcedureRow>("procedures.csv")? {
        knowledge.attributes.insert(
            row.code.clone(),
            ProcedureAttributes {
                service_type: ServiceType::parse(&row.service_type).ok_or_else(|| {
                    DefaultDataError {
                        file: "procedures.csv",
                        reason: format!(
                            "{}: {:?} is not a service type",
                            row.code, row.service_type
                        ),
                    }
                })?,
                lesion_behavior: non_empty(row.lesion_behavior),
                site_family: non_empty(row.site_family),
                size_measure: non_empty(row.size_measure),
                size_lower_exclusive: row.size_lower_exclusive_cm,
                size_upper_inclusive: row.size_upper_inclusive_cm,
                typical_pos: list(&row.typical_pos),
            },
        );
        fee_schedule.push((
            row.code.clone(),
            String::new(),
            FeeScheduleRow {
                status: MpfsStatus::parse(&row.status).ok_or_else(|| DefaultDataError {
                    file: "procedures.csv",
                    reason: format!("{}: {:?} is not an MPFS status", row.code, row.status),
                })?,
                pctc: row.pctc,
                global_days: row.global_days,
                mult_proc: row.mult_proc,
                bilat: row.bilat,
                asst: row.asst,
                co_surg: row.co_surg,
                team_surg: row.team_surg,
                work_rvu: None,
            },
        ));
        procedures.push(concept(
            row.code,
            row.description.clone(),
            Some(row.description),
            Vec::new(),
        ));
    }
    for row in rows::<SiteFamilyRow>("site_families.csv")? {
        knowledge.site_families.insert(
            row.site_family,
            SiteFamily {
                display: row.display,
                anatomic_sites: list(&row.anatomic_sites),
            },
        );
    }
    knowledge.profile_links = rows::<ProfileLinkRow>("profile_links.csv")?
        .into_iter()
        .map(|row| ProfileLink {
            procedure_scope: row.procedure_scope,
            kind: row.kind,
            target: row.target,
            relevance: row.relevance,
            note: row.note,
        })
        .collect();
    for row in rows::<CoverageRow>("coverage_policies.csv")? {
        let file = "coverage_policies.csv";
        knowledge.coverage.push(CoverageEntry {
            service_type: service_type(file, &row.service_type)?,
            evidence: CoverageEvidence::parse(&row.evidence).ok_or_else(|| DefaultDataError {
                file,
                reason: format!("{:?} is not indication or cosmetic", row.evidence),
            })?,
            policy: row.policy,
            lesion_behavior: non_empty(row.lesion_behavior),
            diagnosis_prefix: row.diagnosis_prefix,
            note: row.note,
        });
    }
    for row in rows::<ImplausibleSpecialtyRow>("implausible_specialties.csv")? {
        knowledge
            .implausible_specialties
            .push(ImplausibleSpecialty {
                service_type: service_type("implausible_specialties.csv", &row.service_type)?,
                taxonomy_prefix: row.taxonomy_prefix,
                classification: row.classification,
                note: row.note,
            });
    }

    let modifiers = rows::<ModifierRow>("modifiers.csv")?
        .into_iter()
        .map(|row| {
            concept(
                row.modifier,
                row.description.clone(),
                Some(row.description),
                vec![
                    ("level".into(), row.level),
                    ("when_to_use".into(), row.when_to_use),
                ],
            )
        })
        .collect();
    let places_of_service = rows::<PosRow>("pos.csv")?
        .into_iter()
        .map(|row| concept(row.code, row.name, non_empty(row.description), Vec::new()))
        .collect();
    let taxonomies = rows::<TaxonomyRow>("taxonomies.csv")?
        .into_iter()
        .map(|row| {
            concept(
                row.code,
                row.label,
                None,
                vec![
                    ("classification".into(), row.classification),
                    ("specialization".into(), row.specialization),
                    ("note".into(), row.note),
                ],
            )
        })
        .collect();
    let mut diagnoses: Vec<Concept> = rows::<DiagnosisRow>("icd10cm.csv")?
        .into_iter()
        .map(|row| Concept {
            billable: row.billable == 1,
            ..concept(row.code, row.title.clone(), Some(row.title), Vec::new())
        })
        .collect();
    link_icd10cm_parents(&mut diagnoses);
    let payers = rows::<PayerRow>("payers.csv")?
        .into_iter()
        .map(|row| Payer {
            payer_id: row.payer_id,
            name: row.name,
            payer_type: row.payer_type,
            notes: row.notes,
        })
        .collect();
    let payer_rules = rows::<PayerRuleRow>("payer_rules.csv")?
        .into_iter()
        .map(|row| PayerRuleSetting {
            payer_id: row.payer_id,
            rule_id: row.rule_id,
            effective_from: row.effective_from,
            effective_to: None,
            enabled: row.enabled,
            severity: Severity::parse(&row.severity),
            parameters: row
                .parameters
                .split(';')
                .filter_map(|pair| pair.split_once('='))
                .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                .collect(),
        })
        .collect();
    Ok(DefaultDataSet {
        payer_rules,
        label: format!("claimscrub-default-{}", &sha256[..8]),
        sha256,
        procedures,
        knowledge,
        fee_schedule,
        modifiers,
        places_of_service,
        taxonomies,
        diagnoses,
        payers,
    })
}

fn service_type(file: &'static str, name: &str) -> Result<ServiceType, DefaultDataError> {
    ServiceType::parse(name).ok_or_else(|| DefaultDataError {
        file,
        reason: format!("{name:?} is not a service type"),
    })
}

/// Sets each code's parent to the longest proper prefix that is itself in the list.
fn link_icd10cm_parents(diagnoses: &mut [Concept]) {
    let codes: std::collections::HashSet<String> =
        diagnoses.iter().map(|c| c.code.clone()).collect();
    for concept in diagnoses.iter_mut() {
        concept.parent_code = (3..concept.code.len())
            .rev()
            .map(|len| &concept.code[..len])
            .find(|prefix| codes.contains(*prefix))
            .map(str::to_owned);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_file_parses() {
        let set = parse().expect("the default data set parses");
        assert!(set.label.starts_with("claimscrub-default-"));
        for code in [
            "11400", "11404", "11406", "11604", "12032", "88305", "99213",
        ] {
            assert!(set.knowledge.attributes.contains_key(code), "{code}");
        }
        for absent in ["11405", "11425", "11445", "11605", "12003"] {
            assert!(
                !set.knowledge.attributes.contains_key(absent),
                "{absent} does not exist"
            );
        }
        let payers: Vec<&str> = set.payers.iter().map(|p| p.payer_id.as_str()).collect();
        for payer in ["MEDICARE", "AETNA", "BCBS", "CIGNA", "UHC"] {
            assert!(payers.contains(&payer), "{payer}");
        }
    }

    #[test]
    fn excision_bands_are_contiguous_half_open_intervals() {
        let set = parse().expect("parses");
        let band = |code: &str| {
            let a = &set.knowledge.attributes[code];
            (a.size_lower_exclusive, a.size_upper_inclusive)
        };
        assert_eq!(band("11403"), (Some(2.0), Some(3.0)));
        assert_eq!(band("11404"), (Some(3.0), Some(4.0)));
        assert_eq!(band("11406"), (Some(4.0), None));
        assert_eq!(band("11400"), (Some(0.0), Some(0.5)));
    }

    #[test]
    fn the_seed_errors_are_corrected() {
        let set = parse().expect("parses");
        let taxonomy = |code: &str| set.taxonomies.iter().find(|t| t.code == code);
        assert!(taxonomy("2086S0123X").is_none(), "no such NUCC code");
        assert_eq!(
            taxonomy("208600000X").and_then(|t| t.property("classification")),
            Some("Surgery")
        );
        assert_eq!(
            taxonomy("208200000X").and_then(|t| t.property("classification")),
            Some("Plastic Surgery")
        );
        let dx = |code: &str| set.diagnoses.iter().find(|d| d.code == code).expect(code);
        assert!(!dx("D236").billable, "D23.6 is a header");
        assert!(dx("D2361").billable);
        assert_eq!(dx("D2361").parent_code.as_deref(), Some("D236"));
        assert!(dx("L02415").display.contains("right lower limb"));
    }

    #[test]
    fn mpfs_indicators_of_11404_match_the_fee_schedule() {
        let set = parse().expect("parses");
        let (_, _, row) = set
            .fee_schedule
            .iter()
            .find(|(code, _, _)| code == "11404")
            .expect("11404");
        assert_eq!(
            (
                row.status.letter(),
                row.pctc.as_str(),
                row.global_days.as_str(),
                row.mult_proc.as_str()
            ),
            ("A", "0", "010", "2")
        );
        assert_eq!((row.bilat.as_str(), row.asst.as_str()), ("0", "1"));
    }
}
