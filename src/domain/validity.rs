//! Whether a code may be billed on a date of service, and why not.
//! Shared by ValidateCode and the claim rules.

use chrono::NaiveDate;

use crate::domain::catalog::{CatalogSnapshot, ConceptRelease, resolve};
use crate::domain::code_system::CodeSystem;
use crate::domain::codes;
use crate::domain::concept::Concept;

/// The verdict on a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    /// Billable on the date.
    Valid,
    /// In no release of the system.
    UnknownCode,
    /// Not shaped like a code of the system.
    InvalidFormat,
    /// An ICD-10-CM header: code to a billable child.
    HeaderNotBillable,
    /// Exists, but not in the release in effect on the date (or added later).
    NotEffectiveOnDate,
    /// Terminated before the date.
    Terminated,
}

/// A code checked against the catalog.
#[derive(Debug, Clone)]
pub struct CodeCheck<'a> {
    /// The verdict.
    pub validity: Validity,
    /// The code in canonical form.
    pub canonical: String,
    /// The concept, when the release in effect has it.
    pub concept: Option<&'a Concept>,
    /// The release that answered.
    pub release: Option<&'a ConceptRelease>,
    /// Codes to use instead: a header's billable descendants.
    pub suggestions: Vec<&'a Concept>,
}

/// Finds `canonical` in the release of `system` in effect on `date`.
///
/// Modifiers are two code sets in one system: CPT Level I modifiers (25, 59,
/// ...) are not in the HCPCS file that carries Level II ones, so a modifier
/// missing from the official release is looked up in the built-in set.
pub fn find<'a>(
    snapshot: &'a CatalogSnapshot,
    system: CodeSystem,
    canonical: &str,
    date: NaiveDate,
) -> Option<(&'a ConceptRelease, &'a Concept)> {
    let release = snapshot.concept_release(system, date)?;
    if let Some(concept) = release.concepts.get(canonical) {
        return Some((release, concept));
    }
    if system != CodeSystem::Modifier || release.version.builtin {
        return None;
    }
    let builtin = resolve(
        snapshot
            .concepts
            .get(&system)?
            .iter()
            .filter(|r| r.version.builtin),
        date,
    )?;
    builtin
        .concepts
        .get(canonical)
        .map(|c| (builtin.as_ref(), c))
}

/// Checks a code as typed by a caller.
pub fn check<'a>(
    snapshot: &'a CatalogSnapshot,
    system: CodeSystem,
    code: &str,
    date: NaiveDate,
) -> CodeCheck<'a> {
    let canonical = codes::canonical(system, code);
    let mut check = CodeCheck {
        validity: Validity::Valid,
        canonical,
        concept: None,
        release: snapshot.concept_release(system, date),
        suggestions: Vec::new(),
    };
    if !codes::has_valid_format(system, &check.canonical) {
        check.validity = Validity::InvalidFormat;
        return check;
    }
    if system.code_set_start().is_some_and(|start| date < start) {
        check.validity = Validity::NotEffectiveOnDate;
        check.release = None;
        return check;
    }
    let Some((release, concept)) = find(snapshot, system, &check.canonical, date) else {
        let elsewhere = snapshot.concepts.get(&system).is_some_and(|releases| {
            releases
                .iter()
                .any(|r| r.concepts.contains_key(&check.canonical))
        });
        check.validity = if elsewhere {
            Validity::NotEffectiveOnDate
        } else {
            Validity::UnknownCode
        };
        return check;
    };
    check.release = Some(release);
    check.concept = Some(concept);
    check.validity = if concept.termination_date.is_some_and(|end| end < date) {
        Validity::Terminated
    } else if concept.added_date.is_some_and(|added| added > date) {
        Validity::NotEffectiveOnDate
    } else if !concept.billable {
        check.suggestions = billable_descendants(release, &concept.code);
        // Billable in another release (e.g. FY2025) but a header in this one:
        // the code was expanded, so it is not valid on this date.
        let billable_elsewhere = snapshot.concepts.get(&system).is_some_and(|releases| {
            releases
                .iter()
                .filter(|r| !std::ptr::eq(r.as_ref(), release))
                .any(|r| r.concepts.get(&check.canonical).is_some_and(|c| c.billable))
        });
        if billable_elsewhere {
            Validity::NotEffectiveOnDate
        } else {
            Validity::HeaderNotBillable
        }
    } else {
        Validity::Valid
    };
    check
}

