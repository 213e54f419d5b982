//! Hard limits on what a request may carry, and the character rules of its
//! fields. The line they draw: what an X12 837P cannot carry is refused
//! (INVALID_ARGUMENT naming every offending field); what it can carry but a
//! payer would reject is left to the rules as a finding.
//!
//! Element lengths and repeat counts come from the 005010X222A1 guide, so
//! a claim that passes here can be written as an 837P. The counts are
//! configurable downwards (a clearinghouse may want fewer lines per claim);
//! the element lengths are the standard's and fixed.

use std::fmt;

use crate::domain::claim::{Claim, PayerId, ProcedureCode};
use crate::error::{AppError, FieldViolation};

/// CLM01, patient control number.
pub const CLAIM_ID_MAX: usize = 38;
/// NM109 of the subscriber.
pub const MEMBER_ID_MAX: usize = 80;
/// SV101-2 (HCPCS/CPT code element).
pub const PROCEDURE_CODE_MAX: usize = 48;
/// HI01-2 ... HI12-2.
pub const DIAGNOSIS_CODE_MAX: usize = 30;
/// SV101-3 ... SV101-6: exactly two characters each.
pub const MODIFIER_LEN: usize = 2;
/// NM109 of a provider (an NPI is 10 digits; the element allows 80).
pub const NPI_MAX: usize = 80;
/// PRV03.
pub const TAXONOMY_MAX: usize = 50;
/// NM109 of the payer (2010BB).
pub const PAYER_ID_MAX: usize = 80;
/// A code to look up: the longest code element (PRV03).
pub const LOOKUP_CODE_MAX: usize = TAXONOMY_MAX;
/// CLM05-1 and SV105.
pub const PLACE_OF_SERVICE_MAX: usize = 2;
/// SV107: a pointer names one of the twelve HI positions.
pub const POINTER_MAX: u32 = 12;
/// Free text that is not an 837P element (anatomic site vocabulary,
/// request and correlation ids, filters).
pub const TEXT_MAX: usize = 128;
/// A search query.
pub const QUERY_MAX: usize = 256;
/// A page token this service issued is far shorter.
pub const PAGE_TOKEN_MAX: usize = 2_048;

/// The configurable counts and magnitudes of a claim.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClaimLimits {
    /// Service lines (loop 2400 repeats 50 times).
    pub max_service_lines: usize,
    /// Diagnosis codes (HI carries 12).
    pub max_diagnoses: usize,
    /// Modifiers per line (SV101-3..6).
    pub max_modifiers: usize,
    /// Diagnosis pointers per line (SV107-1..4).
    pub max_pointers: usize,
    /// Units per line (SV104; more is a keying error, not a claim).
    pub max_units: u32,
    /// Excised diameter or repair length, cm (no single lesion or repair
    /// on a professional claim reaches a metre).
    pub max_size_cm: f64,
}

impl Default for ClaimLimits {
    fn default() -> Self {
        Self {
            max_service_lines: 50,
            max_diagnoses: 12,
            max_modifiers: 4,
            max_pointers: 4,
            max_units: 9_999,
            max_size_cm: 100.0,
        }
    }
}

/// What a code field may hold besides ASCII letters and digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeAlphabet {
    /// Letters and digits only.
    Alphanumeric,
    /// Letters, digits and the dot (ICD-10-CM as written, D23.5).
    WithDot,
}

/// Collects the violations of one request, so the answer names every
/// offending field at once. Field paths are taken as `Display` (a
/// `format_args!`), so a valid request builds none of them.
#[derive(Debug, Default)]
pub struct Screen {
    violations: Vec<FieldViolation>,
}

fn control_character(value: &str) -> bool {
    value.chars().any(|c| c.is_control())
}

impl Screen {
    /// An empty screen.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a violation.
    pub fn refuse(&mut self, field: impl fmt::Display, description: impl Into<String>) {
        self.violations
            .push(FieldViolation::new(field.to_string(), description));
    }

    /// The violations found, in the order the fields were checked.
    pub fn into_violations(self) -> Vec<FieldViolation> {
        self.violations
    }

    /// INVALID_ARGUMENT naming every refused field, if any.
    pub fn finish(self) -> Result<(), AppError> {
        AppError::from_violations(self.violations).map_or(Ok(()), Err)
    }

    /// `result`, with this screen's violations put before its own: the
    /// answer names the request's fields and the nested ones together.
    pub fn finish_with<T>(mut self, result: Result<T, AppError>) -> Result<T, AppError> {
        match result {
            Err(AppError::InvalidArgument { reason, violations }) => {
                self.violations.extend(violations);
                Err(AppError::InvalidArgument {
                    reason,
                    violations: self.violations,
                })
            }
            Err(other) => Err(other),
            Ok(value) => self.finish().map(|()| value),
        }
    }

