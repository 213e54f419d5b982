//! The bytes of an interchange as segments: the separators read from the
//! fixed-width ISA, then one segment at a time from any `Read`, so a file
//! of any size is read in constant memory.
//!
//! Liberal where the standard leaves room and files differ in practice:
//! - text before the ISA (a mail header, the implementation guide's prose
//!   around its examples) is skipped; the reader counts it;
//! - CR and LF are not in the X12 character sets, so when the segment
//!   terminator is something else they are line wrapping and dropped, also
//!   inside an element (files wrapped at 80 columns); when the terminator
//!   is a newline, a CR before it belongs to it.

use std::io::{self, Read};

/// The ISA is 106 bytes: the element separator is its 4th byte, the
/// repetition separator ISA11 its 83rd, the component separator ISA16 its
/// 105th and the segment terminator its 106th.
pub const ISA_LEN: usize = 106;

/// The delimiters of an interchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Separators {
    pub element: u8,
    pub component: u8,
    /// ISA11 when it is not a letter or digit (00501 makes it a separator).
    pub repetition: Option<u8>,
    pub segment: u8,
}

impl Separators {
    /// The separators claimscrub writes its acknowledgements with.
    pub const WRITTEN: Separators = Separators {
        element: b'*',
        component: b':',
        repetition: Some(b'^'),
        segment: b'~',
    };
}

/// Why the bytes are not an interchange (each answered by a TA1 note code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvelopeError {
    /// No ISA segment (TA1 024, invalid interchange content).
    NoIsa,
    /// The ISA is shorter than 106 bytes (TA1 023, premature end).
    ShortIsa,
    /// The delimiters clash or are letters or digits (TA1 026, 027 or 004).
    BadElementSeparator,
    BadComponentSeparator,
    BadSegmentTerminator,
}

impl EnvelopeError {
    /// The TA1 interchange note code (I18).
    pub fn ta1_code(self) -> &'static str {
        match self {
            Self::NoIsa => "024",
            Self::ShortIsa => "023",
            Self::BadElementSeparator => "026",
            Self::BadComponentSeparator => "027",
            Self::BadSegmentTerminator => "004",
        }
    }
}

/// Reads segments from `R`.
pub struct SegmentReader<R> {
    input: R,
    buffer: Vec<u8>,
    start: usize,
    eof: bool,
    separators: Separators,
    /// Drop CR and LF (the terminator is not a newline).
    unwrap_lines: bool,
    /// Bytes skipped before the ISA that were not whitespace.
    preamble_bytes: usize,
    /// Segments returned so far.
    segments_read: u64,
}

const CHUNK: usize = 64 * 1024;
/// The most bytes read looking for the ISA: the prose around a guide
/// example is a few kilobytes; a file that is not X12 ends here.
const PREAMBLE_MAX: usize = 1024 * 1024;
/// The longest segment kept whole. X12 segments are short (an NTE is the
/// longest at under 100 bytes of data); a run without a terminator is cut
/// here, so memory stays bounded and the pieces fail the syntax checks.
pub const SEGMENT_MAX: usize = 64 * 1024;

fn is_newline(byte: u8) -> bool {
    byte == b'\r' || byte == b'\n'
}

fn is_separator_byte(byte: u8) -> bool {
    !byte.is_ascii_alphanumeric() && byte != b' '
}

