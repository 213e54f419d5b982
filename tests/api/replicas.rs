//! N replicas on one PostgreSQL: two real server processes on one
//! database. Both start together (migrations, the default data set and the
//! monthly partitions are made once, under locks); a release imported with
//! the CLI reaches both (NOTIFY) while a decision in flight keeps the
//! snapshot it started with; a key revoked with the CLI is refused by both
//! within the refresh interval; of identical claims sent to both at once,
//! one is accepted. (A batch cut on one replica by SIGKILL and resumed on the
//! other is `batch_stream::a_batch_survives_the_server_being_killed_mid_stream`.)

use std::time::Duration;

use claimscrub::grpc::pb;
use sqlx::PgPool;
use tokio::process::Child;
use tonic::Code;
use tonic::metadata::MetadataValue;
use tonic::transport::Channel;

use crate::concurrency::identical_at_once;
use crate::helpers::{
    Api, NUCC, cli, excision_claim, pool_url, printed, shared_data, start_serve_with, wait_for,
};

/// A replica: the process and a client of it.
struct Replica {
    _process: Child,
    api: Api,
}

async fn replica(url: &str) -> Replica {
    let (process, address, _) = start_serve_with(url, &[], "info").await;
    let channel = Channel::from_shared(format!("http://{address}"))
        .expect("uri")
        .connect()
        .await
        .expect("connects");
    Replica {
        _process: process,
        api: Api::new(channel),
    }
}

/// Two replicas started at the same moment on the database of `pool`.
async fn two_replicas(pool: &PgPool) -> (Replica, Replica) {
    let url = pool_url(pool);
    tokio::join!(replica(&url), replica(&url))
}

/// The taxonomy release a claim of 2026-01-15 was decided with.
fn taxonomy_version(result: &pb::ValidationResult) -> Option<String> {
    result
        .code_system_versions
        .iter()
        .find(|v| v.system() == pb::CodeSystem::Taxonomy)
        .map(|v| v.version.clone())
}

async fn decide(api: &Api, request_id: &str) -> pb::ValidationResult {
    api.validate_claim(pb::ValidateClaimRequest {
        request_id: request_id.into(),
        claim: Some(excision_claim(&format!("CLM-{request_id}"), "", 3.5)),
    })
    .await
    .expect("a decision")
    .result
    .expect("result")
}

#[sqlx::test]
async fn two_replicas_start_together_and_make_the_partitions_once(pool: PgPool) {
    let (a, b) = two_replicas(&pool).await;
    let partitions: Vec<String> = sqlx::query_scalar(
        "select c.relname::text from pg_inherits i join pg_class c on c.oid = i.inhrelid \
         where i.inhparent = 'audit_record'::regclass and c.relname <> 'audit_record_default' \
         order by 1",
    )
    .fetch_all(&pool)
    .await
    .expect("partitions");
    assert_eq!(
        partitions.len(),
        3,
        "this month and the two ahead, once: {partitions:?}"
    );
    let default_releases: i64 =
        sqlx::query_scalar("select count(distinct version) from code_system_version where builtin")
            .fetch_one(&pool)
            .await
            .expect("count");
    assert_eq!(default_releases, 1, "the default data set is loaded once");
    for (replica, id) in [(&a, "start-a"), (&b, "start-b")] {
        decide(&replica.api, id).await;
    }
}

#[sqlx::test]
async fn an_import_reaches_both_replicas_and_a_decision_in_flight_keeps_its_snapshot(pool: PgPool) {
    let Some(nucc) = shared_data(NUCC.1) else {
        return;
    };
    let (a, b) = two_replicas(&pool).await;
    let before = taxonomy_version(&decide(&a.api, "before").await).expect("taxonomy read");

    // A decision made now waits to be stored while audit_record is locked:
    // it was decided with the snapshot of its start.
    let mut lock = pool.begin().await.expect("transaction");
    sqlx::query("lock table audit_record in access exclusive mode")
        .execute(&mut *lock)
        .await
        .expect("locked");
    let in_flight = tokio::spawn({
        let api = Api::new(a.api.channel().clone());
        async move { decide(&api, "in-flight").await }
    });
    wait_for(
        "the decision to wait for the audit store",
        Duration::from_secs(60),
        async || {
            let waiting: i64 = sqlx::query_scalar(
                "select count(*) from pg_locks where relation = 'audit_record'::regclass \
                 and not granted",
            )
            .fetch_one(&pool)
            .await
            .expect("locks");
            (waiting > 0).then_some(())
        },
    )
    .await;
    cli(
        &pool,
        &[
            "import",
            "nucc",
            nucc.to_str().expect("utf-8"),
            "--version",
            "replica-test",
            "--effective-from",
            "2025-01-01",
        ],
    )
    .await;
    for replica in [&a, &b] {
        wait_for(
            "the replica to serve the import",
            Duration::from_secs(60),
            async || {
                let versions = replica
                    .api
                    .list_code_system_versions(pb::ListCodeSystemVersionsRequest::default())
                    .await
                    .expect("versions");
                versions
                    .code_system_versions
                    .iter()
                    .any(|v| v.version == "replica-test")
                    .then_some(())
            },
        )
        .await;
    }
    lock.rollback().await.expect("unlocked");
    let kept = in_flight.await.expect("task");
    assert_eq!(
        taxonomy_version(&kept).as_deref(),
        Some(before.as_str()),
        "the decision in flight keeps the release it started with"
    );
    for (replica, id) in [(&a, "after-a"), (&b, "after-b")] {
        assert_eq!(
            taxonomy_version(&decide(&replica.api, id).await).as_deref(),
            Some("replica-test")
        );
    }
}

#[sqlx::test]
async fn a_key_revoked_with_the_cli_is_refused_by_both_replicas(pool: PgPool) {
    let output = cli(
        &pool,
        &[
            "api-key",
            "create",
            "--submitter",
            "clearinghouse-r",
            "--scopes",
            "lookup",
        ],
    )
    .await;
    let (id, key) = (printed(&output, "id:"), printed(&output, "key:"));
    let (a, b) = two_replicas(&pool).await;
    let call = async |api: &Api| {
        let mut request = tonic::Request::new(pb::ListCodeSystemVersionsRequest::default());
        request.metadata_mut().insert(
            "authorization",
            MetadataValue::try_from(format!("Bearer {key}")).expect("ascii"),
        );
        api.list_code_system_versions(request).await
    };
    for replica in [&a, &b] {
        call(&replica.api).await.expect("the key works on both");
    }
    cli(&pool, &["api-key", "revoke", &id]).await;
    for replica in [&a, &b] {
        wait_for(
            "the revoked key to be refused",
            claimscrub::app::api_keys::REFRESH_EVERY * 12,
            async || match call(&replica.api).await {
                Err(status) if status.code() == Code::Unauthenticated => Some(()),
                Ok(_) => None,
                Err(other) => panic!("unexpected {other:?}"),
            },
        )
        .await;
    }
}

#[sqlx::test]
async fn identical_claims_sent_to_both_replicas_are_accepted_once(pool: PgPool) {
    let (a, b) = two_replicas(&pool).await;
    for round in 0..3 {
        let (accepted, duplicates) =
            identical_at_once(&[&a.api, &b.api], 20, &format!("MBR-R-{round}")).await;
        assert_eq!((accepted, duplicates), (1, 19), "round {round}");
    }
}
