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

/// One service line.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ServiceLine {
    /// CPT or HCPCS code.
    pub procedure_code: ProcedureCode,
    pub modifiers: Vec<ModifierCode>,
    pub units: u32,
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
