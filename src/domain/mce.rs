//! The Medicare Code Editor's diagnosis flags as the rules read them: the
//! flags of a code in the period that contains the date of service, and the
//! MCE's age bands behind its age flags.

use chrono::NaiveDate;

use crate::domain::catalog::CatalogSnapshot;
use crate::domain::code_system::CodeSystem;

/// The MCE age bands (MCE definitions file, `mce_v43.1_age_ranges.csv`):
/// flag, lowest and highest age in years, and the dates of service the
/// band holds for. A test of `import::mce` checks them against the file.
pub const AGE_BANDS: [(&str, u32, u32, &str, Option<&str>); 5] = [
    ("newborn", 0, 0, "1984-03-01", None),
    ("pediatric", 0, 17, "1984-03-01", None),
    ("maternity", 12, 55, "1984-03-01", Some("2019-09-30")),
    ("maternity", 9, 64, "2019-10-01", None),
    ("adult", 15, 124, "1984-03-01", None),
];

/// The age band of an age flag on `date`.
pub fn age_band(flag: &str, date: NaiveDate) -> Option<(u32, u32)> {
    AGE_BANDS
        .iter()
        .find(|(name, _, _, from, to)| {
            *name == flag
                && from.parse::<NaiveDate>().is_ok_and(|from| from <= date)
                && to.is_none_or(|to| to.parse::<NaiveDate>().is_ok_and(|to| date <= to))
        })
        .map(|(_, low, high, _, _)| (*low, *high))
}

/// What the MCE says of a code on a date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MceAnswer<'a> {
    /// No MCE release is in effect on the date.
    NoRelease,
    /// The release in effect has no row (or no period) for the code.
    NoRow,
    /// The code's flags in the period containing the date (maybe none).
    Flags(Vec<&'a str>, &'a str),
}

/// The flags of `canonical` (an ICD-10-CM code without the dot) on `date`,
/// with the version label of the release that answered.
pub fn flags<'a>(snapshot: &'a CatalogSnapshot, canonical: &str, date: NaiveDate) -> MceAnswer<'a> {
    let Some(release) = snapshot.concept_release(CodeSystem::Mce, date) else {
        return MceAnswer::NoRelease;
    };
    let Some(concept) = release.concepts.get(canonical) else {
        return MceAnswer::NoRow;
    };
    let period = concept.properties.iter().find(|(key, _)| {
        let mut parts = key.strip_prefix("period:").unwrap_or_default().split(':');
        let start = parts.next().and_then(|s| s.parse::<NaiveDate>().ok());
        let end = parts.next().unwrap_or_default();
        start.is_some_and(|start| start <= date)
            && (end.is_empty() || end.parse::<NaiveDate>().is_ok_and(|end| date <= end))
    });
    match period {
        Some((_, flags)) => MceAnswer::Flags(
            flags.split('|').filter(|f| !f.is_empty()).collect(),
            &release.version.version,
        ),
        None => MceAnswer::NoRow,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maternity_widened_on_2019_10_01() {
        let date = |s: &str| s.parse::<NaiveDate>().expect("date");
        assert_eq!(age_band("maternity", date("2019-09-30")), Some((12, 55)));
        assert_eq!(age_band("maternity", date("2019-10-01")), Some((9, 64)));
        assert_eq!(age_band("adult", date("2026-04-15")), Some((15, 124)));
        assert_eq!(age_band("male", date("2026-04-15")), None);
    }
}
