//! `claimscrub import` as an operator runs it, on the official files from the
//! shared fixtures: counts, one transaction per file, refusal of broken files
//! with file:line and nothing changed, no-op re-imports, and a running server
//! that picks up an import made by another process.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use claimscrub::grpc::pb;
use sqlx::PgPool;
use tokio::process::Command;

use crate::helpers::{BINARY, pool_url, shared_data, spawn_app, wait_for};

async fn run_import(pool: &PgPool, args: &[&str]) -> Output {
    Command::new(BINARY)
        .arg("import")
        .args(args)
        .env("DATABASE_URL", pool_url(pool))
        .env("RUST_LOG", "warn")
        .output()
        .await
        .expect("binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Row counts of every reference table, to prove nothing changed.
async fn table_counts(pool: &PgPool) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in [
        "code_system_version",
        "concept",
        "mpfs_indicator",
        "ncci_ptp_edit",
        "mue_limit",
        "procedure_attribute",
        "payer",
    ] {
        let count: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("select count(*) from {table}")))
                .fetch_one(pool)
                .await
                .expect("count");
        counts.push(count);
    }
    counts
}

fn decompressed(path: &Path) -> Vec<u8> {
    let raw = std::fs::read(path).expect("fixture readable");
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(raw.as_slice())
            .read_to_end(&mut out)
            .expect("gzip");
        out
    } else {
        raw
    }
}

/// Writes `data` under a fresh temporary directory with the official name.
fn temp_copy(name: &str, data: &[u8]) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("claimscrub-test-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::File::create(&path)
        .and_then(|mut f| f.write_all(data))
        .expect("temp file");
    path
}

/// Replaces physical line `line` (1-based) of `data` with `f(old line)`.
fn edit_line(data: &[u8], line: usize, f: impl Fn(&[u8]) -> Vec<u8>) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    for (i, chunk) in data.split_inclusive(|b| *b == b'\n').enumerate() {
        if i + 1 == line {
            let body_len = chunk.len()
                - chunk
                    .iter()
                    .rev()
                    .take_while(|b| **b == b'\n' || **b == b'\r')
                    .count();
            out.extend(f(&chunk[..body_len]));
            out.extend(&chunk[body_len..]);
        } else {
            out.extend(chunk);
        }
    }
    out
}

/// (kind, path, system, version, rows, billable).
type Documented = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    u64,
    Option<u64>,
);

/// The official files with what `data/README.md` documents for them.
const OFFICIAL: [Documented; 10] = [
    (
        "icd10cm-tabular",
        "icd10cm/icd10cm-tabular-April-1-2026.xml.gz",
        "icd10cm",
        "FY2026-APR",
        98_186,
        Some(74_719),
    ),
    (
        "icd10cm-order",
        "icd10cm/icd10cm-order-2025.txt.gz",
        "icd10cm",
        "FY2025",
        97_584,
        Some(74_260),
    ),
    (
        "nucc",
        "nucc/nucc_taxonomy_251.csv",
        "taxonomy",
        "25.1",
        883,
        None,
    ),
    (
        "hcpcs",
        "hcpcs/HCPC2025_OCT_ANWEB.rendered-320.txt.gz",
        "hcpcs",
        "2025-10",
        8_463,
        None,
    ),
    (
        "hcpcs",
        "hcpcs/HCPC2025_OCT_ANWEB.rendered-320.txt.gz",
        "modifier",
        "2025-10",
        383,
        None,
    ),
    (
        "ncci-ptp",
        "ncci/ccipra-v322r0-f1.excerpt.txt",
        "ncci_ptp",
        "v322r0-f1",
        154,
        None,
    ),
    (
        "mue",
        "ncci/MCR_MUE_PractitionerServices_Eff_07-01-2026.excerpt.csv",
        "mue",
        "2026-07-01-practitioner",
        44,
        None,
    ),
    (
        "mpfs",
        "mpfs/PPRRVU23_JAN.csv.gz",
        "mpfs",
        "2023-JAN",
        0,
        None,
    ),
    (
        "mce",
        "mce/mce_v43.1_icd10dx_code_master.csv.gz",
        "mce",
        "v43.1",
        75_719,
        None,
    ),
    (
        "ncci-aoc",
        "aoc/ncci_aoc_2024-06-03_active.derived.csv",
        "ncci_aoc",
        "2024-06-03",
        668,
        None,
    ),
];

