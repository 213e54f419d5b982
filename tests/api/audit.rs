//! AuditService end to end over records made through the real
//! ValidateClaim and ValidateClaimBatch paths: every filter, pagination to
//! the end, tokens bound to their filter, back-to-back exports, statistics,
//! replays; the append-only store refusing every change, for the owner and
//! for the application role; partitions made ahead; an index for every
//! filter.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use claimscrub::app::audit::AuditFilter;
use claimscrub::grpc::pb;
use claimscrub::grpc::pb::google::r#type::Date;
use claimscrub::grpc::pb::validate_claim_batch_request::Kind as In;
use claimscrub::grpc::pb::validate_claim_batch_response::Kind as Out;
use futures::StreamExt as _;
use sqlx::PgPool;
use tonic::Code;
use tonic_types::StatusExt as _;
use uuid::Uuid;

use crate::helpers::{Api, assert_invalid_field, spawn_app, wait_for};

/// How long a running server may take to see a change made in the
/// database (it re-reads keys every few seconds; reloads follow NOTIFY).
const KEY_DEADLINE: Duration = Duration::from_secs(60);

/// What the test knows about a record it made, from the claim it sent and
/// the answer it got (never from the store).
#[derive(Debug, Clone)]
struct Made {
    id: String,
    claim_id: String,
    payer_id: String,
    submitter: String,
    batch_id: Option<String>,
    disposition: pb::Disposition,
    rule_ids: BTreeSet<String>,
    procedure_codes: BTreeSet<String>,
    diagnosis_codes: BTreeSet<String>,
}

const PAYERS: [&str; 3] = ["BCBS", "AETNA", "CIGNA"];

