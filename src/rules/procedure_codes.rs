//! Procedure-code validity on the date of service: the CPT or HCPCS code
//! exists, is in effect, and the Medicare fee schedule does not mark it
//! invalid, deleted or outside the benefit. Three rules over one check, so
//! each keeps a stable id a payer can tune.

use chrono::{Datelike, NaiveDate};

use super::{Report, Rule, RuleContext, RuleMeta, RuleSource, finding};
use crate::domain::catalog::{CatalogSnapshot, FeeScheduleRelease};
use crate::domain::claim::ServiceLine;
use crate::domain::code_system::CodeSystem;
use crate::domain::codes;
use crate::domain::finding::{FieldFix, Finding, NotCheckedReason, Severity};
use crate::domain::mpfs_status::MpfsStatus;
use crate::domain::procedures::{in_band, measured_size};
use crate::domain::validity::{self, CodeCheck, Validity};

/// What went wrong with a procedure code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Problem {
    Invalid,
    NotEffective,
    FeeScheduleStatus,
}

/// The three rules.
pub fn rules() -> Vec<Box<dyn Rule>> {
    vec![
        Box::new(ProcedureRule(Problem::Invalid)),
        Box::new(ProcedureRule(Problem::NotEffective)),
        Box::new(ProcedureRule(Problem::FeeScheduleStatus)),
    ]
}

/// Modifiers by which a submitter says a non-covered service is billed
/// knowingly: an ABN is on file (GA, GX) or none is needed (GY, GZ).
const NON_COVERED_ACKNOWLEDGED: [&str; 4] = ["GA", "GX", "GY", "GZ"];

/// One procedure validity rule.
#[derive(Debug, Clone, Copy)]
pub struct ProcedureRule(Problem);

/// Whether an official, complete list answers for `canonical` on `date`:
/// the licensed CPT or the official HCPCS release. The built-in set knows
/// only claimscrub's own procedures and the fee schedule leaves out codes
/// priced elsewhere (laboratory codes are on the clinical lab fee schedule),
/// so a code missing from them is unknown, not invalid.
fn complete_source(snapshot: &CatalogSnapshot, canonical: &str, date: NaiveDate) -> bool {
    snapshot
        .concept_release(codes::procedure_system(canonical), date)
        .is_some_and(|r| !r.version.builtin)
}

/// The Category I ranges the Medicare fee schedule lists completely: every
/// surgery code (10004-69990) and every E/M code (99202-99499) that exists
/// in a year has a PPRRVU row that year, priced or with a status saying why
/// not (I, N, X, C, ...). Laboratory codes (80047-89398) are priced on the
/// clinical laboratory fee schedule, Category III (….T) and PLA (….U) codes
/// are not five digits, and medicine codes (90281-99199) include vaccines
/// and other codes priced elsewhere, so none of them are in the ranges.
const MPFS_COMPLETE_RANGES: [(u32, u32); 2] = [(10004, 69990), (99202, 99499)];

/// The official fee schedule in effect on `date` when it lists the range of
/// `code` completely: a Category I code in [`MPFS_COMPLETE_RANGES`] and an
/// official import (the built-in one holds only claimscrub's own family).
/// The caller weighs its year: an older year's schedule lacks the codes
/// added since.
fn complete_fee_schedule<'a>(
    snapshot: &'a CatalogSnapshot,
    code: &str,
    date: NaiveDate,
) -> Option<&'a FeeScheduleRelease> {
    let in_range = code.len() == 5
        && code.parse::<u32>().is_ok_and(|number| {
            MPFS_COMPLETE_RANGES
                .iter()
                .any(|(low, high)| (*low..=*high).contains(&number))
        });
    snapshot
        .fee_schedule(date)
        .filter(|release| in_range && !release.version.builtin)
}

