//! Runs the labelled claim sample through ValidateClaim (the real server,
//! started in-process on 127.0.0.1:0, called by 64 concurrent tonic clients)
//! over the real code sets, and reports per defect label how many labelled
//! defects a finding of the matching rule caught, plus every rule that fired
//! on claims labelled clean. A claim an 837P could not carry (five pointers
//! on a line, pointer 0, a modifier that is not two letters or digits) is
//! refused at the door with INVALID_ARGUMENT: its defect counts as detected
//! when the refusal names the defect's line, and the claim's other defects
//! are reported as not evaluated.
//!
//! Usage: `cargo run --release --example sample_report [DATA_DIR]`, with
//! DATABASE_URL naming a scratch database (created and loaded as needed).

use std::collections::BTreeMap;
use std::path::PathBuf;

use claimscrub::config::{DatabaseArgs, ServeArgs};
use claimscrub::grpc::pb;
use claimscrub::grpc::pb::claim_validation_service_client::ClaimValidationServiceClient;
use claimscrub::startup::Application;
use claimscrub::storage;
use futures::StreamExt as _;
use tonic_types::StatusExt as _;

#[path = "common/code_sets.rs"]
mod code_sets;
#[path = "common/generated_claims.rs"]
mod generated_claims;
#[path = "common/json_lines.rs"]
mod json_lines;
use generated_claims::{claim, text};
use json_lines::lines;

/// What catches a defect an 837P cannot carry: the door, not a rule.
const REFUSED: &str = "(refused at the door)";

