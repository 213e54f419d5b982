//! GetProcedureProfile and SuggestProcedureCode: the 11404 profile compared
//! field by field with the corrected seed page (`shared/seed/README.md`), and
//! the size-band table of the domain rules.

use claimscrub::grpc::pb;
use claimscrub::grpc::pb::google::r#type::Date;
use claimscrub::import::ImportKind;
use sqlx::PgPool;
use tonic::Code;

use crate::helpers::{
    ICD10CM_TABULAR, MPFS, MUE, NCCI_PTP, NUCC, assert_invalid_field, import_shared,
    import_shared_as, spawn_app,
};

const DOS: Option<Date> = Some(Date {
    year: 2026,
    month: 1,
    day: 15,
});

fn profile_request(code: &str, payer: &str) -> pb::GetProcedureProfileRequest {
    pb::GetProcedureProfileRequest {
        code: code.into(),
        date_of_service: DOS,
        payer_id: payer.into(),
    }
}

#[sqlx::test]
async fn the_11404_profile_serves_every_seed_error_corrected(pool: PgPool) {
    let loaded = import_shared(&pool, &[ICD10CM_TABULAR, NUCC, MPFS, NCCI_PTP, MUE]).await;
    if !loaded {
        return;
    }
    let app = spawn_app(pool).await;
    let profile = app
        .get_procedure_profile(profile_request("11404", ""))
        .await
        .expect("profile")
        .profile
        .expect("profile");

    // Descriptor: no licensed CPT file is loaded, so claimscrub's own words.
    assert!(!profile.descriptor.is_empty());
    assert_eq!(profile.descriptor_source, "claimscrub");
    assert_eq!(profile.service_type, "excision");
    assert_eq!(profile.lesion_behavior(), pb::LesionBehavior::Benign);
    let band = profile.size_band.expect("size band");
    assert_eq!(
        (band.lower_exclusive_cm, band.upper_inclusive_cm),
        (3.0, Some(4.0))
    );
    let family = profile.site_family.expect("site family");
    assert_eq!(family.id, "trunk_arms_legs");
    assert_eq!(family.anatomic_sites, ["trunk", "arm", "leg"]);
    assert!(
        profile
            .typical_places_of_service
            .iter()
            .any(|p| p.code == "11" && p.name == "Office"),
        "{:?}",
        profile.typical_places_of_service
    );

    // Seed: "modifiers: data not available". Fact: the MPFS indicators decide.
    let fees = profile.fee_schedule.expect("fee schedule");
    assert_eq!(
        (
            fees.status.as_str(),
            fees.pctc.as_str(),
            fees.global_days.as_str()
        ),
        ("A", "0", "010")
    );
    assert_eq!(
        (
            fees.multiple_procedure.as_str(),
            fees.bilateral_surgery.as_str(),
            fees.assistant_surgery.as_str()
        ),
        ("2", "0", "1")
    );
    assert_eq!(
        fees.version.expect("release").version,
        "2023-JAN",
        "the official MPFS file wins over the default set"
    );
    let modifier = |m: &str| {
        profile
            .modifiers
            .iter()
            .find(|g| g.modifier == m)
            .unwrap_or_else(|| panic!("{m} missing"))
    };
    use pb::ModifierApplicability::{Allowed, Informational, NotAllowed};
    for (m, expected, reason) in [
        ("26", NotAllowed, "PC/TC indicator 0"),
        ("TC", NotAllowed, "PC/TC indicator 0"),
        ("50", NotAllowed, "bilateral indicator 0"),
        ("25", NotAllowed, "E/M"),
        ("57", NotAllowed, "010"),
        ("80", NotAllowed, "not paid"),
        ("59", Allowed, "distinct"),
        ("XS", Allowed, "distinct"),
        ("RT", Informational, "side"),
        ("51", Informational, "multiple procedure indicator 2"),
    ] {
        let guidance = modifier(m);
        assert_eq!(
            guidance.applicability(),
            expected,
            "{m}: {}",
            guidance.reason
        );
        assert!(guidance.reason.contains(reason), "{m}: {}", guidance.reason);
    }

    // Seed taxonomies: four of five wrong. Labels come from the loaded NUCC file.
    let taxonomies: Vec<(&str, &str, &str)> = profile
        .taxonomies
        .iter()
        .map(|t| {
            (
                t.code.as_str(),
                t.classification.as_str(),
                t.specialization.as_str(),
            )
        })
        .collect();
    for (code, classification) in [
        ("207N00000X", "Dermatology"),
        ("208600000X", "Surgery"),
        ("208200000X", "Plastic Surgery"),
        ("207Q00000X", "Family Medicine"),
    ] {
        assert!(
            taxonomies
                .iter()
                .any(|(c, k, _)| *c == code && *k == classification),
            "{code} {classification} in {taxonomies:?}"
        );
    }
    assert!(
        taxonomies
            .iter()
            .any(|(c, k, s)| *c == "2086X0206X" && *k == "Surgery" && *s == "Surgical Oncology")
    );
    for wrong in ["208000000X", "207K00000X", "2086S0123X", "2084P0800X"] {
        assert!(
            taxonomies.iter().all(|(c, _, _)| *c != wrong),
            "{wrong} is the seed's error"
        );
    }
    assert!(
        profile.taxonomies.iter().all(|t| !t.display.is_empty()),
        "NUCC display names"
    );

    // Seed diagnoses: D23.6 is a header; L02.415 is the right lower limb.
    let dx = |code: &str| {
        profile
            .related_diagnoses
            .iter()
            .find(|d| d.code == code)
            .unwrap_or_else(|| panic!("{code} missing"))
    };
    let d236 = dx("D23.6");
    assert!(!d236.billable);
    let children: Vec<&str> = d236
        .billable_children
        .iter()
        .map(|c| c.code.as_str())
        .collect();
    assert_eq!(children, ["D23.60", "D23.61", "D23.62"]);
    assert!(dx("D23.5").billable);
    let abscess = dx("L02.415");
    assert_eq!(abscess.display, "Cutaneous abscess of right lower limb");
    assert_eq!(abscess.relevance, "questionable");

    // Seed related codes: 11646 was the wrong malignant twin.
    let related = |relationship: pb::ProcedureRelationship| -> Vec<&str> {
        profile
            .related_procedures
            .iter()
            .filter(|r| r.relationship() == relationship)
            .map(|r| r.code.as_str())
            .collect()
    };
    assert_eq!(related(pb::ProcedureRelationship::MalignantTwin), ["11604"]);
    assert_eq!(related(pb::ProcedureRelationship::SmallerSize), ["11403"]);
    assert_eq!(related(pb::ProcedureRelationship::LargerSize), ["11406"]);
    assert!(related(pb::ProcedureRelationship::RepairSeparatelyReportable).contains(&"12032"));
    assert!(related(pb::ProcedureRelationship::RepairIncluded).contains(&"12001"));
    assert_eq!(related(pb::ProcedureRelationship::Pathology), ["88305"]);
    assert!(profile.related_procedures.iter().all(
        |r| r.code != "11646" || r.relationship() == pb::ProcedureRelationship::OtherSiteFamily
    ));

    let payers: Vec<&str> = profile.payers.iter().map(|p| p.payer_id.as_str()).collect();
    assert_eq!(payers, ["AETNA", "BCBS", "CIGNA", "MEDICARE", "UHC"]);
    // The NCCI excerpts hold no rows for the seed family: said, not hidden.
    let missing: Vec<&str> = profile
        .missing_fields
        .iter()
        .map(|m| m.field.as_str())
        .collect();
    assert!(
        missing.contains(&"mue_limit") && missing.contains(&"ncci_ptp_edits"),
        "{missing:?}"
    );

    let medicare = app
        .get_procedure_profile(profile_request("11404", "MEDICARE"))
        .await
        .expect("profile")
        .profile
        .expect("profile");
    assert_eq!(medicare.payers.len(), 1);
    assert!(!medicare.payers[0].notes.is_empty());
    app.shutdown().await.expect("clean shutdown");
}

