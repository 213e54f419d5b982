//! A professional claim (CMS-1500 / X12 837P shape), as the rules see it:
//! already read from the wire, with dates parsed and numbers finite.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::finding::{FieldFix, FixAction};

/// A code field of a claim, normalised once where the claim is read
/// (surrounding spaces dropped; modifiers in upper case) so no rule
/// trims or folds it again. Reading one from stored JSON parses it too.
macro_rules! claim_code {
    ($(#[$doc:meta])* $name:ident, $normalise:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// The field as sent, normalised.
            pub fn parse(raw: &str) -> Self {
                let normalise: fn(&str) -> String = $normalise;
                Self(normalise(raw))
            }

            /// The normalised text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Whether the field was sent empty.
            pub fn is_empty(&self) -> bool {
                self.0.is_empty()
            }
        }

        impl From<&str> for $name {
            fn from(raw: &str) -> Self {
                Self::parse(raw)
            }
        }

        impl From<String> for $name {
            fn from(raw: String) -> Self {
                Self::parse(&raw)
            }
        }

        impl From<$name> for String {
            fn from(code: $name) -> Self {
                code.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                Ok(Self::parse(&String::deserialize(deserializer)?))
            }
        }
    };
}

fn trimmed(raw: &str) -> String {
    raw.trim().to_owned()
}

claim_code!(
    /// A CPT or HCPCS code (SV101-2), trimmed and in upper case.
    ProcedureCode,
    |raw| raw.trim().to_ascii_uppercase()
);
claim_code!(
    /// A procedure modifier (SV101-3..6), trimmed and in upper case.
    ModifierCode,
    |raw| raw.trim().to_ascii_uppercase()
);
claim_code!(
    /// An ICD-10-CM code as sent (HI), trimmed; with or without the dot.
    DiagnosisCode,
    trimmed
);
claim_code!(
    /// claimscrub's payer id, trimmed.
    PayerId,
    trimmed
);
claim_code!(
    /// A provider's NPI (NM109), trimmed.
    Npi,
    trimmed
);
claim_code!(
    /// A NUCC taxonomy code (PRV03), trimmed.
    TaxonomyCode,
    trimmed
);

/// Side of the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Laterality {
    /// Not given.
    #[default]
    Unspecified,
    Left,
    Right,
    /// Both sides.
    Bilateral,
}

/// Administrative sex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// Not given.
    #[default]
    Unspecified,
    Female,
    Male,
    /// Given as unknown.
    Unknown,
}

/// A documented indication for removing a benign lesion (extra evidence a
/// protobuf claim may carry; an 837P has no field for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Indication {
    /// The lesion bleeds.
    Bleeding,
    /// Intense itching.
    Itching,
    Pain,
    /// Physical evidence of inflammation or infection.
    Inflammation,
    /// It obstructs an orifice or restricts vision.
    Obstruction,
    /// Recent enlargement or change in appearance.
    RecentChange,
    /// Clinical uncertainty about malignancy.
    SuspectedMalignancy,
    /// A prior biopsy suggests or shows malignancy.
    PriorBiopsy,
    /// Recurrent trauma to the lesion.
    RecurrentTrauma,
}

/// A provider.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Provider {
    pub npi: Npi,
    /// NUCC taxonomy code.
    pub taxonomy_code: TaxonomyCode,
}

/// The patient.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Patient {
    /// Payer member id (PHI: never stored raw).
    pub member_id: String,
    /// Date of birth.
    pub birth_date: Option<NaiveDate>,
    pub sex: Sex,
}

/// A line's quantity (SV104), exact: the decimal as sent, never rounded.
/// Stored claims write a whole quantity as a JSON number (as before this
/// type) and a fraction as a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Quantity {
    mantissa: u64,
    /// Digits after the decimal point, trailing zeros dropped.
    scale: u8,
}

/// Most digits a quantity keeps after the point (SV104 is R15: fifteen
/// digits in all).
const QUANTITY_SCALE_MAX: u8 = 15;