impl<R: Read> SegmentReader<R> {
    /// Finds the ISA in `input` and reads its separators.
    pub fn new(mut input: R) -> io::Result<Result<Self, EnvelopeError>> {
        let mut buffer = Vec::with_capacity(CHUNK);
        let mut eof = false;
        // The ISA may follow any amount of prose; read until one is found
        // at the start of a line, or the input ends.
        let mut searched = 0;
        let isa_at = loop {
            if let Some(at) = find_isa(&buffer, searched) {
                break Some(at);
            }
            searched = buffer.len().saturating_sub(3);
            if eof || buffer.len() > PREAMBLE_MAX {
                break None;
            }
            eof = fill(&mut input, &mut buffer)?;
        };
        let Some(isa_at) = isa_at else {
            return Ok(Err(EnvelopeError::NoIsa));
        };
        let preamble_bytes = buffer[..isa_at]
            .iter()
            .filter(|b| !b.is_ascii_whitespace())
            .count();
        buffer.drain(..isa_at);
        // Enough bytes for a wrapped ISA: 106 plus its line breaks.
        while buffer.len() < 2 * ISA_LEN && !eof {
            eof = fill(&mut input, &mut buffer)?;
        }
        // An ISA whose first 105 bytes hold no line break ends with the
        // terminator; one with breaks inside is wrapped.
        let unwrap_lines = match buffer.get(ISA_LEN - 1) {
            Some(&byte) if buffer[..ISA_LEN - 1].iter().all(|b| !is_newline(*b)) => {
                !is_newline(byte)
            }
            _ => true,
        };
        if unwrap_lines {
            buffer.retain(|b| !is_newline(*b));
        }
        if buffer.len() < ISA_LEN {
            return Ok(Err(EnvelopeError::ShortIsa));
        }
        let element = buffer[3];
        let component = buffer[ISA_LEN - 2];
        let segment = buffer[ISA_LEN - 1];
        let repetition = Some(buffer[82]).filter(|b| is_separator_byte(*b));
        if !is_separator_byte(element) {
            return Ok(Err(EnvelopeError::BadElementSeparator));
        }
        if !is_separator_byte(component) || component == element {
            return Ok(Err(EnvelopeError::BadComponentSeparator));
        }
        if !is_separator_byte(segment) && !is_newline(segment)
            || segment == element
            || segment == component
        {
            return Ok(Err(EnvelopeError::BadSegmentTerminator));
        }
        Ok(Ok(Self {
            input,
            buffer,
            start: 0,
            eof,
            separators: Separators {
                element,
                component,
                repetition,
                segment,
            },
            unwrap_lines,
            preamble_bytes,
            segments_read: 0,
        }))
    }

    /// The interchange's separators.
    pub fn separators(&self) -> Separators {
        self.separators
    }

    /// Non-blank bytes skipped before the ISA.
    pub fn preamble_bytes(&self) -> usize {
        self.preamble_bytes
    }

    /// Segments read so far.
    pub fn segments_read(&self) -> u64 {
        self.segments_read
    }

    /// The next segment's bytes without its terminator, into `out`; false
    /// at the end of the input. Blank space between segments is skipped;
    /// bytes after the last terminator come back as a last segment.
    pub fn next_segment(&mut self, out: &mut Vec<u8>) -> io::Result<bool> {
        out.clear();
        loop {
            let terminator = self.separators.segment;
            let pending = &self.buffer[self.start..];
            if let Some(end) = pending.iter().position(|b| *b == terminator) {
                let mut segment = &pending[..end];
                if terminator == b'\n' && segment.last() == Some(&b'\r') {
                    segment = &segment[..segment.len() - 1];
                }
                let segment = trim_leading_blank(segment);
                let empty = segment.is_empty();
                out.extend_from_slice(segment);
                self.start += end + 1;
                if empty {
                    continue;
                }
                self.segments_read += 1;
                return Ok(true);
            }
            if pending.len() > SEGMENT_MAX {
                out.extend_from_slice(&pending[..SEGMENT_MAX]);
                self.start += SEGMENT_MAX;
                self.segments_read += 1;
                return Ok(true);
            }
            if self.eof {
                let rest = trim_leading_blank(&self.buffer[self.start..]);
                let rest = rest.strip_suffix(b"\r").unwrap_or(rest);
                if rest.iter().all(|b| b.is_ascii_whitespace()) {
                    return Ok(false);
                }
                out.extend_from_slice(rest);
                self.start = self.buffer.len();
                self.segments_read += 1;
                return Ok(true);
            }
            self.buffer.drain(..self.start);
            self.start = 0;
            let from = self.buffer.len();
            self.eof = fill(&mut self.input, &mut self.buffer)?;
            if self.unwrap_lines {
                let mut kept = from;
                for i in from..self.buffer.len() {
                    let byte = self.buffer[i];
                    if !is_newline(byte) {
                        self.buffer[kept] = byte;
                        kept += 1;
                    }
                }
                self.buffer.truncate(kept);
            }
        }
    }
}

