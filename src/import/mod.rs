//! Pure parsers for the official reference-data files the scrubber loads.
//!
//! Every parser takes already-decompressed bytes plus the file's base name and
//! either returns all records or refuses the whole file with the first problem
//! and its physical line: a half-loaded code set would make claims pass or fail
//! for the wrong reason, so nothing is dropped silently.

pub mod aoc;
pub mod cpt;
pub mod hcpcs;
pub mod icd10cm_order;
pub mod icd10cm_tabular;
pub mod mce;
pub mod mpfs;
pub mod mue;
pub mod ncci_ptp;
pub mod nucc;
pub mod pos;
#[cfg(test)]
mod properties;
pub mod source;

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use chrono::NaiveDate;

/// The kinds of file `claimscrub import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportKind {
    /// CMS ICD-10-CM order file (fixed width).
    Icd10CmOrder,
    /// CDC ICD-10-CM tabular XML.
    Icd10CmTabular,
    /// NUCC taxonomy CSV.
    Nucc,
    /// CMS place-of-service CSV.
    Pos,
    /// CMS HCPCS Level II 320-byte record file (procedures and modifiers).
    Hcpcs,
    /// CMS PPRRVU relative value file.
    Mpfs,
    /// NCCI practitioner PTP file.
    NcciPtp,
    /// NCCI practitioner MUE CSV.
    Mue,
    /// A licensee's CPT CSV.
    Cpt,
    /// CMS Medicare Code Editor diagnosis code master CSV.
    Mce,
    /// NCCI add-on code edits CSV.
    NcciAoc,
}

impl ImportKind {
    /// Every kind, in the order the command line lists them.
    pub const ALL: [Self; 11] = [
        Self::Icd10CmOrder,
        Self::Icd10CmTabular,
        Self::Nucc,
        Self::Pos,
        Self::Hcpcs,
        Self::Mpfs,
        Self::NcciPtp,
        Self::Mue,
        Self::Cpt,
        Self::Mce,
        Self::NcciAoc,
    ];

    /// The name `claimscrub import` takes.
    pub fn name(self) -> &'static str {
        match self {
            Self::Icd10CmOrder => "icd10cm-order",
            Self::Icd10CmTabular => "icd10cm-tabular",
            Self::Nucc => "nucc",
            Self::Pos => "pos",
            Self::Hcpcs => "hcpcs",
            Self::Mpfs => "mpfs",
            Self::NcciPtp => "ncci-ptp",
            Self::Mue => "mue",
            Self::Cpt => "cpt",
            Self::Mce => "mce",
            Self::NcciAoc => "ncci-aoc",
        }
    }

    /// What the file is, for the command line's help.
    pub fn description(self) -> &'static str {
        match self {
            Self::Icd10CmOrder => "CMS ICD-10-CM order file (fixed width)",
            Self::Icd10CmTabular => "CDC ICD-10-CM tabular XML",
            Self::Nucc => "NUCC taxonomy CSV",
            Self::Pos => "CMS place-of-service CSV",
            Self::Hcpcs => "CMS HCPCS Level II 320-byte record file (procedures and modifiers)",
            Self::Mpfs => "CMS PPRRVU relative value file",
            Self::NcciPtp => "NCCI practitioner PTP file",
            Self::Mue => "NCCI practitioner MUE CSV",
            Self::Cpt => "A licensee's CPT CSV",
            Self::Mce => "CMS Medicare Code Editor diagnosis code master CSV",
            Self::NcciAoc => "NCCI add-on code edits CSV",
        }
    }
}

/// A refused input: 1-based physical line number in the (decompressed) file and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct ParseError {
    /// 1-based physical line in the decompressed file.
    pub line: u64,
    /// Why the input was refused; never contains licensed descriptor text.
    pub reason: String,
}

/// A record deliberately not loaded (e.g. a duplicate), with the reason — reported in the import summary.
#[derive(Debug, Clone, PartialEq)]
pub struct Skipped {
    /// 1-based physical line in the decompressed file.
    pub line: u64,
    /// Why the line was not loaded.
    pub reason: String,
}

/// What the file itself says about its release (from content or the official file name); None when it says nothing.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReleaseHint {
    /// Release label, e.g. `FY2025` or `2025-10`.
    pub version: Option<String>,
    /// First day the release applies to.
    pub effective_from: Option<NaiveDate>,
}

