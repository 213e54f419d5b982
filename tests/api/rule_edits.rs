//! Every rule of the standard rule set, end to end over the real imported
//! code sets: a claim built to break the rule gets the rule's finding at the
//! broken field, and the same claim corrected gets none. A rule added to the
//! standard set without a case here fails the test.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use claimscrub::grpc::pb;
use claimscrub::grpc::pb::google::r#type::Date;
use claimscrub::import::ImportKind;
use claimscrub::rules::RuleSet;
use sqlx::PgPool;

use crate::helpers::{
    AOC, HCPCS, ICD10CM_ORDER, ICD10CM_TABULAR, MCE, MPFS, MUE, NCCI_PTP, NUCC, date, excision,
    import_shared, import_shared_as, line, spawn_app, validate,
};

/// One edit: `broken` must get a `rule_id` finding at `at` (line number,
/// field path); `fixed`, the broken claim corrected, must get none. `prior`
/// is accepted first for the same member, for the history edits.
struct Case {
    rule_id: &'static str,
    at: (u32, &'static str),
    prior: Option<pb::Claim>,
    broken: pb::Claim,
    fixed: pb::Claim,
}

/// A case whose broken claim is `clean()` after `break_it`, and whose fixed
/// claim is the broken one after `fix_it`.
fn case(
    rule_id: &'static str,
    at: (u32, &'static str),
    break_it: impl FnOnce(&mut pb::Claim),
    fix_it: impl FnOnce(&mut pb::Claim),
) -> Case {
    let mut broken = clean();
    break_it(&mut broken);
    let mut fixed = broken.clone();
    fix_it(&mut fixed);
    Case {
        rule_id,
        at,
        prior: None,
        broken,
        fixed,
    }
}

impl Case {
    /// The claim the member already had accepted.
    fn after(mut self, prior: pb::Claim) -> Self {
        self.prior = Some(prior);
        self
    }
}

/// In ICD-10-CM FY2026 and after the other releases' effective dates, but
/// before the NCCI PTP and MUE tables (2026-07-01).
const DOS: Option<Date> = Some(Date {
    year: 2026,
    month: 1,
    day: 15,
});

/// A date of service under the imported NCCI PTP and MUE tables.
const NCCI_DOS: Option<Date> = Some(Date {
    year: 2026,
    month: 7,
    day: 15,
});

fn repair(code: &str, length: f64, site: &str) -> pb::ServiceLine {
    pb::ServiceLine {
        repair_length_cm: Some(length),
        anatomic_site: site.into(),
        ..line(code, &[])
    }
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| (*v).to_owned()).collect()
}

/// A benign trunk excision of 3.5 cm with its diagnosis, for BCBS (no payer
/// policy enabled): no rule fires.
fn clean() -> pb::Claim {
    pb::Claim {
        claim_id: "CLM-RULE-EDITS".into(),
        payer_id: "BCBS".into(),
        date_of_service: DOS,
        place_of_service: "11".into(),
        rendering_provider: Some(pb::Provider {
            npi: "1234567893".into(),
            taxonomy_code: "207N00000X".into(),
        }),
        diagnosis_codes: strings(&["D23.5"]),
        lines: vec![excision("11404", 3.5, "trunk")],
        ..Default::default()
    }
}

/// A benign lesion of the right arm.
fn right_arm(claim: &mut pb::Claim) {
    claim.diagnosis_codes = strings(&["D23.61"]);
    claim.lines[0] = excision("11402", 1.5, "arm");
}

/// Laboratory lines on a date under the NCCI tables: the imported PTP and MUE
/// excerpts hold rows for such codes and none for the excision family.
fn lab(claim: &mut pb::Claim, codes: &[&str]) {
    claim.date_of_service = NCCI_DOS;
    claim.lines = codes.iter().map(|code| line(code, &[])).collect();
}

fn cases() -> Vec<Case> {
    vec![
        case(
            "CLAIM_STRUCTURE",
            (0, "claim_id"),
            |c| c.claim_id.clear(),
            |c| c.claim_id = "CLM-RULE-EDITS".into(),
        ),
        // 11405 does not exist (the seed's gap); without the licensed CPT
        // file the finding is a warning that says the code cannot be checked.
        case(
            "PROCEDURE_INVALID_CODE",
            (1, "lines[0].procedure_code"),
            |c| c.lines[0].procedure_code = "11405".into(),
            |c| c.lines[0].procedure_code = "11404".into(),
        ),
        // G0106 (colorectal screening by barium enema) was terminated 2024-12-31.
        case(
            "PROCEDURE_NOT_EFFECTIVE_ON_DOS",
            (2, "lines[1].procedure_code"),
            |c| c.lines.push(line("G0106", &[])),
            |c| c.lines[1].procedure_code = "G0101".into(),
        ),
        // 99242 (office consultation) has MPFS status I: Medicare pays visits instead.
        case(
            "PROCEDURE_FEE_SCHEDULE_STATUS",
            (2, "lines[1].procedure_code"),
            |c| c.lines.push(line("99242", &["25"])),
            |c| c.lines[1].procedure_code = "99203".into(),
        ),
        case(
            "ICD10CM_INVALID_CODE",
            (0, "diagnosis_codes[0]"),
            |c| c.diagnosis_codes = strings(&["D99.9"]),
            |c| c.diagnosis_codes = strings(&["D23.5"]),
        ),
        case(
            "ICD10CM_NOT_BILLABLE",
            (0, "diagnosis_codes[0]"),
            |c| c.diagnosis_codes = strings(&["L72"]),
            |c| c.diagnosis_codes = strings(&["L72.0"]),
        ),
        case(
            "ICD10CM_MISSING_7TH_CHARACTER",
            (0, "diagnosis_codes[0]"),
            |c| c.diagnosis_codes = strings(&["S01.01X"]),
            |c| c.diagnosis_codes = strings(&["S01.01XA"]),
        ),
        // C50.A1 is new in FY2026: before 2025-10-01 the FY2025 order file
        // governs, where inflammatory breast cancer is coded by site.
        case(
            "ICD10CM_NOT_EFFECTIVE_ON_DOS",
            (0, "diagnosis_codes[0]"),
            |c| {
                c.date_of_service = date(2025, 9, 15);
                c.diagnosis_codes = strings(&["C50.A1"]);
                c.lines[0].procedure_code = "11604".into();
            },
            |c| c.diagnosis_codes = strings(&["C50.911"]),
        ),
        // H01.8 is billable in FY2025 and a header in FY2026.
        case(
            "ICD10CM_NOT_EFFECTIVE_ON_DOS",
            (0, "diagnosis_codes[0]"),
            |c| c.diagnosis_codes = strings(&["H01.8"]),
            |c| c.diagnosis_codes = strings(&["H01.81"]),
        ),
        case(
            "DX_POINTER_MISSING",
            (1, "lines[0].diagnosis_pointers"),
            |c| c.lines[0].diagnosis_pointers.clear(),
            |c| c.lines[0].diagnosis_pointers = vec![1],
        ),
        case(
            "DX_POINTER_INVALID",
            (1, "lines[0].diagnosis_pointers[0]"),
            |c| c.lines[0].diagnosis_pointers = vec![2],
            |c| c.lines[0].diagnosis_pointers = vec![1],
        ),
        // A second lesion whose XS was typed backwards; SX is in no release.
        case(
            "MODIFIER_INVALID",
            (2, "lines[1].modifiers[0]"),
            |c| {
                c.lines.push(pb::ServiceLine {
                    modifiers: strings(&["SX"]),
                    ..excision("11402", 1.5, "arm")
                });
            },
            |c| c.lines[1].modifiers = strings(&["XS"]),
        ),
        // JG ends on 2024-12-31 in the HCPCS October 2025 file.
        case(
            "MODIFIER_TERMINATED",
            (1, "lines[0].modifiers[0]"),
            |c| c.lines[0].modifiers = strings(&["JG"]),
            |c| c.lines[0].modifiers.clear(),
        ),
        // The MPFS PC/TC indicator allows 26 on 88305 and not on 11404.
        case(
            "MODIFIER_NOT_ALLOWED_FOR_PROCEDURE",
            (1, "lines[0].modifiers[0]"),
            |c| {
                c.lines[0].modifiers = strings(&["26"]);
                c.lines.push(line("88305", &[]));
            },
            |c| {
                c.lines[0].modifiers.clear();
                c.lines[1].modifiers = strings(&["26"]);
            },
        ),
        case(
            "MODIFIER_CONFLICT",
            (1, "lines[0].modifiers"),
            |c| {
                right_arm(c);
                c.lines[0].modifiers = strings(&["RT", "LT"]);
            },
            |c| c.lines[0].modifiers = strings(&["RT"]),
        ),
        // UHC's setting asks for the specific X modifier instead of 59.
        case(
            "MODIFIER_CONFLICT",
            (2, "lines[1].modifiers"),
            |c| {
                c.payer_id = "UHC".into();
                c.lines.push(pb::ServiceLine {
                    modifiers: strings(&["59"]),
                    ..excision("11402", 1.5, "arm")
                });
            },
            |c| c.lines[1].modifiers = strings(&["XS"]),
        ),
        case(
            "POS_INVALID",
            (0, "place_of_service"),
            |c| c.place_of_service = "28".into(),
            |c| c.place_of_service = "11".into(),
        ),
        case(
            "POS_TELEHEALTH_PROCEDURE",
            (1, "lines[0].procedure_code"),
            |c| c.place_of_service = "02".into(),
            |c| c.place_of_service = "11".into(),
        ),
        // Pediatric dermatology is in the NUCC file, not in the built-in subset.
        case(
            "TAXONOMY_INVALID",
            (0, "rendering_provider.taxonomy_code"),
            |c| c.rendering_provider.get_or_insert_default().taxonomy_code = "207NP0255X".into(),
            |c| c.rendering_provider.get_or_insert_default().taxonomy_code = "207NP0225X".into(),
        ),
        case(
            "UNITS_ZERO",
            (1, "lines[0].units"),
            |c| c.lines[0].units = 0,
            |c| c.lines[0].units = 1,
        ),
        case(
            "EM_UNITS_EXCEED_1",
            (1, "lines[0].units"),
            |c| {
                c.lines = vec![pb::ServiceLine {
                    units: 2,
                    ..line("99213", &[])
                }];
            },
            |c| c.lines[0].units = 1,
        ),
        case(
            "DUPLICATE_LINE",
            (2, "lines[1]"),
            |c| c.lines.push(c.lines[0].clone()),
            |c| c.lines[1].modifiers = strings(&["XS"]),
        ),
        case(
            "SIZE_BAND_MISMATCH",
            (1, "lines[0].excised_diameter_cm"),
            |c| c.lines[0].excised_diameter_cm = Some(4.5),
            |c| c.lines[0].procedure_code = "11406".into(),
        ),
        case(
            "SIZE_DOCUMENTATION",
            (1, "lines[0].excised_diameter_cm"),
            |c| c.lines[0].excised_diameter_cm = Some(3.05),
            |c| c.lines[0].excised_diameter_cm = Some(3.5),
        ),
        case(
            "ANATOMIC_SITE_MISMATCH",
            (1, "lines[0].anatomic_site"),
            |c| c.lines[0].anatomic_site = "face".into(),
            |c| c.lines[0].procedure_code = "11444".into(),
        ),
        case(
            "LESION_BEHAVIOR_MISMATCH",
            (1, "lines[0].procedure_code"),
            |c| c.diagnosis_codes = strings(&["C44.519"]),
            |c| c.lines[0].procedure_code = "11604".into(),
        ),
        // Carcinoma in situ on a benign code (a warning).
        case(
            "LESION_BEHAVIOR_MISMATCH",
            (1, "lines[0].procedure_code"),
            |c| c.diagnosis_codes = strings(&["D04.5"]),
            |c| c.lines[0].procedure_code = "11604".into(),
        ),
        // The side is read from the imported FY2026 title of D23.61 ("right").
        case(
            "LATERALITY_MISMATCH",
            (1, "lines[0].modifiers"),
            |c| {
                right_arm(c);
                c.lines[0].modifiers = strings(&["LT"]);
            },
            |c| c.lines[0].modifiers = strings(&["RT"]),
        ),
        case(
            "LATERALITY_MISMATCH",
            (1, "lines[0].laterality"),
            |c| {
                right_arm(c);
                c.lines[0].laterality = pb::Laterality::Left.into();
            },
            |c| c.lines[0].laterality = pb::Laterality::Right.into(),
        ),
        case(
            "DX_PROCEDURE_ABSCESS_EXCISION",
            (1, "lines[0].procedure_code"),
            |c| c.diagnosis_codes = strings(&["L02.212"]),
            |c| c.diagnosis_codes = strings(&["L72.0"]),
        ),
        // O80 is on the MCE v43.1 maternity list (ages 9-64). The MCE has
        // carried no sex flags since FY2025, so sex conflicts apply only to
        // earlier dates.
        case(
            "DX_AGE_SEX_CONFLICT",
            (0, "diagnosis_codes[1]"),
            |c| {
                c.diagnosis_codes = strings(&["D23.5", "O80"]);
                c.patient = Some(pb::Patient {
                    sex: pb::Sex::Female.into(),
                    birth_date: date(1950, 1, 1),
                    ..Default::default()
                });
            },
            |c| c.patient.get_or_insert_default().birth_date = date(1995, 1, 1),
        ),
        case(
            "DX_MANIFESTATION_FIRST",
            (0, "diagnosis_codes[0]"),
            |c| c.diagnosis_codes = strings(&["G01", "D23.5"]),
            |c| c.diagnosis_codes = strings(&["D23.5", "G01"]),
        ),
        case(
            "DX_EXTERNAL_CAUSE_FIRST",
            (0, "diagnosis_codes[0]"),
            |c| c.diagnosis_codes = strings(&["W01.0XXA", "D23.5"]),
            |c| c.diagnosis_codes = strings(&["D23.5", "W01.0XXA"]),
        ),
        case(
            "DX_UNACCEPTABLE_FIRST",
            (0, "diagnosis_codes[0]"),
            |c| c.diagnosis_codes = strings(&["Z00.00", "D23.5"]),
            |c| c.diagnosis_codes = strings(&["D23.5", "Z00.00"]),
        ),
        // D23.39 names the face; 11404 is the trunk, arms and legs family.
        case(
            "DX_SITE_MISMATCH",
            (1, "lines[0].procedure_code"),
            |c| c.diagnosis_codes = strings(&["D23.39"]),
            |c| c.lines[0] = excision("11444", 3.5, "face"),
        ),
        // CIGNA is set up below to require 51 on later procedures.
        case(
            "MULTIPLE_PROCEDURE_MODIFIER_51",
            (2, "lines[1].modifiers"),
            |c| {
                c.payer_id = "CIGNA".into();
                let mut second = excision("11402", 1.5, "trunk");
                second.modifiers = strings(&["XS"]);
                c.lines.push(second);
            },
            |c| c.lines[1].modifiers.push("51".into()),
        ),
        // 11103 (each further biopsy) is paid only with 11102, 11104 or 11106.
        case(
            "ADD_ON_WITHOUT_PRIMARY",
            (2, "lines[1].procedure_code"),
            |c| c.lines.push(line("11103", &[])),
            |c| c.lines.push(line("11102", &[])),
        ),
        // The indication comes from the pointed diagnoses: a cosmetic
        // encounter alone warns, a sign coded beside it is the indication.
        case(
            "BENIGN_REMOVAL_NO_INDICATION",
            (1, "lines[0].diagnosis_pointers"),
            |c| {
                c.payer_id = "MEDICARE".into();
                c.diagnosis_codes = strings(&["Z41.1"]);
            },
            |c| {
                c.diagnosis_codes.push("R23.8".into());
                c.lines[0].diagnosis_pointers = vec![1, 2];
            },
        ),
        case(
            "BENIGN_REMOVAL_NO_INDICATION",
            (1, "lines[0].diagnosis_pointers"),
            |c| {
                c.payer_id = "AETNA".into();
                c.diagnosis_codes = strings(&["L82.1"]);
            },
            |c| c.lines[0].documented_indications = vec![pb::Indication::Itching.into()],
        ),
        case(
            "SPECIALTY_IMPLAUSIBLE",
            (1, "rendering_provider.taxonomy_code"),
            |c| c.rendering_provider.get_or_insert_default().taxonomy_code = "2084P0800X".into(),
            |c| c.rendering_provider.get_or_insert_default().taxonomy_code = "207N00000X".into(),
        ),
        case(
            "DUPLICATE_CLAIM",
            (0, "claim_id"),
            |c| c.claim_id = "CLM-RULE-EDITS-AGAIN".into(),
            |c| c.date_of_service = date(2026, 1, 29),
        )
        .after(clean()),
        // Day 5 of the 010-day global period of 11404 (imported MPFS).
        case(
            "EM_IN_GLOBAL_PERIOD",
            (1, "lines[0].modifiers"),
            |c| {
                c.date_of_service = date(2026, 1, 20);
                c.lines = vec![line("99213", &[])];
            },
            |c| c.lines[0].modifiers = strings(&["24"]),
        )
        .after(clean()),
        case(
            "EM_MISSING_MODIFIER_25",
            (1, "lines[0].modifiers"),
            |c| c.lines.insert(0, line("99213", &[])),
            |c| c.lines[0].modifiers = strings(&["25"]),
        ),
        case(
            "REPAIR_BUNDLED_WITH_EXCISION",
            (2, "lines[1].procedure_code"),
            |c| c.lines.push(repair("12001", 2.0, "trunk")),
            |c| c.lines[1].modifiers = strings(&["XS"]),
        ),
        case(
            "REPAIR_INCLUDED_IN_SMALL_BENIGN_EXCISION",
            (2, "lines[1].procedure_code"),
            |c| {
                c.lines = vec![
                    excision("11400", 0.4, "trunk"),
                    repair("12032", 3.0, "trunk"),
                ];
            },
            |c| c.lines[1].modifiers = strings(&["XS"]),
        ),
        // Medicare enables the 57 edit (and the cosmetic one, kept quiet here).
        case(
            "MODIFIER_57_MINOR_PROCEDURE",
            (1, "lines[0].modifiers"),
            |c| {
                c.payer_id = "MEDICARE".into();
                c.lines[0].documented_indications = vec![pb::Indication::Bleeding.into()];
                c.lines.insert(0, line("99213", &["57"]));
            },
            |c| c.lines[0].modifiers = strings(&["25"]),
        ),
        // 0030U is bundled into 0001U (modifier indicator 1, no deletion date).
        case(
            "NCCI_PTP_EDIT",
            (2, "lines[1].procedure_code"),
            |c| lab(c, &["0001U", "0030U"]),
            |c| c.lines[1].modifiers = strings(&["XU"]),
        ),
        // 0001U: MUE 1, MAI 2 (date-of-service edit).
        case(
            "MUE_EXCEEDED",
            (1, "lines[0].units"),
            |c| {
                lab(c, &["0001U"]);
                c.lines[0].units = 2;
            },
            |c| c.lines[0].units = 1,
        ),
        case(
            "MUE_EXCEEDED",
            (2, "lines[1].units"),
            |c| lab(c, &["0001U", "0001U"]),
            |c| c.lines.truncate(1),
        ),
    ]
}

fn with_member(mut claim: pb::Claim, member_id: &str) -> pb::Claim {
    claim.patient.get_or_insert_default().member_id = member_id.into();
    claim
}

fn summary(findings: &[pb::Finding]) -> Vec<String> {
    findings
        .iter()
        .map(|f| format!("{}@{}:{}", f.rule_id, f.line_number, f.field_path))
        .collect()
}

#[sqlx::test]
async fn every_rule_fires_on_a_broken_claim_and_not_on_its_correction(pool: PgPool) {
    let loaded = import_shared(
        &pool,
        &[
            ICD10CM_TABULAR,
            ICD10CM_ORDER,
            HCPCS,
            NUCC,
            MPFS,
            NCCI_PTP,
            MUE,
            MCE,
            AOC,
        ],
    )
    .await;
    // The POS file names no release.
    let pos_release = NaiveDate::from_ymd_opt(2024, 5, 2).expect("date");
    if !loaded
        || !import_shared_as(
            &pool,
            &[(ImportKind::Pos, "pos/pos_codes.csv")],
            Some(("2024-05-02", pos_release)),
        )
        .await
    {
        return;
    }
    // A payer that wants modifier 51 on the second and later procedures.
    sqlx::query(
        "insert into payer (payer_id, name, payer_type) values ('CIGNA', 'Cigna', 'commercial')",
    )
    .execute(&pool)
    .await
    .expect("payer");
    sqlx::query(
        "insert into payer_rule_setting (payer_id, rule_id, effective_from, enabled, parameters) \
         values ('CIGNA', 'MULTIPLE_PROCEDURE_MODIFIER_51', '2000-01-01', true, '{\"modifier_51\": \"required\"}')",
    )
    .execute(&pool)
    .await
    .expect("payer setting");
    let app = spawn_app(pool).await;

    // Every case starts from this claim, so it must be clean over the real data.
    let base = validate(&app, with_member(clean(), "MBR-BASE")).await;
    assert_eq!(summary(&base.findings), Vec::<String>::new());

    let cases = cases();
    let mut failures = Vec::new();
    let standard: BTreeSet<&str> = RuleSet::standard().rules.iter().map(|r| r.id()).collect();
    let mut covered: BTreeSet<&str> = cases.iter().map(|c| c.rule_id).collect();
    // Rules of fields only the 837P door fills (CLM02 and SV102 charges, the
    // HI qualifiers): their cases go through that door, in x12_service.rs.
    covered.extend(["CHARGES_OUT_OF_BALANCE", "DX_ICD9_CODE_SET"]);
    let missing: Vec<&&str> = standard.difference(&covered).collect();
    if !missing.is_empty() {
        failures.push(format!("rules without an end-to-end case: {missing:?}"));
    }
    let unknown: Vec<&&str> = covered.difference(&standard).collect();
    if !unknown.is_empty() {
        failures.push(format!(
            "cases of rules not in the standard set: {unknown:?}"
        ));
    }

    for (i, case) in cases.iter().enumerate() {
        for (claim, should_fire) in [(&case.broken, true), (&case.fixed, false)] {
            // One member per claim: the history edits see this case's prior only.
            let member = format!("MBR-{i}-{}", if should_fire { "broken" } else { "fixed" });
            if let Some(prior) = &case.prior {
                let stored = validate(&app, with_member(prior.clone(), &member)).await;
                if stored.disposition() == pb::Disposition::Reject {
                    failures.push(format!(
                        "case {i} {}: the prior claim was rejected: {:?}",
                        case.rule_id,
                        summary(&stored.findings)
                    ));
                    continue;
                }
            }
            let result = validate(&app, with_member(claim.clone(), &member)).await;
            let fired: Vec<&pb::Finding> = result
                .findings
                .iter()
                .filter(|f| f.rule_id == case.rule_id)
                .collect();
            let (line, path) = case.at;
            if should_fire
                && !fired
                    .iter()
                    .any(|f| f.line_number == line && f.field_path == path)
            {
                failures.push(format!(
                    "case {i} {}: expected a finding at line {line} {path}; got {:?}",
                    case.rule_id,
                    summary(&result.findings)
                ));
            }
            if !should_fire && !fired.is_empty() {
                failures.push(format!(
                    "case {i} {}: the corrected claim still gets {:?}",
                    case.rule_id,
                    fired.iter().map(|f| &f.message).collect::<Vec<_>>()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} problem(s) over {} cases:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    app.shutdown().await.expect("clean shutdown");
}
