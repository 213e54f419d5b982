//! Parse rate of the largest official files, alone (no database): the
//! best of five parses of each, in MB/s of decompressed input.
//!
//! Usage: `cargo run --release --example bench_import [DATA_DIR]`
//! (default `../shared/data`).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use claimscrub::import::{hcpcs, icd10cm_tabular, mpfs, source};

type Parse = fn(&[u8]) -> usize;

fn main() -> anyhow::Result<()> {
    let data = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "../shared/data".into()),
    );
    let files: [(&str, &str, Parse); 3] = [
        (
            "icd10cm/icd10cm-tabular-April-1-2026.xml.gz",
            "icd10cm tabular",
            |d| {
                icd10cm_tabular::parse(d, "icd10cm-tabular-April-1-2026.xml")
                    .map_or(0, |f| f.concepts.len())
            },
        ),
        (
            "hcpcs/HCPC2025_OCT_ANWEB.rendered-320.txt.gz",
            "hcpcs",
            |d| hcpcs::parse(d, "HCPC2025_OCT_ANWEB.txt").map_or(0, |f| f.procedures.len()),
        ),
        ("mpfs/PPRRVU2025_Oct.csv.gz", "mpfs", |d| {
            mpfs::parse(d, "PPRRVU2025_Oct.csv").map_or(0, |f| f.rows.len())
        }),
    ];
    for (relative, name, parse) in files {
        let bytes = source::read_decompressed(&data.join(relative))?;
        let mut records = 0;
        let fastest = (0..5)
            .map(|_| {
                let started = Instant::now();
                records = parse(&bytes);
                started.elapsed()
            })
            .min()
            .unwrap_or(Duration::ZERO);
        println!(
            "{name}: {records} records, {:.1} MB in {fastest:.2?}: {:.0} MB/s",
            bytes.len() as f64 / 1e6,
            bytes.len() as f64 / 1e6 / fastest.as_secs_f64()
        );
    }
    Ok(())
}