/// One concept of a code system.
#[derive(Debug, Clone, PartialEq)]
pub struct ConceptRecord {
    /// 1-based physical line the concept was read from.
    pub line: u64,
    /// Canonical code (see each kind's module for its form).
    pub code: String,
    /// Short title / name.
    pub display: String,
    /// Full title, when the file has one.
    pub long_description: Option<String>,
    /// Valid for use on a claim (ICD-10-CM only).
    pub billable: Option<bool>,
    /// Enclosing code in the ICD-10-CM hierarchy.
    pub parent_code: Option<String>,
    /// Date the code was added to the code set.
    pub added_date: Option<NaiveDate>,
    /// Date the latest change to the code took effect.
    pub effective_date: Option<NaiveDate>,
    /// Last date the code may be used.
    pub termination_date: Option<NaiveDate>,
    /// Extra named fields, stable snake_case keys, in a fixed order per kind.
    pub properties: Vec<(String, String)>,
}

/// Concepts of a single-table code system file.
#[derive(Debug, Clone, PartialEq)]
pub struct ConceptFile {
    /// Release the file describes.
    pub release: ReleaseHint,
    /// Concepts in file order.
    pub concepts: Vec<ConceptRecord>,
    /// Lines deliberately not loaded.
    pub skipped: Vec<Skipped>,
    /// Physical lines in the decompressed file.
    pub lines_read: u64,
}

fn perr(line: u64, reason: impl Into<String>) -> ParseError {
    ParseError {
        line,
        reason: reason.into(),
    }
}

/// Physical line count: a final line without a line end still counts.
fn count_lines(data: &[u8]) -> u64 {
    let newlines = count_newlines(data);
    match data.last() {
        None | Some(b'\n') => newlines,
        Some(_) => newlines + 1,
    }
}

fn count_newlines(data: &[u8]) -> u64 {
    data.iter().filter(|&&b| b == b'\n').count() as u64
}

/// 1-based line holding byte `offset`.
fn line_at(data: &[u8], offset: usize) -> u64 {
    count_newlines(&data[..offset.min(data.len())]) + 1
}

/// The whole input as UTF-8, or the line of the first invalid byte.
fn require_utf8(data: &[u8]) -> Result<&str, ParseError> {
    std::str::from_utf8(data).map_err(|e| {
        perr(
            line_at(data, e.valid_up_to()),
            "invalid UTF-8 byte sequence (file encoding must be UTF-8)",
        )
    })
}

/// Error for a file that holds no data rows; `lines_read + 1` is where the first one was expected.
fn no_data(lines_read: u64) -> ParseError {
    perr(lines_read + 1, "file contains no data rows")
}

fn is_blank_line(line: &[u8]) -> bool {
    // 0x1A is the DOS end-of-file mark some CMS downloads still carry.
    line.iter().all(|b| b.is_ascii_whitespace() || *b == 0x1A)
}

