//! In-memory search over a release: code-prefix search on the sorted codes
//! and word search over titles through an inverted index whose words are
//! sorted, so a query word also matches the index words it is a prefix of
//! ("neoplasm" finds "neoplasms").

use std::collections::HashMap;

use crate::domain::concept::ConceptTable;

/// Words too common to narrow a search.
const STOPWORDS: [&str; 14] = [
    "a", "an", "and", "as", "at", "by", "for", "in", "of", "on", "or", "the", "to", "due",
];

/// A search hit: a position in the index's code order and its relevance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    /// Position of the concept (see [`SearchIndex::code_at`]).
    pub position: u32,
    /// Relevance; higher is better.
    pub score: f64,
}

/// The index of one release.
#[derive(Debug, Clone, Default)]
pub struct SearchIndex {
    /// Codes in ascending order (concept positions refer to this order).
    codes: Vec<String>,
    /// Distinct title words per position, for ranking short titles first.
    title_lengths: Vec<u16>,
    /// Billable flag per position.
    billable: Vec<bool>,
    /// (word, sorted positions of the concepts whose titles contain it), by word.
    words: Vec<(String, Vec<u32>)>,
}

/// Lower-case words of a text, without stopwords.
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .filter(|w| !STOPWORDS.contains(&w.as_str()))
}

/// Query words shorter than this match whole words only: a one-letter
/// prefix would match most of the code system.
const MIN_PREFIX_LEN: usize = 2;

impl SearchIndex {
    /// Builds the index of a release's concepts.
    pub fn build(concepts: &ConceptTable) -> Self {
        let codes: Vec<String> = concepts.values().map(|c| c.code.clone()).collect();
        let mut postings: HashMap<String, Vec<u32>> = HashMap::new();
        let mut title_lengths = Vec::with_capacity(codes.len());
        let mut billable = Vec::with_capacity(codes.len());
        for (position, concept) in concepts.values().enumerate() {
            let position = u32::try_from(position).expect("fewer than 4 billion concepts");
            let mut title: Vec<String> = words(&concept.display)
                .chain(concept.long_description.iter().flat_map(|d| words(d)))
                .collect();
            title.sort();
            title.dedup();
            title_lengths.push(u16::try_from(title.len()).unwrap_or(u16::MAX));
            billable.push(concept.billable);
            for word in title {
                postings.entry(word).or_default().push(position);
            }
        }
        let mut words: Vec<(String, Vec<u32>)> = postings.into_iter().collect();
        words.sort_by(|a, b| a.0.cmp(&b.0));
        Self {
            codes,
            title_lengths,
            billable,
            words,
        }
    }

    /// The canonical code at a position.
    pub fn code_at(&self, position: u32) -> &str {
        &self.codes[position as usize]
    }

    /// Whether the concept at a position is billable.
    pub fn is_billable(&self, position: u32) -> bool {
        self.billable[position as usize]
    }

    /// Concepts whose canonical code starts with `prefix`, in code order (the
    /// exact code first); shorter codes score higher.
    pub fn by_code_prefix(&self, prefix: &str) -> Vec<Hit> {
        let start = self.codes.partition_point(|c| c.as_str() < prefix);
        let end = start + self.codes[start..].partition_point(|c| c.starts_with(prefix));
        (start..end)
            .map(|position| Hit {
                position: u32::try_from(position).expect("fewer than 4 billion concepts"),
                score: 1.0 / (1.0 + (self.codes[position].len() - prefix.len()) as f64),
            })
            .collect()
    }

    fn exact(&self, word: &str) -> &[u32] {
        self.words
            .binary_search_by(|(w, _)| w.as_str().cmp(word))
            .map_or(&[], |i| self.words[i].1.as_slice())
    }