impl Quantity {
    /// A whole number of units.
    pub const fn whole(units: u32) -> Self {
        Self {
            mantissa: units as u64,
            scale: 0,
        }
    }

    /// A non-negative decimal (`2`, `1.5`, `.25`); `None` otherwise.
    pub fn parse(text: &str) -> Option<Self> {
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        if whole.is_empty() && fraction.is_empty()
            || !whole
                .bytes()
                .chain(fraction.bytes())
                .all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let fraction = fraction.trim_end_matches('0');
        let scale = u8::try_from(fraction.len())
            .ok()
            .filter(|s| *s <= QUANTITY_SCALE_MAX)?;
        let digits = format!("{whole}{fraction}");
        let digits = digits.trim_start_matches('0');
        let mantissa = if digits.is_empty() {
            0
        } else {
            digits.parse().ok()?
        };
        Some(Self { mantissa, scale })
    }

    /// Whether it is zero.
    pub fn is_zero(self) -> bool {
        self.mantissa == 0
    }

    /// Whether it is more than `units` whole units.
    pub fn exceeds(self, units: u64) -> bool {
        u128::from(self.mantissa) > u128::from(units) * 10u128.pow(u32::from(self.scale))
    }

    /// The sum, exact; `None` past the range.
    pub fn checked_add(self, other: Self) -> Option<Self> {
        let scale = self.scale.max(other.scale);
        let widen = |q: Self| {
            q.mantissa
                .checked_mul(10u64.checked_pow(u32::from(scale - q.scale))?)
        };
        let mantissa = widen(self)?.checked_add(widen(other)?)?;
        Some(Self { mantissa, scale }.normalised())
    }

    fn normalised(mut self) -> Self {
        while self.scale > 0 && self.mantissa.is_multiple_of(10) {
            self.mantissa /= 10;
            self.scale -= 1;
        }
        self
    }

    /// The smallest whole number not below it.
    pub fn rounded_up(self) -> u64 {
        let unit = 10u64.pow(u32::from(self.scale));
        self.mantissa.div_ceil(unit)
    }

    /// The whole number it is, if it is one.
    pub fn as_whole(self) -> Option<u64> {
        (self.scale == 0).then_some(self.mantissa)
    }
}

impl From<u32> for Quantity {
    fn from(units: u32) -> Self {
        Self::whole(units)
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.scale == 0 {
            return write!(f, "{}", self.mantissa);
        }
        let digits = format!(
            "{:0width$}",
            self.mantissa,
            width = usize::from(self.scale) + 1
        );
        let (whole, fraction) = digits.split_at(digits.len() - usize::from(self.scale));
        write!(f, "{whole}.{fraction}")
    }
}

impl Serialize for Quantity {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.as_whole() {
            Some(whole) => serializer.serialize_u64(whole),
            None => serializer.serialize_str(&self.to_string()),
        }
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Stored {
            Whole(u64),
            Text(String),
        }
        match Stored::deserialize(deserializer)? {
            Stored::Whole(whole) => Ok(Self {
                mantissa: whole,
                scale: 0,
            }),
            Stored::Text(text) => Self::parse(&text)
                .ok_or_else(|| serde::de::Error::custom("not a non-negative decimal")),
        }
    }
}

/// What a line's quantity counts (SV103).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitBasis {
    /// Units (UN).
    #[default]
    Units,
    /// Minutes (MJ), e.g. anesthesia time.
    Minutes,
}

impl UnitBasis {
    fn is_units(&self) -> bool {
        *self == Self::Units
    }
}

/// The code set of a claim's diagnoses (the HI qualifiers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiagnosisCodeSet {
    /// ICD-10-CM (ABK, ABF).
    #[default]
    Icd10Cm,
    /// ICD-9-CM (BK, BF): replaced by ICD-10-CM on 2015-10-01.
    Icd9Cm,
}

impl DiagnosisCodeSet {
    fn is_icd10(&self) -> bool {
        *self == Self::Icd10Cm
    }
}

