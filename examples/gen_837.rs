//! Writes a claim file (JSON Lines from `../shared/tools/gen_claims.py` or
//! the 10,000-claim sample, plain or gzip) as one 837P interchange, 5,000
//! claims per transaction set (the most the guide recommends): the input of
//! the X12 benchmark, and a file to try `claimscrub x12 check` with. Each
//! claim gets the billing and rendering NPI 1234567893 and member id
//! M000000001, M000000002, ... (an 837P requires them). A claim with a line
//! of no diagnosis pointer or more than four cannot be written (SV107 holds
//! one to four) and is left out, counted: in a file, one such claim would
//! have the 999 reject its whole transaction set.
//!
//! Usage: `cargo run --release --example gen_837 -- CLAIMS_FILE OUT`

use std::path::PathBuf;

use claimscrub::grpc::pb;

#[path = "common/generated_claims.rs"]
mod generated_claims;
#[path = "common/json_lines.rs"]
mod json_lines;
#[path = "common/x12_837.rs"]
mod x12_837;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = || anyhow::anyhow!("usage: gen_837 CLAIMS_FILE OUT");
    let input = PathBuf::from(args.next().ok_or_else(usage)?);
    let out = PathBuf::from(args.next().ok_or_else(usage)?);
    let all = json_lines::lines(&input);
    let claims: Vec<pb::Claim> = all
        .iter()
        .map(generated_claims::claim)
        .filter(|claim| {
            claim
                .lines
                .iter()
                .all(|line| (1..=4).contains(&line.diagnosis_pointers.len()))
        })
        .enumerate()
        .map(|(i, claim)| {
            x12_837::with_required_parties(x12_837::carried(claim), format!("M{:09}", i + 1))
        })
        .collect();
    std::fs::write(&out, x12_837::interchange(&claims, 5_000, 1))?;
    println!(
        "{} claims written to {}; {} left out (a line with no pointer or more than four)",
        claims.len(),
        out.display(),
        all.len() - claims.len()
    );
    Ok(())
}
