//! Real-claim edits end to end over the official files in `../shared/data`
//! (full MUE 2026-04-01, the PTP rows of the excision family, MPFS 2023
//! and 2025, MCE v43.1, NCCI add-on codes), at date of service 2026-04-15
//! unless a case says otherwise; the coverage policy is the default set's.

use claimscrub::grpc::pb;
use claimscrub::import::ImportKind;
use sqlx::PgPool;

use crate::helpers::{
    AOC, Api, HCPCS, ICD10CM_ORDER, ICD10CM_TABULAR, MCE, MPFS, NUCC, date, excision,
    import_shared, line, spawn_app, validate,
};

const MPFS_2025: (ImportKind, &str) = (ImportKind::Mpfs, "mpfs/PPRRVU2025_Oct.csv.gz");
const MUE_FULL: (ImportKind, &str) = (
    ImportKind::Mue,
    "ncci/MCR_MUE_PractitionerServices_Eff_04-01-2026.csv.gz",
);
const PTP_EXCISION: (ImportKind, &str) = (
    ImportKind::NcciPtp,
    "ncci/ccipra-v302r0-excision-family.derived.txt.gz",
);

fn line_at(code: &str, modifiers: &[&str], site: &str) -> pb::ServiceLine {
    pb::ServiceLine {
        anatomic_site: site.into(),
        ..line(code, modifiers)
    }
}

/// A benign trunk excision of 3.5 cm by a dermatologist, BCBS, 2026-04-15.
fn claim() -> pb::Claim {
    pb::Claim {
        claim_id: "CLM-REAL".into(),
        payer_id: "BCBS".into(),
        date_of_service: date(2026, 4, 15),
        place_of_service: "11".into(),
        rendering_provider: Some(pb::Provider {
            npi: "1234567893".into(),
            taxonomy_code: "207N00000X".into(),
        }),
        diagnosis_codes: vec!["D23.5".into()],
        lines: vec![excision("11404", 3.5, "trunk")],
        ..Default::default()
    }
}

fn of<'a>(result: &'a pb::ValidationResult, rule_id: &str) -> Vec<&'a pb::Finding> {
    result
        .findings
        .iter()
        .filter(|f| f.rule_id == rule_id)
        .collect()
}

fn not_checked(result: &pb::ValidationResult, rule_id: &str) -> Vec<pb::NotCheckedReason> {
    result
        .not_checked
        .iter()
        .filter(|n| n.rule_id == rule_id)
        .map(|n| n.reason())
        .collect()
}

/// The claim with a finding's fixes applied, as a client would apply them.
fn apply(mut claim: pb::Claim, finding: &pb::Finding) -> pb::Claim {
    use pb::field_fix::Action;
    assert!(!finding.fixes.is_empty(), "{finding:?} has no fix");
    for fix in &finding.fixes {
        let path = fix.field_path.as_str();
        let index = |prefix: &str| -> Option<usize> {
            path.strip_prefix(prefix)?.split(']').next()?.parse().ok()
        };
        match (path, fix.action.as_ref().expect("an action")) {
            (p, Action::SetValue(value)) if p.starts_with("diagnosis_codes[") => {
                claim.diagnosis_codes[index("diagnosis_codes[").expect("index")] = value.clone();
            }
            (p, action) if p.starts_with("lines[") => {
                let line = &mut claim.lines[index("lines[").expect("index")];
                match (p.rsplit('.').next(), action) {
                    (Some("procedure_code"), Action::SetValue(value)) => {
                        line.procedure_code = value.clone();
                    }
                    (Some("modifiers"), Action::AddValue(value)) => {
                        line.modifiers.push(value.clone())
                    }
                    (Some("modifiers"), Action::RemoveValue(value)) => {
                        line.modifiers.retain(|m| m != value);
                    }
                    other => panic!("unexpected fix {other:?}"),
                }
            }
            other => panic!("unexpected fix {other:?}"),
        }
    }
    claim
}

