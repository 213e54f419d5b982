//! Terminology use cases over the catalog snapshot: LookupCode, ValidateCode,
//! BatchValidateCodes and SearchCodes. Every answer names the release it came
//! from; a bad code is an answer, not an error (only LookupCode of an unknown
//! code is NOT_FOUND).

use chrono::NaiveDate;

use crate::app::catalog::Catalog;
use crate::app::page_token;
use crate::domain::catalog::{CatalogSnapshot, ConceptRelease};
use crate::domain::code_system::{CodeSystem, CodeSystemVersion};
use crate::domain::codes;
use crate::domain::concept::Concept;
use crate::domain::fee_schedule;
use crate::domain::search::Hit;
use crate::domain::validity::{self, Validity};
use crate::error::AppError;

/// Most codes one BatchValidateCodes call may check.
pub const MAX_BATCH_CODES: usize = 1_000;
/// Default page size of SearchCodes.
pub const DEFAULT_SEARCH_PAGE: usize = 20;
/// Largest page size of SearchCodes.
pub const MAX_SEARCH_PAGE: usize = 100;

/// A concept as of a date, with its neighbours in the hierarchy, borrowed
/// from the snapshot that answered: the answer copies each string once,
/// into the response.
#[derive(Debug, Clone)]
pub struct ConceptView<'a> {
    /// The system.
    pub system: CodeSystem,
    /// The concept.
    pub concept: &'a Concept,
    /// In effect on the date.
    pub active: bool,
    /// Parent concept.
    pub parent: Option<&'a Concept>,
    pub children: Vec<&'a Concept>,
    /// The release that answered.
    pub version: &'a CodeSystemVersion,
    /// For a CPT or HCPCS code, its MPFS indicators on the date, read from
    /// the same snapshot as the concept.
    pub fee_schedule: Option<FeeScheduleIndicators>,
}

/// A procedure code's MPFS indicators as (name, value, meaning), with the
/// MPFS release they come from.
pub type FeeScheduleIndicators = (CodeSystemVersion, Vec<(&'static str, String, &'static str)>);

/// A ValidateCode answer.
#[derive(Debug, Clone)]
pub struct CodeVerdict {
    /// The verdict.
    pub validity: Validity,
    /// For the caller: why the code is or is not valid on the date.
    pub message: String,
    /// Canonical code.
    pub canonical: String,
    /// The concept, when known on the date.
    pub concept: Option<Concept>,
    /// Codes to use instead.
    pub suggestions: Vec<Concept>,
    /// The release that answered.
    pub version: Option<CodeSystemVersion>,
}

/// One page of search hits.
#[derive(Debug, Clone)]
pub struct SearchPage {
    /// Hits on this page with their scores.
    pub hits: Vec<(Concept, f64)>,
    /// Token of the next page; empty on the last.
    pub next_page_token: String,
    /// Hits over all pages.
    pub total: usize,
    /// The release searched.
    pub version: Option<CodeSystemVersion>,
}

fn lookup_system(system: Option<CodeSystem>, field: &str) -> Result<CodeSystem, AppError> {
    match system {
        None => Err(AppError::invalid_field(field, "a code system is required")),
        Some(CodeSystem::Mpfs | CodeSystem::NcciPtp | CodeSystem::Mue) => {
            Err(AppError::invalid_field(
                field,
                "MPFS, NCCI_PTP and MUE are reference tables, not code systems with concepts",
            ))
        }
        Some(system) => Ok(system),
    }
}

/// LookupCode.
pub fn lookup<'a>(
    snapshot: &'a CatalogSnapshot,
    system: Option<CodeSystem>,
    code: &str,
    date: NaiveDate,
) -> Result<ConceptView<'a>, AppError> {
    let system = lookup_system(system, "system")?;
    let canonical = codes::canonical(system, code);
    let not_found = || AppError::NotFound {
        resource_type: "concept",
        name: format!(
            "codeSystems/{system}/concepts/{}",
            codes::display(system, &canonical)
        ),
    };
    let (release, concept) =
        validity::find(snapshot, system, &canonical, date).ok_or_else(not_found)?;
    Ok(ConceptView {
        system,
        active: concept.is_active_on(date),
        parent: concept
            .parent_code
            .as_ref()
            .and_then(|p| release.concepts.get(p)),
        children: release.children_of(&concept.code).collect(),
        fee_schedule: matches!(system, CodeSystem::Cpt | CodeSystem::Hcpcs)
            .then(|| snapshot.fee_schedule(date))
            .flatten()
            .and_then(|fees| {
                let row = fees.global_row(&concept.code)?;
                Some((fees.version.clone(), fee_schedule::describe(row)))
            }),
        concept,
        version: &release.version,
    })
}

