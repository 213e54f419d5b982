//! Code systems and their releases, resolved by date of service.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};

/// A code system or reference table that claimscrub loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CodeSystem {
    /// AMA CPT (Level I) procedure codes.
    Cpt,
    /// CMS HCPCS Level II.
    Hcpcs,
    /// ICD-10-CM diagnoses.
    Icd10Cm,
    /// Procedure modifiers (CPT Level I and HCPCS Level II).
    Modifier,
    /// NUCC provider taxonomy.
    Taxonomy,
    /// CMS place of service.
    Pos,
    /// Medicare Physician Fee Schedule indicators.
    Mpfs,
    /// NCCI practitioner PTP edits.
    NcciPtp,
    /// NCCI practitioner MUE limits.
    Mue,
    /// CMS Medicare Code Editor diagnosis flags (manifestation, external
    /// cause, age and sex lists), one concept per ICD-10-CM code.
    Mce,
    /// NCCI add-on code edits, one concept per add-on code.
    NcciAoc,
}

impl CodeSystem {
    /// Every system, in listing order.
    pub const ALL: [CodeSystem; 11] = [
        Self::Cpt,
        Self::Hcpcs,
        Self::Icd10Cm,
        Self::Modifier,
        Self::Taxonomy,
        Self::Pos,
        Self::Mpfs,
        Self::NcciPtp,
        Self::Mue,
        Self::Mce,
        Self::NcciAoc,
    ];

    /// The first date of service the code set answers for, where one
    /// replaced another on a fixed date: ICD-10-CM replaced ICD-9-CM for
    /// services on and after 2015-10-01 (45 CFR 162.1002(c)). Before it no
    /// ICD-10-CM code is valid, whatever release is loaded.
    pub fn code_set_start(self) -> Option<NaiveDate> {
        match self {
            Self::Icd10Cm => NaiveDate::from_ymd_opt(2015, 10, 1),
            _ => None,
        }
    }

    /// Stable identifier used in the database and in resource names.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cpt => "cpt",
            Self::Hcpcs => "hcpcs",
            Self::Icd10Cm => "icd10cm",
            Self::Modifier => "modifier",
            Self::Taxonomy => "taxonomy",
            Self::Pos => "pos",
            Self::Mpfs => "mpfs",
            Self::NcciPtp => "ncci_ptp",
            Self::Mue => "mue",
            Self::Mce => "mce",
            Self::NcciAoc => "ncci_aoc",
        }
    }
}

impl fmt::Display for CodeSystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Stored and exchanged as its id (`icd10cm`, ...).
impl serde::Serialize for CodeSystem {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for CodeSystem {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let id = String::deserialize(deserializer)?;
        id.parse().map_err(serde::de::Error::custom)
    }
}

/// A release a decision read: its system and version label.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct UsedVersion {
    /// The code system (stored as its id, `icd10cm`, ...).
    pub system: CodeSystem,
    /// Version label.
    pub version: String,
}

/// An identifier that names no code system.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown code system {0:?}")]
pub struct UnknownCodeSystem(pub String);

impl FromStr for CodeSystem {
    type Err = UnknownCodeSystem;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|system| system.as_str() == s)
            .ok_or_else(|| UnknownCodeSystem(s.to_owned()))
    }
}

/// A loaded release of a code system.
#[derive(Debug, Clone, PartialEq)]
pub struct CodeSystemVersion {
    /// The system.
    pub system: CodeSystem,
    /// Version label, e.g. `FY2026`.
    pub version: String,
    /// First date of service it answers for.
    pub effective_from: NaiveDate,
    /// Last date of service it answers for; `None` = until the next release.
    pub effective_to: Option<NaiveDate>,
    /// Part of claimscrub's own default data set.
    pub builtin: bool,
    pub source_file_name: String,
    /// sha256 of the decompressed source.
    pub sha256: String,
    /// Concepts or rows.
    pub concept_count: u64,
    /// Billable concepts (ICD-10-CM).
    pub billable_count: Option<u64>,
    /// When it was loaded.
    pub load_time: DateTime<Utc>,
}

impl CodeSystemVersion {
    /// Resource name `codeSystems/{system}/versions/{version}`.
    pub fn resource_name(&self) -> String {
        format!("codeSystems/{}/versions/{}", self.system, self.version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_round_trip() {
        for system in CodeSystem::ALL {
            assert_eq!(system.as_str().parse::<CodeSystem>(), Ok(system));
        }
        assert!("snomed".parse::<CodeSystem>().is_err());
    }
}