/// Where an X12 claim was read: its envelope keys and segment range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct X12Origin {
    /// ISA13, the interchange control number.
    pub interchange_control_number: String,
    /// GS06, the functional group control number.
    pub group_control_number: String,
    /// ST02, the transaction set control number.
    pub transaction_set_control_number: String,
    /// 1-based position of the claim in its transaction set.
    pub claim_ordinal: u64,
    /// Positions in the transaction set (ST is 1) of the CLM and of the
    /// claim's last segment.
    pub first_segment: u64,
    pub last_segment: u64,
}

/// One service line.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ServiceLine {
    /// CPT or HCPCS code.
    pub procedure_code: ProcedureCode,
    pub modifiers: Vec<ModifierCode>,
    /// SV104, exact.
    pub units: Quantity,
    /// SV102, the line charge, when sent (the 837P always sends it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charge: Option<Quantity>,
    /// SV103; units unless the line counts minutes.
    #[serde(default, skip_serializing_if = "UnitBasis::is_units")]
    pub unit_basis: UnitBasis,
    /// 1-based diagnosis pointers.
    pub diagnosis_pointers: Vec<u32>,
    /// Excised diameter, cm.
    pub excised_diameter_cm: Option<f64>,
    /// Anatomic site from the documented vocabulary.
    pub anatomic_site: Option<String>,
    /// Of the site; an 837P says it only through LT, RT or 50, so it is
    /// `Unspecified` unless the caller sent it.
    pub laterality: Laterality,
    /// Summed repair length, cm.
    pub repair_length_cm: Option<f64>,
    /// Line date of service, when it differs from the claim's.
    pub date_of_service: Option<NaiveDate>,
    /// Line place of service, when it differs from the claim's.
    pub place_of_service: Option<String>,
    /// Documented indications (medical-necessity policies).
    pub documented_indications: Vec<Indication>,
}

/// A claim.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Claim {
    /// CLM01.
    pub claim_id: String,
    pub payer_id: PayerId,
    /// Claim date of service.
    pub date_of_service: Option<NaiveDate>,
    pub place_of_service: String,
    pub rendering_provider: Provider,
    pub billing_provider: Provider,
    pub patient: Patient,
    /// ICD-10-CM codes as sent (with or without the dot).
    pub diagnosis_codes: Vec<DiagnosisCode>,
    /// Service lines.
    pub lines: Vec<ServiceLine>,
    /// CLM02, the total charge, when sent (the 837P always sends it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_charge: Option<Quantity>,
    /// The code set of `diagnosis_codes`.
    #[serde(default, skip_serializing_if = "DiagnosisCodeSet::is_icd10")]
    pub diagnosis_code_set: DiagnosisCodeSet,
    /// CLM05-3, the claim frequency type code (1 original, 7 replacement,
    /// 8 void), when sent.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub frequency_code: String,
    /// REF*F8, the payer's claim control number a replacement or void refers to.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub original_reference: String,
    /// SBR09, the claim filing indicator code.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub claim_filing_indicator: String,
    /// Where the claim was read, for claims that came as X12.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x12_origin: Option<X12Origin>,
}

impl Claim {
    /// The date of service of a line: its own, else the claim's.
    pub fn line_date(&self, line: &ServiceLine) -> Option<NaiveDate> {
        line.date_of_service.or(self.date_of_service)
    }

    /// The place of service of a line: its own, else the claim's.
    pub fn line_place<'a>(&'a self, line: &'a ServiceLine) -> &'a str {
        line.place_of_service
            .as_deref()
            .unwrap_or(&self.place_of_service)
    }
}

impl Claim {
    /// The diagnoses a line points to, with their 0-based positions;
    /// pointers outside the list are left to the pointer rules.
    pub fn pointed_diagnoses<'a>(
        &'a self,
        line: &'a ServiceLine,
    ) -> impl Iterator<Item = (usize, &'a DiagnosisCode)> + 'a {
        line.diagnosis_pointers.iter().filter_map(|pointer| {
            let index = (*pointer as usize).checked_sub(1)?;
            Some((index, self.diagnosis_codes.get(index)?))
        })
    }
}

