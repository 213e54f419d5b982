//! CMS NCCI medically unlikely edits (`MCR_MUE_PractitionerServices_Eff_07-01-2026.csv`).
//!
//! CSV in Latin-1 (`®` is 0xAE): each byte is decoded as U+00XX. Record 1 is the
//! AMA notice, a quoted multi-line field; the header's first field is
//! `HCPCS/\nCPT Code`. Data rows: code, MUE value, adjudication indicator text
//! whose leading digit is the MAI, rationale.

use chrono::NaiveDate;

use super::{
    FirstSeen, ParseError, ReleaseHint, Skipped, column_count_error, count_lines, csv_records,
    is_hcpcs_code, no_data, perr,
};

/// The edits of one MUE table.
#[derive(Debug, Clone, PartialEq)]
pub struct MueFile {
    /// Release named by the file name.
    pub release: ReleaseHint,
    /// Edits in file order.
    pub rows: Vec<MueRecord>,
    /// Lines deliberately not loaded.
    pub skipped: Vec<Skipped>,
    /// Physical lines in the decompressed file.
    pub lines_read: u64,
}

/// The most units of one code a provider may report for a beneficiary.
#[derive(Debug, Clone, PartialEq)]
pub struct MueRecord {
    /// 1-based physical line the record starts on.
    pub line: u64,
    /// HCPCS/CPT code.
    pub code: String,
    /// Maximum units.
    pub mue_value: u32,
    /// 1 = per claim line, 2 = per day (policy), 3 = per day (clinical).
    pub mai: u8,
    /// MUE rationale.
    pub rationale: String,
}

const COLUMNS: usize = 4;
/// The header follows the notice; allow a few more preamble records than that.
const MAX_PREAMBLE_RECORDS: usize = 5;

/// Parses an MUE CSV; refuses it whole on the first malformed row.
pub fn parse(data: &[u8], file_name: &str) -> Result<MueFile, ParseError> {
    let lines_read = count_lines(data);
    let mut records = csv_records(data, b',');
    let mut preamble = 0;
    loop {
        let Some(record) = records.next() else {
            return Err(no_data(lines_read));
        };
        let (line, record) = record?;
        let first = latin1(record.get(0).unwrap_or_default());
        if first.trim_start().to_ascii_uppercase().starts_with("HCPCS") {
            if record.len() != COLUMNS {
                return Err(column_count_error(line, COLUMNS, record.len()));
            }
            break;
        }
        preamble += 1;
        if preamble >= MAX_PREAMBLE_RECORDS {
            return Err(perr(line, "no header row starting with \"HCPCS\""));
        }
    }
    let mut rows = Vec::new();
    let mut seen = FirstSeen::new();
    for record in records {
        let (line, record) = record?;
        if record.len() != COLUMNS {
            return Err(column_count_error(line, COLUMNS, record.len()));
        }
        let cells: Vec<String> = record.iter().map(latin1).collect();
        let code = cells[0].trim();
        if !is_hcpcs_code(code) {
            return Err(perr(
                line,
                format!("code {code:?} is not a 5-character code"),
            ));
        }
        let value = cells[1].trim();
        let mue_value = value
            .parse::<u32>()
            .ok()
            .filter(|_| value.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| perr(line, format!("MUE value {value:?} is not a whole number")))?;
        let indicator = cells[2].trim();
        let mai = match indicator.as_bytes().first() {
            Some(digit @ b'1'..=b'3')
                if !indicator.as_bytes().get(1).is_some_and(u8::is_ascii_digit) =>
            {
                digit - b'0'
            }
            _ => {
                return Err(perr(
                    line,
                    format!("adjudication indicator {indicator:?} does not start with 1, 2 or 3"),
                ));
            }
        };
        seen.insert(code.to_owned(), line).map_err(|first| {
            perr(
                line,
                format!("duplicate code {code} (first on line {first})"),
            )
        })?;
        rows.push(MueRecord {
            line,
            code: code.to_owned(),
            mue_value,
            mai,
            rationale: cells[3].trim().to_owned(),
        });
    }
    if rows.is_empty() {
        return Err(no_data(lines_read));
    }
    Ok(MueFile {
        release: release_from_name(file_name),
        rows,
        skipped: Vec::new(),
        lines_read,
    })
}

/// Latin-1 maps every byte to the code point of the same value.
fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// `MCR_MUE_PractitionerServices_Eff_07-01-2026…` → `2026-07-01-practitioner`
/// (DMESupplierServices → `dme-supplier`, OutpatientHospitalServices →
/// `outpatient-hospital`), effective 2026-07-01.
fn release_from_name(file_name: &str) -> ReleaseHint {
    let parsed = file_name.strip_prefix("MCR_MUE_").and_then(|rest| {
        let (table, rest) = rest.split_once("_Eff_")?;
        let date = NaiveDate::parse_from_str(rest.get(..10)?, "%m-%d-%Y").ok()?;
        Some((
            kebab_case(table.strip_suffix("Services").unwrap_or(table)),
            date,
        ))
    });
    match parsed {
        Some((table, date)) => ReleaseHint {
            version: Some(format!("{}-{table}", date.format("%Y-%m-%d"))),
            effective_from: Some(date),
        },
        None => ReleaseHint::default(),
    }
}