#[sqlx::test]
async fn every_official_file_imports_and_a_running_server_serves_it_without_restart(pool: PgPool) {
    let Some(pos) = shared_data("pos/pos_codes.csv") else {
        return;
    };
    let app = spawn_app(pool.clone()).await;

    let mut imported = std::collections::BTreeSet::new();
    for (kind, relative, ..) in OFFICIAL {
        if !imported.insert((kind, relative)) {
            continue;
        }
        let path = shared_data(relative).expect("shared data present");
        let output = run_import(&pool, &[kind, path.to_str().expect("utf-8 path")]).await;
        assert!(output.status.success(), "{kind}: {}", text(&output.stderr));
        eprintln!("{}", text(&output.stdout).trim_end());
    }
    let output = run_import(
        &pool,
        &[
            "pos",
            pos.to_str().expect("path"),
            "--version",
            "2024-05-02",
            "--effective-from",
            "2024-05-02",
        ],
    )
    .await;
    assert!(output.status.success(), "pos: {}", text(&output.stderr));

    // The server was started before the imports: it must pick them up.
    let versions = wait_for(
        "the server to reload the imported releases",
        Duration::from_secs(60),
        async || {
            let versions = app
                .list_code_system_versions(pb::ListCodeSystemVersionsRequest {
                    page_size: 200,
                    ..Default::default()
                })
                .await
                .expect("list")
                .code_system_versions;
            (versions.iter().filter(|v| !v.builtin).count() == OFFICIAL.len() + 1)
                .then_some(versions)
        },
    )
    .await;
    let find = |system: &str, version: &str| {
        versions
            .iter()
            .find(|v| v.name == format!("codeSystems/{system}/versions/{version}"))
            .unwrap_or_else(|| panic!("{system} {version} missing"))
    };
    for (_, relative, system, version, rows, billable) in OFFICIAL {
        let v = find(system, version);
        if rows > 0 {
            assert_eq!(v.concept_count, rows, "{system} {version}");
        }
        assert_eq!(v.billable_count, billable, "{system} {version}");
        assert_eq!(v.sha256.len(), 64);
        assert!(
            relative.ends_with(&v.source_file_name),
            "{}",
            v.source_file_name
        );
    }
    let icd = find("icd10cm", "FY2026-APR");
    assert_eq!(
        icd.effective_from,
        Some(pb::google::r#type::Date {
            year: 2025,
            month: 10,
            day: 1
        })
    );
    let fy2025 = find("icd10cm", "FY2025");
    assert_eq!(
        fy2025.effective_from,
        Some(pb::google::r#type::Date {
            year: 2024,
            month: 10,
            day: 1
        })
    );
    assert_eq!(find("pos", "2024-05-02").concept_count, 52);
    app.shutdown().await.expect("clean shutdown");
}

#[sqlx::test]
async fn importing_the_same_file_again_changes_nothing(pool: PgPool) {
    let Some(path) = shared_data("nucc/nucc_taxonomy_251.csv") else {
        return;
    };
    let path = path.to_str().expect("path").to_owned();
    let first = run_import(&pool, &["nucc", &path]).await;
    assert!(first.status.success(), "{}", text(&first.stderr));
    let before = table_counts(&pool).await;
    let second = run_import(&pool, &["nucc", &path]).await;
    assert!(second.status.success(), "{}", text(&second.stderr));
    assert!(
        text(&second.stdout).contains("already loaded"),
        "{}",
        text(&second.stdout)
    );
    assert_eq!(table_counts(&pool).await, before);
}

#[sqlx::test]
async fn a_file_that_does_not_name_its_release_needs_version_and_date(pool: PgPool) {
    let Some(path) = shared_data("pos/pos_codes.csv") else {
        return;
    };
    let path = path.to_str().expect("path").to_owned();
    let refused = run_import(&pool, &["pos", &path]).await;
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("pass --version"),
        "{}",
        text(&refused.stderr)
    );
    let accepted = run_import(
        &pool,
        &[
            "pos",
            &path,
            "--version",
            "2024-05",
            "--effective-from",
            "2024-05-02",
        ],
    )
    .await;
    assert!(accepted.status.success(), "{}", text(&accepted.stderr));
}

#[sqlx::test]
async fn an_unknown_kind_is_refused_with_the_known_ones(pool: PgPool) {
    let output = run_import(&pool, &["snomed", "whatever.txt"]).await;
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("snomed") && stderr.contains("icd10cm-tabular"),
        "{stderr}"
    );
}

