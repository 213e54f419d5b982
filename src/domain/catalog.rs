//! The catalog snapshot: every loaded release in memory, immutable, and the
//! date-of-service resolution that picks which release answers.
//!
//! Resolution: among the releases of a system whose range contains the date
//! (`effective_from <= date`, and `effective_to` absent or `>= date`), an
//! official import beats claimscrub's built-in default set; then the latest
//! `effective_from` wins, then the latest load. A release with no end date
//! therefore answers until a later release of its system is loaded.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use crate::domain::code_system::{CodeSystem, CodeSystemVersion};
use crate::domain::concept::{Concept, ConceptTable};
use crate::domain::mpfs_status::MpfsStatus;
use crate::domain::search::SearchIndex;
use crate::domain::service_type::ServiceType;

/// Something that belongs to a release (for [`resolve`]).
pub trait Versioned {
    /// The release metadata.
    fn version(&self) -> &CodeSystemVersion;
}

/// A release of a concept-bearing code system.
#[derive(Debug, Clone)]
pub struct ConceptRelease {
    /// The release this table was loaded from.
    pub version: CodeSystemVersion,
    /// Concepts by canonical code.
    pub concepts: ConceptTable,
    /// Child codes by parent code, sorted.
    pub children: HashMap<String, Vec<String>>,
    /// Code and word search over the concepts.
    pub search: SearchIndex,
}

impl ConceptRelease {
    /// A release from its concepts; builds the child and search indexes.
    pub fn new(version: CodeSystemVersion, concepts: Vec<Concept>) -> Self {
        let mut children: HashMap<String, Vec<String>> = HashMap::new();
        for concept in &concepts {
            if let Some(parent) = &concept.parent_code {
                children
                    .entry(parent.clone())
                    .or_default()
                    .push(concept.code.clone());
            }
        }
        for list in children.values_mut() {
            list.sort();
        }
        let concepts = ConceptTable::new(concepts);
        Self {
            version,
            search: SearchIndex::build(&concepts),
            concepts,
            children,
        }
    }

    /// Direct children of `code`.
    pub fn children_of(&self, code: &str) -> impl Iterator<Item = &Concept> {
        self.children
            .get(code)
            .into_iter()
            .flatten()
            .filter_map(|child| self.concepts.get(child))
    }
}

impl Versioned for ConceptRelease {
    fn version(&self) -> &CodeSystemVersion {
        &self.version
    }
}

/// MPFS indicators of one code and modifier row.
#[derive(Debug, Clone, PartialEq)]
pub struct FeeScheduleRow {
    /// Status code.
    pub status: MpfsStatus,
    /// PC/TC indicator.
    pub pctc: String,
    /// Global days (000, 010, 090, XXX, YYY, ZZZ).
    pub global_days: String,
    /// Multiple procedure indicator.
    pub mult_proc: String,
    /// Bilateral surgery indicator.
    pub bilat: String,
    /// Assistant at surgery indicator.
    pub asst: String,
    /// Co-surgeon indicator.
    pub co_surg: String,
    /// Team surgery indicator.
    pub team_surg: String,
    pub work_rvu: Option<f64>,
}

/// A release of the MPFS indicators.
#[derive(Debug, Clone)]
pub struct FeeScheduleRelease {
    /// The release this table was loaded from.
    pub version: CodeSystemVersion,
    /// Rows by (code, modifier); the global row has modifier "".
    pub rows: HashMap<(String, String), FeeScheduleRow>,
}

impl FeeScheduleRelease {
    /// The global (no modifier) row of `code`.
    pub fn global_row(&self, code: &str) -> Option<&FeeScheduleRow> {
        self.rows.get(&(code.to_owned(), String::new()))
    }
}

impl Versioned for FeeScheduleRelease {
    fn version(&self) -> &CodeSystemVersion {
        &self.version
    }
}

/// One NCCI procedure-to-procedure edit.
#[derive(Debug, Clone, PartialEq)]
pub struct PtpEdit {
    /// Column 2 code (the one not paid).
    pub column2: String,
    /// First date of service of the edit.
    pub effective_date: NaiveDate,
    /// Last date of service, when deleted.
    pub deletion_date: Option<NaiveDate>,
    /// 0 never with a modifier, 1 with an NCCI-associated modifier, 9 not applicable.
    pub modifier_indicator: u8,
    /// Rationale as published.
    pub rationale: String,
}

impl PtpEdit {
    /// Applies on `date`.
    pub fn is_active_on(&self, date: NaiveDate) -> bool {
        self.effective_date <= date && self.deletion_date.is_none_or(|end| date <= end)
    }
}