#[sqlx::test]
async fn a_licensed_cpt_file_supplies_the_descriptor(pool: PgPool) {
    // The shared seed CPT file stands in for a licensee's file.
    let release = Some((
        "2026",
        chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
    ));
    if !import_shared_as(
        &pool,
        &[(ImportKind::Cpt, "cpt/seed_cpt_codes.csv")],
        release,
    )
    .await
    {
        return;
    }
    let app = spawn_app(pool).await;
    let profile = app
        .get_procedure_profile(profile_request("11404", ""))
        .await
        .expect("profile")
        .profile
        .expect("profile");
    assert_eq!(profile.descriptor_source, "cpt_licensed");
    app.shutdown().await.expect("clean shutdown");
}

#[sqlx::test]
async fn profiles_refuse_unknown_codes_and_payers(pool: PgPool) {
    let app = spawn_app(pool).await;
    let unknown = app
        .get_procedure_profile(profile_request("11405", ""))
        .await
        .expect_err("no such code");
    assert_eq!(unknown.code(), Code::NotFound);
    let payer = app
        .get_procedure_profile(profile_request("11404", "ACME"))
        .await
        .expect_err("no such payer");
    assert_eq!(payer.code(), Code::NotFound);
    let malformed = app
        .get_procedure_profile(profile_request("114", ""))
        .await
        .expect_err("malformed");
    assert_invalid_field(&malformed, "code");
    app.shutdown().await.expect("clean shutdown");
}

