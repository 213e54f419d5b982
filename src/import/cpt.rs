//! A licensee's CPT code file as CSV: header `code,descriptor[,short_descriptor]`
//! (any case; further columns ignored), or the shared seed fixture's
//! `code,family,description,…`, whose `description` is the descriptor.
//!
//! Descriptors are AMA-licensed content: errors name the column and line,
//! never a cell's value.

use super::{ConceptFile, ConceptRecord, FirstSeen, ParseError, ReleaseHint, perr, utf8_csv_table};

/// Parses a CPT CSV; refuses it whole on a bad header, row or code.
pub fn parse(data: &[u8], _file_name: &str) -> Result<ConceptFile, ParseError> {
    let table = utf8_csv_table(data)?;
    let column = |names: &[&str]| {
        table
            .header
            .iter()
            .position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)))
    };
    let descriptor = column(&["descriptor", "description"]);
    let (true, Some(descriptor)) = (column(&["code"]) == Some(0), descriptor) else {
        return Err(perr(
            table.header_line,
            "header must start with \"code\" and have a \"descriptor\" (or \"description\") column",
        ));
    };
    let short = column(&["short_descriptor"]);
    let mut concepts = Vec::with_capacity(table.rows.len());
    let mut seen = FirstSeen::new();
    for (line, cells) in &table.rows {
        let line = *line;
        let code = cells[0].trim();
        if !is_cpt_code(code) {
            return Err(perr(
                line,
                "code column is not a 5-character CPT code ([0-9]{4}[0-9A-Z])",
            ));
        }
        let long = cells[descriptor].trim();
        if long.is_empty() {
            return Err(perr(line, "empty descriptor column"));
        }
        let display = short
            .map(|i| cells[i].trim())
            .filter(|s| !s.is_empty())
            .unwrap_or(long);
        seen.insert(code.to_owned(), line).map_err(|first| {
            perr(
                line,
                format!("duplicate code {code} (first on line {first})"),
            )
        })?;
        concepts.push(ConceptRecord {
            line,
            code: code.to_owned(),
            display: display.to_owned(),
            long_description: Some(long.to_owned()),
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

fn is_cpt_code(code: &str) -> bool {
    let bytes = code.as_bytes();
    bytes.len() == 5
        && bytes[..4].iter().all(u8::is_ascii_digit)
        && (bytes[4].is_ascii_digit() || bytes[4].is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::super::tests::read_shared;
    use super::*;

    // Invented descriptors; real CPT text is AMA-licensed.
    const SECRET: &str = "Invented descriptor for a skin procedure, do not echo";
    const FIXTURE: &str = "Code,Descriptor,Short_Descriptor,Extra\n\
        11400,\"Invented descriptor for a skin procedure, do not echo\",Skin proc short,x\n\
        0075T,Invented category three descriptor,,y\n";

    #[test]
    fn parses_licensee_layout() {
        let file = parse(FIXTURE.as_bytes(), "cpt.csv").unwrap();
        assert_eq!(file.concepts.len(), 2);
        assert_eq!(file.concepts[0].display, "Skin proc short");
        assert_eq!(file.concepts[0].long_description.as_deref(), Some(SECRET));
        assert_eq!(file.concepts[1].code, "0075T");
        assert_eq!(
            file.concepts[1].display,
            "Invented category three descriptor"
        );
        let two_columns = "code,descriptor\n99213,Invented office visit text\n";
        let file = parse(two_columns.as_bytes(), "cpt.csv").unwrap();
        assert_eq!(file.concepts[0].display, "Invented office visit text");
    }

    #[test]
    fn errors_never_echo_descriptor_text() {
        let cases = [
            FIXTURE.replacen("11400,", "1140,", 1),
            FIXTURE.replacen(",Skin proc short,x", ",Skin proc short", 1),
            FIXTURE.replacen("0075T", "11400", 1),
            FIXTURE.replacen("11400,", &format!("{SECRET},"), 1),
        ];
        let lines: Vec<u64> = cases
            .iter()
            .map(|case| {
                let e = parse(case.as_bytes(), "cpt.csv").unwrap_err();
                assert!(!e.to_string().contains("Invented"), "{e}");
                e.line
            })
            .collect();
        assert_eq!(lines, [2, 2, 3, 2]);
        let mut invalid = FIXTURE.as_bytes().to_vec();
        invalid[FIXTURE.find("category").unwrap()] = 0xFE;
        assert_eq!(parse(&invalid, "cpt.csv").unwrap_err().line, 3);
        let e = parse(b"code,family\n11400,x\n", "cpt.csv").unwrap_err();
        assert_eq!(e.line, 1);
        assert_eq!(parse(b"code,descriptor\n", "cpt.csv").unwrap_err().line, 2);
    }

    #[test]
    fn shared_seed_fixture() {
        let Some(data) = read_shared("cpt/seed_cpt_codes.csv") else {
            return;
        };
        let file = parse(&data, "seed_cpt_codes.csv").unwrap();
        assert_eq!(file.concepts.len(), 80);
        assert_eq!(file.concepts[0].code, "11400");
        assert_eq!(file.release, ReleaseHint::default());
    }
}