/// The code of the line's family (same first four digits) whose size band
/// and site family hold what the line carries: what 11405 at 4.2 cm on the
/// trunk means (11406).
fn implied_code<'a>(snapshot: &'a CatalogSnapshot, line: &ServiceLine) -> Option<&'a str> {
    let code = line.procedure_code.as_str();
    let knowledge = &snapshot.procedures;
    let mut family: Vec<(&String, _)> = knowledge
        .attributes
        .iter()
        .filter(|(other, _)| other.len() == 5 && other[..4] == code[..4])
        .collect();
    family.sort_by(|a, b| a.0.cmp(b.0));
    family
        .into_iter()
        .find(|(_, attributes)| {
            let size = measured_size(attributes, line).and_then(|(value, _, _)| value);
            let site = line.anatomic_site.as_deref().zip(
                attributes
                    .site_family
                    .as_ref()
                    .and_then(|f| knowledge.site_families.get(f)),
            );
            size.is_some_and(|value| in_band(attributes, value))
                && site.is_none_or(|(site, family)| family.anatomic_sites.iter().any(|s| s == site))
        })
        .map(|(code, _)| code.as_str())
}

/// The validity problem of a (trimmed) procedure code on `date`, with the
/// check that found it.
fn problem_of<'a>(
    snapshot: &'a CatalogSnapshot,
    code: &str,
    date: NaiveDate,
) -> Option<(Problem, CodeCheck<'a>)> {
    let check = validity::check(snapshot, codes::procedure_system(code), code, date);
    let problem = match check.validity {
        Validity::InvalidFormat => Problem::Invalid,
        // The fee schedule in effect lists the number, so it exists.
        Validity::UnknownCode
            if snapshot
                .fee_schedule(date)
                .and_then(|f| f.global_row(&check.canonical))
                .is_some() =>
        {
            return None;
        }
        Validity::UnknownCode => Problem::Invalid,
        Validity::NotEffectiveOnDate | Validity::Terminated => Problem::NotEffective,
        Validity::Valid | Validity::HeaderNotBillable => return None,
    };
    Some((problem, check))
}

impl ProcedureRule {
    const INVALID: RuleMeta = RuleMeta {
        id: "PROCEDURE_INVALID_CODE",
        description: "Procedure is not a CPT or HCPCS code",
        severity: Severity::Error,
        source: RuleSource::Cms,
        enabled_by_default: true,
    };
    const NOT_EFFECTIVE: RuleMeta = RuleMeta {
        id: "PROCEDURE_NOT_EFFECTIVE_ON_DOS",
        description: "Procedure code was not in effect on the date of service (added later or terminated)",
        severity: Severity::Error,
        source: RuleSource::Cms,
        enabled_by_default: true,
    };
    // Commercial payers often pay codes Medicare does not (status I
    // consultations, N services with their own coverage); Medicare's payer
    // setting raises this to an error.
    const FEE_SCHEDULE_STATUS: RuleMeta = RuleMeta {
        id: "PROCEDURE_FEE_SCHEDULE_STATUS",
        description: "Fee-schedule status says the code is deleted, invalid for Medicare, excluded or not covered",
        severity: Severity::Warning,
        source: RuleSource::Cms,
        enabled_by_default: true,
    };
}

impl Rule for ProcedureRule {
    fn meta(&self) -> &'static RuleMeta {
        match self.0 {
            Problem::Invalid => &Self::INVALID,
            Problem::NotEffective => &Self::NOT_EFFECTIVE,
            Problem::FeeScheduleStatus => &Self::FEE_SCHEDULE_STATUS,
        }
    }

    fn evaluate(&self, context: &RuleContext<'_>, out: &mut Report) {
        for (number, line, date) in context.lines() {
            let Some(date) = date else { continue };
            let code = line.procedure_code.as_str();
            if code.is_empty() {
                continue;
            }
            if self.0 == Problem::NotEffective
                && codes::procedure_system(code) == CodeSystem::Cpt
                && !complete_source(context.catalog, code, date)
            {
                out.not_checked(
                    self,
                    number,
                    NotCheckedReason::NoLicensedCptFile,
                    format!(
                        "{code}: CPT added and deleted dates come with the licensed CPT file, which is not loaded"
                    ),
                );
            }
            if self.0 == Problem::FeeScheduleStatus {
                self.fee_schedule_status(context, number, line, date, out);
            } else if let Some((problem, check)) = problem_of(context.catalog, code, date)
                && problem == self.0
            {
                out.push(self.validity_finding(context.catalog, number, line, check, date));
            }
        }
    }
}

