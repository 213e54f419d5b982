//! Property tests: no input makes an importer panic. Arbitrary bytes, and
//! the first lines of every official file with random damage, either parse
//! or are refused with a 1-based line inside the input (or just after it,
//! where a missing row was expected); the importer then
//! reports it as `file:line: reason`.
//!
//! CI runs proptest's default 256 cases per property; a longer run is
//! `PROPTEST_CASES=20000 cargo test --release import::properties`.

use std::sync::LazyLock;

use proptest::prelude::*;

use super::tests::read_shared;
use super::{
    ParseError, aoc, cpt, hcpcs, icd10cm_order, icd10cm_tabular, mce, mpfs, mue, ncci_ptp, nucc,
    pos,
};

type Parser = fn(&[u8], &str) -> Option<ParseError>;

/// Every importer with a file name it recognises and the official file
/// whose head seeds the damaged inputs.
fn importers() -> Vec<(&'static str, &'static str, Parser)> {
    vec![
        (
            "aoc",
            "aoc/ncci_aoc_2024-06-03_active.derived.csv",
            |d, n| aoc::parse(d, n).err(),
        ),
        ("mce", "mce/mce_v43.1_icd10dx_code_master.csv.gz", |d, n| {
            mce::parse(d, n).err()
        }),
        ("cpt", "cpt/seed_cpt_codes.csv", |d, n| {
            cpt::parse(d, n).err()
        }),
        (
            "hcpcs",
            "hcpcs/HCPC2025_OCT_ANWEB.rendered-320.txt.gz",
            |d, n| hcpcs::parse(d, n).err(),
        ),
        (
            "icd10cm order",
            "icd10cm/icd10cm-order-2025.sample.txt",
            |d, n| icd10cm_order::parse(d, n).err(),
        ),
        (
            "icd10cm tabular",
            "icd10cm/icd10cm-tabular-April-1-2026.xml.gz",
            |d, n| icd10cm_tabular::parse(d, n).err(),
        ),
        ("mpfs", "mpfs/PPRRVU2025_Oct.csv.gz", |d, n| {
            mpfs::parse(d, n).err()
        }),
        (
            "mue",
            "ncci/MCR_MUE_PractitionerServices_Eff_07-01-2026.excerpt.csv",
            |d, n| mue::parse(d, n).err(),
        ),
        ("ncci ptp", "ncci/ccipra-v322r0-f1.excerpt.txt", |d, n| {
            ncci_ptp::parse(d, n).err()
        }),
        ("nucc", "nucc/nucc_taxonomy_251.csv", |d, n| {
            nucc::parse(d, n).err()
        }),
        ("pos", "pos/pos_codes.csv", |d, n| pos::parse(d, n).err()),
    ]
}

fn file_name(relative: &str) -> &str {
    let name = relative.rsplit('/').next().unwrap_or(relative);
    name.strip_suffix(".gz").unwrap_or(name)
}

/// The last line an error may name: the input's last, or the one after it
/// where a missing row was expected.
fn last_line(data: &[u8]) -> u64 {
    super::count_lines(data) + 1
}

fn check(what: &str, data: &[u8], parse: Parser, name: &str) -> Result<(), TestCaseError> {
    if let Some(error) = parse(data, name) {
        prop_assert!(
            (1..=last_line(data)).contains(&error.line),
            "{what}: line {} outside the input (last line {})",
            error.line,
            last_line(data)
        );
        prop_assert!(!error.reason.is_empty(), "{what}: a reason");
    }
    Ok(())
}

/// Lines of each official file the damaged inputs start from.
const HEAD_LINES: usize = 40;

/// The head of each importer's official file, read once.
static HEADS: LazyLock<Vec<Option<Vec<u8>>>> = LazyLock::new(|| {
    importers()
        .iter()
        .map(|(_, relative, _)| read_shared(relative).map(|data| head(&data, HEAD_LINES)))
        .collect()
});

/// The first `lines` lines of `data`.
fn head(data: &[u8], lines: usize) -> Vec<u8> {
    let end = data
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .nth(lines)
        .map_or(data.len(), |(i, _)| i + 1);
    data[..end].to_vec()
}

/// Damage to a file: overwrite, insert or delete bytes, or cut it short.
#[derive(Debug, Clone)]
enum Damage {
    Overwrite(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Truncate(usize),
}

fn damage() -> impl Strategy<Value = Damage> {
    let byte = prop_oneof![
        any::<u8>(),
        Just(b','),
        Just(b'\t'),
        Just(b'\n'),
        Just(b'"'),
        Just(b'<'),
        Just(b'>'),
        Just(0),
        Just(0xff),
    ];
    prop_oneof![
        (any::<usize>(), byte).prop_map(|(at, b)| Damage::Overwrite(at, b)),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| Damage::Insert(at, bytes)),
        (any::<usize>(), 1..64_usize).prop_map(|(at, n)| Damage::Delete(at, n)),
        any::<usize>().prop_map(Damage::Truncate),
    ]
}

fn apply(data: &mut Vec<u8>, damage: &Damage) {
    let at = |i: usize, len: usize| if len == 0 { 0 } else { i % (len + 1) };
    match damage {
        Damage::Overwrite(i, b) => {
            if !data.is_empty() {
                let i = i % data.len();
                data[i] = *b;
            }
        }
        Damage::Insert(i, bytes) => {
            let i = at(*i, data.len());
            data.splice(i..i, bytes.iter().copied());
        }
        Damage::Delete(i, n) => {
            let i = at(*i, data.len());
            let end = (i + n).min(data.len());
            data.drain(i..end);
        }
        Damage::Truncate(i) => {
            let i = at(*i, data.len());
            data.truncate(i);
        }
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic_an_importer(data in prop::collection::vec(any::<u8>(), 0..4_096)) {
        for (what, relative, parse) in importers() {
            check(what, &data, parse, file_name(relative))?;
        }
    }

    #[test]
    fn damaged_official_files_never_panic_an_importer(
        lines in 1..HEAD_LINES,
        damages in prop::collection::vec(damage(), 1..8),
    ) {
        for ((what, relative, parse), official) in importers().into_iter().zip(HEADS.iter()) {
            let Some(official) = official else { return Ok(()) };
            let mut data = head(official, lines);
            for d in &damages {
                apply(&mut data, d);
            }
            check(what, &data, parse, file_name(relative))?;
        }
    }
}