    /// Whether nothing was refused so far.
    pub fn is_clean(&self) -> bool {
        self.violations.is_empty()
    }

    /// Free text: at most `max` characters and no control characters (a
    /// NUL or other C0/C1 character has no place in any element).
    pub fn text(&mut self, field: impl fmt::Display, value: &str, max: usize) {
        let length = value.chars().count();
        if length > max {
            self.refuse(
                field,
                format!("{length} characters; at most {max} are allowed"),
            );
        } else if control_character(value) {
            self.refuse(field, "contains a control character");
        }
    }

    /// A code: surrounding spaces are ignored; what remains is empty (a
    /// missing code is a finding, not a malformed request) or ASCII letters
    /// and digits (plus the dot for [`CodeAlphabet::WithDot`]) of at most
    /// `max` characters. A full-width digit is refused, not normalised:
    /// no payer would read it as the digit.
    pub fn code(
        &mut self,
        field: impl fmt::Display,
        value: &str,
        max: usize,
        alphabet: CodeAlphabet,
    ) {
        let code = value.trim_matches(' ');
        let length = code.chars().count();
        let allowed =
            |c: char| c.is_ascii_alphanumeric() || (c == '.' && alphabet == CodeAlphabet::WithDot);
        if length > max {
            self.refuse(
                field,
                format!("{length} characters; at most {max} are allowed"),
            );
        } else if !code.chars().all(allowed) {
            self.refuse(
                field,
                match alphabet {
                    CodeAlphabet::Alphanumeric => "only ASCII letters and digits are allowed",
                    CodeAlphabet::WithDot => "only ASCII letters, digits and '.' are allowed",
                },
            );
        }
    }

    /// A payer id (checked as a code of at most [`PAYER_ID_MAX`]), parsed.
    pub fn payer_id(&mut self, field: impl fmt::Display, value: &str) -> PayerId {
        self.code(field, value, PAYER_ID_MAX, CodeAlphabet::Alphanumeric);
        PayerId::parse(value)
    }

    /// A procedure code (checked as a code of at most
    /// [`PROCEDURE_CODE_MAX`]), parsed.
    pub fn procedure_code(&mut self, field: impl fmt::Display, value: &str) -> ProcedureCode {
        self.code(field, value, PROCEDURE_CODE_MAX, CodeAlphabet::Alphanumeric);
        ProcedureCode::parse(value)
    }

    /// A modifier: exactly two ASCII letters or digits.
    pub fn modifier(&mut self, field: impl fmt::Display, value: &str) {
        let modifier = value.trim_matches(' ');
        if modifier.len() != MODIFIER_LEN || !modifier.chars().all(|c| c.is_ascii_alphanumeric()) {
            self.refuse(field, "a modifier is exactly two ASCII letters or digits");
        }
    }

    /// A repeated field of at most `max` entries.
    pub fn count(&mut self, field: impl fmt::Display, count: usize, max: usize) -> bool {
        if count > max {
            self.refuse(field, format!("{count} entries; at most {max} are allowed"));
            return false;
        }
        true
    }

    /// A size in centimetres: finite, above zero and at most `max`.
    pub fn size_cm(&mut self, field: impl fmt::Display, value: f64, max: f64) {
        if !value.is_finite() {
            self.refuse(field, "must be a finite number");
        } else if value <= 0.0 || value > max {
            self.refuse(field, format!("must be above 0 and at most {max} cm"));
        }
    }
}