/// Physical lines (LF or CRLF stripped) numbered from 1. Blank lines after the last
/// content line are returned as `Skipped` so a stray end-of-file newline or DOS EOF
/// mark does not refuse a fixed-width file, while blank lines between records still do.
fn split_lines(data: &[u8]) -> (Vec<(u64, &[u8])>, Vec<Skipped>) {
    let mut lines: Vec<(u64, &[u8])> = Vec::new();
    let mut rest = data;
    let mut number = 0u64;
    while !rest.is_empty() {
        number += 1;
        let (line, next) = match rest.iter().position(|&b| b == b'\n') {
            Some(end) => (&rest[..end], &rest[end + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        lines.push((number, line.strip_suffix(b"\r").unwrap_or(line)));
        rest = next;
    }
    let content_end = lines
        .iter()
        .rposition(|(_, line)| !is_blank_line(line))
        .map_or(0, |i| i + 1);
    let skipped = lines
        .split_off(content_end)
        .into_iter()
        .map(|(line, _)| Skipped {
            line,
            reason: "blank line at end of file".to_owned(),
        })
        .collect();
    (lines, skipped)
}

/// A line as ASCII text, refusing any other byte.
fn ascii_line(number: u64, line: &[u8]) -> Result<&str, ParseError> {
    match std::str::from_utf8(line) {
        Ok(text) if text.is_ascii() => Ok(text),
        _ => {
            let col = line.iter().position(|b| !b.is_ascii()).unwrap_or(0);
            Err(perr(
                number,
                format!(
                    "non-ASCII byte 0x{:02X} at column {} (file encoding must be ASCII)",
                    line[col],
                    col + 1
                ),
            ))
        }
    }
}

/// Parses a `YYYYMMDD` date; `field` names the column in the error.
fn parse_yyyymmdd(text: &str, line: u64, field: &str) -> Result<NaiveDate, ParseError> {
    let bad = || {
        perr(
            line,
            format!("{field}: {text:?} is not a valid YYYYMMDD date"),
        )
    };
    if text.len() != 8 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    NaiveDate::parse_from_str(text, "%Y%m%d").map_err(|_| bad())
}

/// Like [`parse_yyyymmdd`] but a blank field is `None`.
fn parse_optional_yyyymmdd(
    text: &str,
    line: u64,
    field: &str,
) -> Result<Option<NaiveDate>, ParseError> {
    let text = text.trim();
    if text.is_empty() {
        Ok(None)
    } else {
        parse_yyyymmdd(text, line, field).map(Some)
    }
}

/// US federal fiscal year `fy` starts on October 1 of the previous calendar year.
fn fiscal_year_start(fy: i32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(fy - 1, 10, 1)
}

/// Month number of a quarterly release abbreviation (JAN, APR, JUL, OCT), any case.
fn quarter_month(abbrev: &str) -> Option<u32> {
    match abbrev.to_ascii_uppercase().as_str() {
        "JAN" => Some(1),
        "APR" => Some(4),
        "JUL" => Some(7),
        "OCT" => Some(10),
        _ => None,
    }
}

/// Leading ASCII digits of `text` and the rest.
fn split_digits(text: &str) -> (&str, &str) {
    let end = text
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(text.len());
    text.split_at(end)
}

fn is_upper_alnum(text: &str) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
}

/// A five-character HCPCS/CPT code (digits and capital letters).
fn is_hcpcs_code(text: &str) -> bool {
    text.len() == 5 && is_upper_alnum(text)
}

/// First line each key was seen on, so a duplicate names both lines.
struct FirstSeen<K>(HashMap<K, u64>);

impl<K: std::hash::Hash + Eq> FirstSeen<K> {
    fn new() -> Self {
        Self(HashMap::new())
    }

    /// Records `key` at `line`, or returns the line it was first seen on.
    fn insert(&mut self, key: K, line: u64) -> Result<(), u64> {
        match self.0.entry(key) {
            Entry::Occupied(first) => Err(*first.get()),
            Entry::Vacant(slot) => {
                slot.insert(line);
                Ok(())
            }
        }
    }
}

/// Turns byte offsets into 1-based line numbers; offsets must not decrease, so
/// each byte is counted once even for a 10 MB file.
struct LineCounter<'a> {
    data: &'a [u8],
    offset: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(data: &'a [u8]) -> Self {
        Self {
            data,
            offset: 0,
            line: 1,
        }
    }

    fn line_at(&mut self, offset: u64) -> u64 {
        let offset = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.data.len());
        if offset > self.offset {
            self.line += count_newlines(&self.data[self.offset..offset]);
            self.offset = offset;
        }
        self.line
    }
}

/// CSV records of `data` with the physical line each starts on. Flexible, so the
/// callers can report a wrong column count with its line themselves.
fn csv_records(
    data: &[u8],
    delimiter: u8,
) -> impl Iterator<Item = Result<(u64, csv::ByteRecord), ParseError>> + '_ {
    let mut lines = LineCounter::new(data);
    // The csv crate's own `Position::line()` lags one line behind after every
    // CRLF, so lines come from the byte offset, which can point at the line end
    // left over from the previous record: step past it.
    let mut start_line = move |position: Option<&csv::Position>| {
        let mut offset = position.map_or(0, csv::Position::byte);
        while let Some(b'\r' | b'\n') = usize::try_from(offset).ok().and_then(|i| data.get(i)) {
            offset += 1;
        }
        lines.line_at(offset)
    };
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(data)
        .into_byte_records()
        .map(move |result| match result {
            Ok(record) => Ok((start_line(record.position()), record)),
            Err(e) => Err(perr(
                start_line(e.position()),
                format!("malformed CSV: {e}"),
            )),
        })
}

/// A field as UTF-8 text, or an error naming its column.
fn utf8_field(record: &csv::ByteRecord, index: usize, line: u64) -> Result<&str, ParseError> {
    let bytes = record.get(index).unwrap_or_default();
    std::str::from_utf8(bytes)
        .map_err(|_| perr(line, format!("column {} is not valid UTF-8", index + 1)))
}

fn column_count_error(line: u64, expected: usize, found: usize) -> ParseError {
    perr(line, format!("expected {expected} columns, found {found}"))
}

/// A UTF-8 CSV file with one header row.
struct CsvTable {
    /// Physical line of the header.
    header_line: u64,
    /// Header cells, trimmed.
    header: Vec<String>,
    /// Data rows with their starting physical line; each has `header.len()` cells.
    rows: Vec<(u64, Vec<String>)>,
    /// Physical lines in the file.
    lines_read: u64,
}

impl CsvTable {
    /// Header equals `expected`, ignoring case and surrounding blanks.
    fn header_is(&self, expected: &[&str]) -> bool {
        self.header.len() == expected.len()
            && self
                .header
                .iter()
                .zip(expected)
                .all(|(found, expected)| found.eq_ignore_ascii_case(expected))
    }
}