impl ProcedureRule {
    fn validity_finding(
        &self,
        snapshot: &CatalogSnapshot,
        number: u32,
        line: &ServiceLine,
        check: CodeCheck<'_>,
        date: NaiveDate,
    ) -> Finding {
        let canonical = &check.canonical;
        let system = codes::procedure_system(canonical);
        let release = check
            .release
            .map_or_else(|| "none loaded".to_owned(), |r| r.version.version.clone());
        let field = format!("lines[{}].procedure_code", number - 1);
        let mut f = finding(self, number, field, String::new());
        let complete_fees = (!complete_source(snapshot, canonical, date))
            .then(|| complete_fee_schedule(snapshot, canonical, date))
            .flatten()
            .map(|f| &f.version);
        match self.0 {
            Problem::Invalid if check.validity == Validity::InvalidFormat => {
                f.message = format!("{canonical:?} is not shaped like a CPT or HCPCS code");
                f.suggestion = Some(
                    "CPT codes are five characters, HCPCS Level II a letter and four digits".into(),
                );
            }
            Problem::Invalid if complete_fees.is_some() => {
                let label = complete_fees.map_or_else(String::new, |v| v.version.clone());
                if complete_fees.is_some_and(|v| v.effective_from.year() == date.year()) {
                    f.message = format!(
                        "{canonical} is not a CPT code: the fee schedule of the year ({label}) lists every code of its range, and not this one"
                    );
                } else {
                    // An older year's schedule lacks the codes added since.
                    f.severity = Severity::Warning;
                    f.message = format!(
                        "{canonical} is not in the fee schedule {label}, the latest loaded, which predates {}: a code added since would be missing too; load that year's schedule or the licensed CPT file",
                        date.year()
                    );
                }
                match implied_code(snapshot, line) {
                    Some(code) => {
                        f.suggested_code = Some(code.to_owned());
                        f.suggestion =
                            Some(format!("the line's size and site are billed with {code}"));
                        f.fixes = vec![FieldFix::set(
                            format!("lines[{}].procedure_code", number - 1),
                            code,
                        )];
                    }
                    None => {
                        f.suggestion =
                            Some("check the code number against the current code set".into());
                    }
                }
            }
            Problem::Invalid if !complete_source(snapshot, canonical, date) => {
                f.severity = Severity::Warning;
                f.message = format!(
                    "{canonical} is in neither claimscrub's built-in procedure set nor the fee schedule; \
                     import the licensed CPT file to check it"
                );
            }
            Problem::Invalid => {
                f.message = format!(
                    "{canonical} is not a {} code (release {release})",
                    system.as_str().to_ascii_uppercase()
                );
                f.suggestion = Some("check the code number against the current code set".into());
            }
            _ => {
                let ended = check
                    .concept
                    .and_then(|c| c.termination_date)
                    .filter(|end| *end < date)
                    .map_or_else(String::new, |end| format!("; terminated {end}"));
                let added = check
                    .concept
                    .and_then(|c| c.added_date)
                    .filter(|added| *added > date)
                    .map_or_else(String::new, |added| format!("; added {added}"));
                f.message = format!(
                    "{canonical} is not in effect on {date} (release {release}{ended}{added})"
                );
                f.suggestion = Some(
                    "use the code in effect on the date of service or correct the date".into(),
                );
            }
        }
        f
    }

