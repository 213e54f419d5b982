//! CDC ICD-10-CM Tabular List XML (`icd10cm-tabular-*.xml`).
//!
//! Streams the XML once into a flat list of `<diag>` nodes, then derives
//! billability and the 7-character codes, which the XML does not list: a
//! `<sevenChrDef>` applies to its diag and all descendants (nearest wins), and
//! each leaf under one gets its code padded with `X` to six characters plus
//! each extension character. Codes are uppercase without the dot.
//!
//! The XML states one restriction on that expansion only in prose, in a `<notes>`
//! of the diag that carries the definition ("7th characters D and S do not apply
//! to codes in category S06 with 6th character 7 - …, or 8 - …"). Such notes are
//! interpreted; one that mentions 7th characters not applying but cannot be read
//! refuses the file rather than yielding codes CMS does not list.

use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesRef, BytesStart, Event};

use super::{
    ConceptFile, ConceptRecord, FirstSeen, LineCounter, ParseError, ReleaseHint, count_lines,
    fiscal_year_start, perr, require_utf8,
};

/// Parses the tabular XML; refuses it whole on malformed XML or an unusable `<diag>`.
pub fn parse(data: &[u8], file_name: &str) -> Result<ConceptFile, ParseError> {
    let text = require_utf8(data)?;
    let tree = read_tree(text)?;
    let concepts = build_concepts(&tree)?;
    let release = release_hint(tree.version.as_deref(), file_name);
    Ok(ConceptFile {
        release,
        concepts,
        skipped: Vec::new(),
        lines_read: count_lines(data),
    })
}

/// One `<diag>` element as read.
struct Diag {
    line: u64,
    code: Option<String>,
    desc: Option<String>,
    parent: Option<usize>,
    has_child: bool,
    /// Index into `Tree::seven_defs` of a definition declared on this diag.
    seven_def: Option<usize>,
    /// Extensions a note on this diag rules out for some 6th characters.
    seven_exceptions: Vec<SevenException>,
    chapter: usize,
    section: usize,
}

/// 7th-character extensions: (character, meaning).
type SevenDef = Vec<(char, String)>;

/// "7th characters `excluded` do not apply to codes … with 6th character `sixth`".
#[derive(Clone, Debug, PartialEq)]
struct SevenException {
    excluded: Vec<char>,
    sixth: Vec<char>,
}

#[derive(Default)]
struct Tree {
    version: Option<String>,
    chapters: Vec<String>,
    sections: Vec<String>,
    diags: Vec<Diag>,
    seven_defs: Vec<SevenDef>,
}

#[derive(Clone, Copy, PartialEq)]
enum Tag {
    Version,
    Chapter,
    Section,
    Diag,
    Name,
    Desc,
    Notes,
    Note,
    SevenChrDef,
    Extension,
    Other,
}

impl Tag {
    fn of(name: &[u8]) -> Self {
        match name {
            b"version" => Self::Version,
            b"chapter" => Self::Chapter,
            b"section" => Self::Section,
            b"diag" => Self::Diag,
            b"name" => Self::Name,
            b"desc" => Self::Desc,
            b"notes" => Self::Notes,
            b"note" => Self::Note,
            b"sevenChrDef" => Self::SevenChrDef,
            b"extension" => Self::Extension,
            _ => Self::Other,
        }
    }
}

/// Which field the text of the current element belongs to.
#[derive(Clone, Copy, PartialEq)]
enum Capture {
    None,
    Version,
    ChapterName,
    DiagName(usize),
    DiagDesc(usize),
    DiagNote(usize),
    Extension(char),
}

