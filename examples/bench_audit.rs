//! The audit store at scale. Fills a scratch database with RECORDS
//! realistic audit records (default 10,000,000), then measures through the
//! real gRPC server: ListAuditRecords pages of 100 per filter (p50/p99),
//! the export rate, GetAuditStats over 30 days per grouping, and prints the
//! plan PostgreSQL picks for every filter.
//!
//! Realistic: the 10,000 sample claims of `../shared/data/claims` are first
//! validated through ValidateClaim over the official code sets; those
//! decisions are the templates, replicated by one INSERT ... SELECT per
//! 500,000 records over the last 180 days (monthly partitions made first),
//! with five submitters, batches of 10,000 and a claim id per record. A
//! second run on a filled database only measures.
//!
//! Usage: `cargo run --release --example bench_audit [RECORDS] [DATA_DIR]`
//! with DATABASE_URL naming a scratch database (default
//! claimscrub_bench_audit; about 2 GB per million records).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{Datelike as _, Months, Utc};
use claimscrub::config::{DatabaseArgs, ServeArgs};
use claimscrub::grpc::pb;
use claimscrub::grpc::pb::audit_service_client::AuditServiceClient;
use claimscrub::grpc::pb::claim_validation_service_client::ClaimValidationServiceClient;
use claimscrub::startup::Application;
use claimscrub::storage;
use futures::StreamExt as _;
use tonic::transport::Channel;

/// As in the `claimscrub` binary: the server runs in this process.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "common/code_sets.rs"]
mod code_sets;
#[path = "common/generated_claims.rs"]
mod generated_claims;
#[path = "common/json_lines.rs"]
mod json_lines;

/// Days the generated records span.
const DAYS: i64 = 180;
/// Records per INSERT statement.
const CHUNK: i64 = 500_000;
/// Page calls per filter.
const CALLS: usize = 100;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000.0
}

fn timestamp(time: chrono::DateTime<Utc>) -> Option<prost_types::Timestamp> {
    Some(claimscrub::grpc::convert::timestamp_to_pb(time))
}

async fn validate_templates(channel: Channel, data: &std::path::Path) -> anyhow::Result<usize> {
    let claims = json_lines::lines(&data.join("claims/claims_10000.jsonl.gz"));
    let stored = futures::stream::iter(claims.iter().map(|c| {
        let mut client = ClaimValidationServiceClient::new(channel.clone());
        let request = pb::ValidateClaimRequest {
            request_id: String::new(),
            claim: Some(generated_claims::claim(c)),
        };
        async move { client.validate_claim(request).await.is_ok() }
    }))
    .buffered(64)
    .filter(|ok| std::future::ready(*ok))
    .count()
    .await;
    Ok(stored)
}

async fn generate(pool: &sqlx::PgPool, records: i64) -> anyhow::Result<()> {
    let now = Utc::now();
    let first = (now - chrono::Duration::days(DAYS + 31)).date_naive();
    let mut month = first.with_day(1).expect("day 1");
    while month <= now.date_naive() {
        sqlx::query("select claimscrub_create_audit_partition($1)")
            .bind(month)
            .execute(pool)
            .await?;
        month = month.checked_add_months(Months::new(1)).expect("month");
    }
    let mut connection = pool.acquire().await?;
    sqlx::query(
        "create temp table template as \
         select (row_number() over (order by id) - 1) as n, * from audit_record",
    )
    .execute(&mut *connection)
    .await?;
    let templates: i64 = sqlx::query_scalar("select count(*) from template")
        .fetch_one(&mut *connection)
        .await?;
    let started = Instant::now();
    let mut low = 1;
    while low <= records {
        let high = (low + CHUNK - 1).min(records);
        // The records and their search terms, as the audit writer stores
        // them: in one transaction.
        sqlx::query(
            "with inserted as ( \
             insert into audit_record (id, create_time, request_id, batch_id, sequence, submitter, claim_id, \
                 payer_id, date_of_service, member_hash, rendering_npi, disposition, ruleset_version, \
                 code_set_versions, claim, findings, rule_ids, procedure_codes, diagnosis_codes, processing_micros) \
             select gen_random_uuid(), \
                    $3 - make_interval(secs => (g::float8 / $4) * $5 * 86400), \
                    null, md5('bench-batch-' || (g / 10000))::uuid, g % 10000, \
                    (array['clearinghouse-a', 'clearinghouse-b', 'clearinghouse-c', 'clearinghouse-d', 'anonymous'])[1 + g % 5], \
                    t.claim_id || '-' || g, t.payer_id, t.date_of_service, t.member_hash, t.rendering_npi, \
                    t.disposition, t.ruleset_version, t.code_set_versions, t.claim, t.findings, t.rule_ids, \
                    t.procedure_codes, t.diagnosis_codes, t.processing_micros \
               from generate_series($1::int8, $2::int8) as g \
               join template t on t.n = g % $6 \
             returning id, create_time, rule_ids, procedure_codes, diagnosis_codes) \
             insert into audit_term (kind, term, create_time, record_id) \
             select t.kind, t.term, i.create_time, i.id \
               from inserted i \
              cross join lateral claimscrub_audit_terms(i.rule_ids, i.procedure_codes, i.diagnosis_codes) as t",
        )
        .bind(low)
        .bind(high)
        .bind(now)
        .bind(records as f64)
        .bind(DAYS as f64)
        .bind(templates)
        .execute(&mut *connection)
        .await?;
        println!(
            "  {high} records, {:.0} records/s",
            high as f64 / started.elapsed().as_secs_f64()
        );
        low = high + 1;
    }
    println!("vacuum analyze (visibility map for index-only scans, planner statistics) ...");
    sqlx::query("vacuum analyze audit_record, audit_term")
        .execute(pool)
        .await?;
    Ok(())
}

