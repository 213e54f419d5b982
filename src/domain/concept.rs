//! One concept of a code-system release: what the catalog holds and the
//! search index ranks, in a module of its own so neither depends on the
//! other.

use std::hash::{BuildHasher, RandomState};

use chrono::NaiveDate;
use hashbrown::HashTable;

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

/// The concepts of a release, each stored once, in code order, and found by
/// code through an index of positions.
///
/// A `HashMap<String, Concept>` kept a second copy of every code and, for
/// each slot of its spare capacity too, room for a key and a concept: 45 MB
/// of the server's heap for the 206k concepts of the official releases
/// (heaptrack). This list takes what the concepts do, its index four bytes
/// a slot.
#[derive(Debug, Clone)]
pub struct ConceptTable {
    concepts: Vec<Concept>,
    positions: HashTable<u32>,
    hasher: RandomState,
}

impl ConceptTable {
    /// The table of `concepts`; of two with the same code the later stays.
    pub fn new(mut concepts: Vec<Concept>) -> Self {
        // A stable sort keeps the later of two equal codes last; `dedup_by`
        // drops the later one, so it is moved into the earlier's place first.
        concepts.sort_by(|a, b| a.code.cmp(&b.code));
        concepts.dedup_by(|later, earlier| {
            let same = later.code == earlier.code;
            if same {
                std::mem::swap(later, earlier);
            }
            same
        });
        concepts.shrink_to_fit();
        let hasher = RandomState::new();
        let mut positions = HashTable::with_capacity(concepts.len());
        for (position, concept) in concepts.iter().enumerate() {
            let position = u32::try_from(position).expect("fewer than 4 billion concepts");
            positions.insert_unique(hasher.hash_one(concept.code.as_str()), position, |&p| {
                hasher.hash_one(concepts[p as usize].code.as_str())
            });
        }
        Self {
            concepts,
            positions,
            hasher,
        }
    }

    /// The concept of a canonical code.
    pub fn get(&self, code: &str) -> Option<&Concept> {
        let position = self.positions.find(self.hasher.hash_one(code), |&p| {
            self.concepts[p as usize].code == code
        })?;
        Some(&self.concepts[*position as usize])
    }

    /// Whether the table has a code.
    pub fn contains_key(&self, code: &str) -> bool {
        self.get(code).is_some()
    }

    /// Every concept, in code order.
    pub fn values(&self) -> std::slice::Iter<'_, Concept> {
        self.concepts.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn concept(code: &str, display: &str) -> Concept {
        Concept {
            code: code.into(),
            display: display.into(),
            long_description: None,
            billable: true,
            parent_code: None,
            added_date: None,
            effective_date: None,
            termination_date: None,
            properties: Vec::new(),
        }
    }

    #[test]
    fn a_table_finds_each_code_keeps_the_later_duplicate_and_lists_in_code_order() {
        let table = ConceptTable::new(vec![
            concept("L720", "first"),
            concept("A00", "cholera"),
            concept("L720", "second"),
            concept("D2361", "nevus"),
        ]);
        assert_eq!(table.values().len(), 3);
        assert_eq!(
            table.get("L720").map(|c| c.display.as_str()),
            Some("second")
        );
        assert_eq!(
            table.get("A00").map(|c| c.display.as_str()),
            Some("cholera")
        );
        assert!(table.contains_key("D2361"));
        assert!(!table.contains_key("D236"));
        assert!(table.get("").is_none());
        let codes: Vec<&str> = table.values().map(|c| c.code.as_str()).collect();
        assert_eq!(codes, ["A00", "D2361", "L720"]);
        assert_eq!(ConceptTable::new(Vec::new()).values().len(), 0);
    }
}
