//! CMS place-of-service codes as CSV `code,name,description` (UTF-8).
//!
//! CMS publishes the code set only as a web page, so the file carries no
//! release information and the hint stays empty.

use super::{
    ConceptFile, ConceptRecord, FirstSeen, ParseError, ReleaseHint, non_empty, perr, utf8_csv_table,
};

const HEADER: [&str; 3] = ["code", "name", "description"];

/// Parses a place-of-service CSV; refuses it whole on a bad header, row or code.
pub fn parse(data: &[u8], _file_name: &str) -> Result<ConceptFile, ParseError> {
    let table = utf8_csv_table(data)?;
    if !table.header_is(&HEADER) {
        return Err(perr(
            table.header_line,
            "header must be \"code,name,description\"",
        ));
    }
    let mut concepts = Vec::with_capacity(table.rows.len());
    let mut seen = FirstSeen::new();
    for (line, cells) in &table.rows {
        let line = *line;
        let [code, name, description] = cells.as_slice() else {
            return Err(perr(line, "wrong column count"));
        };
        let code = code.trim();
        if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(perr(line, format!("code {code:?} is not two digits")));
        }
        let name = name.trim();
        if name.is_empty() {
            return Err(perr(line, "empty name"));
        }
        seen.insert(code.to_owned(), line).map_err(|first| {
            perr(
                line,
                format!("duplicate code {code} (first on line {first})"),
            )
        })?;
        concepts.push(ConceptRecord {
            line,
            code: code.to_owned(),
            display: name.to_owned(),
            long_description: non_empty(description),
            billable: None,
            parent_code: None,
            added_date: None,
            effective_date: None,
            termination_date: None,
            properties: Vec::new(),
        });
    }
    Ok(ConceptFile {
        release: ReleaseHint::default(),
        concepts,
        skipped: Vec::new(),
        lines_read: table.lines_read,
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::read_shared;
    use super::*;

    const FIXTURE: &str = "code,name,description\r\n\
        02,Telehealth Provided Other than in Patient\u{2019}s Home,\"The location where health services are provided through telecommunication technology, not in the home.\"\r\n\
        11,Office,Location where the health professional routinely provides examinations.\r\n";

    #[test]
    fn parses_rows() {
        let file = parse(FIXTURE.as_bytes(), "pos_codes.csv").unwrap();
        assert_eq!(file.release, ReleaseHint::default());
        assert_eq!(file.concepts.len(), 2);
        assert_eq!(
            file.concepts[0].display,
            "Telehealth Provided Other than in Patient\u{2019}s Home"
        );
        assert_eq!(file.concepts[1].line, 3);
        assert_eq!(file.concepts[1].code, "11");
    }

    #[test]
    fn broken_copies_report_the_line() {
        let e = parse(FIXTURE.replacen("\n11,", "\n1A,", 1).as_bytes(), "p").unwrap_err();
        assert_eq!(e.line, 3);
        let e = parse(FIXTURE.replacen(",Office,", ",", 1).as_bytes(), "p").unwrap_err();
        assert_eq!(
            (e.line, e.reason.as_str()),
            (3, "expected 3 columns, found 2")
        );
        let mut invalid = FIXTURE.as_bytes().to_vec();
        invalid[FIXTURE.find("Office").unwrap()] = 0x80;
        assert_eq!(parse(&invalid, "p").unwrap_err().line, 3);
        let e = parse(FIXTURE.replacen("\n11,", "\n02,", 1).as_bytes(), "p").unwrap_err();
        assert_eq!(e.line, 3);
        assert_eq!(parse(b"code,name,description\n", "p").unwrap_err().line, 2);
        assert_eq!(parse(b"", "p").unwrap_err().line, 1);
    }

    #[test]
    fn real_file() {
        let Some(data) = read_shared("pos/pos_codes.csv") else {
            return;
        };
        let file = parse(&data, "pos_codes.csv").unwrap();
        assert_eq!(file.concepts.len(), 52);
        assert_eq!(file.concepts.last().map(|c| c.code.as_str()), Some("99"));
    }
}
