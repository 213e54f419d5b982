//! NUCC Health Care Provider Taxonomy CSV (`nucc_taxonomy_251.csv`).
//!
//! RFC-4180 CSV, UTF-8, header
//! `Code,Grouping,Classification,Specialization,Definition,Notes,Display Name,Section`;
//! quoted fields may span lines, so lines are where each record starts.

use chrono::NaiveDate;

use super::{
    ConceptFile, ConceptRecord, FirstSeen, ParseError, ReleaseHint, non_empty, perr, split_digits,
    utf8_csv_table,
};

const HEADER: [&str; 8] = [
    "Code",
    "Grouping",
    "Classification",
    "Specialization",
    "Definition",
    "Notes",
    "Display Name",
    "Section",
];

/// Parses a taxonomy CSV; refuses it whole on a bad header, row or code.
pub fn parse(data: &[u8], file_name: &str) -> Result<ConceptFile, ParseError> {
    let table = utf8_csv_table(data)?;
    if !table.header_is(&HEADER) {
        return Err(perr(
            table.header_line,
            format!("header must be {:?}", HEADER.join(",")),
        ));
    }
    let mut concepts = Vec::with_capacity(table.rows.len());
    let mut seen = FirstSeen::new();
    for (line, cells) in &table.rows {
        let line = *line;
        let [
            code,
            grouping,
            classification,
            specialization,
            definition,
            notes,
            display,
            section,
        ] = cells.as_slice()
        else {
            return Err(perr(line, "wrong column count"));
        };
        let code = code.trim();
        if !is_taxonomy_code(code) {
            return Err(perr(
                line,
                format!("Code {code:?} is not a taxonomy code ([0-9A-Z]{{9}}X)"),
            ));
        }
        let display = display.trim();
        if display.is_empty() {
            return Err(perr(line, "empty Display Name"));
        }
        seen.insert(code.to_owned(), line).map_err(|first| {
            perr(
                line,
                format!("duplicate code {code} (first on line {first})"),
            )
        })?;
        let properties = [
            ("grouping", grouping),
            ("classification", classification),
            ("specialization", specialization),
            ("notes", notes),
            ("section", section),
        ]
        .into_iter()
        .filter_map(|(key, value)| non_empty(value).map(|value| (key.to_owned(), value)))
        .collect();
        concepts.push(ConceptRecord {
            line,
            code: code.to_owned(),
            display: display.to_owned(),
            long_description: non_empty(definition),
            billable: None,
            parent_code: None,
            added_date: None,
            effective_date: None,
            termination_date: None,
            properties,
        });
    }
    Ok(ConceptFile {
        release: release_from_name(file_name),
        concepts,
        skipped: Vec::new(),
        lines_read: table.lines_read,
    })
}

fn is_taxonomy_code(code: &str) -> bool {
    code.len() == 10
        && code.ends_with('X')
        && code[..9]
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
}

