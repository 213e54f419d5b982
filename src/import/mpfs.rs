//! CMS National Physician Fee Schedule Relative Value File (`PPRRVU23_JAN.csv`).
//!
//! CSV with a title/copyright preamble and a stacked column heading whose row
//! starting with `HCPCS` names the columns; one row per code and modifier
//! follows. Columns are taken by position (CMS layout). The DESCRIPTION column
//! holds AMA CPT short descriptors and is never decoded or kept.

use chrono::NaiveDate;

use crate::domain::mpfs_status::MpfsStatus;

use super::{
    FirstSeen, ParseError, ReleaseHint, Skipped, column_count_error, count_lines, csv_records,
    is_hcpcs_code, is_upper_alnum, no_data, perr, quarter_month, split_digits, utf8_field,
};

/// The rows of one PPRRVU release.
#[derive(Debug, Clone, PartialEq)]
pub struct MpfsFile {
    /// Release named by the file name.
    pub release: ReleaseHint,
    /// One row per code and modifier, in file order.
    pub rows: Vec<MpfsRecord>,
    /// Rows deliberately not loaded (blank rows, the DOS end-of-file mark).
    pub skipped: Vec<Skipped>,
    /// Physical lines in the decompressed file.
    pub lines_read: u64,
}

/// The payment indicators of one code (and modifier) that a scrubber needs.
#[derive(Debug, Clone, PartialEq)]
pub struct MpfsRecord {
    /// 1-based physical line.
    pub line: u64,
    /// HCPCS/CPT code.
    pub code: String,
    /// `26`, `TC`, `53`, … for component rows; `None` for the global row.
    pub modifier: Option<String>,
    /// STATUS CODE.
    pub status: MpfsStatus,
    /// PCTC IND (0 = no 26/TC split, 1 = diagnostic test with 26/TC rows, …).
    pub pctc: String,
    /// GLOB DAYS (000, 010, 090, XXX, YYY, ZZZ, …).
    pub global_days: String,
    /// MULT PROC indicator.
    pub mult_proc: String,
    /// BILAT SURG indicator.
    pub bilat: String,
    /// ASST SURG indicator.
    pub asst: String,
    /// CO-SURG indicator.
    pub co_surg: String,
    /// TEAM SURG indicator.
    pub team_surg: String,
    pub work_rvu: Option<f64>,
    /// PRE OP share of the global package.
    pub pre_op: Option<f64>,
    /// INTRA OP share of the global package.
    pub intra_op: Option<f64>,
    /// POST OP share of the global package.
    pub post_op: Option<f64>,
}

// 0-based positions in the CMS layout.
const HCPCS: usize = 0;
const MOD: usize = 1;
const STATUS: usize = 3;
const WORK_RVU: usize = 5;
const PCTC: usize = 13;
const GLOB_DAYS: usize = 14;
const PRE_OP: usize = 15;
const INTRA_OP: usize = 16;
const POST_OP: usize = 17;
const MULT_PROC: usize = 18;
const BILAT_SURG: usize = 19;
const ASST_SURG: usize = 20;
const CO_SURG: usize = 21;
const TEAM_SURG: usize = 22;
/// The record must reach at least TEAM SURG.
const MIN_COLUMNS: usize = TEAM_SURG + 1;

/// Where the reader is in the file.
#[derive(PartialEq)]
enum Part {
    Preamble,
    Heading,
    Data,
}

/// Parses a PPRRVU CSV; refuses it whole on the first malformed row.
pub fn parse(data: &[u8], file_name: &str) -> Result<MpfsFile, ParseError> {
    let lines_read = count_lines(data);
    let mut file = MpfsFile {
        release: release_from_name(file_name),
        rows: Vec::new(),
        skipped: Vec::new(),
        lines_read,
    };
    let mut part = Part::Preamble;
    let mut columns = 0;
    let mut seen = FirstSeen::new();
    for record in csv_records(data, b',') {
        let (line, record) = record?;
        let first = String::from_utf8_lossy(record.get(HCPCS).unwrap_or_default());
        let first = first.trim();
        if part == Part::Preamble {
            if first.eq_ignore_ascii_case("HCPCS") {
                columns = record.len();
                if columns < MIN_COLUMNS {
                    return Err(perr(
                        line,
                        format!("header has {columns} columns, at least {MIN_COLUMNS} expected"),
                    ));
                }
                part = Part::Heading;
            }
            continue;
        }
        if let Some(reason) = filler_reason(&record) {
            file.skipped.push(Skipped {
                line,
                reason: reason.to_owned(),
            });
            continue;
        }
        // Stacked heading rows leave the HCPCS column blank; data starts at the first code.
        if part == Part::Heading && first.is_empty() {
            continue;
        }
        part = Part::Data;
        if record.len() != columns {
            return Err(column_count_error(line, columns, record.len()));
        }
        let row = parse_row(line, &record)?;
        let key = (row.code.clone(), row.modifier.clone());
        seen.insert(key, line).map_err(|first| {
            perr(
                line,
                format!(
                    "duplicate code {} modifier {:?} (first on line {first})",
                    row.code,
                    row.modifier.as_deref().unwrap_or_default()
                ),
            )
        })?;
        file.rows.push(row);
    }
    if part == Part::Preamble {
        return Err(perr(1, "no header row with HCPCS in the first column"));
    }
    if file.rows.is_empty() {
        return Err(no_data(lines_read));
    }
    Ok(file)
}