    fn fee_schedule_status(
        &self,
        context: &RuleContext<'_>,
        number: u32,
        line: &ServiceLine,
        date: NaiveDate,
        out: &mut Report,
    ) {
        let code = line.procedure_code.to_string();
        let Some((fees, row)) = context.fee_row(self, number, &code, date, out) else {
            return;
        };
        let status = row.status;
        if !status.is_unpayable() {
            return;
        }
        let non_covered = status.is_non_covered();
        let acknowledged = line
            .modifiers
            .iter()
            .any(|m| NON_COVERED_ACKNOWLEDGED.contains(&m.as_str()));
        if non_covered && acknowledged {
            return;
        }
        let mut f = finding(
            self,
            number,
            format!("lines[{}].procedure_code", number - 1),
            format!(
                "{code} has fee-schedule status {} ({}) in {}",
                status.letter(),
                status.meaning(),
                fees.version.version
            ),
        );
        f.suggestion = Some(
            match status {
                MpfsStatus::NotValidForMedicare => "Medicare pays this service under another code (often a HCPCS Level II code); bill that code",
                MpfsStatus::Deleted => "the code was deleted; bill its replacement",
                _ => {
                    "not a covered benefit: append GY to obtain a denial, or GA when an advance beneficiary notice is on file"
                }
            }
            .into(),
        );
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::domain::catalog::{ConceptRelease, FeeScheduleRelease};
    use crate::domain::claim::Claim;
    use crate::domain::code_system::CodeSystemVersion;
    use crate::domain::concept::Concept;
    use crate::rules::test_support::{catalog, clean_claim, date, line, version};

    fn ids(claim: &Claim, snapshot: &CatalogSnapshot) -> Vec<(&'static str, Severity, String)> {
        let context = RuleContext {
            claim,
            catalog: snapshot,
            history: &[],
        };
        let mut found = Vec::new();
        for rule in rules() {
            let mut out = Report::default();
            rule.evaluate(&context, &mut out);
            found.extend(
                out.findings
                    .into_iter()
                    .map(|f| (rule.id(), f.severity, f.field_path)),
            );
        }
        found
    }

    fn official(system: CodeSystem) -> CodeSystemVersion {
        version(system, "2025-JAN", "2025-01-01", false)
    }

    /// The test catalog with an official fee schedule (99241 status I, 0446T
    /// status N, A9270 status N) and an official HCPCS release with one code
    /// terminated in 2025 and one added in 2026-07.
    fn official_catalog() -> CatalogSnapshot {
        let mut snapshot = catalog();
        let mut rows = snapshot.fee_schedules[0].rows.clone();
        for (code, status) in [("99241", "I"), ("A9270", "N"), ("G0168", "A")] {
            let mut row = rows
                .get(&("11404".to_owned(), String::new()))
                .expect("11404 row")
                .clone();
            row.status = MpfsStatus::parse(status).expect("a status letter");
            rows.insert((code.to_owned(), String::new()), row);
        }
        snapshot.fee_schedules.push(Arc::new(FeeScheduleRelease {
            version: official(CodeSystem::Mpfs),
            rows,
        }));
        let hcpcs = |code: &str, added: Option<&str>, ended: Option<&str>| Concept {
            code: code.into(),
            display: code.into(),
            long_description: None,
            billable: true,
            parent_code: None,
            added_date: added.map(date),
            effective_date: None,
            termination_date: ended.map(date),
            properties: Vec::new(),
        };
        snapshot.concepts.insert(
            CodeSystem::Hcpcs,
            vec![Arc::new(ConceptRelease::new(
                official(CodeSystem::Hcpcs),
                vec![
                    hcpcs("A9270", None, None),
                    hcpcs("G0168", None, None),
                    hcpcs("G0027", None, Some("2025-12-31")),
                    hcpcs("G0560", Some("2026-07-01"), None),
                ],
            ))],
        );
        snapshot
    }

    #[test]
    fn an_unknown_code_is_invalid_where_a_complete_list_is_loaded() {
        let mut claim = clean_claim();
        claim.lines.push(line("G9999", &[], &[1]));
        assert_eq!(
            ids(&claim, &official_catalog()),
            [(
                "PROCEDURE_INVALID_CODE",
                Severity::Error,
                "lines[1].procedure_code".into()
            )]
        );
        // Without the licensed CPT file or an official fee schedule nothing
        // can tell: a warning that says so.
        claim.lines[1].procedure_code = "11405".into();
        assert_eq!(
            ids(&claim, &catalog()),
            [(
                "PROCEDURE_INVALID_CODE",
                Severity::Warning,
                "lines[1].procedure_code".into()
            )]
        );
        claim.lines[1].procedure_code = "1140".into();
        assert_eq!(ids(&claim, &catalog())[0].1, Severity::Error);
    }

    /// An official fee schedule lists every surgery code: 11405 is in
    /// neither it nor a CPT file, so it does not exist, and the line's size
    /// says which code was meant.
    #[test]
    fn a_surgery_code_the_official_fee_schedule_lacks_does_not_exist() {
        let mut claim = clean_claim();
        claim.date_of_service = Some(date("2025-06-02"));
        claim.lines[0].procedure_code = "11405".into();
        claim.lines[0].excised_diameter_cm = Some(4.2);
        let snapshot = official_catalog();
        let context = RuleContext {
            claim: &claim,
            catalog: &snapshot,
            history: &[],
        };
        let mut out = Report::default();
        ProcedureRule(Problem::Invalid).evaluate(&context, &mut out);
        let found = &out.findings[0];
        assert_eq!(found.severity, Severity::Error);
        assert_eq!(found.suggested_code.as_deref(), Some("11406"));
        assert_eq!(
            found.fixes,
            [FieldFix::set("lines[0].procedure_code", "11406")]
        );
        // A 2026 date under the 2025 schedule: the codes added since are not
        // in it, so it cannot tell, and says so as a warning.
        claim.date_of_service = Some(date("2026-01-15"));
        let context = RuleContext {
            claim: &claim,
            catalog: &snapshot,
            history: &[],
        };
        let mut out = Report::default();
        ProcedureRule(Problem::Invalid).evaluate(&context, &mut out);
        assert_eq!(out.findings[0].severity, Severity::Warning);
    }

    #[test]
    fn a_code_the_fee_schedule_lists_exists_without_a_descriptor_file() {
        let mut claim = clean_claim();
        claim.lines.push(line("G0168", &[], &[1]));
        assert!(ids(&claim, &official_catalog()).is_empty());
    }

    #[test]
    fn terminated_and_not_yet_added_codes_are_not_effective() {
        let mut claim = clean_claim();
        claim.lines.push(line("G0027", &[], &[1]));
        claim.lines.push(line("G0560", &[], &[1]));
        let found = ids(&claim, &official_catalog());
        assert_eq!(
            found,
            [
                (
                    "PROCEDURE_NOT_EFFECTIVE_ON_DOS",
                    Severity::Error,
                    "lines[1].procedure_code".into()
                ),
                (
                    "PROCEDURE_NOT_EFFECTIVE_ON_DOS",
                    Severity::Error,
                    "lines[2].procedure_code".into()
                )
            ]
        );
        claim.date_of_service = Some(date("2025-12-31"));
        claim.lines.truncate(2);
        assert!(
            ids(&claim, &official_catalog())
                .iter()
                .all(|(id, ..)| *id != "PROCEDURE_NOT_EFFECTIVE_ON_DOS")
        );
    }

    #[test]
    fn invalid_and_non_covered_statuses_warn_unless_acknowledged() {
        let mut claim = clean_claim();
        claim.lines.push(line("99241", &[], &[1]));
        claim.lines.push(line("A9270", &[], &[1]));
        assert_eq!(
            ids(&claim, &official_catalog()),
            [
                (
                    "PROCEDURE_FEE_SCHEDULE_STATUS",
                    Severity::Warning,
                    "lines[1].procedure_code".into()
                ),
                (
                    "PROCEDURE_FEE_SCHEDULE_STATUS",
                    Severity::Warning,
                    "lines[2].procedure_code".into()
                )
            ]
        );
        claim.lines[1].procedure_code = "99213".into();
        claim.lines[2].modifiers = vec!["GY".into()];
        assert!(ids(&claim, &official_catalog()).is_empty());
    }

    #[test]
    fn a_clean_claim_is_silent() {
        assert!(ids(&clean_claim(), &official_catalog()).is_empty());
        assert!(ids(&clean_claim(), &catalog()).is_empty());
    }
}
