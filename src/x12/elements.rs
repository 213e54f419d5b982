//! Element syntax (SNIP levels 1 and 2): data types, lengths, required
//! elements and the code values the guide fixes, reported as the 999's
//! IK4 (element position, reference number, error code, bad value).

use chrono::NaiveDate;

use super::segments::Segment;

/// An X12 data element type.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// String: any character of the extended set.
    An,
    /// Identifier from a code list; an empty list takes any value.
    Id(&'static [&'static str]),
    /// Date, CCYYMMDD.
    Dt,
    /// Time, HHMM[SS[d..]].
    Tm,
    /// Whole number.
    N0,
    /// Decimal number.
    R,
}

/// One element of a segment the reader models.
#[derive(Debug, Clone, Copy)]
pub struct El {
    /// 1-based element position.
    pub position: usize,
    /// 1-based component position inside a composite, 0 for a simple one.
    pub component: usize,
    /// The X12 data element reference number (IK402).
    pub reference: u16,
    pub required: bool,
    pub min: usize,
    pub max: usize,
    pub kind: Kind,
}

/// Shorthand for a simple element.
pub const fn el(
    position: usize,
    reference: u16,
    required: bool,
    min: usize,
    max: usize,
    kind: Kind,
) -> El {
    El {
        position,
        component: 0,
        reference,
        required,
        min,
        max,
        kind,
    }
}

/// Shorthand for a component of a composite element.
pub const fn comp(
    position: usize,
    component: usize,
    reference: u16,
    required: bool,
    min: usize,
    max: usize,
    kind: Kind,
) -> El {
    El {
        position,
        component,
        reference,
        required,
        min,
        max,
        kind,
    }
}

/// An element error: one IK4.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElementError {
    pub position: usize,
    /// 0 for a simple element.
    pub component: usize,
    /// 0 when unknown (IK402 left out).
    pub reference: u16,
    /// IK403, code list 621.
    pub code: &'static str,
    /// IK404, the value in error (empty for a missing element).
    pub value: String,
}

/// IK403 codes.
pub mod code {
    pub const REQUIRED_MISSING: &str = "1";
    pub const TOO_MANY_ELEMENTS: &str = "3";
    pub const TOO_SHORT: &str = "4";
    pub const TOO_LONG: &str = "5";
    pub const INVALID_CHARACTER: &str = "6";
    pub const INVALID_CODE: &str = "7";
    pub const INVALID_DATE: &str = "8";
    pub const INVALID_TIME: &str = "9";
    pub const TOO_MANY_COMPONENTS: &str = "13";
}

/// Whether `value` is in the extended character set (printable ASCII).
pub fn printable(value: &[u8]) -> bool {
    value.iter().all(|b| (0x20..0x7f).contains(b))
}

/// A CCYYMMDD date.
pub fn date(value: &str) -> Option<NaiveDate> {
    if value.len() != 8 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    NaiveDate::parse_from_str(value, "%Y%m%d").ok()
}

fn time_ok(value: &str) -> bool {
    let digits = value.bytes().all(|b| b.is_ascii_digit());
    let hour = value.get(0..2).and_then(|h| h.parse::<u8>().ok());
    let minute = value.get(2..4).and_then(|m| m.parse::<u8>().ok());
    let second = value.get(4..6).map(|s| s.parse::<u8>().ok());
    digits
        && hour.is_some_and(|h| h < 24)
        && minute.is_some_and(|m| m < 60)
        && second.is_none_or(|s| s.is_some_and(|s| s < 60))
}

fn numeric_length(value: &str, decimal: bool) -> Option<usize> {
    let unsigned = value.strip_prefix('-').unwrap_or(value);
    let mut points = 0;
    for byte in unsigned.bytes() {
        match byte {
            b'0'..=b'9' => {}
            b'.' if decimal => points += 1,
            _ => return None,
        }
    }
    let digits = unsigned.bytes().filter(u8::is_ascii_digit).count();
    (points <= 1 && digits > 0).then_some(digits)
}

/// Checks one value against its spec; `None` when it is fine.
pub fn check_value(spec: &El, value: &str) -> Option<&'static str> {
    if value.is_empty() {
        return spec.required.then_some(code::REQUIRED_MISSING);
    }
    let length = match spec.kind {
        Kind::N0 => match numeric_length(value, false) {
            Some(length) => length,
            None => return Some(code::INVALID_CHARACTER),
        },
        Kind::R => match numeric_length(value, true) {
            Some(length) => length,
            None => return Some(code::INVALID_CHARACTER),
        },
        _ => value.len(),
    };
    if length < spec.min {
        return Some(code::TOO_SHORT);
    }
    if length > spec.max {
        return Some(code::TOO_LONG);
    }
    match spec.kind {
        Kind::Id(codes) if !codes.is_empty() && !codes.contains(&value) => Some(code::INVALID_CODE),
        Kind::Dt if date(value).is_none() => Some(code::INVALID_DATE),
        Kind::Tm if !time_ok(value) => Some(code::INVALID_TIME),
        _ => None,
    }
}