/// `DMESupplier` → `dme-supplier`: a new word starts at a capital that follows a
/// lowercase letter, or that precedes one after a run of capitals.
fn kebab_case(camel: &str) -> String {
    let chars: Vec<char> = camel.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let prev = i.checked_sub(1).map(|p| chars[p]);
        let next = chars.get(i + 1);
        let boundary = c.is_ascii_uppercase()
            && (prev.is_some_and(|p| p.is_ascii_lowercase())
                || (prev.is_some_and(|p| p.is_ascii_uppercase())
                    && next.is_some_and(char::is_ascii_lowercase)));
        if boundary {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::tests::read_shared;
    use super::*;

    // Invented notice and rationale text in the official shape (Latin-1 0xAE = ®).
    fn fixture() -> Vec<u8> {
        let mut data = b"\"Invented notice line one.\n\nInvented CPT\xae notice.\",,,\r\n".to_vec();
        data.extend_from_slice(
            b"\"HCPCS/\nCPT Code\",Invented Value Column,MUE Adjudication Indicator,MUE Rationale\r\n\
              11400,2,2 Date of Service Edit: Policy,Invented rationale\r\n\
              88305,\"12\",3 Date of Service Edit: Clinical,\"Invented, with comma\"\r\n\
              0001U,1,1 Line Edit,Invented rationale\r\n",
        );
        data
    }

    #[test]
    fn parses_rows_after_notice_and_header() {
        let file = parse(
            &fixture(),
            "MCR_MUE_PractitionerServices_Eff_07-01-2026.csv",
        )
        .unwrap();
        assert_eq!(file.lines_read, 8);
        assert_eq!(file.rows.len(), 3);
        let first = &file.rows[0];
        assert_eq!(
            (first.line, first.code.as_str(), first.mue_value, first.mai),
            (6, "11400", 2, 2)
        );
        assert_eq!(file.rows[1].mue_value, 12);
        assert_eq!(file.rows[1].rationale, "Invented, with comma");
        assert_eq!(file.rows[2].mai, 1);
        assert_eq!(
            file.release,
            ReleaseHint {
                version: Some("2026-07-01-practitioner".to_owned()),
                effective_from: NaiveDate::from_ymd_opt(2026, 7, 1),
            }
        );
    }

    #[test]
    fn release_from_other_tables() {
        let version = |name: &str| release_from_name(name).version;
        assert_eq!(
            version("MCR_MUE_DMESupplierServices_Eff_01-01-2026.csv").as_deref(),
            Some("2026-01-01-dme-supplier")
        );
        assert_eq!(
            version("MCR_MUE_OutpatientHospitalServices_Eff_04-01-2026.csv").as_deref(),
            Some("2026-04-01-outpatient-hospital")
        );
        assert_eq!(release_from_name("mue.csv"), ReleaseHint::default());
    }

    fn error_of(data: &[u8]) -> ParseError {
        parse(data, "MCR_MUE_PractitionerServices_Eff_07-01-2026.csv").unwrap_err()
    }

    fn replaced(from: &str, to: &str) -> Vec<u8> {
        let data = fixture();
        let at = data
            .windows(from.len())
            .position(|w| w == from.as_bytes())
            .unwrap();
        [&data[..at], to.as_bytes(), &data[at + from.len()..]].concat()
    }

    #[test]
    fn broken_copies_report_the_line() {
        let e = error_of(&replaced("11400,2,", "11400,two,"));
        assert_eq!(e.line, 6);
        assert!(e.reason.contains("MUE value"), "{e}");
        let e = error_of(&replaced("3 Date", "4 Date"));
        assert_eq!(e.line, 7);
        let e = error_of(&replaced(
            "0001U,1,1 Line Edit,Invented rationale",
            "0001U,1,1 Line Edit",
        ));
        assert_eq!(
            (e.line, e.reason.as_str()),
            (8, "expected 4 columns, found 3")
        );
        let e = error_of(&replaced("0001U", "0001\u{ff}"));
        assert_eq!(e.line, 8);
        let e = error_of(&replaced("0001U", "11400"));
        assert!(e.reason.contains("first on line 6"), "{e}");
        let header_only: Vec<u8> =
            fixture()[..fixture().windows(5).position(|w| w == b"11400").unwrap()].to_vec();
        assert_eq!(error_of(&header_only).line, 6);
    }

    #[test]
    fn real_excerpt() {
        let name = "MCR_MUE_PractitionerServices_Eff_07-01-2026.excerpt.csv";
        let Some(data) = read_shared(&format!("ncci/{name}")) else {
            return;
        };
        let file = parse(&data, name).unwrap();
        assert_eq!(file.rows.len(), 44);
        assert_eq!(file.rows[0].code, "0001U");
        assert_eq!(file.rows[0].line, 10);
        assert_eq!(file.lines_read, 53);
        assert_eq!(
            file.release.version.as_deref(),
            Some("2026-07-01-practitioner")
        );
        let count = |mai: u8| file.rows.iter().filter(|r| r.mai == mai).count();
        assert_eq!((count(1), count(2), count(3)), (0, 30, 14));
    }
}
