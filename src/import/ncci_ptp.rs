//! CMS NCCI procedure-to-procedure edits, practitioner or hospital
//! (`ccipra-v322r0-f1.TXT`): tab-separated, CRLF, a stacked heading whose
//! third line starts with `Column 1`, then seven columns per edit.

use chrono::NaiveDate;

use super::{
    FirstSeen, ParseError, ReleaseHint, Skipped, column_count_error, count_lines, is_hcpcs_code,
    no_data, parse_yyyymmdd, perr, split_lines,
};

/// The edits of one PTP file.
#[derive(Debug, Clone, PartialEq)]
pub struct PtpFile {
    /// Release named by the file name.
    pub release: ReleaseHint,
    /// Edits in file order.
    pub rows: Vec<PtpRecord>,
    /// Lines deliberately not loaded.
    pub skipped: Vec<Skipped>,
    /// Physical lines in the decompressed file.
    pub lines_read: u64,
}

/// One column-1/column-2 edit.
#[derive(Debug, Clone, PartialEq)]
pub struct PtpRecord {
    /// 1-based physical line.
    pub line: u64,
    /// Column 1 (comprehensive) code.
    pub column1: String,
    /// Column 2 (component) code, denied unless a modifier bypasses the edit.
    pub column2: String,
    /// `*` in the file: the edit existed before 1996.
    pub prior_to_1996: bool,
    /// First date of service the edit applies to.
    pub effective_date: NaiveDate,
    /// Last date of service the edit applies to; `None` for `*` (not deleted).
    pub deletion_date: Option<NaiveDate>,
    /// 0 = no modifier bypasses, 1 = an NCCI modifier may bypass, 9 = not applicable.
    pub modifier_indicator: u8,
    /// PTP edit rationale.
    pub rationale: String,
}

const COLUMNS: usize = 7;
/// Line 3 of the stacked heading names the columns.
const HEADING_LINE: u64 = 3;

/// Parses a PTP file; refuses it whole on the first malformed row.
pub fn parse(data: &[u8], file_name: &str) -> Result<PtpFile, ParseError> {
    let lines_read = count_lines(data);
    let (lines, skipped) = split_lines(data);
    let heading = lines
        .iter()
        .find(|(number, _)| *number == HEADING_LINE)
        .map(|(_, line)| *line);
    match heading {
        Some(line) if line.starts_with(b"Column 1") => {}
        Some(_) => {
            return Err(perr(
                HEADING_LINE,
                "heading line 3 must start with \"Column 1\"",
            ));
        }
        // Reported where the file ends, not at a line it does not have.
        None => {
            return Err(perr(
                (lines_read + 1).min(HEADING_LINE),
                "the file ends before its heading line 3 (\"Column 1 ...\")",
            ));
        }
    }
    let mut rows = Vec::new();
    let mut seen = FirstSeen::new();
    let mut in_heading = true;
    for (number, raw) in lines.into_iter().filter(|(n, _)| *n > HEADING_LINE) {
        let cells: Vec<&[u8]> = raw.split(|&b| b == b'\t').collect();
        // Heading continuation lines leave column 1 blank; data starts at the first code.
        if in_heading && cells[0].trim_ascii().is_empty() {
            continue;
        }
        in_heading = false;
        if cells.len() != COLUMNS {
            return Err(column_count_error(number, COLUMNS, cells.len()));
        }
        let row = parse_row(number, &cells)?;
        let key = (row.column1.clone(), row.column2.clone(), row.effective_date);
        seen.insert(key, number).map_err(|first| {
            perr(
                number,
                format!(
                    "duplicate edit {}/{} effective {} (first on line {first})",
                    row.column1, row.column2, row.effective_date
                ),
            )
        })?;
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(no_data(lines_read));
    }
    Ok(PtpFile {
        release: release_from_name(file_name),
        rows,
        skipped,
        lines_read,
    })
}