/// Why a row with no content is not data: CMS files end with a DOS EOF mark (0x1A).
fn filler_reason(record: &csv::ByteRecord) -> Option<&'static str> {
    let mut cells = record.iter().map(<[u8]>::trim_ascii);
    let first = cells.next().unwrap_or_default();
    if !cells.all(<[u8]>::is_empty) {
        return None;
    }
    match first {
        b"" => Some("empty row"),
        b"\x1a" => Some("DOS end-of-file mark (0x1A)"),
        _ => None,
    }
}

fn parse_row(line: u64, record: &csv::ByteRecord) -> Result<MpfsRecord, ParseError> {
    let text = |index: usize| utf8_field(record, index, line).map(str::trim);
    let code = text(HCPCS)?;
    if !is_hcpcs_code(code) {
        return Err(perr(
            line,
            format!("HCPCS {code:?} is not a 5-character code"),
        ));
    }
    let modifier = text(MOD)?;
    if !modifier.is_empty() && (modifier.len() != 2 || !is_upper_alnum(modifier)) {
        return Err(perr(
            line,
            format!("MOD {modifier:?} is not a 2-character modifier"),
        ));
    }
    let status = match text(STATUS)? {
        "" => return Err(perr(line, "STATUS CODE is blank")),
        letter => MpfsStatus::parse(letter).ok_or_else(|| {
            perr(
                line,
                format!("STATUS CODE {letter:?} is not an MPFS status"),
            )
        })?,
    };
    let number = |index: usize, name: &str| -> Result<Option<f64>, ParseError> {
        let value = text(index)?;
        if value.is_empty() {
            return Ok(None);
        }
        value
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .map(Some)
            .ok_or_else(|| perr(line, format!("{name} {value:?} is not a number")))
    };
    Ok(MpfsRecord {
        line,
        code: code.to_owned(),
        modifier: (!modifier.is_empty()).then(|| modifier.to_owned()),
        status,
        pctc: text(PCTC)?.to_owned(),
        global_days: text(GLOB_DAYS)?.to_owned(),
        mult_proc: text(MULT_PROC)?.to_owned(),
        bilat: text(BILAT_SURG)?.to_owned(),
        asst: text(ASST_SURG)?.to_owned(),
        co_surg: text(CO_SURG)?.to_owned(),
        team_surg: text(TEAM_SURG)?.to_owned(),
        work_rvu: number(WORK_RVU, "WORK RVU")?,
        pre_op: number(PRE_OP, "PRE OP")?,
        intra_op: number(INTRA_OP, "INTRA OP")?,
        post_op: number(POST_OP, "POST OP")?,
    })
}

