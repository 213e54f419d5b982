//! SearchCodes latency over the full ICD-10-CM tabular file, in memory: the
//! same `app::lookup::search` the RPC calls, without the transport. Prints
//! p50, p99 and max per query kind.
//!
//! Usage: `cargo run --release --example bench_search [TABULAR_XML] [ROUNDS]`
//! (defaults: ../shared/data/icd10cm/icd10cm-tabular-April-1-2026.xml.gz, 200).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use claimscrub::app::catalog::Catalog;
use claimscrub::app::lookup;
use claimscrub::domain::catalog::{CatalogSnapshot, ConceptRelease};
use claimscrub::domain::code_system::{CodeSystem, CodeSystemVersion};
use claimscrub::domain::concept::Concept;
use claimscrub::import::{icd10cm_tabular, source};

const QUERIES: [&str; 14] = [
    "benign neoplasm skin trunk",
    "diabetes",
    "type 2 diabetes mellitus with hyperglycemia",
    "fracture femur",
    "open wound",
    "abscess",
    "neoplasm",
    "melanoma",
    "pain",
    "D23",
    "D23.6",
    "S72.0",
    "E11",
    "T",
];

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .unwrap_or_else(|| "../shared/data/icd10cm/icd10cm-tabular-April-1-2026.xml.gz".to_owned());
    let rounds: usize = args.next().map_or(Ok(200), |r| r.parse())?;

    let data = source::read_decompressed(std::path::Path::new(&path))?;
    let file = icd10cm_tabular::parse(&data, "icd10cm-tabular-April-1-2026.xml")?;
    let concepts: Vec<Concept> = file
        .concepts
        .into_iter()
        .map(|r| Concept {
            code: r.code,
            display: r.display,
            long_description: r.long_description,
            billable: r.billable.unwrap_or(true),
            parent_code: r.parent_code,
            added_date: r.added_date,
            effective_date: r.effective_date,
            termination_date: r.termination_date,
            properties: r.properties,
        })
        .collect();
    let count = concepts.len();
    let built = Instant::now();
    let release = ConceptRelease::new(
        CodeSystemVersion {
            system: CodeSystem::Icd10Cm,
            version: "FY2026-APR".into(),
            effective_from: NaiveDate::from_ymd_opt(2025, 10, 1).expect("date"),
            effective_to: None,
            builtin: false,
            source_file_name: path.clone(),
            sha256: String::new(),
            concept_count: count as u64,
            billable_count: None,
            load_time: Utc::now(),
        },
        concepts,
    );
    println!(
        "{count} concepts; release with child and search indexes built in {:?}",
        built.elapsed()
    );
    let catalog = Catalog::new(CatalogSnapshot {
        concepts: BTreeMap::from([(CodeSystem::Icd10Cm, vec![Arc::new(release)])]),
        ..CatalogSnapshot::default()
    });
    let date = NaiveDate::from_ymd_opt(2026, 1, 15).expect("date");

    let mut all = Vec::new();
    for query in QUERIES {
        let mut times = Vec::with_capacity(rounds);
        let mut total = 0;
        for _ in 0..rounds {
            let started = Instant::now();
            let page = lookup::search(
                &catalog,
                Some(CodeSystem::Icd10Cm),
                query,
                date,
                false,
                20,
                "",
            )?;
            times.push(started.elapsed());
            total = page.total;
        }
        times.sort();
        println!(
            "{query:>45}: {total:>6} hits  p50 {:>9.3?}  p99 {:>9.3?}  max {:>9.3?}",
            percentile(&times, 0.5),
            percentile(&times, 0.99),
            times[times.len() - 1]
        );
        all.extend(times);
    }
    all.sort();
    println!(
        "all {} searches: p50 {:.3?}  p99 {:.3?}  max {:.3?}",
        all.len(),
        percentile(&all, 0.5),
        percentile(&all, 0.99),
        all[all.len() - 1]
    );
    Ok(())
}
