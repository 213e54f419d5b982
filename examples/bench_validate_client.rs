//! ValidateClaim latency and throughput with concurrent callers against a
//! running server: each caller sends claims back to back on a shared HTTP/2
//! connection pool; prints claims/s and p50/p99/max latency.
//!
//! Usage: `cargo run --release --example bench_validate_client [ADDRESS] [CALLERS] [CLAIMS] [MEMBERS]`
//! (defaults 127.0.0.1:50051, 64, 50000, 5000). Claim i belongs to member
//! i mod MEMBERS, so with MEMBERS >= CLAIMS every claim is accepted and every
//! one runs the history re-check when it is stored.
//!
//! With `CLAIMS_FILE=path` (JSON Lines of `../shared/tools/gen_claims.py`)
//! the claims are that file's, CLAIMS of them at most, with members as
//! `CLAIMSCRUB_BENCH_MEMBERS` gives them (as `bench_batch` does), so the
//! same claims can be sent through the batch stream and through
//! ValidateClaim (`scripts/bench-unary.sh`).

use std::io::BufRead as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use claimscrub::grpc::pb;
use claimscrub::grpc::pb::claim_validation_service_client::ClaimValidationServiceClient;
use claimscrub::grpc::pb::google::r#type::Date;
use tonic::transport::Channel;

#[path = "common/generated_claims.rs"]
mod generated_claims;
#[path = "common/members.rs"]
mod members;

/// The first `limit` claims of a generated file (plain or gzip).
fn claims_from_file(
    path: &str,
    limit: usize,
) -> Result<Vec<pb::Claim>, Box<dyn std::error::Error>> {
    let file = std::io::BufReader::new(std::fs::File::open(path)?);
    let lines: Box<dyn std::io::BufRead> = if path.ends_with(".gz") {
        Box::new(std::io::BufReader::new(
            flate2::bufread::MultiGzDecoder::new(file),
        ))
    } else {
        Box::new(file)
    };
    let mut claims = Vec::new();
    for (i, line) in (0u64..).zip(lines.lines().take(limit)) {
        let mut claim = generated_claims::claim(&serde_json::from_str(&line?)?);
        members::assign(&mut claim, i);
        claims.push(claim);
    }
    Ok(claims)
}

fn claim(i: usize, members: usize) -> pb::Claim {
    pb::Claim {
        claim_id: format!("CLM-BENCH-{i}"),
        payer_id: "AETNA".into(),
        date_of_service: Some(Date {
            year: 2026,
            month: 1,
            day: 15,
        }),
        place_of_service: "11".into(),
        rendering_provider: Some(pb::Provider {
            npi: "1234567893".into(),
            taxonomy_code: "207N00000X".into(),
        }),
        patient: Some(pb::Patient {
            member_id: format!("MBR-{}", i % members),
            ..Default::default()
        }),
        diagnosis_codes: vec!["D23.5".into(), "L72.0".into()],
        lines: vec![
            pb::ServiceLine {
                procedure_code: "11404".into(),
                units: 1,
                diagnosis_pointers: vec![1],
                excised_diameter_cm: Some(3.5),
                anatomic_site: "trunk".into(),
                ..Default::default()
            },
            pb::ServiceLine {
                procedure_code: "11402".into(),
                modifiers: vec!["XS".into()],
                units: 1,
                diagnosis_pointers: vec![2],
                excised_diameter_cm: Some(1.5),
                anatomic_site: "arm".into(),
                ..Default::default()
            },
        ],
        ..Default::default()
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let address = args.next().unwrap_or_else(|| "127.0.0.1:50051".into());
    let callers: usize = args.next().map_or(Ok(64), |a| a.parse())?;
    let claims: usize = args.next().map_or(Ok(50_000), |a| a.parse())?;
    let members: usize = args.next().map_or(Ok(5_000), |a| a.parse())?;
    // Four connections, callers spread over them, as a service pool would.
    let mut channels = Vec::new();
    for _ in 0..4 {
        channels.push(
            Channel::from_shared(format!("http://{address}"))?
                .connect()
                .await?,
        );
    }
    let from_file = match std::env::var("CLAIMS_FILE") {
        Ok(path) => Some(Arc::new(claims_from_file(&path, claims)?)),
        Err(_) => None,
    };
    let claims = from_file.as_ref().map_or(claims, |c| c.len());
    let per_caller = claims / callers;
    let started = Instant::now();
    let tasks: Vec<_> = (0..callers)
        .map(|caller| {
            let mut client =
                ClaimValidationServiceClient::new(channels[caller % channels.len()].clone());
            let from_file = from_file.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(per_caller);
                let mut refused = 0_usize;
                for n in 0..per_caller {
                    let i = caller * per_caller + n;
                    let claim = match &from_file {
                        Some(claims) => claims[i].clone(),
                        None => claim(i, members),
                    };
                    let mut request = tonic::Request::new(pb::ValidateClaimRequest {
                        request_id: String::new(),
                        claim: Some(claim),
                    });
                    // The server runs as in production: a key on every call.
                    if let Ok(key) = std::env::var("CLAIMSCRUB_API_KEY") {
                        request.metadata_mut().insert(
                            "authorization",
                            format!("Bearer {key}").parse().expect("an ASCII key"),
                        );
                    }
                    let sent = Instant::now();
                    match client.validate_claim(request).await {
                        Ok(_) => {}
                        // Generated files hold unreadable claims too (the
                        // batch stream's item errors): an answer all the same.
                        Err(status) if status.code() == tonic::Code::InvalidArgument => {
                            refused += 1;
                        }
                        Err(status) => panic!("ValidateClaim failed: {status:?}"),
                    }
                    latencies.push(sent.elapsed());
                }
                (latencies, refused)
            })
        })
        .collect();
    let mut all = Vec::with_capacity(claims);
    let mut refused = 0;
    for task in tasks {
        let (latencies, refused_here) = task.await?;
        all.extend(latencies);
        refused += refused_here;
    }
    let elapsed = started.elapsed();
    all.sort();
    println!(
        "{} claims ({refused} refused as unreadable), {callers} callers: {:.0} claims/s; latency p50 {:.2?}, p99 {:.2?}, max {:.2?}",
        all.len(),
        all.len() as f64 / elapsed.as_secs_f64(),
        percentile(&all, 0.50),
        percentile(&all, 0.99),
        all[all.len() - 1]
    );
    Ok(())
}
