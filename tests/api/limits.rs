//! Per-key limits: the request rate (with a limit of one call a second, a
//! burst far above it gets RESOURCE_EXHAUSTED with RetryInfo,
//! `RATE_LIMITED`, a call under it gets none, and another caller keeps its
//! own allowance; the bounds hold on a busy machine: 50 calls would have to
//! take 49 s to all get through), the batch streams open at once, and the
//! deadline every unary call has. None of them depends on timing: the
//! stream limit is a count, and the deadline test holds a lock the call
//! waits on for as long as the test likes.

use claimscrub::app::api_keys;
use claimscrub::domain::access::Scopes;
use claimscrub::grpc::pb;
use sqlx::PgPool;
use tonic::Code;
use tonic::metadata::MetadataValue;
use tonic_types::StatusExt as _;

use std::time::Duration;

use claimscrub::grpc::pb::x12_service_client::X12ServiceClient;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use crate::helpers::{TestApp, drain, production_settings, spawn_app_with, wait_for};

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

fn with_bearer<T>(message: T, key: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        MetadataValue::try_from(format!("Bearer {key}")).expect("ascii"),
    );
    request
}

/// A batch stream of `key`'s: the header is sent, the rest when the test says.
async fn open_batch(
    app: &TestApp,
    key: &str,
) -> (
    mpsc::Sender<pb::ValidateClaimBatchRequest>,
    Result<tonic::Streaming<pb::ValidateClaimBatchResponse>, tonic::Status>,
) {
    use pb::validate_claim_batch_request::Kind;
    let (requests, outgoing) = mpsc::channel(8);
    requests
        .send(pb::ValidateClaimBatchRequest {
            kind: Some(Kind::Header(pb::BatchHeader {
                batch_id: uuid::Uuid::new_v4().to_string(),
                resume: false,
                expected_item_count: None,
            })),
        })
        .await
        .expect("queued");
    let opened = app
        .validate_claim_batch(with_bearer(ReceiverStream::new(outgoing), key))
        .await;
    (requests, opened)
}

#[track_caller]
fn assert_too_many_streams(status: &tonic::Status) {
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert_eq!(
        status.get_details_error_info().expect("ErrorInfo").reason,
        "TOO_MANY_STREAMS"
    );
    let retry = status.get_details_retry_info().expect("RetryInfo");
    assert!(retry.retry_delay.is_some_and(|d| !d.is_zero()), "{retry:?}");
}

#[sqlx::test]
async fn a_key_past_its_open_streams_is_told_when_to_retry(pool: PgPool) {
    let validate = Scopes::parse_list("validate").expect("scope");
    let (_, busy) = api_keys::create(&pool, "busy", validate, None)
        .await
        .expect("key");
    let (_, calm) = api_keys::create(&pool, "calm", validate, None)
        .await
        .expect("key");
    let mut settings = production_settings();
    settings.key_concurrent_streams = 1;
    let app = spawn_app_with(pool, settings).await;

    let (first_requests, first) = open_batch(&app, &busy).await;
    let mut first = first.expect("the first stream opens");
    first.message().await.expect("accepted").expect("open");
    let (_, second) = open_batch(&app, &busy).await;
    assert_too_many_streams(&second.expect_err("a second stream of the same key"));
    let upload = X12ServiceClient::new(app.channel.clone())
        .validate_interchange(with_bearer(
            tokio_stream::iter([pb::ValidateInterchangeRequest {
                data: b"ISA".to_vec(),
                resume: false,
            }]),
            &busy,
        ))
        .await
        .expect_err("an X12 upload counts as a batch stream");
    assert_too_many_streams(&upload);
    let (_, other) = open_batch(&app, &calm).await;
    other.expect("another key has its own streams");

    first_requests
        .send(pb::ValidateClaimBatchRequest {
            kind: Some(pb::validate_claim_batch_request::Kind::End(pb::BatchEnd {})),
        })
        .await
        .expect("queued");
    let (_, ended) = drain(first).await;
    ended.expect("the first stream completes");
    wait_for(
        "the ended stream's slot to free",
        Duration::from_secs(60),
        async || open_batch(&app, &busy).await.1.ok().map(drop),
    )
    .await;
}

#[sqlx::test]
async fn a_unary_call_without_a_deadline_gets_the_servers(pool: PgPool) {
    let read = Scopes::parse_list("audit:read").expect("scope");
    let (_, key) = api_keys::create(&pool, "auditor", read, None)
        .await
        .expect("key");
    let mut settings = production_settings();
    settings.max_unary_deadline_secs = 1;
    let app = spawn_app_with(pool.clone(), settings).await;
    let list = || with_bearer(pb::ListAuditRecordsRequest::default(), &key);
    app.list_audit_records(list()).await.expect("a quick call");

    // Every audit read is recorded in audit_access; while the table is
    // locked, the call waits for as long as the lock is held.
    let mut lock = pool.begin().await.expect("transaction");
    sqlx::query("lock table audit_access in access exclusive mode")
        .execute(&mut *lock)
        .await
        .expect("locked");
    let mut patient = list();
    patient.set_timeout(Duration::from_secs(600));
    let capped = app
        .list_audit_records(patient)
        .await
        .expect_err("held past the server's deadline");
    assert_eq!(capped.code(), Code::DeadlineExceeded, "{capped:?}");
    assert_eq!(
        capped.get_details_error_info().expect("ErrorInfo").reason,
        "DEADLINE_EXCEEDED"
    );
    let unbounded = app
        .list_audit_records(list())
        .await
        .expect_err("a call without a deadline has the server's");
    assert_eq!(unbounded.code(), Code::DeadlineExceeded, "{unbounded:?}");
    lock.rollback().await.expect("unlocked");
    app.list_audit_records(list()).await.expect("the next call");
}

#[sqlx::test]
async fn an_x12_upload_that_stalls_is_closed_as_idle(pool: PgPool) {
    let validate = Scopes::parse_list("validate").expect("scope");
    let (_, key) = api_keys::create(&pool, "slow-sender", validate, None)
        .await
        .expect("key");
    let mut settings = production_settings();
    settings.stream_idle_timeout_secs = 1;
    let app = spawn_app_with(pool, settings).await;
    let (chunks, outgoing) = mpsc::channel(4);
    chunks
        .send(pb::ValidateInterchangeRequest {
            data: b"ISA*00*          *00*          *ZZ*SUBMITTER".to_vec(),
            resume: false,
        })
        .await
        .expect("queued");
    // The rest of the file never comes, and the upload is not closed.
    let idle = X12ServiceClient::new(app.channel.clone())
        .validate_interchange(with_bearer(ReceiverStream::new(outgoing), &key))
        .await
        .expect_err("the stalled upload is closed");
    assert_eq!(idle.code(), Code::DeadlineExceeded, "{idle:?}");
    assert_eq!(
        idle.get_details_error_info().expect("ErrorInfo").reason,
        "STREAM_IDLE"
    );
    drop(chunks);
}