/// `nucc_taxonomy_251.csv` → version 25.1; `.0` releases take effect January 1
/// and `.1` releases July 1 of 20YY.
fn release_from_name(file_name: &str) -> ReleaseHint {
    let lower = file_name.to_ascii_lowercase();
    let Some(digits) = lower
        .strip_prefix("nucc_taxonomy_")
        .map(|rest| split_digits(rest).0)
        .filter(|digits| digits.len() == 3)
    else {
        return ReleaseHint::default();
    };
    let (year, minor) = digits.split_at(2);
    let month = match minor {
        "0" => Some(1),
        "1" => Some(7),
        _ => None,
    };
    let effective_from = year
        .parse::<i32>()
        .ok()
        .zip(month)
        .and_then(|(yy, month)| NaiveDate::from_ymd_opt(2000 + yy, month, 1));
    ReleaseHint {
        version: Some(format!("{year}.{minor}")),
        effective_from,
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::read_shared;
    use super::*;

    // Invented text: the real definitions are NUCC/AMA content.
    const FIXTURE: &str = "Code,Grouping,Classification,Specialization,Definition,Notes,Display Name,Section\n\
        111A00000X,Test Grouping,Test Classification,,\"A made-up definition, with a comma\nand a second line.\",,Test Classification Provider,Individual\n\
        111A00001X,Test Grouping,Test Classification,Test Specialization,,[1/1/2025: new],Test Specialist,Non-Individual\n";

    #[test]
    fn parses_fields_and_multiline_definitions() {
        let file = parse(FIXTURE.as_bytes(), "nucc_taxonomy_251.csv").unwrap();
        assert_eq!(file.lines_read, 4);
        let [first, second] = file.concepts.as_slice() else {
            panic!("expected two concepts");
        };
        assert_eq!((first.line, second.line), (2, 4));
        assert_eq!(first.code, "111A00000X");
        assert_eq!(first.display, "Test Classification Provider");
        assert_eq!(
            first.long_description.as_deref(),
            Some("A made-up definition, with a comma\nand a second line.")
        );
        assert_eq!(
            first.properties,
            [
                ("grouping".to_owned(), "Test Grouping".to_owned()),
                (
                    "classification".to_owned(),
                    "Test Classification".to_owned()
                ),
                ("section".to_owned(), "Individual".to_owned()),
            ]
        );
        assert_eq!(second.long_description, None);
        assert_eq!(second.properties.len(), 5);
        assert_eq!(
            second.properties[3],
            ("notes".to_owned(), "[1/1/2025: new]".to_owned())
        );
    }

    #[test]
    fn release_from_official_names() {
        let hint = release_from_name("nucc_taxonomy_251.csv");
        assert_eq!(hint.version.as_deref(), Some("25.1"));
        assert_eq!(hint.effective_from, NaiveDate::from_ymd_opt(2025, 7, 1));
        let hint = release_from_name("nucc_taxonomy_260.csv");
        assert_eq!(hint.effective_from, NaiveDate::from_ymd_opt(2026, 1, 1));
        assert_eq!(release_from_name("taxonomy.csv"), ReleaseHint::default());
    }

    fn error_of(text: &[u8]) -> ParseError {
        parse(text, "nucc_taxonomy_251.csv").unwrap_err()
    }

    #[test]
    fn broken_copies_report_the_line() {
        let e = error_of(FIXTURE.replacen("Display Name", "Name", 1).as_bytes());
        assert_eq!(e.line, 1);

        let dropped = FIXTURE.replacen(",Test Specialist,", ",", 1);
        let e = error_of(dropped.as_bytes());
        assert_eq!(
            (e.line, e.reason.as_str()),
            (4, "expected 8 columns, found 7")
        );

        let bad_code = FIXTURE.replacen("111A00001X", "111A00001Y", 1);
        assert_eq!(error_of(bad_code.as_bytes()).line, 4);

        let mut invalid = FIXTURE.as_bytes().to_vec();
        let at = FIXTURE.find("second line").unwrap();
        invalid[at] = 0xC3;
        let e = error_of(&invalid);
        assert_eq!(e.line, 3);
        assert!(e.reason.contains("UTF-8"), "{e}");

        let dup = FIXTURE.replacen("111A00001X", "111A00000X", 1);
        assert!(error_of(dup.as_bytes()).reason.contains("first on line 2"));

        let header_only = &FIXTURE[..FIXTURE.find('\n').unwrap() + 1];
        assert_eq!(error_of(header_only.as_bytes()).line, 2);
    }

    #[test]
    fn real_251_file() {
        let Some(data) = read_shared("nucc/nucc_taxonomy_251.csv") else {
            return;
        };
        let file = parse(&data, "nucc_taxonomy_251.csv").unwrap();
        assert_eq!(file.concepts.len(), 883);
        let individual = file
            .concepts
            .iter()
            .filter(|c| {
                c.properties
                    .contains(&("section".to_owned(), "Individual".to_owned()))
            })
            .count();
        assert_eq!(individual, 698);
        assert!(file.concepts.iter().any(|c| c.code == "207N00000X"));
    }
}