/// A release of the NCCI PTP table.
#[derive(Debug, Clone)]
pub struct PtpRelease {
    /// The release this table was loaded from.
    pub version: CodeSystemVersion,
    /// Edits by column 1 code.
    pub edits: HashMap<String, Vec<PtpEdit>>,
    /// Every code the table names in column 2, so that a code it never
    /// names is told apart from a code it names with no edit for the pair.
    column2_codes: std::collections::HashSet<String>,
}

impl PtpRelease {
    /// A table over its edits.
    pub fn new(version: CodeSystemVersion, edits: HashMap<String, Vec<PtpEdit>>) -> Self {
        let column2_codes = edits
            .values()
            .flatten()
            .map(|e| e.column2.clone())
            .collect();
        Self {
            version,
            edits,
            column2_codes,
        }
    }

    /// Whether any row names `code`, in either column: a table with no row
    /// for a code (a partial extract, or a code NCCI never pairs) cannot
    /// vouch that the code bundles with nothing.
    pub fn names(&self, code: &str) -> bool {
        self.edits.contains_key(code) || self.column2_codes.contains(code)
    }
}

impl Versioned for PtpRelease {
    fn version(&self) -> &CodeSystemVersion {
        &self.version
    }
}

/// One MUE limit.
#[derive(Debug, Clone, PartialEq)]
pub struct MueLimit {
    /// Maximum units.
    pub value: u32,
    /// Adjudication indicator: 1 line, 2 date of service (policy), 3 date of service (clinical).
    pub mai: u8,
    /// Rationale as published.
    pub rationale: String,
}

/// A release of the MUE table.
#[derive(Debug, Clone)]
pub struct MueRelease {
    /// The release this table was loaded from.
    pub version: CodeSystemVersion,
    /// Limits by code.
    pub limits: HashMap<String, MueLimit>,
}

impl Versioned for MueRelease {
    fn version(&self) -> &CodeSystemVersion {
        &self.version
    }
}

/// claimscrub's structured knowledge of one procedure code.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcedureAttributes {
    /// excision, simple_repair, intermediate_repair, ...
    pub service_type: ServiceType,
    /// benign or malignant, for excisions.
    pub lesion_behavior: Option<String>,
    /// Site family id.
    pub site_family: Option<String>,
    /// excised_diameter_cm or repair_length_cm.
    pub size_measure: Option<String>,
    /// Exclusive lower bound of the size band, cm.
    pub size_lower_exclusive: Option<f64>,
    /// Inclusive upper bound of the size band, cm; None = open-ended.
    pub size_upper_inclusive: Option<f64>,
    /// Typical places of service.
    pub typical_pos: Vec<String>,
}

/// A family of anatomic sites.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteFamily {
    /// Display name.
    pub display: String,
    pub anatomic_sites: Vec<String>,
}

/// Guidance shown on a procedure profile.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileLink {
    /// A family id or a single code.
    pub procedure_scope: String,
    /// diagnosis, taxonomy, payer or modifier.
    pub kind: String,
    /// The code, modifier or payer id.
    pub target: String,
    /// Relevance or applicability.
    pub relevance: String,
    /// What links the target to the code, for the reader of a profile.
    pub note: String,
}

/// What a pointed diagnosis shows under a coverage policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoverageEvidence {
    /// A sign, symptom or covered condition: the service is medically necessary.
    Indication,
    /// The encounter is cosmetic unless an indication is coded beside it.
    Cosmetic,
}

impl CoverageEvidence {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Indication => "indication",
            Self::Cosmetic => "cosmetic",
        }
    }

    /// From the stored name; `None` for anything else.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Indication, Self::Cosmetic]
            .into_iter()
            .find(|e| e.as_str() == name)
    }
}

/// One diagnosis prefix of a coverage policy.
#[derive(Debug, Clone, PartialEq)]
pub struct CoverageEntry {
    /// Policy id, e.g. `benign_lesion_removal`.
    pub policy: String,
    /// The procedures it governs: a service type and, if set, a lesion behaviour.
    pub service_type: ServiceType,
    pub lesion_behavior: Option<String>,
    /// Canonical ICD-10-CM prefix; the longest matching prefix decides.
    pub diagnosis_prefix: String,
    pub evidence: CoverageEvidence,
    /// Why, in claimscrub's words.
    pub note: String,
}