/// `PPRRVU23_JAN.csv` / `PPRRVU2023_Jan.csv` → `2023-JAN`, effective 2023-01-01.
/// A fee schedule is a year's: every quarterly release (`PPRRVU2025_Oct`)
/// revises that year's schedule, so it answers from January 1 of its year
/// until a later release is loaded (the later load wins among a year's
/// quarters). The QPP / non-QPP variants CMS publishes from 2024 keep a suffix so the two
/// files of one quarter stay distinguishable.
fn release_from_name(file_name: &str) -> ReleaseHint {
    let upper = file_name.to_ascii_uppercase();
    let parsed = upper.strip_prefix("PPRRVU").and_then(|rest| {
        let (digits, rest) = split_digits(rest);
        let year = match digits.len() {
            2 => 2000 + digits.parse::<i32>().ok()?,
            4 => digits.parse::<i32>().ok()?,
            _ => return None,
        };
        let rest = rest.strip_prefix('_')?;
        let abbrev = rest.get(..3)?;
        quarter_month(abbrev)?;
        Some((year, abbrev.to_owned(), &rest[3..]))
    });
    let Some((year, abbrev, rest)) = parsed else {
        return ReleaseHint::default();
    };
    let variant = if rest.contains("NONQPP") {
        "-NONQPP"
    } else if rest.contains("QPP") {
        "-QPP"
    } else {
        ""
    };
    ReleaseHint {
        version: Some(format!("{year}-{abbrev}{variant}")),
        effective_from: NaiveDate::from_ymd_opt(year, 1, 1),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::read_shared;
    use super::*;

    /// A row in the 31-column layout; descriptions are invented.
    fn row(code: &str, modifier: &str, desc: &str, status: &str, work: &str, ind: &str) -> String {
        // ind = PCTC,GLOB,PRE,INTRA,POST,MULT,BILAT,ASST,CO,TEAM
        format!(
            "{code},{modifier},{desc},{status},,{work},1.00,,1.00,,0.10,2.00,2.00,{ind},,33.8872,09,0,99,0.00,0.00,0.00"
        )
    }

    fn fixture() -> String {
        let heading = "HCPCS,MOD,DESCRIPTION,CODE,PAYMENT,RVU,PE RVU,INDICATOR,PE RVU,INDICATOR,RVU,TOTAL,TOTAL,IND,DAYS,OP,OP,OP,PROC,SURG,SURG,SURG,SURG,BASE,FACTOR,PROCEDURES,FLAG,INDICATOR,AMOUNT,AMOUNT,AMOUNT";
        let blank = ",".repeat(30);
        [
            format!(",,Invented fee schedule title{}", &blank[2..]),
            format!(",,\"Invented notice, with a comma\"{}", &blank[2..]),
            format!(",,,STATUS,MEDICARE{}", &blank[4..]),
            heading.to_owned(),
            row(
                "11404",
                "",
                "Invented excision text",
                "A",
                "2.11",
                "0,010,0.10,0.80,0.10,2,0,1,0,0",
            ),
            row(
                "88305",
                "",
                "\"Invented path, text\"",
                "A",
                "0.75",
                "1,XXX,0.00,0.00,0.00,0,0,0,0,0",
            ),
            row(
                "88305",
                "TC",
                "Invented path text",
                "A",
                "0.00",
                "1,XXX,0.00,0.00,0.00,0,0,0,0,0",
            ),
            row(
                "88305",
                "26",
                "Invented path text",
                "A",
                "0.75",
                "1,XXX,,,,0,0,0,0,0",
            ),
            format!("\x1a{blank}"),
        ]
        .join("\r\n")
            + "\r\n"
    }

    #[test]
    fn an_unknown_status_letter_is_refused_at_its_line() {
        let file = fixture().replace(
            &row(
                "11404",
                "",
                "Invented excision text",
                "A",
                "2.11",
                "0,010,0.10,0.80,0.10,2,0,1,0,0",
            ),
            &row(
                "11404",
                "",
                "Invented excision text",
                "K",
                "2.11",
                "0,010,0.10,0.80,0.10,2,0,1,0,0",
            ),
        );
        let error = parse(file.as_bytes(), "PPRRVU25_JAN.csv").expect_err("refused");
        assert_eq!(error.line, 5);
        assert!(error.reason.contains("\"K\""), "{}", error.reason);
    }

    #[test]
    fn parses_rows_after_the_heading() {
        let file = parse(fixture().as_bytes(), "PPRRVU23_JAN.csv").unwrap();
        assert_eq!(file.lines_read, 9);
        assert_eq!(file.rows.len(), 4);
        let excision = &file.rows[0];
        assert_eq!(excision.line, 5);
        assert_eq!(
            (
                excision.status.letter(),
                excision.pctc.as_str(),
                excision.global_days.as_str(),
                excision.mult_proc.as_str(),
                excision.bilat.as_str(),
                excision.asst.as_str(),
                excision.co_surg.as_str(),
                excision.team_surg.as_str(),
            ),
            ("A", "0", "010", "2", "0", "1", "0", "0")
        );
        assert_eq!(excision.work_rvu, Some(2.11));
        assert_eq!(excision.intra_op, Some(0.80));
        assert_eq!(file.rows[2].modifier.as_deref(), Some("TC"));
        assert_eq!(file.rows[3].pre_op, None);
        assert_eq!(file.skipped.len(), 1);
        assert_eq!(file.skipped[0].line, 9);
        assert!(format!("{file:?}").contains("88305"));
        assert!(
            !format!("{file:?}").contains("Invented"),
            "descriptions must not be kept"
        );
    }

    #[test]
    fn release_from_official_names() {
        let hint = release_from_name("PPRRVU23_JAN.csv");
        assert_eq!(hint.version.as_deref(), Some("2023-JAN"));
        assert_eq!(hint.effective_from, NaiveDate::from_ymd_opt(2023, 1, 1));
        let hint = release_from_name("PPRRVU2024_Apr_nonQPP.csv");
        assert_eq!(hint.version.as_deref(), Some("2024-APR-NONQPP"));
        assert_eq!(hint.effective_from, NaiveDate::from_ymd_opt(2024, 1, 1));
        assert_eq!(
            release_from_name("PPRRVU2024_Oct_QPP.csv")
                .version
                .as_deref(),
            Some("2024-OCT-QPP")
        );
        assert_eq!(release_from_name("rvu.csv"), ReleaseHint::default());
    }

    fn error_of(text: &str) -> ParseError {
        parse(text.as_bytes(), "PPRRVU23_JAN.csv").unwrap_err()
    }

    #[test]
    fn broken_copies_report_the_line() {
        let good = fixture();
        let e = error_of(&good.replacen(",TC,Invented path text,A,", ",TC,A,", 1));
        assert_eq!(
            (e.line, e.reason.as_str()),
            (7, "expected 31 columns, found 30")
        );

        let e = error_of(&good.replacen("2.11", "2.1.1", 1));
        assert_eq!(e.line, 5);
        assert!(e.reason.contains("WORK RVU"), "{e}");

        let e = error_of(&good.replacen("\r\n88305,TC", "\r\n8830,TC", 1));
        assert_eq!(e.line, 7);

        let e = error_of(&good.replacen("\r\n88305,26", "\r\n88305,TC", 1));
        assert!(e.reason.contains("(first on line 7)"), "{e}");
        assert_eq!(e.line, 8);

        let mut invalid = good.clone().into_bytes();
        invalid[good.find("0,010,").unwrap() + 2] = 0xFF;
        assert_eq!(parse(&invalid, "p").unwrap_err().line, 5);

        // Non-UTF-8 bytes in the discarded DESCRIPTION column are not an error.
        let mut latin1 = good.clone().into_bytes();
        latin1[good.find("excision").unwrap()] = 0xE9;
        assert_eq!(parse(&latin1, "p").unwrap().rows.len(), 4);

        assert_eq!(error_of(&good.replace("HCPCS,MOD", "CODE,MOD")).line, 1);
        let header_only: String = good.lines().take(4).collect::<Vec<_>>().join("\r\n");
        assert_eq!(error_of(&header_only).line, 5);
    }

    #[test]
    fn real_2023_january_file() {
        let Some(data) = read_shared("mpfs/PPRRVU23_JAN.csv.gz") else {
            return;
        };
        let file = parse(&data, "PPRRVU23_JAN.csv").unwrap();
        // 18,021 lines: 10 heading lines, 18,010 rows, and a final DOS EOF mark.
        assert_eq!(file.lines_read, 18_021);
        assert_eq!(file.rows.len(), 18_010);
        assert_eq!(file.rows[0].line, 11);
        assert_eq!(
            file.skipped,
            [Skipped {
                line: 18_021,
                reason: "DOS end-of-file mark (0x1A)".to_owned()
            }]
        );
        let find = |code: &str, modifier: Option<&str>| {
            file.rows
                .iter()
                .find(|r| r.code == code && r.modifier.as_deref() == modifier)
                .unwrap_or_else(|| panic!("{code} {modifier:?} missing"))
        };
        let r = find("11404", None);
        assert_eq!(
            [
                r.status.letter(),
                &r.pctc,
                &r.global_days,
                &r.mult_proc,
                &r.bilat,
                &r.asst,
                &r.co_surg,
                &r.team_surg
            ],
            ["A", "0", "010", "2", "0", "1", "0", "0"]
        );
        for modifier in [None, Some("26"), Some("TC")] {
            assert_eq!(find("88305", modifier).pctc, "1");
        }
        assert_eq!(file.release.version.as_deref(), Some("2023-JAN"));
    }
}