/// Values to filter by, drawn from the data: the commonest rule ids,
/// procedure and diagnosis codes, and a sample of claim and batch ids.
async fn values(pool: &sqlx::PgPool, column: &str, limit: i64) -> anyhow::Result<Vec<String>> {
    let sql = match column {
        "claim_id" | "batch_id" => format!(
            "select {column}::text from audit_record tablesample system (0.05) where {column} is not null limit $1"
        ),
        _ => format!(
            "select v from (select unnest({column}) as v from audit_record tablesample system (0.05)) s \
              group by v order by count(*) desc limit $1"
        ),
    };
    Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(limit)
        .fetch_all(pool)
        .await?)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let records: i64 = std::env::args()
        .nth(1)
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(10_000_000);
    let data = PathBuf::from(
        std::env::args()
            .nth(2)
            .unwrap_or_else(|| "../shared/data".into()),
    );
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| {
        "postgres://postgres:postgres@127.0.0.1:5432/claimscrub_bench_audit".into()
    });
    let pool = storage::connect(&DatabaseArgs::for_url(url.clone())).await?;
    storage::migrate(&pool).await?;
    let existing: i64 = sqlx::query_scalar("select count(*) from audit_record")
        .fetch_one(&pool)
        .await?;

    let mut settings = ServeArgs::new(DatabaseArgs::for_url(url), "127.0.0.1:0".parse()?);
    settings.dev = true;
    if existing < records {
        code_sets::import_all(&pool, &data).await?;
    }
    let server = Application::build_with_pool(settings, pool.clone()).await?;
    let address = server.local_addr();
    tokio::spawn(server.run_until_stopped(std::future::pending()));
    let channel = Channel::from_shared(format!("http://{address}"))?
        .connect()
        .await?;

    if existing < records {
        println!("validating the 10,000 sample claims as templates ...");
        let templates = validate_templates(channel.clone(), &data).await?;
        println!("  {templates} decisions stored; generating {records} records ...");
        generate(&pool, records).await?;
    }
    let total: i64 = sqlx::query_scalar("select count(*) from audit_record")
        .fetch_one(&pool)
        .await?;
    println!("audit records: {total}");

    let now = Utc::now();
    let rules = values(&pool, "rule_ids", 8).await?;
    let procedures = values(&pool, "procedure_codes", 10).await?;
    let diagnoses = values(&pool, "diagnosis_codes", 10).await?;
    let claims = values(&pool, "claim_id", CALLS as i64).await?;
    let batches = values(&pool, "batch_id", CALLS as i64).await?;
    let payers = ["MEDICARE", "UHC", "BCBS", "AETNA", "CIGNA"];
    let submitters = [
        "clearinghouse-a",
        "clearinghouse-b",
        "clearinghouse-c",
        "clearinghouse-d",
        "anonymous",
    ];
    let filter = |i: usize, kind: &str| -> pb::AuditFilter {
        let pick = |v: &[String]| v[i % v.len()].clone();
        let mut f = pb::AuditFilter::default();
        match kind {
            "none" => {}
            "time range" => {
                let start = now - chrono::Duration::days(1 + (i as i64 % 150));
                f.start_time = timestamp(start);
                f.end_time = timestamp(start + chrono::Duration::days(7));
            }
            "claim id" => f.claim_id = pick(&claims),
            "batch id" => f.batch_id = pick(&batches),
            "submitter" => f.submitter = submitters[i % submitters.len()].into(),
            "payer" => f.payer_id = payers[i % payers.len()].into(),
            "disposition" => f.disposition = 1 + (i % 3) as i32,
            "rule id" => f.rule_id = pick(&rules),
            "procedure code" => f.procedure_code = pick(&procedures),
            "diagnosis code" => f.diagnosis_code = pick(&diagnoses),
            _ => unreachable!("known filter"),
        }
        f
    };
    let kinds = [
        "none",
        "time range",
        "claim id",
        "batch id",
        "submitter",
        "payer",
        "disposition",
        "rule id",
        "procedure code",
        "diagnosis code",
    ];

    println!(
        "\nListAuditRecords, page of 100: {CALLS} first pages and their next pages per filter"
    );
    let mut audit = AuditServiceClient::new(channel.clone()).max_decoding_message_size(64 << 20);
    for kind in kinds {
        let mut latencies = Vec::with_capacity(2 * CALLS);
        for i in 0..CALLS {
            let mut token = String::new();
            for _ in 0..2 {
                let started = Instant::now();
                let page = audit
                    .list_audit_records(pb::ListAuditRecordsRequest {
                        filter: Some(filter(i, kind)),
                        page_size: 100,
                        page_token: token.clone(),
                    })
                    .await?
                    .into_inner();
                latencies.push(started.elapsed());
                token = page.next_page_token;
                if token.is_empty() {
                    break;
                }
            }
        }
        latencies.sort();
        println!(
            "  {kind:<15} {:>4} calls  p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms",
            latencies.len(),
            millis(percentile(&latencies, 0.5)),
            millis(percentile(&latencies, 0.99)),
            millis(*latencies.last().expect("calls"))
        );
    }

    println!("\nExportAuditRecords, the last 18 days:");
    let started = Instant::now();
    let mut stream = audit
        .export_audit_records(pb::ExportAuditRecordsRequest {
            filter: Some(pb::AuditFilter {
                start_time: timestamp(now - chrono::Duration::days(18)),
                ..Default::default()
            }),
        })
        .await?
        .into_inner();
    let mut exported = 0u64;
    while let Some(page) = stream.message().await? {
        exported += page.audit_records.len() as u64;
    }
    let elapsed = started.elapsed();
    println!(
        "  {exported} records in {:.2} s: {:.0} records/s",
        elapsed.as_secs_f64(),
        exported as f64 / elapsed.as_secs_f64()
    );

    println!("\nGetAuditStats over the last 30 days (3 runs each):");
    for group in [
        pb::AuditStatsGroupBy::Disposition,
        pb::AuditStatsGroupBy::Rule,
        pb::AuditStatsGroupBy::Payer,
        pb::AuditStatsGroupBy::Day,
    ] {
        let mut runs = Vec::new();
        let mut total = 0;
        for _ in 0..3 {
            let started = Instant::now();
            let stats = audit
                .get_audit_stats(pb::GetAuditStatsRequest {
                    filter: Some(pb::AuditFilter {
                        start_time: timestamp(now - chrono::Duration::days(30)),
                        ..Default::default()
                    }),
                    group_by: group.into(),
                })
                .await?
                .into_inner();
            runs.push(millis(started.elapsed()));
            total = stats.total_records;
        }
        println!(
            "  {:<12} {total} records: {}",
            group
                .as_str_name()
                .trim_start_matches("AUDIT_STATS_GROUP_BY_"),
            runs.iter()
                .map(|r| format!("{r:.0} ms"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }

    println!("\nPlans (EXPLAIN of a page of 100):");
    let mut connection = pool.acquire().await?;
    for kind in kinds {
        let store_filter = claimscrub::grpc::audit::filter_from_pb(Some(filter(0, kind)))?;
        let plan = storage::audit::explain_list(&mut connection, &store_filter, 100).await?;
        let scans: Vec<&str> = plan
            .lines()
            .filter(|l| l.contains("Scan") && !l.contains("Subquery"))
            .map(|l| {
                let node = l.trim().trim_start_matches("->").trim();
                node.split("  (cost").next().unwrap_or(node)
            })
            .take(3)
            .collect();
        println!("  {kind:<15} {}", scans.join(" | "));
    }
    Ok(())
}
