//! CMS/CDC ICD-10-CM "Code Descriptions in Tabular Order" file (`icd10cm-order-YYYY.txt`).
//!
//! Fixed width, ASCII, one code per line: order number (1–5), code without the
//! dot (7–13), billable flag (15), short title (17–76), long title (78–end).
//! Codes are kept uppercase without the dot, as claims carry them (X12 837).

use std::collections::HashSet;

use super::{
    ConceptFile, ConceptRecord, FirstSeen, ParseError, ReleaseHint, ascii_line, count_lines,
    fiscal_year_start, no_data, perr, split_digits, split_lines,
};

/// The long title starts in column 78, so a complete line is at least this long.
const MIN_LINE_LEN: usize = 78;

/// Parses an order file; refuses it whole on the first malformed line.
pub fn parse(data: &[u8], file_name: &str) -> Result<ConceptFile, ParseError> {
    let lines_read = count_lines(data);
    let (lines, skipped) = split_lines(data);
    let mut concepts = Vec::with_capacity(lines.len());
    let mut seen = FirstSeen::new();
    for (number, raw) in lines {
        let text = ascii_line(number, raw)?;
        let concept = parse_line(number, text)?;
        seen.insert(concept.code.clone(), number).map_err(|first| {
            perr(
                number,
                format!("duplicate code {} (first on line {first})", concept.code),
            )
        })?;
        concepts.push(concept);
    }
    if concepts.is_empty() {
        return Err(no_data(lines_read));
    }
    link_parents(&mut concepts);
    Ok(ConceptFile {
        release: release_from_name(file_name),
        concepts,
        skipped,
        lines_read,
    })
}

fn parse_line(number: u64, text: &str) -> Result<ConceptRecord, ParseError> {
    if text.len() < MIN_LINE_LEN {
        return Err(perr(
            number,
            format!(
                "truncated line: {} characters, at least {MIN_LINE_LEN} expected",
                text.len()
            ),
        ));
    }
    for col in [6, 14, 16, 77] {
        if text.as_bytes()[col - 1] != b' ' {
            return Err(perr(number, format!("column {col} must be blank")));
        }
    }
    let order_number = &text[0..5];
    if !order_number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(perr(
            number,
            format!("order number {order_number:?} is not numeric"),
        ));
    }
    let code = text[6..13].trim_end();
    if !(3..=7).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(perr(
            number,
            format!("invalid code {code:?} in columns 7-13"),
        ));
    }
    let billable = match text.as_bytes()[14] {
        b'0' => false,
        b'1' => true,
        other => {
            return Err(perr(
                number,
                format!(
                    "billable flag {:?} in column 15 is not 0 or 1",
                    other as char
                ),
            ));
        }
    };
    let display = text[16..76].trim();
    // Only the ends are trimmed: official titles may contain double spaces.
    let long = text[77..].trim();
    if display.is_empty() || long.is_empty() {
        return Err(perr(number, "empty short or long title"));
    }
    Ok(ConceptRecord {
        line: number,
        code: code.to_ascii_uppercase(),
        display: display.to_owned(),
        long_description: Some(long.to_owned()),
        billable: Some(billable),
        parent_code: None,
        added_date: None,
        effective_date: None,
        termination_date: None,
        properties: vec![("order_number".to_owned(), order_number.to_owned())],
    })
}

/// Parent = the longest proper prefix that is itself a code in the file; the
/// hierarchy is implied by code prefixes since the file has no explicit nesting.
fn link_parents(concepts: &mut [ConceptRecord]) {
    let codes: HashSet<String> = concepts.iter().map(|c| c.code.clone()).collect();
    for concept in concepts.iter_mut() {
        concept.parent_code = (3..concept.code.len())
            .rev()
            .map(|len| &concept.code[..len])
            .find(|prefix| codes.contains(*prefix))
            .map(str::to_owned);
    }
}

