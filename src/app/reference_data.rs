//! Which code-set releases are loaded (ReferenceDataService).

use crate::app::catalog::Catalog;
use crate::app::page_token;
use crate::domain::code_system::{CodeSystem, CodeSystemVersion};
use crate::error::AppError;

/// Default page size of ListCodeSystemVersions.
pub const DEFAULT_PAGE_SIZE: usize = 50;
/// Largest page size of ListCodeSystemVersions.
pub const MAX_PAGE_SIZE: usize = 200;

/// One page of releases.
#[derive(Debug)]
pub struct VersionPage {
    /// The releases.
    pub versions: Vec<CodeSystemVersion>,
    /// Token of the next page; empty on the last.
    pub next_page_token: String,
}

/// Lists releases of `system` (every system when `None`), from the catalog snapshot.
pub fn list_versions(
    catalog: &Catalog,
    system: Option<CodeSystem>,
    page_size: i32,
    page_token: &str,
) -> Result<VersionPage, AppError> {
    let size = page_token::page_size(page_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
    let filter = system.map(CodeSystem::as_str);
    // The list is small (tens of releases), so the position is an offset into
    // the snapshot's stable ordering.
    let offset: usize = page_token::decode(page_token, &filter)?.unwrap_or(0);
    let matching: Vec<CodeSystemVersion> = catalog
        .snapshot()
        .versions()
        .into_iter()
        .filter(|v| system.is_none_or(|s| v.system == s))
        .collect();
    let versions: Vec<CodeSystemVersion> =
        matching.iter().skip(offset).take(size).cloned().collect();
    let next = offset + versions.len();
    let next_page_token = if next < matching.len() {
        page_token::encode(&filter, &next)
    } else {
        String::new()
    };
    Ok(VersionPage {
        versions,
        next_page_token,
    })
}

/// Returns the release named `codeSystems/{system}/versions/{version}`.
pub fn get_version(catalog: &Catalog, name: &str) -> Result<CodeSystemVersion, AppError> {
    let (system, version) = parse_version_name(name)?;
    catalog
        .snapshot()
        .versions()
        .into_iter()
        .find(|v| v.system == system && v.version == version)
        .ok_or_else(|| AppError::NotFound {
            resource_type: "codeSystemVersion",
            name: name.to_owned(),
        })
}

fn parse_version_name(name: &str) -> Result<(CodeSystem, &str), AppError> {
    let malformed = || {
        AppError::invalid_field(
            "name",
            "must look like codeSystems/{system}/versions/{version}",
        )
    };
    let rest = name.strip_prefix("codeSystems/").ok_or_else(malformed)?;
    let (system, rest) = rest.split_once('/').ok_or_else(malformed)?;
    let version = rest.strip_prefix("versions/").ok_or_else(malformed)?;
    if version.is_empty() || version.contains('/') {
        return Err(malformed());
    }
    let system = system
        .parse::<CodeSystem>()
        .map_err(|_| AppError::invalid_field("name", format!("unknown code system {system:?}")))?;
    Ok((system, version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_names_parse() {
        assert_eq!(
            parse_version_name("codeSystems/icd10cm/versions/FY2026").expect("valid"),
            (CodeSystem::Icd10Cm, "FY2026")
        );
        for bad in [
            "",
            "codeSystems/icd10cm",
            "codeSystems/icd10cm/versions/",
            "codeSystems/x/versions/1",
            "versions/FY2026",
        ] {
            assert!(parse_version_name(bad).is_err(), "{bad}");
        }
    }
}