/// A fix whose path names no field of the claim that fixes edit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}: not a field a fix edits")]
pub struct UnknownFixPath(pub String);

impl Claim {
    /// Applies a rule's [`FieldFix`]: the fields fixes name are a line's
    /// procedure code and modifiers, and the diagnosis list.
    pub fn apply_fix(&mut self, fix: &FieldFix) -> Result<(), UnknownFixPath> {
        let unknown = || UnknownFixPath(fix.field_path.clone());
        let (head, field) = fix
            .field_path
            .split_once('.')
            .unwrap_or((&fix.field_path, ""));
        let index = |text: &str, name: &str| -> Option<usize> {
            text.strip_prefix(name)?
                .strip_prefix('[')?
                .strip_suffix(']')?
                .parse()
                .ok()
        };
        if let Some(i) = index(head, "diagnosis_codes").filter(|_| field.is_empty()) {
            let FixAction::Set(value) = &fix.action else {
                return Err(unknown());
            };
            *self.diagnosis_codes.get_mut(i).ok_or_else(unknown)? = value.as_str().into();
            return Ok(());
        }
        let line = index(head, "lines")
            .and_then(|i| self.lines.get_mut(i))
            .ok_or_else(unknown)?;
        match (field, &fix.action) {
            ("procedure_code", FixAction::Set(value)) => {
                line.procedure_code = value.as_str().into()
            }
            ("modifiers", FixAction::Add(value)) => line.modifiers.push(value.as_str().into()),
            ("modifiers", FixAction::Remove(value)) => {
                line.modifiers.retain(|m| m != value.as_str())
            }
            _ => return Err(unknown()),
        }
        Ok(())
    }
}

impl ServiceLine {
    /// Whether the line carries `modifier` (given in upper case).
    pub fn has_modifier(&self, modifier: &str) -> bool {
        self.modifiers.iter().any(|m| m == modifier)
    }
}

/// An earlier accepted decision for the same member, as the history edits
/// need it (read from the audit store by member hash).
#[derive(Debug, Clone, PartialEq)]
pub struct PriorClaim {
    /// The earlier claim's id.
    pub claim_id: String,
    /// Its date of service.
    pub date_of_service: NaiveDate,
    /// Its rendering NPI.
    pub rendering_npi: Npi,
    /// Its lines as (procedure code, modifiers).
    pub lines: Vec<(ProcedureCode, Vec<ModifierCode>)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_are_kept_exactly() {
        let q = |text| Quantity::parse(text).unwrap();
        assert_eq!(q("1.50").to_string(), "1.5");
        assert_eq!(q(".25").to_string(), "0.25");
        assert_eq!(q("007").to_string(), "7");
        assert_eq!(q("0.000000000000001").to_string(), "0.000000000000001");
        assert!(Quantity::parse("-1").is_none());
        assert!(Quantity::parse("1.2.3").is_none());
        assert!(Quantity::parse(".").is_none());
        assert!(q("1.5").exceeds(1));
        assert!(!q("1.5").exceeds(2));
        assert!(!q("2").exceeds(2));
        assert_eq!(q("0.5").checked_add(q("0.5")), Some(q("1")));
        assert!(q("0").is_zero());
    }

    #[test]
    fn whole_quantities_store_as_numbers_and_fractions_as_text() {
        let line = ServiceLine {
            units: Quantity::whole(3),
            ..ServiceLine::default()
        };
        let json = serde_json::to_value(&line).unwrap();
        assert_eq!(json["units"], 3);
        assert!(json.get("unit_basis").is_none());
        let fraction = ServiceLine {
            units: Quantity::parse("2.25").unwrap(),
            unit_basis: UnitBasis::Minutes,
            ..ServiceLine::default()
        };
        let json = serde_json::to_string(&fraction).unwrap();
        let back: ServiceLine = serde_json::from_str(&json).unwrap();
        assert_eq!(back, fraction);
    }
}