/// Checks `segment` against `specs` (those of its elements the reader
/// models) and `max_elements`, appending IK4 errors to `errors`.
pub fn check_segment(
    segment: &Segment<'_>,
    specs: &[El],
    max_elements: usize,
    errors: &mut Vec<ElementError>,
) {
    for position in 1..=segment.element_count() {
        if !printable(segment.raw(position)) {
            errors.push(ElementError {
                position,
                component: 0,
                reference: 0,
                code: code::INVALID_CHARACTER,
                value: String::new(),
            });
        }
    }
    if segment.element_count() > max_elements {
        errors.push(ElementError {
            position: max_elements + 1,
            component: 0,
            reference: 0,
            code: code::TOO_MANY_ELEMENTS,
            value: String::new(),
        });
    }
    let mut composites: Vec<(usize, usize)> = Vec::new();
    for spec in specs.iter().filter(|s| s.component > 0) {
        match composites.iter_mut().find(|(p, _)| *p == spec.position) {
            Some(entry) => entry.1 = entry.1.max(spec.component),
            None => composites.push((spec.position, spec.component)),
        }
    }
    for (position, most) in composites {
        if segment.components(position).count() > most {
            errors.push(ElementError {
                position,
                component: most + 1,
                reference: 0,
                code: code::TOO_MANY_COMPONENTS,
                value: String::new(),
            });
        }
    }
    for spec in specs {
        let value = if spec.component == 0 {
            if segment.components(spec.position).count() > 1 {
                errors.push(ElementError {
                    position: spec.position,
                    component: 0,
                    reference: spec.reference,
                    code: code::TOO_MANY_COMPONENTS,
                    value: String::new(),
                });
                continue;
            }
            segment.str(spec.position)
        } else {
            // A composite's components are checked only when it is there;
            // a missing required composite is reported on its first one.
            if segment.raw(spec.position).is_empty() && spec.component > 1 {
                continue;
            }
            segment.component(spec.position, spec.component)
        };
        if let Some(code) = check_value(spec, value) {
            errors.push(ElementError {
                position: spec.position,
                component: spec.component,
                reference: spec.reference,
                code,
                value: if code == code::INVALID_CHARACTER {
                    String::new()
                } else {
                    value.to_owned()
                },
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::x12::segments::Separators;

    const CODES: Kind = Kind::Id(&["UN", "MJ"]);

    #[test]
    fn values_are_checked_by_type_length_and_code() {
        let unit = el(3, 355, true, 2, 2, CODES);
        assert_eq!(check_value(&unit, "UN"), None);
        assert_eq!(check_value(&unit, "XX"), Some(code::INVALID_CODE));
        assert_eq!(check_value(&unit, ""), Some(code::REQUIRED_MISSING));
        let amount = el(2, 782, true, 1, 18, Kind::R);
        assert_eq!(check_value(&amount, "-12.50"), None);
        assert_eq!(
            check_value(&amount, "12.5.0"),
            Some(code::INVALID_CHARACTER)
        );
        let day = el(3, 1251, true, 8, 8, Kind::Dt);
        assert_eq!(check_value(&day, "20240230"), Some(code::INVALID_DATE));
        let time = el(5, 337, true, 4, 8, Kind::Tm);
        assert_eq!(check_value(&time, "2460"), Some(code::INVALID_TIME));
        assert_eq!(check_value(&time, "102497"), Some(code::INVALID_TIME));
        assert_eq!(check_value(&time, "1024"), None);
    }

    #[test]
    fn segments_report_positions_components_and_extra_elements() {
        let segment = Segment::parse(b"SV1*HC:*40*XX*1*1*2*3*4", Separators::WRITTEN);
        let specs = [
            comp(1, 1, 235, true, 2, 2, Kind::Id(&["HC"])),
            comp(1, 2, 234, true, 1, 48, Kind::An),
            el(3, 355, true, 2, 2, CODES),
        ];
        let mut errors = Vec::new();
        check_segment(&segment, &specs, 7, &mut errors);
        let found: Vec<_> = errors
            .iter()
            .map(|e| (e.position, e.component, e.code))
            .collect();
        assert_eq!(
            found,
            [
                (8, 0, code::TOO_MANY_ELEMENTS),
                (1, 2, code::REQUIRED_MISSING),
                (3, 0, code::INVALID_CODE)
            ]
        );
    }
}
