//! CMS HCPCS Level II alpha-numeric file, TXT layout (`HCPC2025_OCT_ANWEB.txt`).
//!
//! ASCII, 320-byte fixed-width records ending in CRLF or LF. Record id 3 starts
//! a procedure code and 4 continues its long description; 7 and 8 do the same
//! for a modifier (code in columns 4–5). CMS may wrap the long description at
//! other points from release to release, so pieces are joined with one space.

use chrono::NaiveDate;

use super::{
    ConceptRecord, FirstSeen, ParseError, ReleaseHint, Skipped, ascii_line, count_lines,
    is_upper_alnum, no_data, parse_optional_yyyymmdd, perr, quarter_month, split_digits,
    split_lines,
};

/// Procedure codes and modifiers of one HCPCS release.
#[derive(Debug, Clone, PartialEq)]
pub struct HcpcsFile {
    /// Release named by the file name.
    pub release: ReleaseHint,
    /// Level II procedure/supply codes (record id 3).
    pub procedures: Vec<ConceptRecord>,
    /// Level II modifiers (record id 7).
    pub modifiers: Vec<ConceptRecord>,
    /// Lines deliberately not loaded.
    pub skipped: Vec<Skipped>,
    /// Physical lines in the decompressed file.
    pub lines_read: u64,
}

const RECORD_LEN: usize = 320;

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Kind {
    Procedure,
    Modifier,
}

/// Parses a HCPCS TXT file; refuses it whole on the first malformed record.
pub fn parse(data: &[u8], file_name: &str) -> Result<HcpcsFile, ParseError> {
    let lines_read = count_lines(data);
    let (lines, skipped) = split_lines(data);
    let mut file = HcpcsFile {
        release: release_from_name(file_name),
        procedures: Vec::new(),
        modifiers: Vec::new(),
        skipped,
        lines_read,
    };
    let mut seen = FirstSeen::new();
    let mut open: Option<(Kind, ConceptRecord)> = None;
    for (number, raw) in lines {
        let text = ascii_line(number, raw)?;
        match text.len() {
            RECORD_LEN => {}
            len if len < RECORD_LEN => {
                return Err(perr(
                    number,
                    format!("truncated record: {len} bytes, {RECORD_LEN} expected"),
                ));
            }
            len => {
                return Err(perr(
                    number,
                    format!("overlong record: {len} bytes, {RECORD_LEN} expected"),
                ));
            }
        }
        let sequence = field(text, 6, 10);
        if sequence.is_empty() || !sequence.bytes().all(|b| b.is_ascii_digit()) {
            return Err(perr(
                number,
                format!("sequence number {sequence:?} is not numeric"),
            ));
        }
        let (kind, first) = match &text[10..11] {
            "3" => (Kind::Procedure, true),
            "4" => (Kind::Procedure, false),
            "7" => (Kind::Modifier, true),
            "8" => (Kind::Modifier, false),
            other => {
                return Err(perr(
                    number,
                    format!("unknown record id {other:?} in column 11"),
                ));
            }
        };
        let code = code_of(kind, &text[..5]).ok_or_else(|| {
            perr(
                number,
                format!("invalid code {:?} in columns 1-5", &text[..5]),
            )
        })?;
        let piece = field(text, 12, 91);
        if !first {
            match &mut open {
                Some((open_kind, record)) if *open_kind == kind && record.code == code => {
                    append_piece(record, piece);
                }
                _ => {
                    return Err(perr(
                        number,
                        format!("continuation of {code} without a preceding first record"),
                    ));
                }
            }
            continue;
        }
        if let Some((kind, record)) = open.take() {
            file.push(kind, record);
        }
        seen.insert((kind, code.clone()), number).map_err(|first| {
            perr(
                number,
                format!("duplicate code {code} (first on line {first})"),
            )
        })?;
        let mut record = first_record(number, code, text)?;
        append_piece(&mut record, piece);
        open = Some((kind, record));
    }
    match open {
        Some((kind, record)) => file.push(kind, record),
        None => return Err(no_data(lines_read)),
    }
    Ok(file)
}

