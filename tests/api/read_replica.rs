//! Audit reads from a streaming replica (`--read-database-url`): a private
//! primary, a real replica of it made by `scripts/streaming-replica.sh`
//! (pg_basebackup) on another port, and the server between them. List,
//! Stats, Export and Get read from the replica; the decisions and the
//! audit of the reads are written to the primary; a Get right after the
//! ValidateClaim that made the record finds it, replicated or not.

use std::path::{Path, PathBuf};
use std::time::Duration;

use claimscrub::grpc::pb;
use claimscrub::storage::private_cluster::PrivateCluster;
use sqlx::{Connection as _, PgConnection};
use tokio::process::Command;
use tokio_stream::StreamExt as _;
use tonic::transport::Channel;

use crate::helpers::{Api, excision_claim, start_serve_with, wait_for};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/streaming-replica.sh");

/// The replica the script made, stopped when dropped.
struct Replica(PathBuf);

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = std::process::Command::new("bash")
            .arg(SCRIPT)
            .arg("stop")
            .arg(&self.0)
            .output();
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

async fn count(url: &str, query: &str) -> i64 {
    let mut connection = PgConnection::connect(url).await.expect("connects");
    sqlx::query_scalar(sqlx::AssertSqlSafe(query))
        .fetch_one(&mut connection)
        .await
        .expect("counted")
}

#[tokio::test]
async fn audit_reads_go_to_a_streaming_replica_and_their_audit_to_the_primary() {
    let folder = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("read-replica-{}", uuid::Uuid::new_v4().simple()));
    let primary = match PrivateCluster::start(&folder.join("primary")) {
        Ok(primary) => primary,
        Err(error) => {
            assert!(std::env::var_os("CI").is_none(), "{error}");
            eprintln!("SKIPPED: {error}");
            return;
        }
    };
    let replica_port = free_port();
    let replica_dir = folder.join("replica");
    let made = Command::new("bash")
        .arg(SCRIPT)
        .args(["start", "127.0.0.1"])
        .arg(primary.port().to_string())
        .arg(&replica_dir)
        .arg(replica_port.to_string())
        .output()
        .await
        .expect("script runs");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let replica = Replica(replica_dir);
    let replica_url = |db: &str| format!("postgres://postgres@127.0.0.1:{replica_port}/{db}");
    assert_eq!(
        count(
            &replica_url("postgres"),
            "select pg_is_in_recovery()::int::int8"
        )
        .await,
        1,
        "the replica is a standby"
    );

    let (_server, address, _) = start_serve_with(
        &primary.url("claimscrub"),
        &["--read-database-url", &replica_url("claimscrub")],
        "info",
    )
    .await;
    let api = Api::new(
        Channel::from_shared(format!("http://{address}"))
            .expect("uri")
            .connect()
            .await
            .expect("connects"),
    );
    let decided = api
        .validate_claim(pb::ValidateClaimRequest {
            request_id: "replica-1".into(),
            claim: Some(excision_claim("CLM-RR-1", "", 3.5)),
        })
        .await
        .expect("a decision")
        .result
        .expect("result");
    let name = format!("auditRecords/{}", decided.audit_record_id);
    api.get_audit_record(pb::GetAuditRecordRequest { name: name.clone() })
        .await
        .expect("a Get right after the write finds the record");

    let listed = wait_for(
        "the record to reach the replica",
        Duration::from_secs(60),
        async || {
            let page = api
                .list_audit_records(pb::ListAuditRecordsRequest::default())
                .await
                .expect("a list");
            (!page.audit_records.is_empty()).then_some(page)
        },
    )
    .await;
    assert_eq!(listed.audit_records.len(), 1);
    api.get_audit_stats(pb::GetAuditStatsRequest {
        filter: None,
        group_by: pb::AuditStatsGroupBy::Disposition.into(),
    })
    .await
    .expect("stats from the replica");
    let mut export = api
        .export_audit_records(pb::ExportAuditRecordsRequest::default())
        .await
        .expect("export opens");
    while export
        .next()
        .await
        .transpose()
        .expect("export chunk")
        .is_some()
    {}

    let readers = "select count(*) from pg_stat_activity \
                   where application_name = 'claimscrub-reads' and datname = 'claimscrub'";
    assert!(
        count(&replica_url("postgres"), readers).await >= 1,
        "the reads went to the replica"
    );
    assert_eq!(
        count(&primary.url("postgres"), readers).await,
        0,
        "no read connection to the primary"
    );
    assert!(
        count(
            &primary.url("claimscrub"),
            "select count(*) from audit_access"
        )
        .await
            >= 4,
        "the audit of the reads is written to the primary"
    );
    drop(replica);
    drop(primary);
    let _ = std::fs::remove_dir_all(&folder);
}