fn read_tree(text: &str) -> Result<Tree, ParseError> {
    let mut reader = Reader::from_str(text);
    let mut lines = LineCounter::new(text.as_bytes());
    let mut tree = Tree::default();
    let mut stack: Vec<Tag> = Vec::new();
    let mut open_diags: Vec<usize> = Vec::new();
    let mut capture = Capture::None;
    let mut buffer = String::new();
    let mut saw_root = false;
    loop {
        let start = reader.buffer_position();
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(e) => {
                let line = lines.line_at(reader.error_position());
                return Err(perr(line, format!("malformed XML: {e}")));
            }
        };
        let line = lines.line_at(start);
        match event {
            Event::Start(element) => {
                let tag = Tag::of(element.name().as_ref());
                if stack.is_empty() {
                    if element.name().as_ref() != b"ICD10CM.tabular" {
                        return Err(perr(line, "root element is not <ICD10CM.tabular>"));
                    }
                    saw_root = true;
                }
                let parent = stack.last().copied();
                capture = match (tag, parent) {
                    (Tag::Version, Some(_)) if stack.len() == 1 => Capture::Version,
                    (Tag::Chapter, _) => {
                        tree.chapters.push(String::new());
                        Capture::None
                    }
                    (Tag::Name, Some(Tag::Chapter)) => Capture::ChapterName,
                    (Tag::Section, _) => {
                        tree.sections.push(attribute(&element, b"id", line)?);
                        Capture::None
                    }
                    (Tag::Diag, _) => {
                        open_diag(&mut tree, &mut open_diags, line)?;
                        Capture::None
                    }
                    (Tag::Name, Some(Tag::Diag)) => Capture::DiagName(current(&open_diags)),
                    (Tag::Desc, Some(Tag::Diag)) => Capture::DiagDesc(current(&open_diags)),
                    (Tag::Note, Some(Tag::Notes))
                        if stack.iter().rev().nth(1) == Some(&Tag::Diag) =>
                    {
                        Capture::DiagNote(current(&open_diags))
                    }
                    (Tag::SevenChrDef, Some(Tag::Diag)) => {
                        let diag = current(&open_diags);
                        if tree.diags[diag].seven_def.is_some() {
                            return Err(perr(line, "second <sevenChrDef> on one <diag>"));
                        }
                        tree.diags[diag].seven_def = Some(tree.seven_defs.len());
                        tree.seven_defs.push(Vec::new());
                        Capture::None
                    }
                    (Tag::Extension, Some(Tag::SevenChrDef)) => {
                        let value = attribute(&element, b"char", line)?;
                        let mut chars = value.chars();
                        match (chars.next(), chars.next()) {
                            (Some(c), None) if c.is_ascii_alphanumeric() => Capture::Extension(c),
                            _ => {
                                return Err(perr(
                                    line,
                                    format!(
                                        "<extension char={value:?}> is not one letter or digit"
                                    ),
                                ));
                            }
                        }
                    }
                    _ => capture,
                };
                if tag != Tag::Other {
                    buffer.clear();
                }
                stack.push(tag);
            }
            Event::End(_) => {
                let Some(tag) = stack.pop() else {
                    return Err(perr(line, "closing tag without an open element"));
                };
                if tag == Tag::Diag {
                    open_diags.pop();
                }
                finish_capture(&mut tree, capture, tag, &mut buffer, line)?;
                if tag != Tag::Other {
                    capture = Capture::None;
                }
            }
            Event::Empty(element) => {
                if stack.is_empty() {
                    return Err(perr(line, "document has no <ICD10CM.tabular> content"));
                }
                if Tag::of(element.name().as_ref()) == Tag::Diag {
                    return Err(perr(line, "empty <diag/> has no code"));
                }
            }
            Event::Text(chunk) => {
                if capture != Capture::None {
                    let decoded = chunk
                        .xml10_content()
                        .map_err(|e| perr(line, format!("bad text: {e}")))?;
                    buffer.push_str(&decoded);
                }
            }
            Event::CData(chunk) => {
                if capture != Capture::None {
                    buffer.push_str(
                        &chunk
                            .decode()
                            .map_err(|e| perr(line, format!("bad CDATA: {e}")))?,
                    );
                }
            }
            Event::GeneralRef(reference) => {
                let resolved = resolve_reference(&reference, line)?;
                if capture != Capture::None {
                    buffer.push(resolved);
                }
            }
            Event::Eof => {
                if !stack.is_empty() {
                    return Err(perr(line, "unexpected end of file inside an open element"));
                }
                break;
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
    }
    if !saw_root || tree.diags.is_empty() {
        return Err(perr(lines.line, "file contains no <diag> elements"));
    }
    Ok(tree)
}

fn current(open_diags: &[usize]) -> usize {
    // Only called when the parent element is a diag, so one is open.
    open_diags.last().copied().unwrap_or_default()
}

fn open_diag(tree: &mut Tree, open_diags: &mut Vec<usize>, line: u64) -> Result<(), ParseError> {
    let (Some(chapter), Some(section)) = (
        tree.chapters.len().checked_sub(1),
        tree.sections.len().checked_sub(1),
    ) else {
        return Err(perr(line, "<diag> outside a <chapter>/<section>"));
    };
    let parent = open_diags.last().copied();
    if let Some(parent) = parent {
        tree.diags[parent].has_child = true;
    }
    open_diags.push(tree.diags.len());
    tree.diags.push(Diag {
        line,
        code: None,
        desc: None,
        parent,
        has_child: false,
        seven_def: None,
        seven_exceptions: Vec::new(),
        chapter,
        section,
    });
    Ok(())
}

/// Stores the collected text when the element that captured it closes.
fn finish_capture(
    tree: &mut Tree,
    capture: Capture,
    closing: Tag,
    buffer: &mut String,
    line: u64,
) -> Result<(), ParseError> {
    let text = buffer.trim().to_owned();
    match (capture, closing) {
        (Capture::Version, Tag::Version) => tree.version = Some(text),
        (Capture::ChapterName, Tag::Name) => {
            if let Some(chapter) = tree.chapters.last_mut() {
                *chapter = text;
            }
        }
        (Capture::DiagName(diag), Tag::Name) => {
            let code = canonical_code(&text)
                .ok_or_else(|| perr(line, format!("invalid diagnosis code {text:?}")))?;
            tree.diags[diag].code = Some(code);
        }
        (Capture::DiagDesc(diag), Tag::Desc) => tree.diags[diag].desc = Some(text),
        (Capture::DiagNote(diag), Tag::Note) => {
            let lower = text.to_ascii_lowercase();
            if lower.contains("7th character") && lower.contains("not apply") {
                let exception = seven_exception(&text).ok_or_else(|| {
                    perr(line, "cannot interpret a note restricting 7th characters")
                })?;
                tree.diags[diag].seven_exceptions.push(exception);
            }
        }
        (Capture::Extension(c), Tag::Extension) => {
            if let Some(def) = tree.seven_defs.last_mut() {
                def.push((c, text));
            }
        }
        _ => return Ok(()),
    }
    buffer.clear();
    Ok(())
}

/// `S01.01` → `S0101`; `None` unless 3–7 letters/digits with at most one dot after the category.
fn canonical_code(name: &str) -> Option<String> {
    let code: String = name.replacen('.', "", 1).to_ascii_uppercase();
    let valid = (3..=7).contains(&code.len())
        && code.bytes().all(|b| b.is_ascii_alphanumeric())
        && name.find('.').is_none_or(|dot| dot == 3);
    valid.then_some(code)
}

fn attribute(element: &BytesStart<'_>, key: &[u8], line: u64) -> Result<String, ParseError> {
    let name = String::from_utf8_lossy(key);
    let attr = element
        .try_get_attribute(key)
        .map_err(|e| perr(line, format!("malformed attribute: {e}")))?
        .ok_or_else(|| perr(line, format!("missing attribute {name:?}")))?;
    let value = attr
        .unescape_value()
        .map_err(|e| perr(line, format!("bad attribute {name:?}: {e}")))?;
    Ok(value.trim().to_owned())
}

fn resolve_reference(reference: &BytesRef<'_>, line: u64) -> Result<char, ParseError> {
    let bad = || perr(line, "unknown entity or character reference");
    if let Some(c) = reference.resolve_char_ref().map_err(|_| bad())? {
        return Ok(c);
    }
    let name = reference.decode().map_err(|_| bad())?;
    let mut resolved = resolve_predefined_entity(&name).ok_or_else(bad)?.chars();
    resolved.next().ok_or_else(bad)
}

fn build_concepts(tree: &Tree) -> Result<Vec<ConceptRecord>, ParseError> {
    let mut out = Concepts {
        list: Vec::with_capacity(tree.diags.len() * 2),
        seen: FirstSeen::new(),
    };
    for diag in &tree.diags {
        let code = diag
            .code
            .clone()
            .ok_or_else(|| perr(diag.line, "<diag> without <name>"))?;
        let desc = diag
            .desc
            .clone()
            .ok_or_else(|| perr(diag.line, format!("<diag> {code} without <desc>")))?;
        let seven_def = applicable_seven_def(tree, diag);
        let properties = vec![
            ("chapter".to_owned(), tree.chapters[diag.chapter].clone()),
            ("section".to_owned(), tree.sections[diag.section].clone()),
        ];
        let leaf = !diag.has_child;
        out.add(ConceptRecord {
            line: diag.line,
            code: code.clone(),
            display: desc.clone(),
            long_description: Some(desc.clone()),
            // Under a 7th-character definition only the 7-character codes are valid.
            billable: Some(leaf && seven_def.is_none()),
            parent_code: diag.parent.and_then(|p| tree.diags[p].code.clone()),
            added_date: None,
            effective_date: None,
            termination_date: None,
            properties: properties.clone(),
        })?;
        let Some(def) = seven_def.filter(|_| leaf) else {
            continue;
        };
        if code.len() > 6 {
            return Err(perr(
                diag.line,
                format!("{code} is too long to take a 7th character"),
            ));
        }
        let base = format!("{code:X<6}");
        let excluded = excluded_extensions(tree, diag, &base);
        for (c, meaning) in def.iter().filter(|(c, _)| !excluded.contains(c)) {
            let text = format!("{desc}, {meaning}");
            let mut properties = properties.clone();
            properties.push(("seventh_character_of".to_owned(), code.clone()));
            out.add(ConceptRecord {
                line: diag.line,
                code: format!("{base}{c}"),
                display: text.clone(),
                long_description: Some(text),
                billable: Some(true),
                parent_code: Some(code.clone()),
                added_date: None,
                effective_date: None,
                termination_date: None,
                properties,
            })?;
        }
    }
    Ok(out.list)
}

/// Output list that refuses a code seen before (explicit or expanded).
struct Concepts {
    list: Vec<ConceptRecord>,
    seen: FirstSeen<String>,
}

impl Concepts {
    fn add(&mut self, concept: ConceptRecord) -> Result<(), ParseError> {
        self.seen
            .insert(concept.code.clone(), concept.line)
            .map_err(|first| {
                perr(
                    concept.line,
                    format!("duplicate code {} (first on line {first})", concept.code),
                )
            })?;
        self.list.push(concept);
        Ok(())
    }
}

/// Reads "7th characters D and S do not apply to codes in category S06 with
/// 6th character 7 - death …, or 8 - death …".
fn seven_exception(note: &str) -> Option<SevenException> {
    let lower = note.to_ascii_lowercase();
    let list_start = lower.find("7th characters ")? + "7th characters ".len();
    let list_end = lower.find(" do not apply")?;
    let excluded = note
        .get(list_start..list_end)?
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|word| {
            !word.is_empty() && !["and", "or"].contains(&word.to_ascii_lowercase().as_str())
        })
        .map(single_char)
        .collect::<Option<Vec<char>>>()?;
    let sixth_start = lower.find("6th character")? + "6th character".len();
    // Each 6th character is a lone letter/digit followed by " - " and its meaning.
    let sixth: Vec<char> = note[sixth_start..]
        .split(" - ")
        .filter_map(|before| before.rsplit(char::is_whitespace).next())
        .filter_map(single_char)
        .collect();
    (!excluded.is_empty() && !sixth.is_empty()).then_some(SevenException { excluded, sixth })
}