/// ValidateCode.
pub fn validate(
    snapshot: &CatalogSnapshot,
    system: Option<CodeSystem>,
    code: &str,
    date: NaiveDate,
) -> Result<CodeVerdict, AppError> {
    let system = lookup_system(system, "system")?;
    let check = validity::check(snapshot, system, code, date);
    let shown = codes::display(system, &check.canonical);
    let release_label = check.release.map_or_else(
        || "no release".to_owned(),
        |r| format!("release {}", r.version.version),
    );
    let message = match check.validity {
        Validity::Valid => format!("{shown} is valid on {date} ({release_label})"),
        Validity::UnknownCode => format!("{shown} is not a {system} code in any loaded release"),
        Validity::InvalidFormat => format!("{code:?} is not shaped like a {system} code"),
        Validity::HeaderNotBillable => format!(
            "{shown} is a header, not billable: code to one of its {} billable subcodes",
            check.suggestions.len()
        ),
        Validity::NotEffectiveOnDate => match system.code_set_start() {
            Some(start) if date < start => {
                format!("{shown} is not in effect on {date}: {system} took effect on {start}")
            }
            _ => format!("{shown} is not in effect on {date} ({release_label})"),
        },
        Validity::Terminated => format!(
            "{shown} was terminated on {}",
            check
                .concept
                .and_then(|c| c.termination_date)
                .map_or_else(String::new, |d| d.to_string())
        ),
    };
    Ok(CodeVerdict {
        validity: check.validity,
        message,
        canonical: check.canonical,
        concept: check.concept.cloned(),
        suggestions: check.suggestions.into_iter().cloned().collect(),
        version: check.release.map(|r| r.version.clone()),
    })
}

/// BatchValidateCodes: validates every request against one snapshot, in order.
pub fn validate_batch(
    catalog: &Catalog,
    requests: &[(Option<CodeSystem>, String, NaiveDate)],
) -> Result<Vec<CodeVerdict>, AppError> {
    if requests.len() > MAX_BATCH_CODES {
        return Err(AppError::invalid_field(
            "requests",
            format!(
                "at most {MAX_BATCH_CODES} codes per call, got {}",
                requests.len()
            ),
        ));
    }
    let snapshot = catalog.snapshot();
    requests
        .iter()
        .enumerate()
        .map(|(i, (system, code, date))| {
            validate(&snapshot, *system, code, *date).map_err(|e| match e {
                AppError::InvalidArgument { reason, violations } => AppError::InvalidArgument {
                    reason,
                    violations: violations
                        .into_iter()
                        .map(|mut v| {
                            v.field = format!("requests[{i}].{}", v.field);
                            v
                        })
                        .collect(),
                },
                other => other,
            })
        })
        .collect()
}

/// The search parameters a page token is bound to.
#[derive(serde::Serialize)]
struct SearchParameters<'a> {
    system: &'a str,
    query: &'a str,
    date: NaiveDate,
    billable_only: bool,
}

/// SearchCodes: a code prefix when the query looks like one, else words.
pub fn search(
    catalog: &Catalog,
    system: Option<CodeSystem>,
    query: &str,
    date: NaiveDate,
    billable_only: bool,
    page_size: i32,
    page_token: &str,
) -> Result<SearchPage, AppError> {
    let system = lookup_system(system, "system")?;
    let query = query.trim();
    if query.is_empty() {
        return Err(AppError::invalid_field("query", "must not be empty"));
    }
    let size = page_token::page_size(page_size, DEFAULT_SEARCH_PAGE, MAX_SEARCH_PAGE)?;
    let parameters = SearchParameters {
        system: system.as_str(),
        query,
        date,
        billable_only,
    };
    let offset: usize = page_token::decode(page_token, &parameters)?.unwrap_or(0);
    let snapshot = catalog.snapshot();
    let Some(release) = snapshot.concept_release(system, date) else {
        return Ok(SearchPage {
            hits: Vec::new(),
            next_page_token: String::new(),
            total: 0,
            version: None,
        });
    };
    let hits: Vec<Hit> = ranked_hits(release, system, query)
        .into_iter()
        .filter(|h| !billable_only || release.search.is_billable(h.position))
        .collect();
    let total = hits.len();
    // Only the page's concepts are looked up and copied.
    let page: Vec<(Concept, f64)> = hits
        .iter()
        .skip(offset)
        .take(size)
        .filter_map(|h| {
            release
                .concepts
                .get(release.search.code_at(h.position))
                .map(|c| (c.clone(), h.score))
        })
        .collect();
    let next = offset + page.len();
    Ok(SearchPage {
        next_page_token: if next < total {
            page_token::encode(&parameters, &next)
        } else {
            String::new()
        },
        hits: page,
        total,
        version: Some(release.version.clone()),
    })
}

fn ranked_hits(release: &ConceptRelease, system: CodeSystem, query: &str) -> Vec<Hit> {
    let canonical = codes::canonical(system, query);
    let looks_like_code = !canonical.is_empty()
        && canonical.chars().all(|c| c.is_ascii_alphanumeric())
        && canonical.chars().any(|c| c.is_ascii_digit());
    if looks_like_code {
        release.search.by_code_prefix(&canonical)
    } else {
        release.search.by_words(query)
    }
}