impl HcpcsFile {
    fn push(&mut self, kind: Kind, record: ConceptRecord) {
        match kind {
            Kind::Procedure => self.procedures.push(record),
            Kind::Modifier => self.modifiers.push(record),
        }
    }
}

/// Procedure codes fill columns 1–5; modifiers are 3 blanks and 2 characters.
fn code_of(kind: Kind, columns: &str) -> Option<String> {
    let code = match kind {
        Kind::Procedure => columns,
        Kind::Modifier => columns.strip_prefix("   ")?,
    };
    is_upper_alnum(code).then(|| code.to_owned())
}

/// Trimmed text of the 1-based inclusive columns `from..=to` of a full-length record.
fn field(text: &str, from: usize, to: usize) -> &str {
    text[from - 1..to].trim()
}

fn first_record(number: u64, code: String, text: &str) -> Result<ConceptRecord, ParseError> {
    let type_of_service: String = (261..=265).map(|col| field(text, col, col)).collect();
    let properties = [
        ("action_code", field(text, 293, 293)),
        ("coverage_code", field(text, 230, 230)),
        ("betos", field(text, 257, 259)),
        ("pricing_indicator", field(text, 120, 121)),
        ("multiple_pricing_indicator", field(text, 128, 128)),
        ("processing_note", field(text, 253, 256)),
        ("type_of_service", type_of_service.as_str()),
    ]
    .into_iter()
    .filter(|(_, value)| !value.is_empty())
    .map(|(key, value)| (key.to_owned(), value.to_owned()))
    .collect();
    Ok(ConceptRecord {
        line: number,
        code,
        display: field(text, 92, 119).to_owned(),
        long_description: None,
        billable: None,
        parent_code: None,
        added_date: parse_optional_yyyymmdd(field(text, 269, 276), number, "code added date")?,
        effective_date: parse_optional_yyyymmdd(
            field(text, 277, 284),
            number,
            "action effective date",
        )?,
        termination_date: parse_optional_yyyymmdd(
            field(text, 285, 292),
            number,
            "termination date",
        )?,
        properties,
    })
}

fn append_piece(record: &mut ConceptRecord, piece: &str) {
    if piece.is_empty() {
        return;
    }
    match &mut record.long_description {
        Some(text) => {
            text.push(' ');
            text.push_str(piece);
        }
        None => record.long_description = Some(piece.to_owned()),
    }
}