/// Billable codes under a header: its billable children, or for a header
/// whose children are headers too, their billable children (nearest first).
fn billable_descendants<'a>(release: &'a ConceptRelease, code: &str) -> Vec<&'a Concept> {
    let mut found = Vec::new();
    let mut level: Vec<&Concept> = release.children_of(code).collect();
    while found.is_empty() && !level.is_empty() {
        found.extend(level.iter().copied().filter(|c| c.billable));
        level = level
            .iter()
            .flat_map(|c| release.children_of(&c.code))
            .collect();
    }
    found
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use chrono::{DateTime, Utc};

    use super::*;
    use crate::domain::code_system::CodeSystemVersion;

    fn date(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    fn concept(
        code: &str,
        billable: bool,
        parent: Option<&str>,
        terminated: Option<&str>,
    ) -> Concept {
        Concept {
            code: code.into(),
            display: format!("title of {code}"),
            long_description: None,
            billable,
            parent_code: parent.map(str::to_owned),
            added_date: None,
            effective_date: None,
            termination_date: terminated.map(date),
            properties: Vec::new(),
        }
    }

    fn release(
        system: CodeSystem,
        version: &str,
        from: &str,
        builtin: bool,
        concepts: Vec<Concept>,
    ) -> Arc<ConceptRelease> {
        Arc::new(ConceptRelease::new(
            CodeSystemVersion {
                system,
                version: version.into(),
                effective_from: date(from),
                effective_to: None,
                builtin,
                source_file_name: String::new(),
                sha256: version.into(),
                concept_count: 0,
                billable_count: None,
                load_time: DateTime::<Utc>::from_timestamp(0, 0).expect("time"),
            },
            concepts,
        ))
    }

    fn catalog() -> CatalogSnapshot {
        CatalogSnapshot {
            concepts: BTreeMap::from([
                (
                    CodeSystem::Icd10Cm,
                    vec![
                        release(
                            CodeSystem::Icd10Cm,
                            "FY2025",
                            "2024-10-01",
                            false,
                            vec![concept("D23", false, None, None)],
                        ),
                        release(
                            CodeSystem::Icd10Cm,
                            "FY2026",
                            "2025-10-01",
                            false,
                            vec![
                                concept("D23", false, None, None),
                                concept("D236", false, Some("D23"), None),
                                concept("D2360", true, Some("D236"), None),
                                concept("D2361", true, Some("D236"), None),
                                concept("D2362", true, Some("D236"), None),
                            ],
                        ),
                    ],
                ),
                (
                    CodeSystem::Modifier,
                    vec![
                        release(
                            CodeSystem::Modifier,
                            "default",
                            "2000-01-01",
                            true,
                            vec![concept("25", true, None, None)],
                        ),
                        release(
                            CodeSystem::Modifier,
                            "2025-10",
                            "2025-10-01",
                            false,
                            vec![
                                concept("XS", true, None, None),
                                concept("QJ", true, None, Some("2025-12-31")),
                            ],
                        ),
                    ],
                ),
            ]),
            ..CatalogSnapshot::default()
        }
    }

    #[test]
    fn a_header_is_not_billable_and_suggests_its_billable_children() {
        let catalog = catalog();
        let check = check(&catalog, CodeSystem::Icd10Cm, "D23.6", date("2026-01-15"));
        assert_eq!(check.validity, Validity::HeaderNotBillable);
        let suggested: Vec<&str> = check.suggestions.iter().map(|c| c.code.as_str()).collect();
        assert_eq!(suggested, ["D2360", "D2361", "D2362"]);
    }

    #[test]
    fn a_category_suggests_the_nearest_billable_descendants() {
        let catalog = catalog();
        let check = check(&catalog, CodeSystem::Icd10Cm, "D23", date("2026-01-15"));
        assert_eq!(check.suggestions.len(), 3);
    }

    #[test]
    fn a_code_of_a_later_fiscal_year_is_not_effective() {
        let catalog = catalog();
        assert_eq!(
            check(&catalog, CodeSystem::Icd10Cm, "d23.61", date("2025-09-30")).validity,
            Validity::NotEffectiveOnDate
        );
        assert_eq!(
            check(&catalog, CodeSystem::Icd10Cm, "D23.61", date("2025-10-01")).validity,
            Validity::Valid
        );
    }

    #[test]
    fn a_code_billable_last_year_but_a_header_now_is_not_effective() {
        let mut catalog = catalog();
        let releases = catalog.concepts.get_mut(&CodeSystem::Icd10Cm).expect("icd");
        releases[0] = release(
            CodeSystem::Icd10Cm,
            "FY2025",
            "2024-10-01",
            false,
            vec![concept("Z841", true, None, None)],
        );
        releases[1] = release(
            CodeSystem::Icd10Cm,
            "FY2026",
            "2025-10-01",
            false,
            vec![
                concept("Z841", false, None, None),
                concept("Z8410", true, Some("Z841"), None),
            ],
        );
        let expanded = check(&catalog, CodeSystem::Icd10Cm, "Z84.1", date("2026-01-15"));
        assert_eq!(expanded.validity, Validity::NotEffectiveOnDate);
        assert_eq!(
            expanded.suggestions.len(),
            1,
            "its new subcodes are suggested"
        );
        assert_eq!(
            check(&catalog, CodeSystem::Icd10Cm, "Z84.1", date("2025-09-30")).validity,
            Validity::Valid
        );
    }

    #[test]
    fn unknown_and_malformed_codes_are_told_apart() {
        let catalog = catalog();
        assert_eq!(
            check(&catalog, CodeSystem::Icd10Cm, "D99.9", date("2026-01-15")).validity,
            Validity::UnknownCode
        );
        assert_eq!(
            check(&catalog, CodeSystem::Icd10Cm, "123", date("2026-01-15")).validity,
            Validity::InvalidFormat
        );
    }

    #[test]
    fn terminated_modifiers_and_level_one_fallback() {
        let catalog = catalog();
        assert_eq!(
            check(&catalog, CodeSystem::Modifier, "QJ", date("2025-12-31")).validity,
            Validity::Valid
        );
        assert_eq!(
            check(&catalog, CodeSystem::Modifier, "QJ", date("2026-01-01")).validity,
            Validity::Terminated
        );
        let level_one = check(&catalog, CodeSystem::Modifier, "25", date("2026-01-01"));
        assert_eq!(
            level_one.validity,
            Validity::Valid,
            "CPT modifiers come from the built-in set"
        );
        assert!(level_one.release.expect("release").version.builtin);
        assert_eq!(
            check(&catalog, CodeSystem::Modifier, "ZZ", date("2026-01-01")).validity,
            Validity::UnknownCode
        );
    }
}
