//! NCCI add-on code edits as CSV `primary_code,add_on_code,aoc_edit_type`
//! (the documented columns of the CMS AOC file; see
//! `../shared/data/README.md`). Type 1: only the listed primaries; type 2:
//! no primary list (`CCCCC`, the contractor decides); type 3: the listed
//! primaries plus others the contractor allows.
//!
//! Each add-on code becomes one concept with the properties `edit_type`
//! and `primaries` (`;`-separated, sorted; empty for type 2). The version
//! and effective date come from the file name (`ncci_aoc_2024-06-03_…`).

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::{ConceptFile, ConceptRecord, ParseError, ReleaseHint, perr, utf8_csv_table};

const HEADER: [&str; 3] = ["primary_code", "add_on_code", "aoc_edit_type"];

/// The placeholder primary of a type 2 edit.
const ANY_PRIMARY: &str = "CCCCC";

fn is_procedure_code(code: &str) -> bool {
    code.len() == 5
        && code
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
}

/// Parses an add-on code file; refuses it whole on a bad header, row, code
/// or an add-on code listed under two edit types.
pub fn parse(data: &[u8], file_name: &str) -> Result<ConceptFile, ParseError> {
    let table = utf8_csv_table(data)?;
    if !table.header_is(&HEADER) {
        return Err(perr(
            table.header_line,
            "header must be \"primary_code,add_on_code,aoc_edit_type\"",
        ));
    }
    let mut edits: BTreeMap<String, (u64, char, Vec<String>)> = BTreeMap::new();
    for (line, cells) in &table.rows {
        let line = *line;
        let [primary, add_on, edit_type] = cells.as_slice() else {
            return Err(perr(line, "wrong column count"));
        };
        let (primary, add_on, edit_type) = (primary.trim(), add_on.trim(), edit_type.trim());
        if !is_procedure_code(add_on) {
            return Err(perr(
                line,
                format!("add-on code {add_on:?} is not a procedure code"),
            ));
        }
        let kind = match edit_type {
            "1" => '1',
            "2" => '2',
            "3" => '3',
            _ => {
                return Err(perr(
                    line,
                    format!("edit type {edit_type:?} is not 1, 2 or 3"),
                ));
            }
        };
        if primary != ANY_PRIMARY && !is_procedure_code(primary) {
            return Err(perr(
                line,
                format!("primary code {primary:?} is not a procedure code"),
            ));
        }
        let entry = edits
            .entry(add_on.to_owned())
            .or_insert_with(|| (line, kind, Vec::new()));
        if entry.1 != kind {
            return Err(perr(
                line,
                format!(
                    "{add_on} is edit type {kind} here and {} on line {}",
                    entry.1, entry.0
                ),
            ));
        }
        if primary != ANY_PRIMARY {
            entry.2.push(primary.to_owned());
        }
    }
    let concepts = edits
        .into_iter()
        .map(|(code, (line, kind, mut primaries))| {
            primaries.sort();
            primaries.dedup();
            ConceptRecord {
                line,
                display: code.clone(),
                code,
                long_description: None,
                billable: None,
                parent_code: None,
                added_date: None,
                effective_date: None,
                termination_date: None,
                properties: vec![
                    ("edit_type".into(), kind.to_string()),
                    ("primaries".into(), primaries.join(";")),
                ],
            }
        })
        .collect();
    let date = release_date(file_name);
    Ok(ConceptFile {
        release: ReleaseHint {
            version: date.map(|d| d.to_string()),
            effective_from: date,
        },
        concepts,
        skipped: Vec::new(),
        lines_read: table.lines_read,
    })
}

/// 2024-06-03 from `ncci_aoc_2024-06-03_active.derived.csv`.
fn release_date(file_name: &str) -> Option<NaiveDate> {
    let name = file_name.rsplit('/').next()?;
    let rest = name.strip_prefix("ncci_aoc_")?;
    NaiveDate::parse_from_str(rest.get(..10)?, "%Y-%m-%d").ok()
}

#[cfg(test)]
mod tests {
    use super::super::tests::read_shared;
    use super::*;

    const FIXTURE: &str = "primary_code,add_on_code,aoc_edit_type\n\
        CCCCC,0054T,2\n\
        11102,11103,1\n\
        11100,11103,1\n";

    #[test]
    fn edits_group_by_add_on_code() {
        let file = parse(FIXTURE.as_bytes(), "ncci_aoc_2024-06-03_active.derived.csv").unwrap();
        assert_eq!(file.release.version.as_deref(), Some("2024-06-03"));
        assert_eq!(file.concepts.len(), 2);
        assert_eq!(file.concepts[0].code, "0054T");
        assert_eq!(file.concepts[0].properties[1].1, "");
        assert_eq!(
            file.concepts[1].properties,
            [
                ("edit_type".to_owned(), "1".to_owned()),
                ("primaries".to_owned(), "11100;11102".to_owned())
            ]
        );
    }

    #[test]
    fn bad_rows_are_refused_with_their_line() {
        for (rows, reason) in [
            ("11102,1110,1", "not a procedure code"),
            ("11102,11103,4", "not 1, 2 or 3"),
            (
                "11102,11103,1\n11100,11103,3",
                "edit type 3 here and 1 on line 2",
            ),
        ] {
            let text = format!("primary_code,add_on_code,aoc_edit_type\n{rows}\n");
            let error = parse(text.as_bytes(), "aoc.csv").unwrap_err();
            assert!(error.reason.contains(reason), "{rows}: {error}");
        }
    }

    #[test]
    fn real_2024_06_03_file() {
        let Some(data) = read_shared("aoc/ncci_aoc_2024-06-03_active.derived.csv") else {
            return;
        };
        let file = parse(&data, "ncci_aoc_2024-06-03_active.derived.csv").unwrap();
        assert_eq!(file.lines_read, 7_466);
        let sum = file.concepts.iter().find(|c| c.code == "11103").unwrap();
        assert_eq!(sum.properties[0].1, "1");
        assert!(sum.properties[1].1.contains("11102"));
    }
}
