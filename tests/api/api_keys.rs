//! API keys end to end: keys made with `claimscrub api-key`, the submitter
//! recorded on decisions, unknown and revoked keys refused, and servers that
//! require a key.

use claimscrub::grpc::pb;
use sqlx::PgPool;
use tonic::Code;
use tonic::metadata::MetadataValue;
use tonic_types::StatusExt as _;

use crate::helpers::{cli, excision_claim, printed, spawn_app, spawn_app_with, wait_for};

async fn api_key_command(pool: &PgPool, args: &[&str]) -> String {
    cli(pool, &[&["api-key"], args].concat()).await
}

/// Creates a key with the CLI; returns (id, key).
async fn create_key(pool: &PgPool, submitter: &str) -> (String, String) {
    let output = api_key_command(
        pool,
        &[
            "create",
            "--submitter",
            submitter,
            "--scopes",
            "lookup,validate",
        ],
    )
    .await;
    (printed(&output, "id:"), printed(&output, "key:"))
}

fn request(
    request_id: &str,
    key: Option<(&'static str, String)>,
) -> tonic::Request<pb::ValidateClaimRequest> {
    let claim = excision_claim("CLM-KEY-1", "", 3.5);
    let mut request = tonic::Request::new(pb::ValidateClaimRequest {
        request_id: request_id.into(),
        claim: Some(claim),
    });
    if let Some((header, value)) = key {
        request
            .metadata_mut()
            .insert(header, MetadataValue::try_from(value).expect("ascii"));
    }
    request
}

async fn submitter_of(pool: &PgPool, request_id: &str) -> String {
    sqlx::query_scalar("select submitter from audit_record where request_id = $1")
        .bind(request_id)
        .fetch_one(pool)
        .await
        .expect("stored decision")
}

#[sqlx::test]
async fn a_key_names_the_submitter_and_unknown_or_revoked_keys_are_refused(pool: PgPool) {
    let (id, key) = create_key(&pool, "clearinghouse-a").await;
    assert!(key.starts_with("csk_"), "{key}");
    let stored: i64 =
        sqlx::query_scalar("select count(*) from api_key where key_sha256 = sha256($1::bytea)")
            .bind(key.as_bytes())
            .fetch_one(&pool)
            .await
            .expect("count");
    assert_eq!(stored, 1, "only the key's sha256 is stored");

    let app = spawn_app(pool.clone()).await;
    app.validate_claim(request(
        "k-1",
        Some(("authorization", format!("Bearer {key}"))),
    ))
    .await
    .expect("valid key");
    assert_eq!(submitter_of(&pool, "k-1").await, "clearinghouse-a");
    app.validate_claim(request("k-2", Some(("x-api-key", key.clone()))))
        .await
        .expect("valid key in x-api-key");
    assert_eq!(submitter_of(&pool, "k-2").await, "clearinghouse-a");
    app.validate_claim(request("k-3", None))
        .await
        .expect("keys are optional on this server");
    assert_eq!(submitter_of(&pool, "k-3").await, "anonymous");

    let refused = app
        .validate_claim(request("k-4", Some(("x-api-key", "csk_not-a-key".into()))))
        .await
        .expect_err("unknown key");
    assert_eq!(refused.code(), Code::Unauthenticated);
    assert_eq!(
        refused.get_details_error_info().expect("info").reason,
        "API_KEY_INVALID"
    );

    let listed = api_key_command(&pool, &["list"]).await;
    assert!(listed.contains(&id) && listed.contains("clearinghouse-a") && !listed.contains(&key));
    api_key_command(&pool, &["revoke", &id]).await;
    // Servers re-read the keys every few seconds.
    wait_for(
        "the revoked key to be refused",
        claimscrub::app::api_keys::REFRESH_EVERY * 12,
        async || match app
            .validate_claim(request("k-5", Some(("x-api-key", key.clone()))))
            .await
        {
            Err(status) if status.code() == Code::Unauthenticated => Some(()),
            Ok(_) => None,
            Err(other) => panic!("unexpected {other:?}"),
        },
    )
    .await;
}

#[sqlx::test]
async fn a_server_that_requires_keys_refuses_calls_without_one(pool: PgPool) {
    let (_, key) = create_key(&pool, "clearinghouse-b").await;
    let settings = crate::helpers::production_settings();
    let app = spawn_app_with(pool.clone(), settings).await;
    let refused = app
        .validate_claim(request("n-1", None))
        .await
        .expect_err("no key");
    assert_eq!(refused.code(), Code::Unauthenticated);
    assert_eq!(
        refused.get_details_error_info().expect("info").reason,
        "API_KEY_REQUIRED"
    );
    app.validate_claim(request(
        "n-2",
        Some(("authorization", format!("Bearer {key}"))),
    ))
    .await
    .expect("valid key");
    assert_eq!(submitter_of(&pool, "n-2").await, "clearinghouse-b");
    let lookups = app
        .lookup_code(pb::LookupCodeRequest {
            system: pb::CodeSystem::Icd10cm.into(),
            code: "D23.5".into(),
            ..Default::default()
        })
        .await
        .expect_err("every claimscrub service is behind the key check");
    assert_eq!(lookups.code(), Code::Unauthenticated);
}