/// A taxonomy group that does not perform a service type.
#[derive(Debug, Clone, PartialEq)]
pub struct ImplausibleSpecialty {
    pub service_type: ServiceType,
    /// NUCC taxonomy code prefix (2084: Psychiatry & Neurology).
    pub taxonomy_prefix: String,
    /// The NUCC classification the prefix names.
    pub classification: String,
    pub note: String,
}

impl ProcedureKnowledge {
    /// What `diagnosis` (canonical) shows for a procedure of `attributes`:
    /// the entry of the longest prefix among the policies that govern it.
    pub fn coverage_evidence<'a>(
        &'a self,
        attributes: &'a ProcedureAttributes,
        diagnosis: &str,
    ) -> Option<&'a CoverageEntry> {
        self.coverage_entries(attributes)
            .filter(|e| diagnosis.starts_with(&e.diagnosis_prefix))
            .max_by_key(|e| e.diagnosis_prefix.len())
    }

    /// The coverage entries that govern a procedure of `attributes`.
    pub fn coverage_entries<'a>(
        &'a self,
        attributes: &'a ProcedureAttributes,
    ) -> impl Iterator<Item = &'a CoverageEntry> + 'a {
        self.coverage.iter().filter(move |e| {
            e.service_type == attributes.service_type
                && (e.lesion_behavior.is_none() || e.lesion_behavior == attributes.lesion_behavior)
        })
    }

    /// The implausible-specialty entry for `taxonomy` on a service of `service_type`.
    pub fn implausible_specialty(
        &self,
        service_type: ServiceType,
        taxonomy: &str,
    ) -> Option<&ImplausibleSpecialty> {
        self.implausible_specialties
            .iter()
            .filter(|s| s.service_type == service_type && taxonomy.starts_with(&s.taxonomy_prefix))
            .max_by_key(|s| s.taxonomy_prefix.len())
    }
}

/// claimscrub's procedure knowledge (default data set).
#[derive(Debug, Clone, Default)]
pub struct ProcedureKnowledge {
    /// Attributes by procedure code.
    pub attributes: HashMap<String, ProcedureAttributes>,
    /// Site families by id.
    pub site_families: HashMap<String, SiteFamily>,
    /// Profile guidance, in file order.
    pub profile_links: Vec<ProfileLink>,
    /// Coverage policies by diagnosis prefix.
    pub coverage: Vec<CoverageEntry>,
    /// Taxonomy groups that do not perform a service type.
    pub implausible_specialties: Vec<ImplausibleSpecialty>,
}

/// A payer.
#[derive(Debug, Clone, PartialEq)]
pub struct Payer {
    /// Payer id, e.g. MEDICARE.
    pub payer_id: String,
    pub name: String,
    /// medicare, commercial, ...
    pub payer_type: String,
    pub notes: String,
}

/// A payer's setting for one rule from a date: rules as data.
#[derive(Debug, Clone, PartialEq)]
pub struct PayerRuleSetting {
    pub payer_id: String,
    pub rule_id: String,
    /// First date of service the setting applies to.
    pub effective_from: NaiveDate,
    /// Last date of service, if it ends.
    pub effective_to: Option<NaiveDate>,
    /// Whether the rule runs for the payer.
    pub enabled: bool,
    /// Severity override.
    pub severity: Option<crate::domain::finding::Severity>,
    /// Rule parameters.
    pub parameters: BTreeMap<String, String>,
}

/// Everything loaded, as one immutable value.
#[derive(Debug, Clone, Default)]
pub struct CatalogSnapshot {
    /// Concept releases by system.
    pub concepts: BTreeMap<CodeSystem, Vec<Arc<ConceptRelease>>>,
    /// MPFS releases.
    pub fee_schedules: Vec<Arc<FeeScheduleRelease>>,
    /// NCCI PTP releases.
    pub ptp: Vec<Arc<PtpRelease>>,
    /// MUE releases.
    pub mue: Vec<Arc<MueRelease>>,
    /// Procedure knowledge.
    pub procedures: ProcedureKnowledge,
    /// Payers by id.
    pub payers: BTreeMap<String, Payer>,
    /// Payer rule settings.
    pub payer_rules: Vec<PayerRuleSetting>,
    /// When it was built.
    pub built_at: Option<DateTime<Utc>>,
}