/// `HCPC2025_OCT_ANWEB…` → version `2025-10`, effective 2025-10-01.
fn release_from_name(file_name: &str) -> ReleaseHint {
    let upper = file_name.to_ascii_uppercase();
    let parsed = upper.strip_prefix("HCPC").and_then(|rest| {
        let (year, rest) = split_digits(rest);
        let month = quarter_month(rest.strip_prefix('_')?.get(..3)?)?;
        let year = year.parse::<i32>().ok().filter(|_| year.len() == 4)?;
        Some((year, month))
    });
    match parsed {
        Some((year, month)) => ReleaseHint {
            version: Some(format!("{year}-{month:02}")),
            effective_from: NaiveDate::from_ymd_opt(year, month, 1),
        },
        None => ReleaseHint::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::read_shared;
    use super::*;

    /// One 320-byte record with the given fields at their official columns.
    fn record(code: &str, seq: &str, id: char, long: &str, short: &str, tail: &str) -> String {
        let mut line = format!("{code:<5}{seq:<5}{id}{long:<80}{short:<28}");
        line.push_str(&" ".repeat(RECORD_LEN - line.len()));
        // `tail` is written over the columns from 230 on.
        line.replace_range(229..229 + tail.len(), tail);
        line
    }

    fn tail(
        cov: &str,
        betos: &str,
        tos: &str,
        added: &str,
        eff: &str,
        term: &str,
        act: &str,
    ) -> String {
        // Columns 230 … 293: coverage, ASC/MOG blanks, note, BETOS, filler, TOS, anesthesia, dates, action.
        format!(
            "{cov:<1}{:<22}{:<4}{betos:<3} {tos:<5}{:<3}{added:<8}{eff:<8}{term:<8}{act:<1}",
            "", "", ""
        )
    }

    fn fixture() -> String {
        let mut a4206 = record(
            "A4206",
            "00100",
            '3',
            "Syringe with needle, sterile, 1 cc or less, each",
            "1 cc sterile syringe&needle",
            &tail("C", "D1A", "S", "19850101", "20080101", "", "N"),
        );
        a4206.replace_range(119..121, "00");
        a4206.replace_range(127..128, "9");
        [
            record(
                "   AB",
                "00100",
                '7',
                "Audiology service furnished personally by an audiologist without a",
                "Aud svs w/o order evry 12mo",
                &tail("", "", "", "20230101", "20230101", "", "N"),
            ),
            record(
                "   AB",
                "00200",
                '8',
                "physician/npp order for non-acute hearing",
                "",
                "",
            ),
            record(
                "   AB",
                "00300",
                '8',
                "  every 12 months, per beneficiary  ",
                "",
                "",
            ),
            a4206,
            record(
                "G0001",
                "00100",
                '3',
                "Routine venipuncture for collection of specimen",
                "Drawing blood",
                &tail("I", "", "", "19850101", "20120101", "20121231", "D"),
            ),
        ]
        .join("\r\n")
            + "\r\n"
    }

    #[test]
    fn parses_procedures_and_modifiers() {
        let file = parse(fixture().as_bytes(), "HCPC2025_OCT_ANWEB.txt").unwrap();
        assert_eq!(file.lines_read, 5);
        let [ab] = file.modifiers.as_slice() else {
            panic!("one modifier expected");
        };
        assert_eq!(ab.code, "AB");
        assert_eq!(ab.line, 1);
        assert_eq!(
            ab.long_description.as_deref(),
            Some(
                "Audiology service furnished personally by an audiologist without a \
                 physician/npp order for non-acute hearing every 12 months, per beneficiary"
            )
        );
        assert_eq!(ab.properties, [("action_code".to_owned(), "N".to_owned())]);
        let [syringe, venipuncture] = file.procedures.as_slice() else {
            panic!("two procedures expected");
        };
        assert_eq!(syringe.display, "1 cc sterile syringe&needle");
        assert_eq!(syringe.added_date, NaiveDate::from_ymd_opt(1985, 1, 1));
        assert_eq!(syringe.effective_date, NaiveDate::from_ymd_opt(2008, 1, 1));
        assert_eq!(syringe.termination_date, None);
        let keys: Vec<(&str, &str)> = syringe
            .properties
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            keys,
            [
                ("action_code", "N"),
                ("coverage_code", "C"),
                ("betos", "D1A"),
                ("pricing_indicator", "00"),
                ("multiple_pricing_indicator", "9"),
                ("type_of_service", "S"),
            ]
        );
        assert_eq!(
            venipuncture.termination_date,
            NaiveDate::from_ymd_opt(2012, 12, 31)
        );
        assert_eq!(
            file.release,
            ReleaseHint {
                version: Some("2025-10".to_owned()),
                effective_from: NaiveDate::from_ymd_opt(2025, 10, 1),
            }
        );
    }

    #[test]
    fn accepts_lf_and_reports_trailing_blank_lines() {
        let text = fixture().replace("\r\n", "\n") + "\n";
        let file = parse(text.as_bytes(), "HCPC2026_JAN_ANWEB.txt").unwrap();
        assert_eq!((file.procedures.len(), file.modifiers.len()), (2, 1));
        assert_eq!(file.skipped.len(), 1);
        assert_eq!(file.release.version.as_deref(), Some("2026-01"));
    }

    fn error_of(data: &[u8]) -> ParseError {
        parse(data, "HCPC2025_OCT_ANWEB.txt").unwrap_err()
    }

    #[test]
    fn broken_copies_report_the_line() {
        let good = fixture();
        let lines: Vec<&str> = good.split("\r\n").collect();

        let mut cut = lines.clone();
        cut[3] = &lines[3][..300];
        let e = error_of(cut.join("\r\n").as_bytes());
        assert_eq!(
            (e.line, e.reason.starts_with("truncated record")),
            (4, true),
            "{e}"
        );

        let long = good.replacen("\r\n", " \r\n", 2);
        let e = error_of(long.as_bytes());
        assert_eq!(
            (e.line, e.reason.starts_with("overlong record")),
            (1, true),
            "{e}"
        );

        let date = good.replacen("2012123", "2012133", 1);
        let e = error_of(date.as_bytes());
        assert_eq!(e.line, 5);
        assert!(e.reason.contains("termination date"), "{e}");

        let mut bytes = good.clone().into_bytes();
        bytes[RECORD_LEN + 2 + 40] = 0xE9;
        let e = error_of(&bytes);
        assert_eq!(e.line, 2);
        assert!(e.reason.contains("non-ASCII"), "{e}");

        let orphan = [lines[1], lines[0]].join("\r\n");
        let e = error_of(orphan.as_bytes());
        assert_eq!(e.line, 1);
        assert!(e.reason.contains("without a preceding first record"), "{e}");

        let wrong_code = [lines[0], lines[3], lines[1]].join("\r\n");
        assert_eq!(error_of(wrong_code.as_bytes()).line, 3);

        let dup = [lines[3], lines[3]].join("\n");
        assert!(
            error_of(dup.as_bytes())
                .reason
                .contains("(first on line 1)")
        );

        assert_eq!(error_of(b"").line, 1);
    }

    #[test]
    fn real_october_2025_file() {
        let Some(data) = read_shared("hcpcs/HCPC2025_OCT_ANWEB.rendered-320.txt.gz") else {
            return;
        };
        let file = parse(&data, "HCPC2025_OCT_ANWEB.rendered-320.txt").unwrap();
        assert_eq!(file.lines_read, 16_070);
        assert_eq!(file.procedures.len(), 8_463);
        assert_eq!(file.modifiers.len(), 383);
        let terminated =
            |list: &[ConceptRecord]| list.iter().filter(|c| c.termination_date.is_some()).count();
        assert_eq!(
            terminated(&file.procedures) + terminated(&file.modifiers),
            1_225
        );
        assert_eq!(terminated(&file.modifiers), 20);
        assert_eq!(file.release.version.as_deref(), Some("2025-10"));

        // Cross-check codes, titles and dates against the xlsx-derived TSV.
        let Some(tsv) = read_shared("hcpcs/HCPC2025_OCT_ANWEB.tsv.gz") else {
            return;
        };
        let tsv = String::from_utf8(tsv).unwrap();
        let rows: Vec<Vec<&str>> = tsv
            .lines()
            .skip(1)
            .map(|l| l.split('\t').collect())
            .collect();
        let parsed: Vec<&ConceptRecord> = file.procedures.iter().chain(&file.modifiers).collect();
        assert_eq!(rows.len(), parsed.len());
        let mut by_code = std::collections::HashMap::new();
        for concept in &parsed {
            by_code.insert(concept.code.as_str(), *concept);
        }
        let date = |d: Option<NaiveDate>| {
            d.map(|d| d.format("%Y%m%d").to_string())
                .unwrap_or_default()
        };
        for row in rows {
            let concept = by_code[row[0].trim()];
            // Double spaces at a wrap point become one when pieces are joined.
            let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
            let long = concept.long_description.as_deref().unwrap_or_default();
            assert_eq!(words(long), words(row[3]));
            assert_eq!(concept.display, row[4].trim());
            assert_eq!(date(concept.added_date), row[44]);
            assert_eq!(date(concept.effective_date), row[45]);
            assert_eq!(date(concept.termination_date), row[46]);
        }
    }

    /// The whole official file parses (its speed is measured by
    /// `examples/bench_import.rs`, not asserted here).
    #[test]
    fn the_real_file_parses() {
        let Some(data) = read_shared("hcpcs/HCPC2025_OCT_ANWEB.rendered-320.txt.gz") else {
            return;
        };
        let file = parse(&data, "HCPC2025_OCT_ANWEB.txt").unwrap();
        assert_eq!(file.procedures.len(), 8_463);
    }
}
