//! Audited audit reads (issue 15, item 5): every Get, List, Export, Stats
//! and Replay of audit records is itself recorded (who, which RPC with which
//! parameters, when, how many records), append-only, and listed to an
//! `admin` key only.

use std::collections::BTreeSet;
use std::time::Duration;

use claimscrub::app::api_keys;
use claimscrub::domain::access::Scopes;
use claimscrub::grpc::pb;
use sqlx::PgPool;
use tonic::metadata::MetadataValue;

use crate::helpers::{excision_claim, production_settings, spawn_app_with, wait_for};

fn with_key<T>(message: T, key: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        MetadataValue::try_from(format!("Bearer {key}")).expect("ascii"),
    );
    request
}

#[sqlx::test]
async fn every_audit_read_is_recorded_and_listed_to_admins(pool: PgPool) {
    let key = async |submitter: &str, scopes: &str| {
        let scopes = Scopes::parse_list(scopes).expect("scopes");
        api_keys::create(&pool, submitter, scopes, None)
            .await
            .expect("key")
            .1
    };
    let (sender, auditor, admin) = (
        key("clearinghouse-a", "validate").await,
        key("auditor", "audit:read").await,
        key("security-office", "admin").await,
    );
    let app = spawn_app_with(pool.clone(), production_settings()).await;

    let claim = excision_claim("CLM-ACCESS-1", "MBR-ACCESS-1", 3.5);
    let decided = app
        .validate_claim(with_key(
            pb::ValidateClaimRequest {
                request_id: "access-1".into(),
                claim: Some(claim),
            },
            &sender,
        ))
        .await
        .expect("validated")
        .result
        .expect("result");
    let name = format!("auditRecords/{}", decided.audit_record_id);
    let filter = pb::AuditFilter {
        claim_id: "CLM-ACCESS-1".into(),
        ..Default::default()
    };
    app.get_audit_record(with_key(
        pb::GetAuditRecordRequest { name: name.clone() },
        &auditor,
    ))
    .await
    .expect("get");
    let listed = app
        .list_audit_records(with_key(
            pb::ListAuditRecordsRequest {
                filter: Some(filter.clone()),
                ..Default::default()
            },
            &auditor,
        ))
        .await
        .expect("list");
    assert_eq!(listed.audit_records.len(), 1);
    let mut export = app
        .export_audit_records(with_key(
            pb::ExportAuditRecordsRequest {
                filter: Some(filter.clone()),
            },
            &auditor,
        ))
        .await
        .expect("export");
    while export.message().await.expect("exports").is_some() {}
    app.get_audit_stats(with_key(
        pb::GetAuditStatsRequest {
            filter: Some(filter),
            group_by: pb::AuditStatsGroupBy::Disposition.into(),
        },
        &auditor,
    ))
    .await
    .expect("stats");
    app.replay_audit_record(with_key(pb::ReplayAuditRecordRequest { name }, &auditor))
        .await
        .expect("replay");

    // The export is recorded once it has ended, just after its last message.
    let entries = wait_for("five recorded reads", Duration::from_secs(30), async || {
        let entries = app
            .list_audit_access(with_key(
                pb::ListAuditAccessRequest {
                    submitter: "auditor".into(),
                    ..Default::default()
                },
                &admin,
            ))
            .await
            .expect("access log")
            .entries;
        (entries.len() >= 5).then_some(entries)
    })
    .await;
    let methods: BTreeSet<&str> = entries.iter().map(|e| e.method.as_str()).collect();
    assert_eq!(
        methods,
        BTreeSet::from([
            "ExportAuditRecords",
            "GetAuditRecord",
            "GetAuditStats",
            "ListAuditRecords",
            "ReplayAuditRecord"
        ])
    );
    for entry in &entries {
        assert_eq!(entry.submitter, "auditor");
        assert_eq!(entry.record_count, 1, "{entry:?}");
        assert!(!entry.request_id.is_empty(), "{entry:?}");
        assert!(entry.access_time.is_some());
    }
    let list = entries
        .iter()
        .find(|e| e.method == "ListAuditRecords")
        .expect("list");
    assert!(
        list.parameters.contains("CLM-ACCESS-1"),
        "{}",
        list.parameters
    );

    // Append-only, whoever asks.
    let refused = sqlx::query("update audit_access set record_count = 0")
        .execute(&pool)
        .await;
    assert!(refused.is_err(), "the access log was changed");
    app.shutdown().await.expect("shutdown");
}
