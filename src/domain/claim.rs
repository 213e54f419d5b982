//! A professional claim (CMS-1500 / X12 837P shape), as the rules see it:
//! already read from the wire, with dates parsed and numbers finite.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Side of the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Laterality {
    /// Not given.
    #[default]
    Unspecified,
    /// Left.
    Left,
    /// Right.
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
    /// Female.
    Female,
    /// Male.
    Male,
    /// Given as unknown.
    Unknown,
}

/// A provider.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Provider {
    /// NPI.
    pub npi: String,
    /// NUCC taxonomy code.
    pub taxonomy_code: String,
}

/// The patient.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Patient {
    /// Payer member id (PHI: never stored raw).
    pub member_id: String,
    /// Date of birth.
    pub birth_date: Option<NaiveDate>,
    /// Sex.
    pub sex: Sex,
}

/// One service line.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ServiceLine {
    /// CPT or HCPCS code, as sent.
    pub procedure_code: String,
    /// Modifiers, as sent.
    pub modifiers: Vec<String>,
    /// Units.
    pub units: u32,
    /// 1-based diagnosis pointers.
    pub diagnosis_pointers: Vec<u32>,
    /// Excised diameter, cm.
    pub excised_diameter_cm: Option<f64>,
    /// Anatomic site from the documented vocabulary.
    pub anatomic_site: Option<String>,
    /// Side.
    pub laterality: Laterality,
    /// Summed repair length, cm.
    pub repair_length_cm: Option<f64>,
    /// Line date of service, when it differs from the claim's.
    pub date_of_service: Option<NaiveDate>,
    /// Line place of service, when it differs from the claim's.
    pub place_of_service: Option<String>,
    /// Documented indications (medical-necessity policies).
    pub documented_indications: Vec<String>,
}

/// A claim.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Claim {
    /// CLM01.
    pub claim_id: String,
    /// Payer id.
    pub payer_id: String,
    /// Claim date of service.
    pub date_of_service: Option<NaiveDate>,
    /// Place of service.
    pub place_of_service: String,
    /// Rendering provider.
    pub rendering_provider: Provider,
    /// Billing provider.
    pub billing_provider: Provider,
    /// Patient.
    pub patient: Patient,
    /// ICD-10-CM codes as sent (with or without the dot).
    pub diagnosis_codes: Vec<String>,
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

impl ServiceLine {
    /// Whether the line carries `modifier` (case-insensitive).
    pub fn has_modifier(&self, modifier: &str) -> bool {
        self.modifiers
            .iter()
            .any(|m| m.trim().eq_ignore_ascii_case(modifier))
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
    pub rendering_npi: String,
    /// Its lines as (procedure code, modifiers).
    pub lines: Vec<(String, Vec<String>)>,
}