fn trim_leading_blank(segment: &[u8]) -> &[u8] {
    let blank = segment
        .iter()
        .take_while(|b| b.is_ascii_whitespace())
        .count();
    &segment[blank..]
}

/// Appends up to a chunk of `input` to `buffer`; true at the end.
fn fill(input: &mut impl Read, buffer: &mut Vec<u8>) -> io::Result<bool> {
    let from = buffer.len();
    buffer.resize(from + CHUNK, 0);
    let read = loop {
        match input.read(&mut buffer[from..]) {
            Ok(read) => break read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => {
                buffer.truncate(from);
                return Err(error);
            }
        }
    };
    buffer.truncate(from + read);
    Ok(read == 0)
}

/// The first `ISA` at the start of the input or of a line, followed by a
/// byte that can be a separator and, two characters on, by it again.
fn find_isa(buffer: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while at + 4 <= buffer.len() {
        let found = buffer[at..].windows(3).position(|w| w == b"ISA")? + at;
        if found + 4 > buffer.len() {
            return None;
        }
        let line_start = found == 0 || is_newline(buffer[found - 1]);
        // ISA01 is two characters: the same separator follows it.
        let separator = buffer[found + 3];
        let isa01_ends = buffer.get(found + 6).is_none_or(|b| *b == separator);
        if line_start && is_separator_byte(separator) && isa01_ends {
            return Some(found);
        }
        at = found + 1;
    }
    None
}

/// A segment split into elements: `element(0)` is the segment id.
#[derive(Debug)]
pub struct Segment<'a> {
    elements: Vec<&'a [u8]>,
    separators: Separators,
}

impl<'a> Segment<'a> {
    /// Splits `bytes` at the element separator.
    pub fn parse(bytes: &'a [u8], separators: Separators) -> Self {
        Self {
            elements: bytes.split(|b| *b == separators.element).collect(),
            separators,
        }
    }

