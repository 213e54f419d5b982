//! Per-key request rate (issue 15, item 4, in part): with a limit of one
//! call a second, a burst far above it gets RESOURCE_EXHAUSTED with
//! RetryInfo (`RATE_LIMITED`), a call under it gets none, and another
//! caller keeps its own allowance. The bounds hold on a busy machine: 50
//! calls would have to take 49 s to all get through.

use claimscrub::app::api_keys;
use claimscrub::domain::access::Scopes;
use claimscrub::grpc::pb;
use sqlx::PgPool;
use tonic::Code;
use tonic::metadata::MetadataValue;
use tonic_types::StatusExt as _;

use crate::helpers::{production_settings, spawn_app_with};

fn with_key(key: &str) -> tonic::Request<pb::ListCodeSystemVersionsRequest> {
    let mut request = tonic::Request::new(pb::ListCodeSystemVersionsRequest::default());
    request.metadata_mut().insert(
        "authorization",
        MetadataValue::try_from(format!("Bearer {key}")).expect("ascii"),
    );
    request
}

#[sqlx::test]
async fn a_burst_past_the_key_rate_is_told_when_to_retry(pool: PgPool) {
    let lookup = Scopes::parse_list("lookup").expect("scope");
    let (_, busy) = api_keys::create(&pool, "busy", lookup, None)
        .await
        .expect("key");
    let (_, calm) = api_keys::create(&pool, "calm", lookup, None)
        .await
        .expect("key");
    let mut settings = production_settings();
    settings.key_requests_per_second = 1;
    let app = spawn_app_with(pool, settings).await;

    let mut refused = Vec::new();
    for _ in 0..50 {
        if let Err(status) = app.list_code_system_versions(with_key(&busy)).await {
            refused.push(status);
        }
    }
    assert!(
        !refused.is_empty(),
        "50 calls at 1 a second all got through"
    );
    for status in &refused {
        assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
        let retry = status.get_details_retry_info().expect("RetryInfo");
        assert!(retry.retry_delay.is_some_and(|d| !d.is_zero()), "{retry:?}");
        let info = status.get_details_error_info().expect("ErrorInfo");
        assert_eq!(info.reason, "RATE_LIMITED");
    }
    // Another caller's call, under its own limit, gets through meanwhile.
    app.list_code_system_versions(with_key(&calm))
        .await
        .expect("a call under the limit");
    app.shutdown().await.expect("shutdown");
}