/// A finding of `rule_id` whose fix, applied, clears it.
async fn fix_clears(api: &Api, claim: pb::Claim, rule_id: &str, expected_fix: &str) {
    let result = validate(api, claim.clone()).await;
    let found = of(&result, rule_id);
    assert_eq!(found.len(), 1, "{rule_id}: {:?}", result.findings);
    let shown = format!("{:?}", found[0].fixes);
    assert!(shown.contains(expected_fix), "{rule_id}: fix {shown}");
    let fixed = validate(api, apply(claim, found[0])).await;
    assert!(
        of(&fixed, rule_id).is_empty(),
        "{rule_id} survives its fix: {:?}",
        fixed.findings
    );
}

#[sqlx::test]
async fn real_claim_edits_over_the_official_files(pool: PgPool) {
    if !import_shared(
        &pool,
        &[
            ICD10CM_TABULAR,
            ICD10CM_ORDER,
            HCPCS,
            NUCC,
            MPFS,
            MPFS_2025,
            MUE_FULL,
            PTP_EXCISION,
            MCE,
            AOC,
        ],
    )
    .await
    {
        return;
    }
    let app = spawn_app(pool).await;
    let api: &Api = &app;

    // The base claim is clean, and says what it could not check: nothing
    // here lacks data except the PTP pairs of a one-line claim (no pair).
    let base = validate(api, claim()).await;
    assert_eq!(base.findings, Vec::new());
    assert_eq!(base.disposition(), pb::Disposition::Accept);

    // MUE: 11404 is 2 units, MAI 3 (summed over the date's lines).
    let mut mue = claim();
    mue.lines[0].units = 2;
    assert!(of(&validate(api, mue.clone()).await, "MUE_EXCEEDED").is_empty());
    mue.lines.push(pb::ServiceLine {
        modifiers: vec!["XS".into()],
        ..excision("11404", 3.5, "arm")
    });
    let result = validate(api, mue).await;
    let found = of(&result, "MUE_EXCEEDED");
    assert_eq!(found.len(), 1, "{:?}", result.findings);
    assert!(
        found[0].message.contains("3 units of 11404"),
        "{}",
        found[0].message
    );
    assert!(
        found[0].message.contains("MUE is 2"),
        "{}",
        found[0].message
    );

    // PTP 11404 / 12001, modifier indicator 1: same site fires; XS with the
    // same site is a misuse and still fires; XS on another site bypasses.
    let repair = |modifiers: &[&str], site: &str| pb::ServiceLine {
        repair_length_cm: Some(2.0),
        ..line_at("12001", modifiers, site)
    };
    for (modifiers, site, fires) in [
        (&[][..], "trunk", true),
        (&["XS"][..], "trunk", true),
        (&["XS"][..], "arm", false),
    ] {
        let mut pair = claim();
        pair.lines.push(repair(modifiers, site));
        let result = validate(api, pair).await;
        let found = of(&result, "NCCI_PTP_EDIT");
        assert_eq!(
            !found.is_empty(),
            fires,
            "{modifiers:?} {site}: {:?}",
            result.findings
        );
        if fires {
            assert_eq!(found[0].line_number, 2);
            assert!(
                found[0].message.contains("modifier indicator 1"),
                "{}",
                found[0].message
            );
        }
    }
    // 11404 / 64400, indicator 0: no modifier helps.
    let mut nerve = claim();
    nerve.lines.push(line_at("64400", &["XS"], "arm"));
    let result = validate(api, nerve).await;
    let found = of(&result, "NCCI_PTP_EDIT");
    assert_eq!(found.len(), 1, "{:?}", result.findings);
    assert!(
        found[0].message.contains("modifier indicator 0"),
        "{}",
        found[0].message
    );

    // Each year reads its own year's fee schedule.
    for (year, label) in [(2023, "2023-JAN"), (2025, "2025-OCT")] {
        let mut dated = claim();
        dated.date_of_service = date(year, 6, 2);
        let result = validate(api, dated).await;
        let mpfs: Vec<&str> = result
            .code_system_versions
            .iter()
            .filter(|v| v.system() == pb::CodeSystem::Mpfs)
            .map(|v| v.version.as_str())
            .collect();
        assert_eq!(mpfs, [label], "{year}");
    }

    // 11405 is in neither the MPFS of its year nor a CPT file: it does not
    // exist, and 4.2 cm on the trunk is 11406. In 2026 the latest schedule
    // loaded is 2025's, which cannot know the codes added since: a warning
    // with the same correction.
    let mut unknown = claim();
    unknown.date_of_service = date(2025, 6, 2);
    unknown.lines[0] = excision("11405", 4.2, "trunk");
    let result = validate(api, unknown.clone()).await;
    let found = of(&result, "PROCEDURE_INVALID_CODE");
    assert_eq!(found.len(), 1, "{:?}", result.findings);
    assert_eq!(found[0].severity(), pb::Severity::Error);
    assert_eq!(found[0].suggested_code, "11406");
    fix_clears(api, unknown.clone(), "PROCEDURE_INVALID_CODE", "11406").await;
    unknown.date_of_service = date(2026, 4, 15);
    let result = validate(api, unknown).await;
    let found = of(&result, "PROCEDURE_INVALID_CODE");
    assert_eq!(found[0].severity(), pb::Severity::Warning);
    assert_eq!(found[0].suggested_code, "11406");

    // No size, site or laterality (as on an 837P): nothing rests on them,
    // and the answer and its audit record say what was not checked.
    let mut bare = claim();
    bare.lines[0].excised_diameter_cm = None;
    bare.lines[0].anatomic_site.clear();
    let result = validate(api, bare).await;
    assert_eq!(result.findings, Vec::new());
    assert_eq!(
        not_checked(&result, "SIZE_BAND_MISMATCH"),
        [pb::NotCheckedReason::FieldNotSent]
    );
    assert_eq!(
        not_checked(&result, "ANATOMIC_SITE_MISMATCH"),
        [pb::NotCheckedReason::FieldNotSent]
    );
    let record = app
        .get_audit_record(pb::GetAuditRecordRequest {
            name: format!("auditRecords/{}", result.audit_record_id),
        })
        .await
        .expect("stored")
        .audit_record
        .expect("record");
    assert_eq!(
        record.result.expect("result").not_checked,
        result.not_checked,
        "the audit record keeps what was not checked"
    );
    // Before the MUE table's quarter there is no MUE in effect.
    let mut march = claim();
    march.date_of_service = date(2026, 3, 16);
    let result = validate(api, march).await;
    assert_eq!(
        not_checked(&result, "MUE_EXCEEDED"),
        [pb::NotCheckedReason::NoReleaseInEffect]
    );

    // ICD-10-CM begins on 2015-10-01.
    let before = app
        .validate_code(pb::ValidateCodeRequest {
            system: pb::CodeSystem::Icd10cm.into(),
            code: "D23.61".into(),
            date_of_service: date(2015, 9, 1),
        })
        .await
        .expect("ok");
    assert_eq!(before.validity(), pb::CodeValidity::NotEffectiveOnDate);
    assert!(!before.valid);
    let mut icd9_era = claim();
    icd9_era.date_of_service = date(2015, 9, 30);
    let result = validate(api, icd9_era).await;
    assert_eq!(
        of(&result, "ICD10CM_NOT_EFFECTIVE_ON_DOS").len(),
        1,
        "{:?}",
        result.findings
    );
    assert_eq!(result.disposition(), pb::Disposition::Reject);

    // A July 2025 date is checked against the October 2025 HCPCS file's
    // codes as they stood in July: G0168 (added 2000) is valid, A2036
    // (added 2025-10-01) is not yet.
    for (code, validity) in [
        ("G0168", pb::CodeValidity::Valid),
        ("A2036", pb::CodeValidity::NotEffectiveOnDate),
    ] {
        let answer = app
            .validate_code(pb::ValidateCodeRequest {
                system: pb::CodeSystem::Hcpcs.into(),
                code: code.into(),
                date_of_service: date(2025, 7, 15),
            })
            .await
            .expect("ok");
        assert_eq!(answer.validity(), validity, "{code}: {}", answer.message);
        assert_eq!(
            answer.version.expect("release").version,
            "2025-10",
            "{code}"
        );
    }

    // Medical necessity from the pointed diagnoses (default coverage policy).
    let medicare = |diagnoses: &[&str]| {
        let mut c = claim();
        c.payer_id = "MEDICARE".into();
        c.diagnosis_codes = diagnoses.iter().map(|d| (*d).to_owned()).collect();
        c.lines[0].diagnosis_pointers = (1..=diagnoses.len() as u32).collect();
        c
    };
    for covered in [&["D23.5"][..], &["D22.5", "R23.8"], &["D48.5"]] {
        let result = validate(api, medicare(covered)).await;
        assert!(
            of(&result, "BENIGN_REMOVAL_NO_INDICATION").is_empty(),
            "{covered:?}: {:?}",
            result.findings
        );
    }
    // A cosmetic diagnosis alone warns; GA is the biller's attestation of a
    // signed notice, so it is suggested, never applied as a fix. The sign
    // coded beside it is the indication.
    for cosmetic in ["Z41.1", "L82.1"] {
        let result = validate(api, medicare(&[cosmetic])).await;
        let found = of(&result, "BENIGN_REMOVAL_NO_INDICATION");
        assert_eq!(found.len(), 1, "{cosmetic}: {:?}", result.findings);
        assert!(found[0].fixes.is_empty());
        assert!(
            found[0].suggestion.contains("GA"),
            "{}",
            found[0].suggestion
        );
        let result = validate(api, medicare(&[cosmetic, "R23.8"])).await;
        assert!(of(&result, "BENIGN_REMOVAL_NO_INDICATION").is_empty());
    }

    // Specialty, first-listed diagnoses and add-on codes.
    let mut psychiatrist = claim();
    psychiatrist.rendering_provider = Some(pb::Provider {
        npi: "1234567893".into(),
        taxonomy_code: "2084P0800X".into(),
    });
    assert_eq!(
        of(&validate(api, psychiatrist).await, "SPECIALTY_IMPLAUSIBLE").len(),
        1
    );
    for (first, rule_id) in [
        ("G01", "DX_MANIFESTATION_FIRST"),
        ("W01.0XXA", "DX_EXTERNAL_CAUSE_FIRST"),
    ] {
        let mut listed = claim();
        listed.diagnosis_codes.insert(0, first.into());
        listed.lines[0].diagnosis_pointers = vec![2];
        let result = validate(api, listed).await;
        assert_eq!(
            of(&result, rule_id).len(),
            1,
            "{first}: {:?}",
            result.findings
        );
        assert_eq!(result.disposition(), pb::Disposition::Reject);
    }
    let mut add_on = claim();
    add_on.lines = vec![line_at("11103", &[], "arm")];
    let result = validate(api, add_on).await;
    let found = of(&result, "ADD_ON_WITHOUT_PRIMARY");
    assert_eq!(found.len(), 1, "{:?}", result.findings);
    assert!(
        found[0].suggestion.contains("11102"),
        "{}",
        found[0].suggestion
    );

    // Fixes a machine can apply, each clearing its finding.
    let mut professional = claim();
    professional.lines[0].modifiers = vec!["26".into()];
    fix_clears(
        api,
        professional,
        "MODIFIER_NOT_ALLOWED_FOR_PROCEDURE",
        "RemoveValue(\"26\")",
    )
    .await;
    let mut left_arm = claim();
    left_arm.diagnosis_codes = vec!["D23.61".into()];
    left_arm.lines[0] = pb::ServiceLine {
        modifiers: vec!["LT".into()],
        laterality: pb::Laterality::Left.into(),
        ..excision("11404", 3.5, "arm")
    };
    fix_clears(api, left_arm, "LATERALITY_MISMATCH", "D23.62").await;
    let mut in_situ = claim();
    in_situ.diagnosis_codes = vec!["D04.5".into()];
    fix_clears(api, in_situ, "LESION_BEHAVIOR_MISMATCH", "11604").await;
    let mut face = claim();
    face.diagnosis_codes = vec!["D23.39".into()];
    face.lines[0].anatomic_site.clear();
    fix_clears(api, face, "DX_SITE_MISMATCH", "11444").await;
    let mut band = claim();
    band.lines[0].excised_diameter_cm = Some(4.2);
    fix_clears(api, band, "SIZE_BAND_MISMATCH", "11406").await;

    app.shutdown().await.expect("clean shutdown");
}