    /// The segment id (the text before the first separator).
    pub fn id(&self) -> &'a str {
        std::str::from_utf8(self.elements[0]).unwrap_or("")
    }

    /// The number of elements after the id, trailing empty ones included.
    pub fn element_count(&self) -> usize {
        self.elements.len() - 1
    }

    /// Element `position` (1-based) as bytes, empty when absent.
    pub fn raw(&self, position: usize) -> &'a [u8] {
        self.elements.get(position).copied().unwrap_or(b"")
    }

    /// Element `position` as text (lossy outside ASCII, which the
    /// character check reports).
    pub fn text(&self, position: usize) -> String {
        String::from_utf8_lossy(self.raw(position)).into_owned()
    }

    /// Element `position` as text when it is ASCII, else empty.
    pub fn str(&self, position: usize) -> &'a str {
        std::str::from_utf8(self.raw(position)).unwrap_or("")
    }

    /// Component `component` (1-based) of element `position`.
    pub fn component(&self, position: usize, component: usize) -> &'a str {
        self.components(position)
            .nth(component - 1)
            .and_then(|c| std::str::from_utf8(c).ok())
            .unwrap_or("")
    }

    /// The components of element `position`.
    pub fn components(&self, position: usize) -> impl Iterator<Item = &'a [u8]> + 'a {
        let component = self.separators.component;
        self.raw(position).split(move |b| *b == component)
    }

    /// Whether the segment ends with an empty element (a trailing
    /// separator, which the syntax forbids).
    pub fn has_trailing_separator(&self) -> bool {
        self.elements.len() > 1 && self.elements.last().is_some_and(|e| e.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISA: &str = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *240101*1200*^*00501*000000001*0*T*:~";

    fn segments(text: &str) -> Result<Vec<String>, EnvelopeError> {
        let mut reader = SegmentReader::new(text.as_bytes()).unwrap()?;
        let mut out = Vec::new();
        let mut all = Vec::new();
        while reader.next_segment(&mut out).unwrap() {
            all.push(String::from_utf8(out.clone()).unwrap());
        }
        Ok(all)
    }

    #[test]
    fn reads_separators_from_the_fixed_width_isa() {
        let reader = SegmentReader::new(ISA.as_bytes()).unwrap().unwrap();
        assert_eq!(reader.separators(), Separators::WRITTEN);
        let other = ISA
            .replace('*', "|")
            .replace('~', "\n")
            .replace(":\n", "}\n");
        let reader = SegmentReader::new(other.as_bytes()).unwrap().unwrap();
        assert_eq!(
            reader.separators(),
            Separators {
                element: b'|',
                component: b'}',
                repetition: Some(b'^'),
                segment: b'\n'
            }
        );
    }

    #[test]
    fn newline_terminators_drop_their_carriage_returns() {
        let text = format!(
            "{}\r\nGS|HC\r\nST|837\r\n",
            ISA.replace('*', "|").replace('~', "")
        );
        assert_eq!(segments(&text).unwrap()[1..], ["GS|HC", "ST|837"]);
    }

    #[test]
    fn wrapped_lines_and_prose_before_the_isa_are_read() {
        let text = format!(
            "Example 1\nISA: the header\n\n{}GS*HC*SEN\nDER~ST*837~\n",
            {
                let (a, b) = ISA.split_at(40);
                format!("{a}\n{b}")
            }
        );
        let mut reader = SegmentReader::new(text.as_bytes()).unwrap().unwrap();
        assert!(reader.preamble_bytes() > 0);
        let mut out = Vec::new();
        let mut all = Vec::new();
        while reader.next_segment(&mut out).unwrap() {
            all.push(String::from_utf8(out.clone()).unwrap());
        }
        assert_eq!(all[0].len(), ISA_LEN - 1);
        assert_eq!(all[1..], ["GS*HC*SENDER", "ST*837"]);
    }

    #[test]
    fn broken_envelopes_are_named() {
        assert_eq!(segments("GS*HC~ST*837~"), Err(EnvelopeError::NoIsa));
        assert_eq!(segments("ISA*00*  *~"), Err(EnvelopeError::ShortIsa));
        let clash = ISA.replace(":~", "**");
        assert_eq!(segments(&clash), Err(EnvelopeError::BadComponentSeparator));
    }

    #[test]
    fn junk_is_read_in_bounded_pieces() {
        let junk = format!("{ISA}{}", "A".repeat(3 * SEGMENT_MAX + 5));
        let pieces = segments(&junk).unwrap();
        assert_eq!(pieces.len(), 5);
        assert!(pieces.iter().all(|p| p.len() <= SEGMENT_MAX));
        let prose = "no interchange here\n".repeat(PREAMBLE_MAX / 10);
        assert_eq!(segments(&prose), Err(EnvelopeError::NoIsa));
    }

    #[test]
    fn elements_and_components_split() {
        let segment = Segment::parse(b"SV1*HC:11404:59*150*UN*1***1:2", Separators::WRITTEN);
        assert_eq!(segment.id(), "SV1");
        assert_eq!(segment.component(1, 2), "11404");
        assert_eq!(segment.component(1, 3), "59");
        assert_eq!(segment.str(3), "UN");
        assert_eq!(segment.components(7).count(), 2);
        assert_eq!(segment.element_count(), 7);
        assert!(!segment.has_trailing_separator());
        assert!(Segment::parse(b"REF*EI*1*", Separators::WRITTEN).has_trailing_separator());
    }
}