/// Reads a UTF-8 CSV whose first record is a header; every data row must have the
/// header's column count, and at least one data row must exist.
fn utf8_csv_table(data: &[u8]) -> Result<CsvTable, ParseError> {
    let lines_read = count_lines(data);
    let text = require_utf8(data)?;
    let mut records = csv_records(text.as_bytes(), b',');
    let (header_line, header_record) = records.next().ok_or_else(|| no_data(lines_read))??;
    let header = (0..header_record.len())
        .map(|i| utf8_field(&header_record, i, header_line).map(|cell| cell.trim().to_owned()))
        .collect::<Result<Vec<_>, _>>()?;
    let mut rows = Vec::new();
    for record in records {
        let (line, record) = record?;
        if record.len() != header.len() {
            return Err(column_count_error(line, header.len(), record.len()));
        }
        let cells = (0..record.len())
            .map(|i| utf8_field(&record, i, line).map(str::to_owned))
            .collect::<Result<Vec<_>, _>>()?;
        rows.push((line, cells));
    }
    if rows.is_empty() {
        return Err(no_data(lines_read));
    }
    Ok(CsvTable {
        header_line,
        header,
        rows,
        lines_read,
    })
}

/// `Some(text)` unless blank.
fn non_empty(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// The shared reference-data folder: `CLAIMSCRUB_SHARED_DATA`, else `../shared/data`
    /// beside the crate (where the main crate sits); `None` when neither exists.
    pub(super) fn shared_data(rel: &str) -> Option<PathBuf> {
        let root = match std::env::var_os("CLAIMSCRUB_SHARED_DATA") {
            Some(dir) => PathBuf::from(dir),
            None => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data")),
        };
        root.is_dir().then(|| root.join(rel))
    }

    /// Decompressed bytes of a shared data file. `None`, after saying so, when
    /// the folder is absent (a user's clone without the licensed fixtures);
    /// under CI (`CI` set) an absent folder fails the test instead, so CI
    /// never passes a test it did not run.
    pub(super) fn read_shared(rel: &str) -> Option<Vec<u8>> {
        let Some(path) = shared_data(rel) else {
            let expected = std::env::var("CLAIMSCRUB_SHARED_DATA").unwrap_or_else(|_| {
                concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data").to_owned()
            });
            assert!(
                std::env::var_os("CI").is_none(),
                "shared data folder not found at {expected} under CI; set CLAIMSCRUB_SHARED_DATA"
            );
            eprintln!(
                "SKIPPED: shared data folder not found at {expected}; set CLAIMSCRUB_SHARED_DATA"
            );
            return None;
        };
        Some(
            source::read_decompressed(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display())),
        )
    }

    #[test]
    fn split_lines_accepts_crlf_and_lf_and_reports_trailing_blanks() {
        let (lines, skipped) = split_lines(b"a\r\nb\nc\r\n\r\n\x1a");
        assert_eq!(lines, vec![(1, &b"a"[..]), (2, &b"b"[..]), (3, &b"c"[..])]);
        assert_eq!(
            skipped.iter().map(|s| s.line).collect::<Vec<_>>(),
            vec![4, 5]
        );
    }

    #[test]
    fn line_counting_counts_an_unterminated_last_line() {
        assert_eq!(count_lines(b""), 0);
        assert_eq!(count_lines(b"a\n"), 1);
        assert_eq!(count_lines(b"a\nb"), 2);
        assert_eq!(line_at(b"a\nb\nc", 4), 3);
    }

    #[test]
    fn utf8_errors_name_the_line_of_the_bad_byte() {
        assert_eq!(require_utf8(b"ok\nfine\nbad \xff\n").unwrap_err().line, 3);
    }

    #[test]
    fn dates_are_strict() {
        let date = parse_yyyymmdd("20250229", 7, "added date").unwrap_err();
        assert_eq!(date.line, 7);
        assert!(date.reason.contains("added date"));
        assert!(parse_yyyymmdd("2025011", 1, "x").is_err());
        assert_eq!(parse_optional_yyyymmdd("        ", 1, "x"), Ok(None));
        assert_eq!(
            parse_yyyymmdd("20251001", 1, "x"),
            Ok(NaiveDate::from_ymd_opt(2025, 10, 1).unwrap())
        );
    }

    #[test]
    fn csv_records_report_the_physical_start_line() {
        let lf = b"h1,h2\n\"multi\nline\",x\n\nlast,y\n";
        let crlf = b"h1,h2\r\n\"multi\nline\",x\r\n\r\nlast,y\r\nend";
        for data in [&lf[..], &crlf[..]] {
            let rows: Vec<_> = csv_records(data, b',').map(|r| r.unwrap().0).collect();
            assert_eq!(rows[..3], [1, 2, 5]);
        }
    }
}