impl CatalogSnapshot {
    /// The concept release of `system` in effect on `date`.
    ///
    /// A HCPCS file carries each code's added and termination dates, so
    /// those decide, not the file's quarter: a date before every loaded
    /// HCPCS release is answered by the earliest release of the same year
    /// after it, read as its codes stood on that date (a July claim against
    /// the October file). Earlier years have none: codes dropped from the
    /// file since would read as unknown.
    pub fn concept_release(&self, system: CodeSystem, date: NaiveDate) -> Option<&ConceptRelease> {
        let releases = self.concepts.get(&system)?;
        resolve(releases, date)
            .or_else(|| {
                (system == CodeSystem::Hcpcs)
                    .then(|| {
                        releases
                            .iter()
                            .filter(|r| {
                                !r.version.builtin
                                    && r.version.effective_from > date
                                    && r.version.effective_from.year() == date.year()
                            })
                            .min_by_key(|r| r.version.effective_from)
                    })
                    .flatten()
            })
            .map(Arc::as_ref)
    }

    /// The setting of `rule_id` for `payer_id` in effect on `date`: the one
    /// with the latest start on or before the date that has not ended.
    pub fn payer_setting(
        &self,
        payer_id: &str,
        rule_id: &str,
        date: NaiveDate,
    ) -> Option<&PayerRuleSetting> {
        self.payer_rules
            .iter()
            .filter(|s| s.payer_id == payer_id && s.rule_id == rule_id)
            .filter(|s| s.effective_from <= date && s.effective_to.is_none_or(|end| date <= end))
            .max_by_key(|s| s.effective_from)
    }

    /// The MPFS release in effect on `date`.
    pub fn fee_schedule(&self, date: NaiveDate) -> Option<&FeeScheduleRelease> {
        resolve(&self.fee_schedules, date).map(Arc::as_ref)
    }

    /// The NCCI PTP release in effect on `date`.
    pub fn ptp_release(&self, date: NaiveDate) -> Option<&PtpRelease> {
        resolve(&self.ptp, date).map(Arc::as_ref)
    }

    /// The MUE release in effect on `date`.
    pub fn mue_release(&self, date: NaiveDate) -> Option<&MueRelease> {
        resolve(&self.mue, date).map(Arc::as_ref)
    }

    /// Metadata of every loaded release, ordered by system, then newest
    /// effective date first.
    pub fn versions(&self) -> Vec<CodeSystemVersion> {
        let mut versions: Vec<CodeSystemVersion> = self
            .concepts
            .values()
            .flatten()
            .map(|r| r.version.clone())
            .chain(self.fee_schedules.iter().map(|r| r.version.clone()))
            .chain(self.ptp.iter().map(|r| r.version.clone()))
            .chain(self.mue.iter().map(|r| r.version.clone()))
            .collect();
        versions.sort_by(|a, b| {
            a.system
                .cmp(&b.system)
                .then(b.effective_from.cmp(&a.effective_from))
                .then(a.builtin.cmp(&b.builtin))
                .then(a.version.cmp(&b.version))
        });
        versions
    }
}