/// A broken copy of each official file: (kind, fixture, copy name, line to
/// break, how to break it).
type Breakage = fn(&[u8]) -> Vec<u8>;
const BROKEN: [(&str, &str, &str, usize, Breakage); 9] = [
    (
        "icd10cm-order",
        "icd10cm/icd10cm-order-2025.txt.gz",
        "icd10cm-order-2025.txt",
        5,
        |l| l[..40].to_vec(),
    ),
    (
        "icd10cm-tabular",
        "icd10cm/icd10cm-tabular-April-1-2026.xml.gz",
        "icd10cm-tabular-April-1-2026.xml",
        5000,
        |l| [l, b"\xff\xfe".as_slice()].concat(),
    ),
    (
        "nucc",
        "nucc/nucc_taxonomy_251.csv",
        "nucc_taxonomy_251.csv",
        40,
        |l| {
            let cut = l.iter().rposition(|b| *b == b',').expect("comma");
            l[..cut].to_vec()
        },
    ),
    (
        "hcpcs",
        "hcpcs/HCPC2025_OCT_ANWEB.rendered-320.txt.gz",
        "HCPC2025_OCT_ANWEB.txt",
        100,
        |l| l[..200].to_vec(),
    ),
    (
        "ncci-ptp",
        "ncci/ccipra-v322r0-f1.excerpt.txt",
        "ccipra-v322r0-f1.TXT",
        20,
        |l| {
            let text = String::from_utf8_lossy(l).into_owned();
            let mut fields: Vec<&str> = text.split('\t').collect();
            fields[3] = "20261399";
            fields.join("\t").into_bytes()
        },
    ),
    (
        "mue",
        "ncci/MCR_MUE_PractitionerServices_Eff_07-01-2026.excerpt.csv",
        "MCR_MUE_PractitionerServices_Eff_07-01-2026.csv",
        0,
        |l| l.to_vec(),
    ),
    (
        "mpfs",
        "mpfs/PPRRVU23_JAN.csv.gz",
        "PPRRVU23_JAN.csv",
        500,
        |l| {
            let text = String::from_utf8_lossy(l).into_owned();
            let fields: Vec<&str> = text.split(',').collect();
            fields[..fields.len() - 3].join(",").into_bytes()
        },
    ),
    ("pos", "pos/pos_codes.csv", "pos_codes.csv", 10, |l| {
        [l, b",extra".as_slice()].concat()
    }),
    ("cpt", "cpt/seed_cpt_codes.csv", "cpt.csv", 12, |l| {
        [b"ABC".as_slice(), &l[5..]].concat()
    }),
];

#[sqlx::test]
async fn broken_copies_are_refused_with_file_and_line_and_change_nothing(pool: PgPool) {
    if shared_data("pos/pos_codes.csv").is_none() {
        return;
    }
    let before = table_counts(&pool).await;
    for (kind, fixture, name, line, breakage) in BROKEN {
        let original = decompressed(&shared_data(fixture).expect("present"));
        // The MUE file's records span lines; break the MAI of the first data row instead.
        let (broken, line) = if kind == "mue" {
            // The file is Latin-1: search bytes, not a lossy UTF-8 copy.
            let row = original
                .windows(8)
                .position(|w| w == b"\r\n0001U,")
                .expect("first data row")
                + 2;
            let line = original[..row].iter().filter(|b| **b == b'\n').count() + 1;
            let mut bytes = original.clone();
            // Fields: code, value, MAI text, rationale: the MAI follows the second comma.
            let second_comma = original[row..]
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b',')
                .nth(1)
                .expect("MAI field")
                .0;
            let mai = row + second_comma + 1;
            bytes[mai] = b'7';
            (bytes, line)
        } else {
            (edit_line(&original, line, breakage), line)
        };
        let path = temp_copy(name, &broken);
        let mut args = vec![kind, path.to_str().expect("path")];
        if kind == "pos" || kind == "cpt" {
            args.extend(["--version", "test", "--effective-from", "2024-01-01"]);
        }
        let output = run_import(&pool, &args).await;
        let stderr = text(&output.stderr);
        assert!(
            !output.status.success(),
            "{kind}: a broken file was accepted"
        );
        let expected = format!("{}:{line}:", path.display());
        assert!(
            stderr.contains(&expected),
            "{kind}: expected {expected:?} in {stderr}"
        );
        assert_eq!(
            table_counts(&pool).await,
            before,
            "{kind}: the database changed"
        );
        std::fs::remove_dir_all(path.parent().expect("dir")).expect("cleanup");
    }
}