    /// Concepts whose titles contain every word of `query` (as a word or,
    /// for words of two letters or more, a word prefix), best first: exact
    /// word matches and short titles rank higher, billable codes break ties.
    pub fn by_words(&self, query: &str) -> Vec<Hit> {
        let terms: Vec<String> = words(query).collect();
        if terms.is_empty() {
            return Vec::new();
        }
        let mut candidates: Option<Vec<u32>> = None;
        for term in &terms {
            let matching: Vec<u32> = if term.chars().count() < MIN_PREFIX_LEN {
                self.exact(term).to_vec()
            } else {
                let start = self
                    .words
                    .partition_point(|(w, _)| w.as_str() < term.as_str());
                let mut union: Vec<u32> = self.words[start..]
                    .iter()
                    .take_while(|(w, _)| w.starts_with(term.as_str()))
                    .flat_map(|(_, positions)| positions.iter().copied())
                    .collect();
                union.sort_unstable();
                union.dedup();
                union
            };
            candidates = Some(match candidates {
                None => matching,
                Some(previous) => intersect(&previous, &matching),
            });
            if candidates.as_ref().is_some_and(Vec::is_empty) {
                return Vec::new();
            }
        }
        let exact_lists: Vec<&[u32]> = terms.iter().map(|t| self.exact(t)).collect();
        let mut hits: Vec<Hit> = candidates
            .unwrap_or_default()
            .into_iter()
            .map(|position| {
                let exact = exact_lists
                    .iter()
                    .filter(|list| list.binary_search(&position).is_ok())
                    .count() as f64;
                let matched = (exact + 0.7 * (terms.len() as f64 - exact)) / terms.len() as f64;
                let brevity = 1.0 / (1.0 + 0.08 * f64::from(self.title_lengths[position as usize]));
                let billable = if self.billable[position as usize] {
                    0.01
                } else {
                    0.0
                };
                Hit {
                    position,
                    score: matched * brevity + billable,
                }
            })
            .collect();
        hits.sort_unstable_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(
                    self.code_at(a.position)
                        .len()
                        .cmp(&self.code_at(b.position).len()),
                )
                .then(a.position.cmp(&b.position))
        });
        hits
    }
}

fn intersect(a: &[u32], b: &[u32]) -> Vec<u32> {
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::concept::Concept;

    fn concepts(rows: &[(&str, &str, bool)]) -> ConceptTable {
        ConceptTable::new(
            rows.iter()
                .map(|(code, title, billable)| Concept {
                    code: (*code).into(),
                    display: (*title).into(),
                    long_description: None,
                    billable: *billable,
                    parent_code: None,
                    added_date: None,
                    effective_date: None,
                    termination_date: None,
                    properties: Vec::new(),
                })
                .collect(),
        )
    }

    fn codes(index: &SearchIndex, hits: &[Hit]) -> Vec<String> {
        hits.iter()
            .map(|h| index.code_at(h.position).to_owned())
            .collect()
    }

    fn sample() -> ConceptTable {
        concepts(&[
            ("D23", "Other benign neoplasms of skin", false),
            ("D235", "Other benign neoplasm of skin of trunk", true),
            (
                "D236",
                "Other benign neoplasm of skin of upper limb, including shoulder",
                false,
            ),
            (
                "D2361",
                "Other benign neoplasm of skin of right upper limb, including shoulder",
                true,
            ),
            ("D225", "Melanocytic nevi of trunk", true),
            (
                "C4459",
                "Other malignant neoplasm of skin of other part of trunk",
                true,
            ),
            (
                "D216",
                "Benign neoplasm of connective and other soft tissue of trunk, unspecified",
                true,
            ),
        ])
    }

    #[test]
    fn words_find_the_specific_benign_trunk_code_first() {
        let index = SearchIndex::build(&sample());
        let found = codes(&index, &index.by_words("benign neoplasm skin trunk"));
        assert_eq!(found[0], "D235");
        assert!(
            !found.contains(&"D225".to_owned()),
            "nevi are not 'benign neoplasm'"
        );
        assert!(
            !found.contains(&"C4459".to_owned()),
            "every word must match"
        );
    }

    #[test]
    fn a_query_word_matches_longer_index_words() {
        let index = SearchIndex::build(&sample());
        let found = codes(&index, &index.by_words("neoplasm skin"));
        assert!(
            found.contains(&"D23".to_owned()),
            "'neoplasm' is a prefix of 'neoplasms'"
        );
        assert!(
            index.by_words("of the").is_empty(),
            "stopwords alone match nothing"
        );
        assert!(
            index.by_words("t").is_empty(),
            "one letter matches whole words only"
        );
    }

    #[test]
    fn code_prefixes_come_in_code_order() {
        let index = SearchIndex::build(&sample());
        assert_eq!(
            codes(&index, &index.by_code_prefix("D236")),
            ["D236", "D2361"]
        );
        assert!(index.by_code_prefix("Z99").is_empty());
    }
}