/// Claim `i`: payer, size, site and diagnosis vary so every filter has
/// several values to tell apart.
fn claim(i: usize) -> pb::Claim {
    let (code, diameter) = match i % 4 {
        0 => ("11404", 3.5),
        1 => ("11404", 4.5),
        2 => ("11403", 2.5),
        _ => ("11406", 4.4),
    };
    let diagnosis = if i.is_multiple_of(3) {
        "D23.5"
    } else {
        "L72.0"
    };
    pb::Claim {
        claim_id: format!("CLM-A-{}", i % 700),
        payer_id: PAYERS[i % 3].into(),
        date_of_service: Some(Date {
            year: 2026,
            month: 1,
            day: 1 + (i % 28) as i32,
        }),
        place_of_service: "11".into(),
        rendering_provider: Some(pb::Provider {
            npi: "1234567893".into(),
            taxonomy_code: "207N00000X".into(),
        }),
        patient: Some(pb::Patient {
            member_id: format!("MBR-A-{i}"),
            ..Default::default()
        }),
        diagnosis_codes: vec![diagnosis.into()],
        lines: vec![pb::ServiceLine {
            procedure_code: code.into(),
            units: 1,
            diagnosis_pointers: vec![1],
            excised_diameter_cm: Some(diameter),
            anatomic_site: if i.is_multiple_of(5) { "face" } else { "trunk" }.into(),
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn made(
    claim: &pb::Claim,
    result: &pb::ValidationResult,
    submitter: &str,
    batch_id: Option<String>,
) -> Made {
    Made {
        id: result.audit_record_id.clone(),
        claim_id: claim.claim_id.clone(),
        payer_id: claim.payer_id.clone(),
        submitter: submitter.into(),
        batch_id,
        disposition: result.disposition(),
        rule_ids: result.findings.iter().map(|f| f.rule_id.clone()).collect(),
        procedure_codes: claim
            .lines
            .iter()
            .map(|l| l.procedure_code.clone())
            .collect(),
        diagnosis_codes: claim
            .diagnosis_codes
            .iter()
            .map(|d| d.replace('.', ""))
            .collect(),
    }
}

/// 1,500 unary decisions (two submitters) and a batch of 600.
async fn make_records(app: &crate::helpers::TestApp, pool: &PgPool) -> (Vec<Made>, String) {
    let (_, key) = claimscrub::app::api_keys::create(
        pool,
        "clearinghouse-b",
        claimscrub::domain::access::Scopes::all(),
        None,
    )
    .await
    .expect("key");
    // Running servers re-read keys every few seconds.
    wait_for("the server to know the new key", KEY_DEADLINE, async || {
        let mut request = tonic::Request::new(pb::ListRulesRequest::default());
        request
            .metadata_mut()
            .insert("x-api-key", key.parse().expect("header"));
        app.list_rules(request).await.ok()
    })
    .await;
    let mut records: Vec<Made> = futures::stream::iter(0..1_500)
        .map(|i| {
            let key = key.clone();
            async move {
                let claim = claim(i);
                let mut request = tonic::Request::new(pb::ValidateClaimRequest {
                    request_id: format!("audit-{i}"),
                    claim: Some(claim.clone()),
                });
                let submitter = if i.is_multiple_of(2) {
                    request
                        .metadata_mut()
                        .insert("x-api-key", key.parse().expect("ascii"));
                    "clearinghouse-b"
                } else {
                    "anonymous"
                };
                let result = app
                    .validate_claim(request)
                    .await
                    .expect("validated")
                    .result
                    .expect("result");
                made(&claim, &result, submitter, None)
            }
        })
        .buffer_unordered(32)
        .collect()
        .await;

    let batch_id = Uuid::new_v4().to_string();
    let requests = std::iter::once(pb::ValidateClaimBatchRequest {
        kind: Some(In::Header(pb::BatchHeader {
            batch_id: batch_id.clone(),
            resume: false,
            expected_item_count: Some(600),
        })),
    })
    .chain((0..600u64).map(|s| pb::ValidateClaimBatchRequest {
        kind: Some(In::Item(pb::ClaimItem {
            sequence: s,
            correlation_id: format!("B-{s}"),
            claim: Some(claim(2_000 + s as usize)),
        })),
    }))
    .chain(std::iter::once(pb::ValidateClaimBatchRequest {
        kind: Some(In::End(pb::BatchEnd {})),
    }));
    let mut responses = app
        .validate_claim_batch(tokio_stream::iter(requests))
        .await
        .expect("batch opens");
    while let Some(response) = responses.message().await.expect("batch streams") {
        if let Some(Out::Result(r)) = response.kind {
            let claim = claim(2_000 + r.sequence as usize);
            records.push(made(
                &claim,
                r.result.as_ref().expect("result"),
                "anonymous",
                Some(batch_id.clone()),
            ));
        }
    }
    assert_eq!(records.len(), 2_100);
    (records, batch_id)
}

/// Every page of a filter; checks newest-first order across pages.
async fn list_all(client: &Api, filter: &pb::AuditFilter, page_size: i32) -> Vec<pb::AuditRecord> {
    let mut all: Vec<pb::AuditRecord> = Vec::new();
    let mut token = String::new();
    loop {
        let page = client
            .list_audit_records(pb::ListAuditRecordsRequest {
                filter: Some(filter.clone()),
                page_size,
                page_token: token,
            })
            .await
            .expect("page");
        assert!(page.audit_records.len() <= page_size as usize);
        all.extend(page.audit_records);
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    let key = |r: &pb::AuditRecord| {
        let t = r.create_time.as_ref().expect("time");
        (t.seconds, t.nanos, r.id.clone())
    };
    assert!(
        all.windows(2).all(|w| key(&w[0]) > key(&w[1])),
        "newest first, no repeats"
    );
    all
}

fn ids(records: &[pb::AuditRecord]) -> BTreeSet<String> {
    records.iter().map(|r| r.id.clone()).collect()
}

fn expected(made: &[Made], keep: impl Fn(&Made) -> bool) -> BTreeSet<String> {
    made.iter()
        .filter(|m| keep(m))
        .map(|m| m.id.clone())
        .collect()
}

#[sqlx::test]
async fn every_filter_pages_exports_and_counts_exactly_the_stored_records(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    let (made, batch_id) = make_records(&app, &pool).await;

    // The whole store, for the time-range cases.
    let everything = list_all(&app, &pb::AuditFilter::default(), 500).await;
    assert_eq!(ids(&everything), expected(&made, |_| true));
    let middle = everything[everything.len() / 2].create_time;
    let newer = expected(&made, |m| {
        everything
            .iter()
            .find(|r| r.id == m.id)
            .and_then(|r| r.create_time)
            .is_some_and(|t| {
                (t.seconds, t.nanos) >= middle.map(|m| (m.seconds, m.nanos)).expect("t")
            })
    });

    let some_rule = made
        .iter()
        .flat_map(|m| m.rule_ids.iter())
        .next()
        .expect("some finding")
        .clone();
    let cases: Vec<(&str, pb::AuditFilter, BTreeSet<String>)> = vec![
        (
            "start time",
            pb::AuditFilter {
                start_time: middle,
                ..Default::default()
            },
            newer.clone(),
        ),
        (
            "end time",
            pb::AuditFilter {
                end_time: middle,
                ..Default::default()
            },
            expected(&made, |m| !newer.contains(&m.id)),
        ),
        (
            "claim id",
            pb::AuditFilter {
                claim_id: "CLM-A-7".into(),
                ..Default::default()
            },
            expected(&made, |m| m.claim_id == "CLM-A-7"),
        ),
        (
            "batch id",
            pb::AuditFilter {
                batch_id: batch_id.clone(),
                ..Default::default()
            },
            expected(&made, |m| m.batch_id.as_deref() == Some(batch_id.as_str())),
        ),
        (
            "submitter",
            pb::AuditFilter {
                submitter: "clearinghouse-b".into(),
                ..Default::default()
            },
            expected(&made, |m| m.submitter == "clearinghouse-b"),
        ),
        (
            "payer",
            pb::AuditFilter {
                payer_id: "AETNA".into(),
                ..Default::default()
            },
            expected(&made, |m| m.payer_id == "AETNA"),
        ),
        (
            "disposition",
            pb::AuditFilter {
                disposition: pb::Disposition::Reject.into(),
                ..Default::default()
            },
            expected(&made, |m| m.disposition == pb::Disposition::Reject),
        ),
        (
            "rule id",
            pb::AuditFilter {
                rule_id: some_rule.clone(),
                ..Default::default()
            },
            expected(&made, |m| m.rule_ids.contains(&some_rule)),
        ),
        (
            "procedure code",
            pb::AuditFilter {
                procedure_code: "11403".into(),
                ..Default::default()
            },
            expected(&made, |m| m.procedure_codes.contains("11403")),
        ),
        (
            "diagnosis code, with its dot",
            pb::AuditFilter {
                diagnosis_code: "d23.5".into(),
                ..Default::default()
            },
            expected(&made, |m| m.diagnosis_codes.contains("D235")),
        ),
        (
            "payer and disposition and procedure",
            pb::AuditFilter {
                payer_id: "BCBS".into(),
                disposition: pb::Disposition::Accept.into(),
                procedure_code: "11404".into(),
                ..Default::default()
            },
            expected(&made, |m| {
                m.payer_id == "BCBS"
                    && m.disposition == pb::Disposition::Accept
                    && m.procedure_codes.contains("11404")
            }),
        ),
    ];
    for (name, filter, wanted) in &cases {
        assert!(!wanted.is_empty(), "{name}: the data has matches");
        assert!(
            wanted.len() < made.len(),
            "{name}: the filter excludes something"
        );
        let listed = list_all(&app, filter, 97).await;
        assert_eq!(&ids(&listed), wanted, "{name}: list");
        for run in 0..2 {
            let mut exported = Vec::new();
            let mut stream = app
                .export_audit_records(pb::ExportAuditRecordsRequest {
                    filter: Some(filter.clone()),
                })
                .await
                .expect("export");
            while let Some(page) = stream.message().await.expect("export page") {
                exported.extend(page.audit_records);
            }
            assert_eq!(
                exported.iter().map(|r| &r.id).collect::<Vec<_>>(),
                listed.iter().map(|r| &r.id).collect::<Vec<_>>(),
                "{name}: export {run} gives the listed records in the same order"
            );
        }
    }

    // Statistics over a time range, counted against what the test made.
    let window = pb::AuditFilter {
        start_time: middle,
        ..Default::default()
    };
    let in_window: Vec<&Made> = made.iter().filter(|m| newer.contains(&m.id)).collect();
    for (group, key) in [
        (pb::AuditStatsGroupBy::Disposition, 0),
        (pb::AuditStatsGroupBy::Payer, 1),
        (pb::AuditStatsGroupBy::Rule, 2),
    ] {
        let stats = app
            .get_audit_stats(pb::GetAuditStatsRequest {
                filter: Some(window.clone()),
                group_by: group.into(),
            })
            .await
            .expect("stats");
        assert_eq!(stats.total_records, in_window.len() as u64);
        let mut wanted: BTreeMap<String, u64> = BTreeMap::new();
        for m in &in_window {
            let keys: Vec<String> = match key {
                0 => vec![
                    m.disposition
                        .as_str_name()
                        .trim_start_matches("DISPOSITION_")
                        .to_owned(),
                ],
                1 => vec![m.payer_id.clone()],
                _ => m.rule_ids.iter().cloned().collect(),
            };
            for k in keys {
                *wanted.entry(k).or_default() += 1;
            }
        }
        let got: BTreeMap<String, u64> = stats
            .buckets
            .iter()
            .map(|b| (b.key.clone(), b.count))
            .collect();
        assert_eq!(got, wanted, "{group:?}");
        assert!(
            stats.buckets.windows(2).all(|w| w[0].count >= w[1].count),
            "largest first"
        );
    }
    let days = app
        .get_audit_stats(pb::GetAuditStatsRequest {
            filter: None,
            group_by: pb::AuditStatsGroupBy::Day.into(),
        })
        .await
        .expect("stats");
    assert_eq!(
        days.buckets.iter().map(|b| b.count).sum::<u64>(),
        made.len() as u64
    );
    let keys: Vec<chrono::NaiveDate> = days
        .buckets
        .iter()
        .map(|b| b.key.parse().expect("YYYY-MM-DD"))
        .collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "days in date order");
}

#[sqlx::test]
async fn tokens_are_bound_to_their_filter_and_pages_have_documented_sizes(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    for i in 0..120 {
        app.validate_claim(pb::ValidateClaimRequest {
            request_id: String::new(),
            claim: Some(claim(i)),
        })
        .await
        .expect("validated");
    }
    let first = app
        .list_audit_records(pb::ListAuditRecordsRequest::default())
        .await
        .expect("page");
    assert_eq!(first.audit_records.len(), 50, "default page size");
    let reused = app
        .list_audit_records(pb::ListAuditRecordsRequest {
            filter: Some(pb::AuditFilter {
                payer_id: "AETNA".into(),
                ..Default::default()
            }),
            page_token: first.next_page_token,
            ..Default::default()
        })
        .await
        .expect_err("a token of another filter");
    assert_eq!(reused.code(), Code::InvalidArgument);
    assert_eq!(
        reused.get_details_error_info().expect("info").reason,
        "INVALID_PAGE_TOKEN"
    );
    let bad = app
        .list_audit_records(pb::ListAuditRecordsRequest {
            filter: Some(pb::AuditFilter {
                batch_id: "not-a-uuid".into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .expect_err("malformed filter");
    assert_invalid_field(&bad, "filter.batch_id");
}

#[sqlx::test]
async fn a_record_reads_back_whole_and_replays_under_todays_rules(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    // BCBS, 11404 at 4.5 cm: SIZE_BAND_MISMATCH.
    let sent = claim(9);
    let result = app
        .validate_claim(pb::ValidateClaimRequest {
            request_id: "replay-1".into(),
            claim: Some(sent.clone()),
        })
        .await
        .expect("validated")
        .result
        .expect("result");
    assert_eq!(result.disposition(), pb::Disposition::Reject);
    let name = format!("auditRecords/{}", result.audit_record_id);
    let record = app
        .get_audit_record(pb::GetAuditRecordRequest { name: name.clone() })
        .await
        .expect("record")
        .audit_record
        .expect("record");
    assert_eq!(record.request_id, "replay-1");
    assert_eq!(record.submitter, "anonymous");
    assert_eq!(record.result.as_ref(), Some(&result));
    let mut without_member = sent.clone();
    without_member.patient = Some(pb::Patient::default());
    without_member.billing_provider = Some(pb::Provider::default());
    assert_eq!(
        record.claim,
        Some(without_member),
        "the claim without the member id"
    );
    assert!(record.processing_time.is_some());

    let unchanged = app
        .replay_audit_record(pb::ReplayAuditRecordRequest { name: name.clone() })
        .await
        .expect("replay");
    assert!(
        unchanged.differences.is_empty(),
        "{:?}",
        unchanged.differences
    );
    assert_eq!(
        unchanged.replayed.expect("replayed").disposition(),
        pb::Disposition::Reject
    );

    // BCBS stops checking size bands from 2025 on: the replay no longer finds it.
    sqlx::query(
        "insert into payer_rule_setting (payer_id, rule_id, effective_from, enabled, parameters) \
         values ('BCBS', 'SIZE_BAND_MISMATCH', '2025-01-01', false, '{}')",
    )
    .execute(&pool)
    .await
    .expect("setting stored");
    wait_for(
        "the server to reload the payer setting",
        KEY_DEADLINE,
        async || {
            let listed = app
                .list_rules(pb::ListRulesRequest {
                    payer_id: "BCBS".into(),
                    effective_date: Some(Date {
                        year: 2026,
                        month: 1,
                        day: 2,
                    }),
                })
                .await
                .expect("rules");
            listed
                .rules
                .iter()
                .any(|r| r.rule_id == "SIZE_BAND_MISMATCH" && !r.enabled)
                .then_some(())
        },
    )
    .await;
    let changed = app
        .replay_audit_record(pb::ReplayAuditRecordRequest { name })
        .await
        .expect("replay");
    assert_eq!(
        changed.replayed.expect("replayed").disposition(),
        pb::Disposition::Accept
    );
    assert_eq!(changed.differences.len(), 1, "{:?}", changed.differences);
    assert_eq!(changed.differences[0].change(), pb::FindingChange::Removed);
    assert_eq!(
        changed.differences[0]
            .stored
            .as_ref()
            .expect("stored")
            .rule_id,
        "SIZE_BAND_MISMATCH"
    );

    let missing = app
        .get_audit_record(pb::GetAuditRecordRequest {
            name: format!("auditRecords/{}", Uuid::new_v4()),
        })
        .await
        .expect_err("unknown");
    assert_eq!(missing.code(), Code::NotFound);
}

/// SQLSTATE of a statement that must fail.
async fn refused(connection: &mut sqlx::PgConnection, statement: &str) -> String {
    let error = sqlx::query(sqlx::AssertSqlSafe(statement.to_owned()))
        .execute(&mut *connection)
        .await
        .expect_err(statement);
    error
        .as_database_error()
        .and_then(|e| e.code())
        .map(|c| c.into_owned())
        .unwrap_or_default()
}

#[sqlx::test]
async fn the_store_refuses_every_change_to_a_decision(pool: PgPool) {
    let app = spawn_app(pool.clone()).await;
    app.validate_claim(pb::ValidateClaimRequest {
        request_id: "append-only-1".into(),
        claim: Some(claim(0)),
    })
    .await
    .expect("validated");
    let batch = [
        pb::ValidateClaimBatchRequest {
            kind: Some(In::Header(pb::BatchHeader {
                batch_id: Uuid::new_v4().to_string(),
                ..Default::default()
            })),
        },
        pb::ValidateClaimBatchRequest {
            kind: Some(In::Item(pb::ClaimItem {
                sequence: 0,
                correlation_id: "B-0".into(),
                claim: Some(claim(1)),
            })),
        },
    ];
    let mut responses = app
        .validate_claim_batch(tokio_stream::iter(batch))
        .await
        .expect("batch");
    while responses.message().await.expect("streams").is_some() {}
    let month: String = sqlx::query_scalar(
        "select tableoid::regclass::text from audit_record where request_id = 'append-only-1'",
    )
    .fetch_one(&pool)
    .await
    .expect("record");
    let this_month = format!("audit_record_{}", chrono::Utc::now().format("%Y_%m"));
    assert_eq!(month, this_month, "records land in the month's partition");
    let partitions: i64 = sqlx::query_scalar(
        "select count(*) from pg_inherits where inhparent = 'audit_record'::regclass \
           and inhrelid::regclass::text like 'audit_record_2%'",
    )
    .fetch_one(&pool)
    .await
    .expect("partitions");
    assert_eq!(partitions, 3, "this month and the two ahead");
    // Each record's rule, procedure and diagnosis codes are in the search
    // table, each once, written with the record.
    let unmatched: i64 = sqlx::query_scalar(
        "select count(*) from audit_record r \
          where array(select (t.kind, t.term)::text from audit_term t \
                       where t.record_id = r.id and t.create_time = r.create_time order by 1) \
             <> array(select distinct (k, v)::text from ( \
                        select 1::int2, unnest(r.rule_ids) union all \
                        select 2::int2, unnest(r.procedure_codes) union all \
                        select 3::int2, unnest(r.diagnosis_codes)) as x(k, v) order by 1)",
    )
    .fetch_one(&pool)
    .await
    .expect("terms");
    assert_eq!(unmatched, 0, "every record's terms are stored with it");

    let mut owner = pool.acquire().await.expect("connection");
    // The table owner (even a superuser) is refused by the triggers.
    for statement in [
        "update audit_record set submitter = 'x'".to_owned(),
        "delete from audit_record".to_owned(),
        "truncate audit_record".to_owned(),
        "truncate audit_record_default".to_owned(),
        format!("truncate {this_month}"),
        "update audit_request set claim_sha256 = '\\x00'".to_owned(),
        "delete from audit_request".to_owned(),
        "truncate audit_request".to_owned(),
        "truncate batch_item".to_owned(),
        "delete from batch_item".to_owned(),
        // Items keep their batch: the write path checks it instead of a
        // foreign key, and no one removes it or changes its id.
        "delete from validation_batch".to_owned(),
        "truncate validation_batch".to_owned(),
        "update validation_batch set batch_id = gen_random_uuid()".to_owned(),
        "update audit_term set term = 'x'".to_owned(),
        "delete from audit_term".to_owned(),
        "truncate audit_term".to_owned(),
        "truncate audit_term_default".to_owned(),
        format!(
            "truncate {}",
            this_month.replace("audit_record", "audit_term")
        ),
    ] {
        assert_eq!(
            refused(&mut owner, &statement).await,
            "42501",
            "{statement}"
        );
    }
    // The application role has no such privilege in the first place.
    sqlx::query("set role claimscrub_app")
        .execute(&mut *owner)
        .await
        .expect("set role");
    for statement in [
        "update audit_record set submitter = 'x'",
        "delete from audit_record",
        "truncate audit_record",
        "update batch_item set correlation_id = 'x'",
        "delete from audit_request",
        "delete from validation_batch",
        "update audit_term set term = 'x'",
        "delete from audit_term",
        "truncate audit_term",
    ] {
        let error = sqlx::query(statement)
            .execute(&mut *owner)
            .await
            .expect_err(statement);
        assert!(
            error.to_string().contains("permission denied"),
            "{statement}: {error}"
        );
    }
    sqlx::query("reset role")
        .execute(&mut *owner)
        .await
        .expect("reset");
    let count: i64 = sqlx::query_scalar("select count(*) from audit_record")
        .fetch_one(&mut *owner)
        .await
        .expect("count");
    assert_eq!(count, 2, "the decisions are untouched");
    drop(owner);
    app.shutdown().await.expect("clean shutdown");
}

#[sqlx::test]
async fn every_filter_is_answered_by_an_index(pool: PgPool) {
    // The server makes this month's partition and the next two.
    let app = spawn_app(pool.clone()).await;
    let filters = [
        AuditFilter::default(),
        AuditFilter {
            start_time: Some(chrono::Utc::now()),
            ..Default::default()
        },
        AuditFilter {
            claim_id: Some("CLM-1".into()),
            ..Default::default()
        },
        AuditFilter {
            batch_id: Some(Uuid::new_v4()),
            ..Default::default()
        },
        AuditFilter {
            submitter: Some("anonymous".into()),
            ..Default::default()
        },
        AuditFilter {
            payer_id: Some("AETNA".into()),
            ..Default::default()
        },
        AuditFilter {
            disposition: Some(3),
            ..Default::default()
        },
        AuditFilter {
            rule_id: Some("SIZE_BAND_MISMATCH".into()),
            ..Default::default()
        },
        AuditFilter {
            procedure_code: Some("11404".into()),
            ..Default::default()
        },
        AuditFilter {
            diagnosis_code: Some("D235".into()),
            ..Default::default()
        },
    ];
    let mut connection = pool.acquire().await.expect("connection");
    // With sequential scans priced out, a plan still scans sequentially
    // only if no index can answer the filter.
    sqlx::query("set enable_seqscan = off")
        .execute(&mut *connection)
        .await
        .expect("set");
    for filter in &filters {
        let plan = claimscrub::storage::audit::explain_list(&mut connection, filter, 100)
            .await
            .expect("explain");
        assert!(!plan.contains("Seq Scan"), "{filter:?}:\n{plan}");
        assert!(plan.contains("Index"), "{filter:?}:\n{plan}");
    }
    drop(connection);
    app.shutdown().await.expect("clean shutdown");
}

/// Records stored before the search table existed (migration 16) are found
/// by the rule, procedure and diagnosis filters after it: the migration
/// writes their terms, once per record and term, into the right partitions.
#[sqlx::test(migrations = false)]
async fn records_stored_before_the_search_table_are_found_by_its_filters(pool: PgPool) {
    let migrator = &claimscrub::storage::MIGRATOR;
    migrator.run_to(15, &pool).await.expect("migrations 1-15");
    sqlx::query("select claimscrub_create_audit_partition(current_date)")
        .execute(&pool)
        .await
        .expect("this month's partition");
    let claim = serde_json::to_string(&claimscrub::domain::claim::Claim::default()).expect("json");
    let recent = Uuid::new_v4();
    let old = Uuid::new_v4();
    for (id, age, rules, procedures) in [
        (
            recent,
            "1 hour",
            vec!["MUE_EXCEEDED"],
            vec!["11404", "11404"],
        ),
        (
            old,
            "400 days",
            vec!["MUE_EXCEEDED", "POS_INVALID"],
            vec!["11403"],
        ),
    ] {
        sqlx::query(
            "insert into audit_record (id, create_time, submitter, claim_id, payer_id, disposition, \
                                       ruleset_version, code_set_versions, claim, findings, rule_ids, \
                                       procedure_codes, diagnosis_codes, processing_micros) \
             values ($1, now() - $2::interval, 'anonymous', 'CLM-1', 'BCBS', 3, '2026.12.0', '[]', \
                     $3::json, '[]', $4, $5, '{D2362}', 10)",
        )
        .bind(id)
        .bind(age)
        .bind(&claim)
        .bind(rules)
        .bind(procedures)
        .execute(&pool)
        .await
        .expect("a record stored before migration 16");
    }
    migrator.run(&pool).await.expect("migration 16 and later");

    let terms: Vec<(Uuid, i16, String, String)> = sqlx::query_as(
        "select record_id, kind, term, tableoid::regclass::text from audit_term order by 1, 2, 3",
    )
    .fetch_all(&pool)
    .await
    .expect("terms");
    let this_month = format!("audit_term_{}", chrono::Utc::now().format("%Y_%m"));
    let mut expected = vec![
        (recent, 1, "MUE_EXCEEDED".to_owned(), this_month.clone()),
        (recent, 2, "11404".to_owned(), this_month.clone()),
        (recent, 3, "D2362".to_owned(), this_month.clone()),
        (
            old,
            1,
            "MUE_EXCEEDED".to_owned(),
            "audit_term_default".to_owned(),
        ),
        (
            old,
            1,
            "POS_INVALID".to_owned(),
            "audit_term_default".to_owned(),
        ),
        (old, 2, "11403".to_owned(), "audit_term_default".to_owned()),
        (old, 3, "D2362".to_owned(), "audit_term_default".to_owned()),
    ];
    expected.sort();
    assert_eq!(terms, expected);

    let found = |filter: AuditFilter| {
        let pool = pool.clone();
        async move {
            claimscrub::storage::audit::list_records(&pool, &filter, None, 10)
                .await
                .expect("list")
                .into_iter()
                .map(|r| r.decision.id)
                .collect::<Vec<_>>()
        }
    };
    let rule = |rule: &str| AuditFilter {
        rule_id: Some(rule.into()),
        ..Default::default()
    };
    assert_eq!(found(rule("MUE_EXCEEDED")).await, [recent, old]);
    assert_eq!(found(rule("POS_INVALID")).await, [old]);
    assert_eq!(
        found(AuditFilter {
            procedure_code: Some("11404".into()),
            ..Default::default()
        })
        .await,
        [recent]
    );
    assert_eq!(
        found(AuditFilter {
            diagnosis_code: Some("D2362".into()),
            rule_id: Some("POS_INVALID".into()),
            ..Default::default()
        })
        .await,
        [old]
    );
}
