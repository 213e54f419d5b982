//! One concept of a code-system release: what the catalog holds and the
//! search index ranks, in a module of its own so neither depends on the
//! other.

use chrono::NaiveDate;

/// One concept of a release.
#[derive(Debug, Clone, PartialEq)]
pub struct Concept {
    /// Canonical code (ICD-10-CM without the dot, upper case).
    pub code: String,
    /// Short title.
    pub display: String,
    pub long_description: Option<String>,
    /// Billable (false for ICD-10-CM headers).
    pub billable: bool,
    /// Parent code in the hierarchy.
    pub parent_code: Option<String>,
    /// Date the code was added.
    pub added_date: Option<NaiveDate>,
    /// Date its current definition took effect.
    pub effective_date: Option<NaiveDate>,
    /// Date it was terminated.
    pub termination_date: Option<NaiveDate>,
    /// Kind-specific properties, in a stable order.
    pub properties: Vec<(String, String)>,
}

impl Concept {
    /// The value of a property.
    pub fn property(&self, name: &str) -> Option<&str> {
        self.properties
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// In effect on `date`: added by then and not terminated before it.
    pub fn is_active_on(&self, date: NaiveDate) -> bool {
        self.added_date.is_none_or(|added| added <= date)
            && self.termination_date.is_none_or(|end| date <= end)
    }
}
