//! ValidateClaim end to end: decisions over the default data set, the audit
//! record written before the reply (member id only as a keyed hash),
//! request-id idempotency, and INVALID_ARGUMENT only for unreadable requests.

use claimscrub::grpc::pb;
use claimscrub::grpc::pb::google::r#type::Date;
use sqlx::PgPool;
use tonic::Code;
use tonic_types::StatusExt as _;

use crate::helpers::{self, assert_invalid_field, spawn_app};

const MEMBER_ID: &str = "MBR-7734-SECRET";

fn excision_claim(diameter: f64) -> pb::Claim {
    helpers::excision_claim("CLM-E2E-1", MEMBER_ID, diameter)
}

fn request(id: &str, claim: pb::Claim) -> pb::ValidateClaimRequest {
    pb::ValidateClaimRequest {
        request_id: id.into(),
        claim: Some(claim),
    }
}

/// The decision on `claim`, sent with request id `id`.
async fn decided(api: &helpers::Api, id: &str, claim: pb::Claim) -> pb::ValidationResult {
    api.validate_claim(request(id, claim))
        .await
        .expect("ok")
        .result
        .expect("r")
}

#[sqlx::test]
async fn decisions_are_returned_and_stored_without_the_member_id(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let clean = app
        .validate_claim(request("r-1", excision_claim(3.5)))
        .await
        .expect("ok");
    let result = clean.result.expect("result");
    assert_eq!(
        result.disposition(),
        pb::Disposition::Accept,
        "{:?}",
        result.findings
    );
    assert!(!result.ruleset_version.is_empty());

    let wrong_size = app
        .validate_claim(request("r-2", excision_claim(4.05)))
        .await
        .expect("ok");
    let result = wrong_size.result.expect("result");
    assert_eq!(result.disposition(), pb::Disposition::Reject);
    let finding = &result.findings[0];
    assert_eq!(finding.rule_id, "SIZE_BAND_MISMATCH");
    assert_eq!(
        (finding.line_number, finding.field_path.as_str()),
        (1, "lines[0].excised_diameter_cm")
    );
    assert_eq!(finding.suggested_code, "11406");

    let (claim, hash): (serde_json::Value, Vec<u8>) =
        sqlx::query_as("select claim, member_hash from audit_record where id = $1::uuid")
            .bind(&result.audit_record_id)
            .fetch_one(&pool)
            .await
            .expect("stored before the reply");
    assert!(
        !claim.to_string().contains(MEMBER_ID),
        "raw member id stored: {claim}"
    );
    assert_eq!(hash.len(), 32, "HMAC-SHA256");
    app.shutdown().await.expect("clean shutdown");
}

#[sqlx::test]
async fn the_same_request_id_returns_the_stored_decision(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let first = app
        .validate_claim(request("idem-1", excision_claim(3.5)))
        .await
        .expect("ok");
    let again = app
        .validate_claim(request("idem-1", excision_claim(3.5)))
        .await
        .expect("ok");
    assert_eq!(
        first.result.expect("r").audit_record_id,
        again.result.expect("r").audit_record_id
    );
    let stored: i64 = sqlx::query_scalar("select count(*) from audit_record")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(stored, 1);

    let reused = app
        .validate_claim(request("idem-1", excision_claim(2.5)))
        .await
        .expect_err("other claim");
    assert_eq!(reused.code(), Code::FailedPrecondition);
    assert_eq!(
        reused.get_details_error_info().expect("info").reason,
        "REQUEST_ID_REUSED"
    );
    app.shutdown().await.expect("clean shutdown");
}

#[sqlx::test]
async fn concurrent_calls_share_group_commits_and_all_are_stored(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let calls =
        (0..64).map(|i| app.validate_claim(request(&format!("c-{i}"), excision_claim(3.5))));
    let results = futures::future::join_all(calls).await;
    assert!(results.iter().all(Result::is_ok));
    let stored: i64 = sqlx::query_scalar("select count(*) from audit_record")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(stored, 64);
    app.shutdown().await.expect("clean shutdown");
}

#[sqlx::test]
async fn only_unreadable_requests_are_invalid_arguments(pool: PgPool) {
    let app = spawn_app(pool).await;
    let mut impossible = excision_claim(3.5);
    impossible.date_of_service = Some(Date {
        year: 2026,
        month: 2,
        day: 30,
    });
    let mut not_a_number = excision_claim(3.5);
    not_a_number.lines[0].excised_diameter_cm = Some(f64::NAN);
    for (request, field) in [
        (pb::ValidateClaimRequest::default(), "claim"),
        (request("", impossible), "claim.date_of_service"),
        (
            request("", not_a_number),
            "claim.lines[0].excised_diameter_cm",
        ),
    ] {
        let status = app.validate_claim(request).await.expect_err("unreadable");
        assert_invalid_field(&status, field);
    }
    // A coding problem is a finding, not an error.
    let mut zero_units = excision_claim(3.5);
    zero_units.lines[0].units = 0;
    let result = app
        .validate_claim(request("", zero_units))
        .await
        .expect("a finding");
    assert_eq!(
        result.result.expect("result").disposition(),
        pb::Disposition::Reject
    );
    app.shutdown().await.expect("clean shutdown");
}