/// `icd10cm-order-2025.txt` / `icd10cm_order_2025.txt` → FY2025, starting 2024-10-01.
fn release_from_name(file_name: &str) -> ReleaseHint {
    let lower = file_name.to_ascii_lowercase();
    let year = ["icd10cm-order-", "icd10cm_order_"]
        .iter()
        .find_map(|prefix| lower.strip_prefix(prefix))
        .map(|rest| split_digits(rest).0)
        .filter(|digits| digits.len() == 4)
        .and_then(|digits| digits.parse::<i32>().ok());
    match year {
        Some(fy) => ReleaseHint {
            version: Some(format!("FY{fy}")),
            effective_from: fiscal_year_start(fy),
        },
        None => ReleaseHint::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::read_shared;
    use super::*;
    use chrono::NaiveDate;

    /// Renders one record in the official layout.
    fn line(order: u32, code: &str, flag: char, short: &str, long: &str) -> String {
        format!("{order:05} {code:<7} {flag} {short:<60} {long}")
    }

    fn fixture() -> String {
        [
            line(
                1,
                "D23",
                '0',
                "Other benign neoplasms of skin",
                "Other benign neoplasms of skin",
            ),
            line(
                2,
                "D236",
                '0',
                "Other benign neoplasm of skin of upper limb, inc shoulder",
                "Other benign neoplasm of skin of upper limb, including shoulder",
            ),
            line(
                3,
                "D2361",
                '1',
                "Oth benign neoplasm skin/ right upper limb, inc shoulder",
                "Other benign neoplasm of skin of right upper limb, including shoulder",
            ),
            line(
                4,
                "W44G",
                '0',
                "Foreign body of plastic entering through natural orifice",
                "Foreign body of plastic entering through  natural  orifice",
            ),
        ]
        .join("\r\n")
            + "\r\n"
    }

    #[test]
    fn parses_fields_and_hierarchy() {
        let file = parse(fixture().as_bytes(), "icd10cm-order-2025.txt").unwrap();
        assert_eq!(file.lines_read, 4);
        assert!(file.skipped.is_empty());
        let codes: Vec<_> = file.concepts.iter().map(|c| c.code.as_str()).collect();
        assert_eq!(codes, ["D23", "D236", "D2361", "W44G"]);
        let d2361 = &file.concepts[2];
        assert_eq!(d2361.line, 3);
        assert_eq!(d2361.billable, Some(true));
        assert_eq!(d2361.parent_code.as_deref(), Some("D236"));
        assert_eq!(
            d2361.display,
            "Oth benign neoplasm skin/ right upper limb, inc shoulder"
        );
        assert_eq!(
            d2361.properties,
            vec![("order_number".to_owned(), "00003".to_owned())]
        );
        assert_eq!(file.concepts[1].parent_code.as_deref(), Some("D23"));
        assert_eq!(file.concepts[0].parent_code, None);
        assert_eq!(file.concepts[0].billable, Some(false));
        assert_eq!(
            file.concepts[3].long_description.as_deref(),
            Some("Foreign body of plastic entering through  natural  orifice")
        );
    }

    #[test]
    fn accepts_lf_line_ends_and_a_trailing_blank_line() {
        let text = fixture().replace("\r\n", "\n") + "\n";
        let file = parse(text.as_bytes(), "x.txt").unwrap();
        assert_eq!(file.concepts.len(), 4);
        assert_eq!(file.skipped.len(), 1);
        assert_eq!(file.skipped[0].line, 5);
        assert_eq!(file.release, ReleaseHint::default());
    }

    #[test]
    fn release_from_official_names() {
        let expected = ReleaseHint {
            version: Some("FY2025".to_owned()),
            effective_from: NaiveDate::from_ymd_opt(2024, 10, 1),
        };
        assert_eq!(release_from_name("icd10cm-order-2025.txt"), expected);
        assert_eq!(release_from_name("icd10cm_order_2025.txt"), expected);
        assert_eq!(release_from_name("icd10cm-order-2025.txt.gz"), expected);
        assert_eq!(release_from_name("order.txt"), ReleaseHint::default());
    }

    fn error_of(text: &str) -> ParseError {
        parse(text.as_bytes(), "icd10cm-order-2025.txt").unwrap_err()
    }

    #[test]
    fn broken_copies_report_the_line() {
        let good = fixture();
        let lines: Vec<&str> = good.split("\r\n").collect();

        let mut truncated = lines.clone();
        truncated[2] = &lines[2][..60];
        let e = error_of(&truncated.join("\r\n"));
        assert_eq!(e.line, 3);
        assert!(e.reason.contains("truncated"), "{e}");

        let flag = good.replacen("D2361   1", "D2361   7", 1);
        let e = error_of(&flag);
        assert_eq!((e.line, e.reason.contains("column 15")), (3, true), "{e}");

        let order = good.replacen("00002", "0000x", 1);
        assert_eq!(error_of(&order).line, 2);

        let accent = good.replacen("natural  orifice", "natur\u{e9}l  orifice", 1);
        let e = error_of(&accent);
        assert_eq!(e.line, 4);
        assert!(e.reason.contains("encoding"), "{e}");

        let dup = good.replacen("D236 ", "D23  ", 1);
        let e = error_of(&dup);
        assert_eq!(e.line, 2);
        assert!(
            e.reason.contains("duplicate code D23 (first on line 1)"),
            "{e}"
        );

        let blank_between = good.replacen("\r\n", "\r\n\r\n", 1);
        assert_eq!(error_of(&blank_between).line, 2);

        assert_eq!(error_of("").line, 1);
    }

    #[test]
    fn sample_fixture_parses() {
        let Some(data) = read_shared("icd10cm/icd10cm-order-2025.sample.txt") else {
            return;
        };
        let file = parse(&data, "icd10cm-order-2025.sample.txt").unwrap();
        assert_eq!(file.concepts.len(), 279);
        assert_eq!(file.release.version.as_deref(), Some("FY2025"));
        let s0101xa = file.concepts.iter().find(|c| c.code == "S0101XA").unwrap();
        assert_eq!(s0101xa.parent_code.as_deref(), Some("S0101"));
    }

    #[test]
    fn real_fy2025_file_counts() {
        let Some(data) = read_shared("icd10cm/icd10cm-order-2025.txt.gz") else {
            return;
        };
        let file = parse(&data, "icd10cm-order-2025.txt").unwrap();
        assert_eq!(file.lines_read, 97_584);
        assert_eq!(file.concepts.len(), 97_584);
        let billable = file
            .concepts
            .iter()
            .filter(|c| c.billable == Some(true))
            .count();
        assert_eq!(billable, 74_260);
        assert!(file.concepts.iter().any(|c| {
            c.long_description
                .as_deref()
                .is_some_and(|d| d.contains("natural  orifice"))
        }));
        let roots = file.concepts.iter().filter(|c| c.parent_code.is_none());
        assert!(
            roots.clone().all(|c| c.code.len() == 3),
            "only categories lack a parent"
        );
        assert_eq!(
            file.release.effective_from,
            NaiveDate::from_ymd_opt(2024, 10, 1)
        );
    }
}
