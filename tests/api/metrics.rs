//! Prometheus metrics: `serve --metrics-listen` exposes the RPCs by method
//! and code, decisions by disposition and payer, findings by rule, batch
//! items and open streams, the audit writer's queue, commit latency and
//! rows per commit, the release in effect per code system and the pools,
//! scraped over HTTP as Prometheus does.

use std::time::Duration;

use claimscrub::grpc::pb;
use claimscrub::grpc::pb::claim_validation_service_client::ClaimValidationServiceClient;
use sqlx::PgPool;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tonic::Code;

use crate::helpers::{excision_claim, pool_url, start_serve_with, wait_for};

/// GET /metrics over plain HTTP/1.1; the body.
async fn scrape(address: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("metrics port answers");
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: claimscrub\r\nConnection: close\r\n\r\n")
        .await
        .expect("request sent");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .await
        .expect("response read");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    response
}

/// The value of the series named exactly `series` (name and labels).
fn value(scraped: &str, series: &str) -> Option<f64> {
    scraped
        .lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[sqlx::test]
async fn the_metrics_endpoint_is_scraped_with_every_family(pool: PgPool) {
    let metrics_address = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .to_string();
    let (_server, address, _logs) = start_serve_with(
        &pool_url(&pool),
        &["--metrics-listen", &metrics_address],
        "info",
    )
    .await;
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{address}"))
        .expect("uri")
        .connect()
        .await
        .expect("connects");
    let mut client = ClaimValidationServiceClient::new(channel);
    let accepted = client
        .validate_claim(pb::ValidateClaimRequest {
            request_id: String::new(),
            claim: Some(excision_claim("CLM-M-1", "", 3.5)),
        })
        .await
        .expect("a decision")
        .into_inner();
    let disposition = accepted.result.expect("result").disposition();
    let refused = client
        .validate_claim(pb::ValidateClaimRequest::default())
        .await
        .expect_err("no claim");
    assert_eq!(refused.code(), Code::InvalidArgument);
    let mut junk = excision_claim("CLM-M-2", "", 3.5);
    junk.payer_id = "NOSUCHPAYER7".into();
    client
        .validate_claim(pb::ValidateClaimRequest {
            request_id: String::new(),
            claim: Some(junk),
        })
        .await
        .expect("a decision for an unknown payer");

    use pb::validate_claim_batch_request::Kind;
    let batch = [
        Kind::Header(pb::BatchHeader {
            batch_id: uuid::Uuid::new_v4().to_string(),
            resume: false,
            expected_item_count: Some(3),
        }),
        Kind::Item(pb::ClaimItem {
            sequence: 0,
            correlation_id: "a".into(),
            claim: Some(excision_claim("CLM-M-3", "", 3.5)),
        }),
        Kind::Item(pb::ClaimItem {
            sequence: 1,
            correlation_id: "b".into(),
            claim: Some(excision_claim("CLM-M-4", "", 4.5)),
        }),
        Kind::Item(pb::ClaimItem {
            sequence: 2,
            correlation_id: "c".into(),
            claim: None,
        }),
        Kind::End(pb::BatchEnd {}),
    ]
    .map(|kind| pb::ValidateClaimBatchRequest { kind: Some(kind) });
    let mut responses = client
        .validate_claim_batch(tokio_stream::iter(batch))
        .await
        .expect("stream opens")
        .into_inner();
    while responses.message().await.expect("stream ends OK").is_some() {}

    let scraped = wait_for(
        "the gauges to be refreshed",
        Duration::from_secs(60),
        async || {
            let scraped = scrape(&metrics_address).await;
            scraped
                .contains("claimscrub_catalog_release_effective_timestamp_seconds{")
                .then_some(scraped)
        },
    )
    .await;
    let validate = "/claimscrub.v1.ClaimValidationService/ValidateClaim";
    assert_eq!(
        value(
            &scraped,
            &format!("claimscrub_rpc_requests_total{{method=\"{validate}\",code=\"Ok\"}}")
        ),
        Some(2.0),
        "{scraped}"
    );
    assert_eq!(
        value(
            &scraped,
            &format!(
                "claimscrub_rpc_requests_total{{method=\"{validate}\",code=\"InvalidArgument\"}}"
            )
        ),
        Some(1.0)
    );
    let batch_path = "/claimscrub.v1.ClaimValidationService/ValidateClaimBatch";
    assert_eq!(
        value(
            &scraped,
            &format!("claimscrub_rpc_requests_total{{method=\"{batch_path}\",code=\"Ok\"}}")
        ),
        Some(1.0),
        "a stream is counted when it ends"
    );
    assert!(scraped.contains(&format!(
        "claimscrub_rpc_duration_seconds_bucket{{method=\"{validate}\",le=\"0.001\"}}"
    )));
    let disposition = disposition.as_str_name().trim_start_matches("DISPOSITION_");
    assert!(
        value(
            &scraped,
            &format!("claimscrub_decisions_total{{disposition=\"{disposition}\",payer=\"BCBS\"}}")
        )
        .is_some_and(|n| n >= 1.0),
        "{scraped}"
    );
    assert!(
        !scraped.contains("NOSUCHPAYER7") && scraped.contains("payer=\"other\""),
        "an unknown payer is `other`"
    );
    assert!(
        scraped.contains("claimscrub_findings_total{rule=\"SIZE_BAND_MISMATCH\"}"),
        "{scraped}"
    );
    assert!(scraped.contains("claimscrub_not_checked_total{rule=\"MUE_EXCEEDED\"}"));
    assert_eq!(value(&scraped, "claimscrub_batch_items_total"), Some(3.0));
    assert_eq!(value(&scraped, "claimscrub_batch_streams_open"), Some(0.0));
    assert!(
        value(
            &scraped,
            "claimscrub_batcher_batch_size_count{batcher=\"audit_writer\"}"
        )
        .is_some_and(|n| n >= 1.0)
    );
    assert!(
        scraped
            .contains("claimscrub_batcher_batch_duration_seconds_bucket{batcher=\"audit_writer\"")
    );
    assert!(scraped.contains("claimscrub_batcher_queue_depth{batcher=\"audit_writer\"}"));
    assert!(
        scraped
            .contains("claimscrub_catalog_release_effective_timestamp_seconds{system=\"icd10cm\"")
    );
    assert!(
        value(
            &scraped,
            "claimscrub_db_pool_max_connections{pool=\"main\"}"
        )
        .is_some()
    );
    assert!(scraped.contains("claimscrub_db_pool_connections{pool=\"bulk\",state=\"idle\"}"));
}