fn parse_row(number: u64, cells: &[&[u8]]) -> Result<PtpRecord, ParseError> {
    let text = |index: usize| -> Result<&str, ParseError> {
        let cell = cells[index];
        std::str::from_utf8(cell)
            .ok()
            .filter(|s| s.is_ascii())
            .map(str::trim)
            .ok_or_else(|| perr(number, format!("non-ASCII byte in column {}", index + 1)))
    };
    let code = |index: usize| -> Result<String, ParseError> {
        let value = text(index)?;
        if is_hcpcs_code(value) {
            Ok(value.to_owned())
        } else {
            Err(perr(
                number,
                format!("column {} {value:?} is not a 5-character code", index + 1),
            ))
        }
    };
    let prior_to_1996 = match text(2)? {
        "*" => true,
        "" => false,
        other => {
            return Err(perr(
                number,
                format!("prior-to-1996 flag {other:?} is not \"*\" or blank"),
            ));
        }
    };
    let deletion_date = match text(4)? {
        "*" => None,
        value => Some(parse_yyyymmdd(value, number, "deletion date")?),
    };
    let modifier_indicator = match text(5)? {
        "0" => 0,
        "1" => 1,
        "9" => 9,
        other => {
            return Err(perr(
                number,
                format!("modifier indicator {other:?} is not 0, 1 or 9"),
            ));
        }
    };
    Ok(PtpRecord {
        line: number,
        column1: code(0)?,
        column2: code(1)?,
        prior_to_1996,
        effective_date: parse_yyyymmdd(text(3)?, number, "effective date")?,
        deletion_date,
        modifier_indicator,
        rationale: text(6)?.to_owned(),
    })
}

