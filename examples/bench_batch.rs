//! Streams a claim file (JSON Lines from `../shared/tools/gen_claims.py`,
//! plain or gzip) through ValidateClaimBatch as one batch and prints
//! claims/s; then, in the same run, the throughput of raw binary COPYs of
//! the same audit rows (and their search terms) into tables of the same
//! shape (columns, indexes, partitioning), and into a table with only the
//! exactly-once keys, and the ratios.
//!
//! With `--resume`, a stream that fails (server or database restarted) is
//! reopened with `resume = true` and continued from the server's
//! `next_expected_sequence`, as a production client does; the fault script
//! uses it.
//!
//! Usage: `bench_batch ADDRESS CLAIMS_FILE [--resume] [--copy]`
//! (`--copy` needs DATABASE_URL naming the server's database;
//! `CLAIMSCRUB_BENCH_MEMBERS=M` gives the claims members, as in
//! `bench_validate_client`).

use std::io::{BufRead as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use claimscrub::grpc::pb;
use claimscrub::grpc::pb::claim_validation_service_client::ClaimValidationServiceClient;
use claimscrub::grpc::pb::validate_claim_batch_request::Kind as In;
use claimscrub::grpc::pb::validate_claim_batch_response::Kind as Out;
use futures::TryStreamExt as _;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Code;
use uuid::Uuid;

#[path = "common/generated_claims.rs"]
mod generated_claims;
#[path = "common/members.rs"]
mod members;

fn reader(path: &Path) -> anyhow::Result<Box<dyn std::io::BufRead + Send>> {
    let file = std::fs::File::open(path).with_context(|| path.display().to_string())?;
    let mut buffered = std::io::BufReader::with_capacity(1 << 20, file);
    let gzip = buffered.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    Ok(if gzip {
        Box::new(std::io::BufReader::with_capacity(
            1 << 20,
            flate2::bufread::MultiGzDecoder::new(buffered),
        ))
    } else {
        Box::new(buffered)
    })
}

fn item(sequence: u64, line: &str) -> anyhow::Result<pb::ValidateClaimBatchRequest> {
    let value: serde_json::Value = serde_json::from_str(line)?;
    let mut claim = generated_claims::claim(&value);
    members::assign(&mut claim, sequence);
    Ok(pb::ValidateClaimBatchRequest {
        kind: Some(In::Item(pb::ClaimItem {
            sequence,
            correlation_id: generated_claims::text(&value["claim_id"]),
            claim: Some(claim),
        })),
    })
}

/// Reads the file from `first` on, sends items, then the end marker; stops
/// when the stream is gone.
fn produce(path: PathBuf, first: u64, requests: mpsc::Sender<pb::ValidateClaimBatchRequest>) {
    let run = || -> anyhow::Result<()> {
        for (sequence, line) in (0u64..).zip(reader(&path)?.lines()) {
            if sequence < first {
                continue;
            }
            if requests.blocking_send(item(sequence, &line?)?).is_err() {
                return Ok(());
            }
        }
        let end = pb::ValidateClaimBatchRequest {
            kind: Some(In::End(pb::BatchEnd {})),
        };
        let _ = requests.blocking_send(end);
        Ok(())
    };
    if let Err(error) = run() {
        eprintln!("reading claims failed: {error:#}");
    }
}

#[derive(Debug, Default)]
struct Tally {
    results: u64,
    item_errors: u64,
    checkpoints: u64,
    streams: u64,
    summary: Option<pb::BatchSummary>,
}

/// Streams the whole batch; with `resume`, reopens failed streams.
async fn stream_batch(
    address: &str,
    path: &Path,
    batch_id: Uuid,
    items: u64,
    resume: bool,
) -> anyhow::Result<Tally> {
    let mut tally = Tally::default();
    loop {
        let attempt = async {
            let channel = tonic::transport::Channel::from_shared(format!("http://{address}"))?
                .connect()
                .await?;
            let mut client = ClaimValidationServiceClient::new(channel);
            let (requests, outgoing) = mpsc::channel(256);
            requests
                .send(pb::ValidateClaimBatchRequest {
                    kind: Some(In::Header(pb::BatchHeader {
                        batch_id: batch_id.to_string(),
                        resume: tally.streams > 0,
                        expected_item_count: Some(items),
                    })),
                })
                .await?;
            tally.streams += 1;
            let mut responses = client
                .validate_claim_batch(with_key(ReceiverStream::new(outgoing))?)
                .await?
                .into_inner();
            let Some(Out::Accepted(accepted)) = responses.message().await?.and_then(|r| r.kind)
            else {
                bail!("the server did not accept the header");
            };
            let mut next = accepted.next_expected_sequence;
            let path = path.to_owned();
            let first = next;
            std::thread::spawn(move || produce(path, first, requests));
            while let Some(response) = responses.message().await? {
                match response.kind {
                    Some(Out::Result(r)) => {
                        anyhow::ensure!(r.sequence == next, "result {} out of order", r.sequence);
                        next += 1;
                        tally.results += 1;
                    }
                    Some(Out::ItemError(e)) => {
                        anyhow::ensure!(
                            e.sequence == next,
                            "item error {} out of order",
                            e.sequence
                        );
                        next += 1;
                        tally.item_errors += 1;
                    }
                    Some(Out::Checkpoint(_)) => tally.checkpoints += 1,
                    Some(Out::Summary(summary)) => tally.summary = Some(summary),
                    Some(Out::Accepted(_)) | None => bail!("unexpected response"),
                }
            }
            Ok(())
        };
        match attempt.await {
            Ok(()) if tally.summary.is_some() => return Ok(tally),
            Ok(()) => bail!("the stream ended without a summary"),
            Err(error) if resume => {
                let code = error
                    .downcast_ref::<tonic::Status>()
                    .map(tonic::Status::code);
                if matches!(
                    code,
                    Some(Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange)
                ) {
                    return Err(error);
                }
                eprintln!(
                    "stream {} failed ({error:#}); resuming in 1 s",
                    tally.streams
                );
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(error) => return Err(error),
        }
    }
}

/// `message` with the key of `CLAIMSCRUB_API_KEY`, when set: the server
/// runs as in production, a key on every call.
fn with_key<T>(message: T) -> anyhow::Result<tonic::Request<T>> {
    let mut request = tonic::Request::new(message);
    if let Ok(key) = std::env::var("CLAIMSCRUB_API_KEY") {
        request
            .metadata_mut()
            .insert("authorization", format!("Bearer {key}").parse()?);
    }
    Ok(request)
}

/// What a COPY ceiling loads: the tables it makes, and the rows it copies
/// into each (a query over the batch's stored rows, `{batch}` its id).
struct Ceiling {
    name: &'static str,
    create: &'static [&'static str],
    loads: &'static [(&'static str, &'static str)],
}

/// The batch's audit records.
const RECORDS: &str = "select * from audit_record where batch_id = '{batch}'";
/// The search terms of the batch's records.
const TERMS: &str = "select t.* from audit_term t join audit_record r \
     on r.create_time = t.create_time and r.id = t.record_id where r.batch_id = '{batch}'";

/// Two ceilings: what claimscrub writes (audit_record's shape with every
/// index, and the search terms in audit_term's shape, partitioned), and a
/// table with only the keys exactly-once needs (the record id, and one
/// record per batch sequence). Both compress the JSON columns with lz4, as
/// claimscrub's partitions do, so they differ from the real tables, and
/// from each other, only in what they index.
const CEILINGS: [Ceiling; 2] = [
    Ceiling {
        name: "the indexed tables (audit_record's and audit_term's shape)",
        create: &[
            "create table bench_copy_target (like audit_record including all) partition by range (create_time)",
            "create table bench_copy_target_default partition of bench_copy_target default",
            LZ4,
            "create table bench_copy_terms (like audit_term including all) partition by range (create_time)",
            "create table bench_copy_terms_default partition of bench_copy_terms default",
        ],
        loads: &[(RECORDS, "bench_copy_target"), (TERMS, "bench_copy_terms")],
    },
    Ceiling {
        name: "a table with only the exactly-once keys",
        create: &[
            "create table bench_copy_target (like audit_record including defaults)",
            "alter table bench_copy_target add primary key (id)",
            "create unique index on bench_copy_target (batch_id, sequence) where batch_id is not null",
            LZ4,
        ],
        loads: &[(RECORDS, "bench_copy_target")],
    },
];

/// The compression of claimscrub's audit partitions (migrations 0005, 0007).
const LZ4: &str = "alter table bench_copy_target alter column claim set compression lz4, \
     alter column findings set compression lz4, alter column code_set_versions set compression lz4, \
     alter column not_checked set compression lz4";

/// Rows/s of binary COPYs of the batch's rows into the tables `ceiling`
/// makes (dumped to files first, so only the COPYs in are timed); the rows
/// counted are the audit records.
async fn copy_ceiling(batch_id: Uuid, ceiling: &Ceiling) -> anyhow::Result<(u64, Duration)> {
    let url = std::env::var("DATABASE_URL").context("--copy needs DATABASE_URL")?;
    let pool = sqlx::PgPool::connect(&url).await?;
    let mut dumps = Vec::new();
    for (i, (select, target)) in ceiling.loads.iter().enumerate() {
        let dump = std::env::temp_dir().join(format!("claimscrub-copy-{batch_id}-{i}.bin"));
        let mut file = std::io::BufWriter::new(std::fs::File::create(&dump)?);
        let mut connection = pool.acquire().await?;
        let select = select.replace("{batch}", &batch_id.to_string());
        let mut out = connection
            .copy_out_raw(&format!("copy ({select}) to stdout (format binary)"))
            .await?;
        while let Some(chunk) = out.try_next().await? {
            file.write_all(&chunk)?;
        }
        file.flush()?;
        dumps.push((dump, *target));
    }
    sqlx::query("drop table if exists bench_copy_target, bench_copy_terms")
        .execute(&pool)
        .await?;
    for statement in ceiling.create {
        sqlx::query(sqlx::AssertSqlSafe(*statement))
            .execute(&pool)
            .await?;
    }
    let mut connection = pool.acquire().await?;
    let mut records = None;
    let started = Instant::now();
    for (dump, target) in &dumps {
        let mut copy = connection
            .copy_in_raw(&format!("copy {target} from stdin (format binary)"))
            .await?;
        copy.read_from(tokio::fs::File::open(dump).await?).await?;
        let rows = copy.finish().await?;
        records.get_or_insert(rows);
    }
    let elapsed = started.elapsed();
    drop(connection);
    sqlx::query("drop table if exists bench_copy_target, bench_copy_terms")
        .execute(&pool)
        .await?;
    for (dump, _) in dumps {
        std::fs::remove_file(dump)?;
    }
    Ok((records.unwrap_or_default(), elapsed))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flags: Vec<&str> = args
        .iter()
        .filter(|a| a.starts_with("--"))
        .map(String::as_str)
        .collect();
    let positional: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let (Some(address), Some(path)) = (positional.first(), positional.get(1)) else {
        bail!("usage: bench_batch ADDRESS CLAIMS_FILE [--resume] [--copy]");
    };
    let path = PathBuf::from(path);
    let items = reader(&path)?.lines().count() as u64;
    let batch_id = Uuid::new_v4();
    let started = Instant::now();
    let tally = stream_batch(address, &path, batch_id, items, flags.contains(&"--resume")).await?;
    let elapsed = started.elapsed();
    let rate = items as f64 / elapsed.as_secs_f64();
    let counts = tally
        .summary
        .as_ref()
        .and_then(|s| s.counts)
        .unwrap_or_default();
    println!(
        "batch {batch_id}: {items} claims in {:.2} s over {} stream(s): {rate:.0} claims/s",
        elapsed.as_secs_f64(),
        tally.streams
    );
    println!(
        "  summary: received {} accepted {} with warnings {} rejected {} item errors {}; {} checkpoints",
        counts.items_received,
        counts.accepted,
        counts.accepted_with_warnings,
        counts.rejected,
        counts.item_errors,
        tally.checkpoints
    );
    anyhow::ensure!(
        counts.items_received == items,
        "the batch stored {} of {items} items",
        counts.items_received
    );
    if flags.contains(&"--copy") {
        for ceiling in &CEILINGS {
            let name = ceiling.name;
            let (rows, copy_elapsed) = copy_ceiling(batch_id, ceiling).await?;
            let copy_rate = rows as f64 / copy_elapsed.as_secs_f64();
            println!(
                "  COPY of the same {rows} audit rows into {name}: {:.2} s, {copy_rate:.0} rows/s; ratio {:.2}",
                copy_elapsed.as_secs_f64(),
                rate / copy_rate
            );
        }
    }
    Ok(())
}