fn suggest(
    behavior: pb::LesionBehavior,
    site: &str,
    diameter: f64,
) -> pb::SuggestProcedureCodeRequest {
    pb::SuggestProcedureCodeRequest {
        lesion_behavior: behavior.into(),
        anatomic_site: site.into(),
        excised_diameter_cm: diameter,
        date_of_service: DOS,
    }
}

#[sqlx::test]
async fn suggestions_follow_the_contiguous_size_bands(pool: PgPool) {
    let app = spawn_app(pool).await;
    use pb::LesionBehavior::{Benign, Malignant};
    for (behavior, site, diameter, code, warns) in [
        (Benign, "trunk", 3.0, "11403", false),
        (Benign, "trunk", 3.05, "11404", true),
        (Benign, "trunk", 3.1, "11404", false),
        (Benign, "trunk", 4.0, "11404", false),
        (Benign, "trunk", 4.05, "11406", true),
        (Malignant, "trunk", 3.5, "11604", false),
        (Benign, "face", 3.5, "11444", false),
    ] {
        let answer = app
            .suggest_procedure_code(suggest(behavior, site, diameter))
            .await
            .expect("ok");
        assert_eq!(answer.code, code, "{behavior:?} {site} {diameter}");
        assert_eq!(
            answer.warnings.iter().any(|w| w.contains("one decimal")),
            warns,
            "{diameter}: {:?}",
            answer.warnings
        );
        assert!(!answer.display.is_empty() && !answer.rationale.is_empty());
    }
    let benign = app
        .suggest_procedure_code(suggest(Benign, "trunk", 3.5))
        .await
        .expect("ok");
    assert!(
        benign.alternatives.iter().any(|a| a.code == "11604"),
        "malignant twin offered"
    );

    for (request, field) in [
        (suggest(Benign, "trunk", 0.0), "excised_diameter_cm"),
        (suggest(Benign, "trunk", -1.0), "excised_diameter_cm"),
        (suggest(Benign, "trunk", f64::NAN), "excised_diameter_cm"),
        (suggest(Benign, "elbow", 1.0), "anatomic_site"),
        (
            suggest(pb::LesionBehavior::Unspecified, "trunk", 1.0),
            "lesion_behavior",
        ),
    ] {
        let status = app
            .suggest_procedure_code(request)
            .await
            .expect_err("invalid");
        assert_invalid_field(&status, field);
    }
    app.shutdown().await.expect("clean shutdown");
}