/// `ccipra-v322r0-f1…` → version `v322r0-f1`. NCCI versions are the edit year
/// minus 1994 followed by the quarter 0–3 (v31.3 = October 2025, v32.0 =
/// January 2026), so v322 takes effect 2026-07-01.
fn release_from_name(file_name: &str) -> ReleaseHint {
    let lower = file_name.to_ascii_lowercase();
    let Some(rest) = lower
        .strip_prefix("cci")
        .and_then(|rest| rest.get(3..))
        .and_then(|rest| rest.strip_prefix("-v"))
    else {
        return ReleaseHint::default();
    };
    let version: String = rest.split(['.', '_']).next().unwrap_or_default().to_owned();
    let digits = version.split('r').next().unwrap_or_default();
    let effective_from = (digits.len() >= 2 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.split_at(digits.len() - 1))
        .and_then(|(major, quarter)| {
            let quarter: u32 = quarter.parse().ok().filter(|q| *q <= 3)?;
            let year = 1994 + major.parse::<i32>().ok()?;
            NaiveDate::from_ymd_opt(year, quarter * 3 + 1, 1)
        });
    ReleaseHint {
        version: Some(format!("v{version}")),
        effective_from,
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::read_shared;
    use super::*;

    // Invented rationale text; the heading mirrors the official layout.
    const FIXTURE: &str = "Invented copyright line\t\t\t\t\t\t\r\n\
        Column1/Column2 Edits\t\t\t\t\t\t\r\n\
        Column 1\tColumn 2\t*=in existence\tEffective\tDeletion\tModifier\tPTP Edit Rationale\r\n\
        \t\tprior to 1996\tDate\tDate\t0=not allowed\t\r\n\
        \t\t\t\t*=no data\t1=allowed\t\r\n\
        \t\t\t\t\t9=not applicable\t\r\n\
        11400\t12001\t\t20200101\t*\t1\tInvented rationale one\r\n\
        11400\t12002\t*\t19960101\t20201231\t0\tInvented rationale two\r\n\
        11400\t12002\t\t20210101\t20210101\t9\tInvented rationale two\r\n";

    #[test]
    fn parses_edits() {
        let file = parse(FIXTURE.as_bytes(), "ccipra-v322r0-f1.TXT").unwrap();
        assert_eq!(file.lines_read, 9);
        assert_eq!(file.rows.len(), 3);
        let first = &file.rows[0];
        assert_eq!(first.line, 7);
        assert_eq!(
            (first.column1.as_str(), first.column2.as_str()),
            ("11400", "12001")
        );
        assert!(!first.prior_to_1996);
        assert_eq!(
            first.effective_date,
            NaiveDate::from_ymd_opt(2020, 1, 1).unwrap()
        );
        assert_eq!(first.deletion_date, None);
        assert_eq!(first.modifier_indicator, 1);
        assert_eq!(first.rationale, "Invented rationale one");
        assert!(file.rows[1].prior_to_1996);
        assert_eq!(
            file.rows[1].deletion_date,
            NaiveDate::from_ymd_opt(2020, 12, 31)
        );
        assert_eq!(file.rows[2].modifier_indicator, 9);
    }

    #[test]
    fn release_from_official_names() {
        let hint = release_from_name("ccipra-v322r0-f1.TXT");
        assert_eq!(hint.version.as_deref(), Some("v322r0-f1"));
        assert_eq!(hint.effective_from, NaiveDate::from_ymd_opt(2026, 7, 1));
        let on = |name: &str| release_from_name(name).effective_from;
        assert_eq!(
            on("ccipra-v320r0-f4.txt"),
            NaiveDate::from_ymd_opt(2026, 1, 1)
        );
        assert_eq!(
            on("ccioph-v313r0-f2.txt"),
            NaiveDate::from_ymd_opt(2025, 10, 1)
        );
        assert_eq!(
            on("ccipra-v322r0-f1.excerpt.txt"),
            NaiveDate::from_ymd_opt(2026, 7, 1)
        );
        assert_eq!(
            on("ccipra-v319r0-f1.txt"),
            None,
            "quarter digit 9 does not exist"
        );
        assert_eq!(release_from_name("edits.txt"), ReleaseHint::default());
    }

    fn error_of(text: &str) -> ParseError {
        parse(text.as_bytes(), "ccipra-v322r0-f1.TXT").unwrap_err()
    }

    #[test]
    fn broken_copies_report_the_line() {
        let e = error_of(&FIXTURE.replacen("\t20200101\t*\t1\t", "\t20200101\t*\t", 1));
        assert_eq!(
            (e.line, e.reason.as_str()),
            (7, "expected 7 columns, found 6")
        );
        let e = error_of(&FIXTURE.replacen("20201231", "20201331", 1));
        assert_eq!(e.line, 8);
        assert!(e.reason.contains("deletion date"), "{e}");
        let e = error_of(&FIXTURE.replacen("\t9\t", "\t2\t", 1));
        assert_eq!(e.line, 9);
        let e = error_of(&FIXTURE.replacen("\t20210101\t20210101\t", "\t19960101\t20210101\t", 1));
        assert_eq!(e.line, 9);
        assert!(e.reason.contains("first on line 8"), "{e}");
        let mut invalid = FIXTURE.as_bytes().to_vec();
        invalid[FIXTURE.find("rationale two").unwrap()] = 0x92;
        assert_eq!(parse(&invalid, "x").unwrap_err().line, 8);
        assert_eq!(
            error_of(&FIXTURE.replacen("11400\t12002\t*", "1140\t12002\t*", 1)).line,
            8
        );
        assert_eq!(
            error_of(&FIXTURE.replacen("Column 1\t", "Col 1\t", 1)).line,
            3
        );
        let heading_only: String = FIXTURE.split_inclusive("\r\n").take(6).collect();
        assert_eq!(error_of(&heading_only).line, 7);
    }

    #[test]
    fn real_excerpt() {
        let name = "ccipra-v322r0-f1.excerpt.txt";
        let Some(data) = read_shared(&format!("ncci/{name}")) else {
            return;
        };
        let file = parse(&data, name).unwrap();
        assert_eq!(file.rows.len(), 154);
        assert_eq!(file.lines_read, 160);
        for indicator in [0, 1, 9] {
            assert!(file.rows.iter().any(|r| r.modifier_indicator == indicator));
        }
        assert!(file.rows.iter().any(|r| r.deletion_date.is_none()));
        assert_eq!(file.rows[0].line, 7);
        assert_eq!(
            file.release.effective_from,
            NaiveDate::from_ymd_opt(2026, 7, 1)
        );
    }
}
