//! The X12 reader alone, on one file: MB/s of the check walk (the 999's
//! verdicts) and of the claim walk (the claims of the accepted sets), as
//! the server runs them, without the network, the rules or the database.
//!
//! Usage: `cargo run --release --example x12_parse_rate -- FILE.837`

use std::time::Instant;

use claimscrub::x12::check;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let path = std::env::args()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("usage: x12_parse_rate FILE"))?;
    let bytes = std::fs::metadata(&path)?.len() as f64;
    let open = || -> anyhow::Result<_> {
        Ok(std::io::BufReader::with_capacity(
            256 * 1024,
            std::fs::File::open(&path)?,
        ))
    };
    let started = Instant::now();
    let reports = check::check(open()?)?;
    let checked = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let mut claims = 0u64;
    check::claims(
        open()?,
        &|i, g, s| check::scrubbed(&reports, i, g, s),
        &mut |_| claims += 1,
    )?;
    let read = started.elapsed().as_secs_f64();
    let mb = bytes / 1e6;
    println!(
        "{mb:.1} MB, {claims} claims: check walk {:.1} MB/s ({checked:.2} s), claim walk {:.1} MB/s ({read:.2} s, {:.0} claims/s)",
        mb / checked,
        mb / read,
        claims as f64 / read
    );
    Ok(())
}