#[sqlx::test]
async fn list_rules_returns_the_rule_catalog(pool: PgPool) {
    let app = spawn_app(pool).await;
    let rules = app
        .list_rules(pb::ListRulesRequest::default())
        .await
        .expect("ok");
    assert!(!rules.ruleset_version.is_empty());
    let ids: Vec<&str> = rules.rules.iter().map(|r| r.rule_id.as_str()).collect();
    for id in [
        "ICD10CM_NOT_BILLABLE",
        "SIZE_BAND_MISMATCH",
        "REPAIR_BUNDLED_WITH_EXCISION",
    ] {
        assert!(ids.contains(&id), "{id}");
    }
    app.shutdown().await.expect("clean shutdown");
}

#[sqlx::test]
async fn payer_settings_enable_policies_and_show_in_list_rules(pool: PgPool) {
    let app = spawn_app(pool).await;
    // Seborrhoeic keratosis without inflammation, with nothing beside it:
    // cosmetic under Medicare's policy.
    let mut medicare = excision_claim(3.5);
    medicare.payer_id = "MEDICARE".into();
    medicare.diagnosis_codes = vec!["L82.1".into()];
    let result = app
        .validate_claim(request("", medicare.clone()))
        .await
        .expect("ok")
        .result
        .expect("r");
    assert_eq!(result.disposition(), pb::Disposition::AcceptWithWarnings);
    assert_eq!(result.findings[0].rule_id, "BENIGN_REMOVAL_NO_INDICATION");
    medicare.lines[0].documented_indications = vec![pb::Indication::Bleeding.into()];
    // Another member, or the duplicate-claim edit would (rightly) fire.
    medicare.patient = Some(pb::Patient {
        member_id: "MBR-OTHER".into(),
        ..Default::default()
    });
    let result = app
        .validate_claim(request("", medicare))
        .await
        .expect("ok")
        .result
        .expect("r");
    assert_eq!(
        result.disposition(),
        pb::Disposition::Accept,
        "{:?}",
        result.findings
    );

    let rules = app
        .list_rules(pb::ListRulesRequest {
            payer_id: "MEDICARE".into(),
            effective_date: Some(Date {
                year: 2026,
                month: 1,
                day: 15,
            }),
        })
        .await
        .expect("ok");
    let cosmetic = rules
        .rules
        .iter()
        .find(|r| r.rule_id == "BENIGN_REMOVAL_NO_INDICATION")
        .expect("listed");
    assert!(cosmetic.enabled);
    assert!(cosmetic.parameters["policy"].contains("L35498"));
    let bcbs = app
        .list_rules(pb::ListRulesRequest {
            payer_id: "BCBS".into(),
            effective_date: None,
        })
        .await
        .expect("ok");
    assert!(
        !bcbs
            .rules
            .iter()
            .find(|r| r.rule_id == "BENIGN_REMOVAL_NO_INDICATION")
            .expect("listed")
            .enabled
    );
    let unknown = app
        .list_rules(pb::ListRulesRequest {
            payer_id: "ACME".into(),
            effective_date: None,
        })
        .await
        .expect_err("unknown payer");
    assert_eq!(unknown.code(), Code::NotFound);
    app.shutdown().await.expect("clean shutdown");
}

#[sqlx::test]
async fn history_edits_see_earlier_decisions_of_the_same_member(pool: PgPool) {
    let app = spawn_app(pool).await;
    let rule_ids = |result: pb::ValidationResult| -> Vec<String> {
        result.findings.into_iter().map(|f| f.rule_id).collect()
    };

    let first = decided(&app, "h-1", excision_claim(3.5)).await;
    assert_eq!(first.disposition(), pb::Disposition::Accept);
    let again = decided(&app, "h-2", excision_claim(3.5)).await;
    assert_eq!(rule_ids(again), ["DUPLICATE_CLAIM"]);

    let mut visit = excision_claim(3.5);
    visit.claim_id = "CLM-E2E-2".into();
    visit.date_of_service = Some(Date {
        year: 2026,
        month: 1,
        day: 20,
    });
    visit.lines = vec![pb::ServiceLine {
        procedure_code: "99213".into(),
        units: 1,
        diagnosis_pointers: vec![1],
        ..Default::default()
    }];
    let in_global = decided(&app, "h-3", visit.clone()).await;
    assert_eq!(
        rule_ids(in_global),
        ["EM_IN_GLOBAL_PERIOD"],
        "day 5 of the 010 global of 11404"
    );

    // Rejected on its own lines, it still answers with what its history
    // shows: a ValidateClaim call reads history only in the group commit,
    // so this decision is made twice.
    let mut broken_visit = visit.clone();
    broken_visit.claim_id = "CLM-E2E-3".into();
    broken_visit.date_of_service = Some(Date {
        year: 2026,
        month: 1,
        day: 21,
    });
    broken_visit.lines[0].diagnosis_pointers = vec![9];
    let broken_in_global = decided(&app, "h-3b", broken_visit).await;
    assert_eq!(broken_in_global.disposition(), pb::Disposition::Reject);
    let mut found = rule_ids(broken_in_global);
    found.sort();
    assert_eq!(found, ["DX_POINTER_INVALID", "EM_IN_GLOBAL_PERIOD"]);

    visit.patient = Some(pb::Patient {
        member_id: "ANOTHER-MEMBER".into(),
        ..Default::default()
    });
    let other_member = decided(&app, "h-4", visit).await;
    assert_eq!(other_member.disposition(), pb::Disposition::Accept);
    app.shutdown().await.expect("clean shutdown");
}