fn single_char(word: &str) -> Option<char> {
    let mut chars = word.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if c.is_ascii_alphanumeric() => Some(c.to_ascii_uppercase()),
        _ => None,
    }
}

/// 7th characters that notes on the diag or its ancestors rule out for `base`.
fn excluded_extensions(tree: &Tree, diag: &Diag, base: &str) -> Vec<char> {
    let Some(sixth) = base.chars().nth(5) else {
        return Vec::new();
    };
    let mut excluded = Vec::new();
    let mut node = Some(diag);
    while let Some(current) = node {
        for exception in &current.seven_exceptions {
            if exception.sixth.contains(&sixth) {
                excluded.extend(&exception.excluded);
            }
        }
        node = current.parent.map(|p| &tree.diags[p]);
    }
    excluded
}

/// The nearest `<sevenChrDef>` on the diag itself or an ancestor.
fn applicable_seven_def<'t>(tree: &'t Tree, diag: &Diag) -> Option<&'t SevenDef> {
    let mut node = diag;
    loop {
        if let Some(def) = node.seven_def {
            return Some(&tree.seven_defs[def]);
        }
        node = &tree.diags[node.parent?];
    }
}

/// `<version>2026</version>` → FY2026 from 2025-10-01; an `April-1-YYYY` file name
/// marks the April update of that fiscal year (`FY2026-APR`).
fn release_hint(version: Option<&str>, file_name: &str) -> ReleaseHint {
    let Some(fy) = version.and_then(|v| v.trim().parse::<i32>().ok()) else {
        return ReleaseHint::default();
    };
    let lower = file_name.to_ascii_lowercase();
    let april = lower
        .split("april-1-")
        .skip(1)
        .any(|rest| rest.len() >= 4 && rest.as_bytes()[..4].iter().all(u8::is_ascii_digit));
    ReleaseHint {
        version: Some(if april {
            format!("FY{fy}-APR")
        } else {
            format!("FY{fy}")
        }),
        effective_from: fiscal_year_start(fy),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::read_shared;
    use super::*;
    use chrono::NaiveDate;
    use std::collections::HashMap;

    const FIXTURE: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r
<ICD10CM.tabular>\r
  <version>2026</version>\r
  <chapter>\r
    <name>19</name>\r
    <desc>Injury, poisoning and certain other consequences of external causes (S00-T88)</desc>\r
    <section id=\"S00-S09\">\r
      <desc>Injuries to the head (S00-S09)</desc>\r
      <diag>\r
        <name>S01</name>\r
        <desc>Open wound of head</desc>\r
        <sevenChrDef>\r
          <extension char=\"A\">initial encounter</extension>\r
          <extension char=\"D\">subsequent encounter</extension>\r
        </sevenChrDef>\r
        <diag>\r
          <name>S01.0</name>\r
          <desc>Open wound of scalp</desc>\r
          <diag>\r
            <name>S01.01</name>\r
            <desc>Laceration without foreign body of scalp</desc>\r
          </diag>\r
        </diag>\r
        <diag>\r
          <name>S01.1</name>\r
          <desc>Open wound of eyelid &amp; periocular area</desc>\r
          <sevenChrDef>\r
            <extension char=\"S\">sequela</extension>\r
          </sevenChrDef>\r
          <diag>\r
            <name>S01.111</name>\r
            <desc>Laceration without foreign body of right eyelid and periocular area</desc>\r
          </diag>\r
        </diag>\r
      </diag>\r
    </section>\r
  </chapter>\r
  <chapter>\r
    <name>13</name>\r
    <desc>Diseases of the musculoskeletal system and connective tissue (M00-M99)</desc>\r
    <section id=\"M30-M36\">\r
      <diag>\r
        <name>M35</name>\r
        <desc>Other systemic involvement of connective tissue</desc>\r
        <diag>\r
          <name>M35.0</name>\r
          <desc>Sj\u{f6}gren syndrome</desc>\r
          <inclusionTerm>\r
            <note>Sicca syndrome</note>\r
          </inclusionTerm>\r
        </diag>\r
      </diag>\r
    </section>\r
  </chapter>\r
</ICD10CM.tabular>\r
";

    fn by_code(file: &ConceptFile) -> HashMap<&str, &ConceptRecord> {
        file.concepts.iter().map(|c| (c.code.as_str(), c)).collect()
    }

    #[test]
    fn expands_seventh_characters_and_nests() {
        let file = parse(FIXTURE.as_bytes(), "icd10cm-tabular-April-1-2026.xml").unwrap();
        let codes: Vec<_> = file.concepts.iter().map(|c| c.code.as_str()).collect();
        assert_eq!(
            codes,
            [
                "S01", "S010", "S0101", "S0101XA", "S0101XD", "S011", "S01111", "S01111S", "M35",
                "M350"
            ]
        );
        let map = by_code(&file);
        assert_eq!(map["S01"].billable, Some(false));
        assert_eq!(map["S01"].parent_code, None);
        assert_eq!(
            map["S0101"].billable,
            Some(false),
            "base leaf under a 7th-char def"
        );
        assert_eq!(map["S0101"].parent_code.as_deref(), Some("S010"));
        assert_eq!(map["S0101"].line, 19);
        let xa = map["S0101XA"];
        assert_eq!(xa.billable, Some(true));
        assert_eq!(xa.parent_code.as_deref(), Some("S0101"));
        assert_eq!(
            xa.long_description.as_deref(),
            Some("Laceration without foreign body of scalp, initial encounter")
        );
        assert_eq!(
            xa.properties,
            [
                ("chapter".to_owned(), "19".to_owned()),
                ("section".to_owned(), "S00-S09".to_owned()),
                ("seventh_character_of".to_owned(), "S0101".to_owned()),
            ]
        );
        assert_eq!(
            map["S011"].display,
            "Open wound of eyelid & periocular area"
        );
        // The nearest definition wins: S01.1 overrides S01's A/D with S only.
        assert!(!map.contains_key("S01111A"));
        assert_eq!(map["M350"].display, "Sj\u{f6}gren syndrome");
        assert_eq!(map["M350"].billable, Some(true));
        assert_eq!(map["M35"].billable, Some(false));
        assert_eq!(
            map["M350"].properties,
            [
                ("chapter".to_owned(), "13".to_owned()),
                ("section".to_owned(), "M30-M36".to_owned()),
            ]
        );
        assert_eq!(file.lines_read, 55);
        assert_eq!(
            file.release,
            ReleaseHint {
                version: Some("FY2026-APR".to_owned()),
                effective_from: NaiveDate::from_ymd_opt(2025, 10, 1),
            }
        );
        let october = parse(FIXTURE.as_bytes(), "icd10cm-tabular-2026.xml").unwrap();
        assert_eq!(october.release.version.as_deref(), Some("FY2026"));
    }

    fn error_of(xml: &str) -> ParseError {
        parse(xml.as_bytes(), "t.xml").unwrap_err()
    }

    #[test]
    fn broken_copies_report_the_line() {
        let mismatched = FIXTURE.replacen(
            "</desc>\r\n          <diag>",
            "</dsec>\r\n          <diag>",
            1,
        );
        assert_eq!(error_of(&mismatched).line, 18);

        let cut = &FIXTURE[..FIXTURE.find("<name>M35.0").unwrap()];
        let e = error_of(cut);
        assert_eq!(e.line, 46, "{e}");

        let mut invalid = FIXTURE.as_bytes().to_vec();
        let at = FIXTURE.find("Sicca").unwrap();
        invalid[at] = 0xFF;
        let e = parse(&invalid, "t.xml").unwrap_err();
        assert_eq!(e.line, 49);
        assert!(e.reason.contains("UTF-8"), "{e}");

        let bad_code = FIXTURE.replacen("<name>S01.111</name>", "<name>S01.1/1</name>", 1);
        assert_eq!(error_of(&bad_code).line, 31);

        let dup = FIXTURE.replacen("<name>S01.0</name>", "<name>S01.1</name>", 1);
        let e = error_of(&dup);
        assert_eq!(e.line, 24);
        assert!(
            e.reason.contains("duplicate code S011 (first on line 16)"),
            "{e}"
        );

        let entity = FIXTURE.replacen("&amp;", "&bogus;", 1);
        assert_eq!(error_of(&entity).line, 26);

        assert_eq!(error_of("").line, 1);
        let empty = "<ICD10CM.tabular>\n<version>2026</version>\n</ICD10CM.tabular>\n";
        assert!(error_of(empty).reason.contains("no <diag>"));
    }

    const S06: &str = "<ICD10CM.tabular>
<chapter><name>19</name><section id=\"S00-S09\">
<diag><name>S06</name><desc>Intracranial injury</desc>
<sevenChrDef><extension char=\"A\">initial encounter</extension><extension char=\"D\">subsequent encounter</extension><extension char=\"S\">sequela</extension></sevenChrDef>
<notes><note>7th characters D and S do not apply to codes in category S06 with 6th character 7 - death due to brain injury prior to regaining consciousness, or 8 - death due to other cause prior to regaining consciousness.</note></notes>
<diag><name>S06.0X</name><desc>Concussion</desc>
<diag><name>S06.0X1</name><desc>Concussion with loss of consciousness of 30 minutes or less</desc></diag>
<diag><name>S06.0X7</name><desc>Concussion with loss of consciousness of any duration with death due to brain injury prior to regaining consciousness</desc></diag>
</diag></diag></section></chapter></ICD10CM.tabular>";

    #[test]
    fn prose_exception_limits_seventh_characters() {
        let file = parse(S06.as_bytes(), "t.xml").unwrap();
        let codes: Vec<_> = file.concepts.iter().map(|c| c.code.as_str()).collect();
        assert_eq!(
            codes,
            [
                "S06", "S060X", "S060X1", "S060X1A", "S060X1D", "S060X1S", "S060X7", "S060X7A"
            ]
        );
        let unreadable = S06.replacen("6th character 7 - death", "sixth character seven", 1);
        let e = parse(unreadable.as_bytes(), "t.xml").unwrap_err();
        assert_eq!(e.line, 5);
        assert!(e.reason.contains("7th characters"), "{e}");
    }

    /// The whole official file parses (its speed is measured by
    /// `examples/bench_import.rs`, not asserted here).
    #[test]
    fn the_real_file_parses() {
        let Some(data) = read_shared("icd10cm/icd10cm-tabular-April-1-2026.xml.gz") else {
            return;
        };
        let file = parse(&data, "icd10cm-tabular-April-1-2026.xml").unwrap();
        assert_eq!(file.concepts.len(), 98_186);
    }
}