/// Screens a claim read from another door (X12) by the rules the protobuf
/// door applies to its fields: the configured counts, the code alphabets,
/// pointers 1 to 12, the units and sizes. Lengths the X12 syntax already bounds
/// are checked again, so the two doors refuse the same claims.
pub fn screen_claim(claim: &Claim, limits: &ClaimLimits) -> Result<(), AppError> {
    let mut screen = Screen::new();
    screen.code(
        "payer_id",
        &claim.payer_id,
        PAYER_ID_MAX,
        CodeAlphabet::Alphanumeric,
    );
    screen.code(
        "place_of_service",
        &claim.place_of_service,
        PLACE_OF_SERVICE_MAX,
        CodeAlphabet::Alphanumeric,
    );
    for (name, provider) in [
        ("rendering_provider", &claim.rendering_provider),
        ("billing_provider", &claim.billing_provider),
    ] {
        screen.code(
            format_args!("{name}.npi"),
            &provider.npi,
            NPI_MAX,
            CodeAlphabet::Alphanumeric,
        );
        screen.code(
            format_args!("{name}.taxonomy_code"),
            &provider.taxonomy_code,
            TAXONOMY_MAX,
            CodeAlphabet::Alphanumeric,
        );
    }
    screen.text("patient.member_id", &claim.patient.member_id, MEMBER_ID_MAX);
    if screen.count(
        "diagnosis_codes",
        claim.diagnosis_codes.len(),
        limits.max_diagnoses,
    ) {
        for (i, code) in claim.diagnosis_codes.iter().enumerate() {
            screen.code(
                format_args!("diagnosis_codes[{i}]"),
                code,
                DIAGNOSIS_CODE_MAX,
                CodeAlphabet::WithDot,
            );
        }
    }
    if screen.count("lines", claim.lines.len(), limits.max_service_lines) {
        for (i, line) in claim.lines.iter().enumerate() {
            screen.procedure_code(
                format_args!("lines[{i}].procedure_code"),
                &line.procedure_code,
            );
            if screen.count(
                format_args!("lines[{i}].modifiers"),
                line.modifiers.len(),
                limits.max_modifiers,
            ) {
                for (m, modifier) in line.modifiers.iter().enumerate() {
                    screen.modifier(format_args!("lines[{i}].modifiers[{m}]"), modifier);
                }
            }
            if screen.count(
                format_args!("lines[{i}].diagnosis_pointers"),
                line.diagnosis_pointers.len(),
                limits.max_pointers,
            ) {
                for (p, pointer) in line.diagnosis_pointers.iter().enumerate() {
                    if !(1..=POINTER_MAX).contains(pointer) {
                        screen.refuse(
                            format_args!("lines[{i}].diagnosis_pointers[{p}]"),
                            format!("a pointer names a diagnosis position 1 to {POINTER_MAX}"),
                        );
                    }
                }
            }
            if line.units.exceeds(u64::from(limits.max_units)) {
                screen.refuse(
                    format_args!("lines[{i}].units"),
                    format!("at most {} units per line", limits.max_units),
                );
            }
            for (value, name) in [
                (line.excised_diameter_cm, "excised_diameter_cm"),
                (line.repair_length_cm, "repair_length_cm"),
            ] {
                if let Some(value) = value {
                    screen.size_cm(format_args!("lines[{i}].{name}"), value, limits.max_size_cm);
                }
            }
            if let Some(site) = &line.anatomic_site {
                screen.text(format_args!("lines[{i}].anatomic_site"), site, TEXT_MAX);
            }
        }
    }
    screen.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(check: impl FnOnce(&mut Screen)) -> bool {
        let mut screen = Screen::new();
        check(&mut screen);
        !screen.is_clean()
    }

    #[test]
    fn codes_take_ascii_letters_and_digits_only() {
        let code = |v: &str| refused(|s| s.code("c", v, 5, CodeAlphabet::Alphanumeric));
        assert!(!code("11404"));
        assert!(!code(" 11404 "));
        assert!(!code(""));
        assert!(code("１1404"), "full-width digit");
        assert!(code("114\u{0}4"));
        assert!(code("11404'; drop table x;--"));
        assert!(code("114045"), "too long");
        assert!(code("D23.5"), "no dot outside diagnoses");
        assert!(!refused(|s| s.code(
            "c",
            "D23.5",
            30,
            CodeAlphabet::WithDot
        )));
    }

    #[test]
    fn text_refuses_control_characters_and_length() {
        assert!(!refused(|s| s.text("t", "CLM-1 ok", 38)));
        assert!(refused(|s| s.text("t", "CLM\u{0}1", 38)));
        assert!(refused(|s| s.text("t", "CLM\u{7}1", 38)));
        assert!(refused(|s| s.text("t", &"x".repeat(39), 38)));
    }

    #[test]
    fn modifiers_are_two_characters() {
        assert!(!refused(|s| s.modifier("m", "XS")));
        assert!(!refused(|s| s.modifier("m", "59")));
        for bad in ["", "5", "591", "X\u{0}", "ＸＳ"] {
            assert!(refused(|s| s.modifier("m", bad)), "{bad:?}");
        }
    }

    #[test]
    fn sizes_are_finite_positive_and_bounded() {
        for bad in [f64::NAN, f64::INFINITY, -1.0, 0.0, 100.5, f64::MAX] {
            assert!(refused(|s| s.size_cm("d", bad, 100.0)), "{bad}");
        }
        assert!(!refused(|s| s.size_cm("d", 4.2, 100.0)));
        assert!(!refused(|s| s.size_cm("d", 100.0, 100.0)));
    }

    #[test]
    fn every_violation_is_kept() {
        let mut screen = Screen::new();
        screen.text("a", "\u{0}", 5);
        screen.modifier("b", "x");
        assert!(!screen.count("c", 13, 12));
        let fields: Vec<String> = screen
            .into_violations()
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(fields, ["a", "b", "c"]);
    }
}
