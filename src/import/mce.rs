//! The CMS Medicare Code Editor's diagnosis code master as CSV
//! `code,start_date,end_date,mce_flags` (see `../shared/data/README.md`):
//! ICD-10-CM codes without the dot, `YYYYMMDD` dates, an empty end date
//! for a period still in force, flags separated by `|`.
//!
//! A code has one row per period in which its flags held. Each code becomes
//! one concept whose properties are its periods, keyed
//! `period:<start>:<end>` (ISO dates, end empty when open) with the flags as
//! the value, so the period containing the date of service decides
//! ([`crate::domain::mce`]). The release answers from the earliest start
//! in the file; the version comes from the file name (`mce_v43.1_…` →
//! `v43.1`).

use chrono::NaiveDate;

use super::{
    ConceptFile, ConceptRecord, ParseError, ReleaseHint, parse_optional_yyyymmdd, parse_yyyymmdd,
    perr, utf8_csv_table,
};

const HEADER: [&str; 4] = ["code", "start_date", "end_date", "mce_flags"];

/// Parses a code master; refuses it whole on a bad header, row, code, date,
/// flag name or overlapping periods of one code.
pub fn parse(data: &[u8], file_name: &str) -> Result<ConceptFile, ParseError> {
    let table = utf8_csv_table(data)?;
    if !table.header_is(&HEADER) {
        return Err(perr(
            table.header_line,
            "header must be \"code,start_date,end_date,mce_flags\"",
        ));
    }
    let mut concepts: Vec<ConceptRecord> = Vec::new();
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut periods: Vec<Vec<(NaiveDate, Option<NaiveDate>, u64)>> = Vec::new();
    let mut earliest: Option<NaiveDate> = None;
    for (line, cells) in &table.rows {
        let line = *line;
        let [code, start, end, flags] = cells.as_slice() else {
            return Err(perr(line, "wrong column count"));
        };
        let code = code.trim();
        if !(3..=7).contains(&code.len())
            || !code.as_bytes()[0].is_ascii_uppercase()
            || !code
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            return Err(perr(
                line,
                format!("code {code:?} is not a dotless ICD-10-CM code"),
            ));
        }
        let start = parse_yyyymmdd(start.trim(), line, "start_date")?;
        let end = parse_optional_yyyymmdd(end, line, "end_date")?;
        if end.is_some_and(|end| end < start) {
            return Err(perr(line, "end_date is before start_date"));
        }
        let flags = flags.trim();
        // An empty cell is a code without flags; an empty name between bars is refused.
        if let Some(bad) = flags
            .split('|')
            .filter(|_| !flags.is_empty())
            .find(|f| f.is_empty() || !f.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        {
            return Err(perr(
                line,
                format!("flag {bad:?} is not a flag name (letters, digits, _)"),
            ));
        }
        let at = *index.entry(code.to_owned()).or_insert_with(|| {
            concepts.push(ConceptRecord {
                line,
                code: code.to_owned(),
                display: code.to_owned(),
                long_description: None,
                billable: None,
                parent_code: None,
                added_date: None,
                effective_date: None,
                termination_date: None,
                properties: Vec::new(),
            });
            periods.push(Vec::new());
            concepts.len() - 1
        });
        if let Some((_, _, first)) = periods[at].iter().find(|(s, e, _)| {
            start <= e.unwrap_or(NaiveDate::MAX) && *s <= end.unwrap_or(NaiveDate::MAX)
        }) {
            return Err(perr(
                line,
                format!("{code}: the period overlaps the one on line {first}"),
            ));
        }
        periods[at].push((start, end, line));
        concepts[at].properties.push((
            format!(
                "period:{start}:{}",
                end.map_or_else(String::new, |e| e.to_string())
            ),
            flags.to_owned(),
        ));
        earliest = Some(earliest.map_or(start, |e| e.min(start)));
    }
    Ok(ConceptFile {
        release: ReleaseHint {
            version: version_of(file_name),
            effective_from: earliest,
        },
        concepts,
        skipped: Vec::new(),
        lines_read: table.lines_read,
    })
}

/// `v43.1` from `mce_v43.1_icd10dx_code_master.csv`.
fn version_of(file_name: &str) -> Option<String> {
    let name = file_name.rsplit('/').next()?;
    let rest = name.strip_prefix("mce_v")?;
    let version: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    (!version.is_empty()).then(|| format!("v{version}"))
}

#[cfg(test)]
mod tests {
    use super::super::tests::read_shared;
    use super::*;

    const FIXTURE: &str = "code,start_date,end_date,mce_flags\r\n\
        A34,20151001,20240930,female|maternity\r\n\
        A34,20241001,,maternity\r\n\
        G01,20151001,,manifestation\r\n\
        D235,20151001,,\r\n";

    #[test]
    fn periods_become_properties_of_one_concept() {
        let file = parse(FIXTURE.as_bytes(), "mce_v43.1_icd10dx_code_master.csv").unwrap();
        assert_eq!(file.release.version.as_deref(), Some("v43.1"));
        assert_eq!(file.release.effective_from, "2015-10-01".parse().ok());
        assert_eq!(file.concepts.len(), 3);
        assert_eq!(
            file.concepts[0].properties,
            [
                (
                    "period:2015-10-01:2024-09-30".to_owned(),
                    "female|maternity".to_owned()
                ),
                ("period:2024-10-01:".to_owned(), "maternity".to_owned())
            ]
        );
        assert_eq!(file.concepts[2].properties[0].1, "");
    }

    #[test]
    fn bad_rows_are_refused_with_their_line() {
        for (row, reason) in [
            ("A3.4,20151001,,", "not a dotless"),
            ("A34,2015-10-01,,", "start_date"),
            ("A34,20151001,20141001,", "before start_date"),
            ("A34,20151001,,fe-male", "not a flag name"),
            ("A34,20151001,,male||female", "not a flag name"),
            (
                "A34,20151001,,\r\nA34,20200101,,",
                "overlaps the one on line 2",
            ),
        ] {
            let text = format!("code,start_date,end_date,mce_flags\r\n{row}\r\n");
            let error = parse(text.as_bytes(), "mce.csv").unwrap_err();
            assert!(error.reason.contains(reason), "{row}: {error}");
        }
    }

    #[test]
    fn real_v43_1_code_master() {
        let Some(data) = read_shared("mce/mce_v43.1_icd10dx_code_master.csv.gz") else {
            return;
        };
        let file = parse(&data, "mce_v43.1_icd10dx_code_master.csv").unwrap();
        assert_eq!(file.lines_read, 84_933);
        let g01 = file.concepts.iter().find(|c| c.code == "G01").unwrap();
        assert_eq!(g01.properties[0].1, "manifestation");
    }

    /// The domain's age bands are the MCE's own, as its age-range file
    /// states them.
    #[test]
    fn the_domain_age_bands_match_the_mce_age_range_file() {
        let Some(data) = read_shared("mce/mce_v43.1_age_ranges.csv") else {
            return;
        };
        let text = String::from_utf8(data).expect("UTF-8");
        let mut rows: Vec<String> = text
            .lines()
            .skip(1)
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.trim().to_ascii_lowercase())
            .collect();
        rows.sort();
        let mut bands: Vec<String> = crate::domain::mce::AGE_BANDS
            .iter()
            .map(|(name, low, high, from, to)| {
                format!(
                    "{name},{low},{high},{},{}",
                    from.replace('-', ""),
                    to.map_or_else(String::new, |t| t.replace('-', ""))
                )
            })
            .collect();
        bands.sort();
        assert_eq!(bands, rows);
    }
}