/// The release of a list in effect on `date` (see the module documentation).
pub fn resolve<'a, R: Versioned + 'a>(
    releases: impl IntoIterator<Item = &'a Arc<R>>,
    date: NaiveDate,
) -> Option<&'a Arc<R>> {
    releases
        .into_iter()
        .filter(|r| {
            let v = r.version();
            v.effective_from <= date && v.effective_to.is_none_or(|end| date <= end)
        })
        .max_by(|a, b| {
            let (a, b) = (a.version(), b.version());
            (!a.builtin, a.effective_from, a.load_time).cmp(&(
                !b.builtin,
                b.effective_from,
                b.load_time,
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    fn release(
        version: &str,
        from: &str,
        to: Option<&str>,
        builtin: bool,
        codes: &[&str],
    ) -> Arc<ConceptRelease> {
        let meta = CodeSystemVersion {
            system: CodeSystem::Icd10Cm,
            version: version.into(),
            effective_from: date(from),
            effective_to: to.map(date),
            builtin,
            source_file_name: format!("{version}.txt"),
            sha256: version.into(),
            concept_count: codes.len() as u64,
            billable_count: None,
            load_time: DateTime::<Utc>::from_timestamp(1_700_000_000, 0).expect("time"),
        };
        let concepts = codes
            .iter()
            .map(|code| Concept {
                code: (*code).into(),
                display: String::new(),
                long_description: None,
                billable: true,
                parent_code: (code.len() > 3).then(|| code[..code.len() - 1].to_owned()),
                added_date: None,
                effective_date: None,
                termination_date: None,
                properties: Vec::new(),
            })
            .collect();
        Arc::new(ConceptRelease::new(meta, concepts))
    }

    fn snapshot(releases: Vec<Arc<ConceptRelease>>) -> CatalogSnapshot {
        CatalogSnapshot {
            concepts: BTreeMap::from([(CodeSystem::Icd10Cm, releases)]),
            ..CatalogSnapshot::default()
        }
    }

    #[test]
    fn fiscal_years_answer_for_their_own_dates_of_service() {
        let catalog = snapshot(vec![
            release("FY2025", "2024-10-01", None, false, &["D235"]),
            release("FY2026", "2025-10-01", None, false, &["D235", "L7202"]),
        ]);
        let fy2025 = catalog
            .concept_release(CodeSystem::Icd10Cm, date("2025-09-30"))
            .expect("release");
        assert_eq!(fy2025.version.version, "FY2025");
        assert!(
            !fy2025.concepts.contains_key("L7202"),
            "an FY2025 claim must not see FY2026-only codes"
        );
        let fy2026 = catalog
            .concept_release(CodeSystem::Icd10Cm, date("2025-10-01"))
            .expect("release");
        assert_eq!(fy2026.version.version, "FY2026");
        assert!(
            catalog
                .concept_release(CodeSystem::Icd10Cm, date("2024-09-30"))
                .is_none()
        );
    }

    /// HCPCS codes carry their own dates: a July claim is answered by the
    /// October file; ICD-10-CM releases answer only from their start.
    #[test]
    fn a_hcpcs_file_answers_before_its_quarter_and_others_do_not() {
        let mut catalog = snapshot(vec![release(
            "FY2026",
            "2025-10-01",
            None,
            false,
            &["D235"],
        )]);
        assert!(
            catalog
                .concept_release(CodeSystem::Icd10Cm, date("2025-07-15"))
                .is_none()
        );
        let mut hcpcs = release("2025-10", "2025-10-01", None, false, &["G0168"])
            .as_ref()
            .clone();
        hcpcs.version.system = CodeSystem::Hcpcs;
        catalog
            .concepts
            .insert(CodeSystem::Hcpcs, vec![Arc::new(hcpcs)]);
        let found = catalog
            .concept_release(CodeSystem::Hcpcs, date("2025-07-15"))
            .expect("the October file answers for July");
        assert_eq!(found.version.version, "2025-10");
    }

    #[test]
    fn a_release_without_end_answers_until_a_later_one_is_loaded() {
        let catalog = snapshot(vec![release(
            "2023-JAN",
            "2023-01-01",
            None,
            false,
            &["11404"],
        )]);
        let found = catalog
            .concept_release(CodeSystem::Icd10Cm, date("2026-06-01"))
            .expect("still in effect");
        assert_eq!(found.version.version, "2023-JAN");
    }

    #[test]
    fn an_explicit_end_date_is_respected() {
        let catalog = snapshot(vec![release(
            "Q1",
            "2026-01-01",
            Some("2026-03-31"),
            false,
            &[],
        )]);
        assert!(
            catalog
                .concept_release(CodeSystem::Icd10Cm, date("2026-03-31"))
                .is_some()
        );
        assert!(
            catalog
                .concept_release(CodeSystem::Icd10Cm, date("2026-04-01"))
                .is_none()
        );
    }

    #[test]
    fn official_imports_take_precedence_over_the_builtin_set() {
        let catalog = snapshot(vec![
            release("default", "2000-01-01", None, true, &["D235"]),
            release("FY2026", "2025-10-01", None, false, &["D235"]),
        ]);
        let found = catalog
            .concept_release(CodeSystem::Icd10Cm, date("2026-01-01"))
            .expect("release");
        assert_eq!(found.version.version, "FY2026");
        let before = catalog
            .concept_release(CodeSystem::Icd10Cm, date("2025-01-01"))
            .expect("builtin fills the gap");
        assert!(before.version.builtin);
    }

    #[test]
    fn children_are_indexed_and_sorted() {
        let r = release(
            "FY2026",
            "2025-10-01",
            None,
            false,
            &["D236", "D2362", "D2360", "D2361"],
        );
        let children: Vec<&str> = r.children_of("D236").map(|c| c.code.as_str()).collect();
        assert_eq!(children, ["D2360", "D2361", "D2362"]);
    }

    #[test]
    fn ptp_edits_apply_between_effective_and_deletion_dates() {
        let edit = PtpEdit {
            column2: "12001".into(),
            effective_date: date("2020-01-01"),
            deletion_date: Some(date("2024-12-31")),
            modifier_indicator: 1,
            rationale: String::new(),
        };
        assert!(!edit.is_active_on(date("2019-12-31")));
        assert!(edit.is_active_on(date("2024-12-31")));
        assert!(!edit.is_active_on(date("2025-01-01")));
    }
}