/// Sample defect label -> the rule that should catch it.
const LABELS: [(&str, &str); 20] = [
    ("ICD_INVALID_CODE", "ICD10CM_INVALID_CODE"),
    ("ICD_NOT_BILLABLE", "ICD10CM_NOT_BILLABLE"),
    ("ICD_MISSING_7TH_CHARACTER", "ICD10CM_MISSING_7TH_CHARACTER"),
    ("ICD_NOT_EFFECTIVE_ON_DOS", "ICD10CM_NOT_EFFECTIVE_ON_DOS"),
    ("DX_POINTER_INVALID", "DX_POINTER_INVALID"),
    ("DX_POINTER_MISSING", "DX_POINTER_MISSING"),
    ("DX_POINTER_TOO_MANY", REFUSED),
    ("DX_MALIGNANCY_MISMATCH", "LESION_BEHAVIOR_MISMATCH"),
    ("SIZE_BAND_MISMATCH", "SIZE_BAND_MISMATCH"),
    ("ANATOMIC_SITE_MISMATCH", "ANATOMIC_SITE_MISMATCH"),
    ("POS_INVALID", "POS_INVALID"),
    ("POS_TELEHEALTH_PROCEDURE", "POS_TELEHEALTH_PROCEDURE"),
    ("TAXONOMY_INVALID", "TAXONOMY_INVALID"),
    ("MODIFIER_INVALID", "MODIFIER_INVALID"),
    ("MODIFIER_TERMINATED", "MODIFIER_TERMINATED"),
    ("EM_MISSING_MODIFIER_25", "EM_MISSING_MODIFIER_25"),
    ("EM_UNITS_EXCEED_1", "EM_UNITS_EXCEED_1"),
    ("UNITS_ZERO", "UNITS_ZERO"),
    ("DUPLICATE_LINE", "DUPLICATE_LINE"),
    (
        "REPAIR_BUNDLED_WITH_EXCISION",
        "REPAIR_BUNDLED_WITH_EXCISION",
    ),
];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let data = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "../shared/data".into()),
    );
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres:postgres@127.0.0.1:5432/claimscrub_sample".into());
    let pool = storage::connect(&DatabaseArgs::for_url(url.clone())).await?;
    storage::migrate(&pool).await?;
    code_sets::import_all(&pool, &data).await?;
    let mut settings = ServeArgs::new(DatabaseArgs::for_url(url), "127.0.0.1:0".parse()?);
    settings.dev = true;
    let server = Application::build_with_pool(settings, pool).await?;
    let address = server.local_addr();
    tokio::spawn(server.run_until_stopped(std::future::pending()));
    let channel = tonic::transport::Channel::from_shared(format!("http://{address}"))?
        .connect()
        .await?;

    let claims = lines(&data.join("claims/claims_10000.jsonl.gz"));
    let truth = lines(&data.join("claims/claims_10000.truth.jsonl.gz"));
    let started = std::time::Instant::now();
    let results: Vec<Result<pb::ValidationResult, Vec<String>>> =
        futures::stream::iter(claims.iter().map(|c| {
            let mut client = ClaimValidationServiceClient::new(channel.clone());
            let request = pb::ValidateClaimRequest {
                request_id: String::new(),
                claim: Some(claim(c)),
            };
            async move {
                match client.validate_claim(request).await {
                    Ok(response) => Ok(Ok(response.into_inner().result.unwrap_or_default())),
                    Err(status) if status.code() == tonic::Code::InvalidArgument => Ok(Err(status
                        .get_details_bad_request()
                        .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
                        .unwrap_or_default())),
                    Err(status) => Err(status),
                }
            }
        }))
        .buffered(64)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    let elapsed = started.elapsed();

    let mut labelled: BTreeMap<&str, (u32, u32, u32)> = BTreeMap::new();
    let mut missed: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut on_clean: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut refused_clean = Vec::new();
    let mut refused_fields: BTreeMap<String, u32> = BTreeMap::new();
    // (rule, reason) -> claims whose answer lists that edit as not checked.
    let mut not_checked: BTreeMap<(String, String), u32> = BTreeMap::new();
    for result in results.iter().flatten() {
        let mut seen: Vec<(String, String)> = result
            .not_checked
            .iter()
            .map(|n| (n.rule_id.clone(), n.reason().as_str_name().to_owned()))
            .collect();
        seen.sort();
        seen.dedup();
        for key in seen {
            *not_checked.entry(key).or_default() += 1;
        }
    }
    for ((c, t), result) in claims.iter().zip(&truth).zip(&results) {
        let (findings, refusal) = match result {
            Ok(result) => (&result.findings[..], None),
            Err(fields) => {
                for field in fields {
                    let shape: String = field.chars().filter(|ch| !ch.is_ascii_digit()).collect();
                    *refused_fields.entry(shape).or_default() += 1;
                }
                (&[][..], Some(fields))
            }
        };
        if t["clean"].as_bool() == Some(true) {
            if refusal.is_some() {
                refused_clean.push(text(&c["claim_id"]));
            }
            for f in findings {
                on_clean
                    .entry(f.rule_id.as_str())
                    .or_default()
                    .push(format!(
                        "{} {}: {}",
                        text(&c["claim_id"]),
                        f.field_path,
                        f.message
                    ));
            }
            continue;
        }
        for defect in t["defects"].as_array().into_iter().flatten() {
            let label = defect["code"].as_str().unwrap_or_default();
            let Some((label, rule)) = LABELS.iter().find(|(l, _)| *l == label) else {
                continue;
            };
            let line = defect["line"].as_u64().and_then(|l| u32::try_from(l).ok());
            let entry = labelled.entry(label).or_default();
            entry.0 += 1;
            if let Some(fields) = refusal {
                let at_line = |f: &String| {
                    line.is_none_or(|l| {
                        f.starts_with(&format!("claim.lines[{}]", l.saturating_sub(1)))
                    })
                };
                if fields.iter().any(at_line) {
                    entry.1 += 1;
                } else {
                    entry.2 += 1;
                }
                continue;
            }
            let caught = findings.iter().any(|f| {
                f.rule_id == *rule && line.is_none_or(|l| f.line_number == 0 || f.line_number == l)
            });
            entry.1 += u32::from(caught);
            if !caught {
                let found: Vec<&str> = findings.iter().map(|f| f.rule_id.as_str()).collect();
                missed.entry(label).or_default().push(format!(
                    "{} ({}; found {found:?})",
                    text(&c["claim_id"]),
                    text(&defect["detail"])
                ));
            }
        }
    }
    println!(
        "{} claims through ValidateClaim (64 in flight, audit on) in {:.2?}: {:.0} claims/s",
        claims.len(),
        elapsed,
        claims.len() as f64 / elapsed.as_secs_f64()
    );
    println!(
        "{:<30} {:>9} {:>9} {:>13}",
        "label", "labelled", "detected", "not evaluated"
    );
    let (mut all, mut caught, mut skipped) = (0, 0, 0);
    for (label, (n, d, r)) in &labelled {
        println!(
            "{label:<30} {n:>9} {d:>9} {r:>13}{}",
            if n == &(d + r) { "" } else { "   <-- missed" }
        );
        all += n;
        caught += d;
        skipped += r;
    }
    println!("{:<30} {all:>9} {caught:>9} {skipped:>13}", "total");
    println!(
        "not evaluated: defects of claims refused at the door for another field; refusals by field: {refused_fields:?}"
    );
    println!(
        "clean claims refused at the door: {} {refused_clean:?}",
        refused_clean.len()
    );
    for (label, examples) in &missed {
        println!(
            "missed {label}: {}",
            examples
                .iter()
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join(" | ")
        );
    }
    println!("edits not checked (claims whose answer lists them):");
    for ((rule, reason), claims) in &not_checked {
        println!("  {rule:<40} {reason:<45} {claims}");
    }
    println!("findings on claims labelled clean:");
    for (rule, examples) in &on_clean {
        println!(
            "  {rule}: {} (e.g. {})",
            examples.len(),
            examples
                .iter()
                .take(2)
                .cloned()
                .collect::<Vec<_>>()
                .join(" | ")
        );
    }
    Ok(())
}
