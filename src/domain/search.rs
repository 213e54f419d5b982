//! In-memory search over a release: code-prefix search on the sorted codes
//! and word search over titles through an inverted index whose words are
//! sorted, so a query word also matches the index words it is a prefix of
//! ("neoplasm" finds "neoplasms").

use std::collections::HashMap;

use crate::domain::catalog::Concept;

/// Words too common to narrow a search.
const STOPWORDS: [&str; 14] = [
    "a", "an", "and", "as", "at", "by", "for", "in", "of", "on", "or", "the", "to", "due",
];

/// A search hit.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit<'a> {
    /// The concept.
    pub concept: &'a Concept,
    /// Relevance; higher is better.
    pub score: f64,
}

/// The index of one release.
#[derive(Debug, Clone, Default)]
pub struct SearchIndex {
    /// Codes in ascending order (concept positions refer to this order).
    codes: Vec<String>,
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

fn title_words(concept: &Concept) -> Vec<String> {
    let mut all: Vec<String> = words(&concept.display)
        .chain(concept.long_description.iter().flat_map(|d| words(d)))
        .collect();
    all.sort();
    all.dedup();
    all
}

impl SearchIndex {
    /// Builds the index of a release's concepts.
    pub fn build(concepts: &HashMap<String, Concept>) -> Self {
        let mut codes: Vec<String> = concepts.keys().cloned().collect();
        codes.sort();
        let mut postings: HashMap<String, Vec<u32>> = HashMap::new();
        for (position, code) in codes.iter().enumerate() {
            let position = u32::try_from(position).expect("fewer than 4 billion concepts");
            for word in title_words(&concepts[code]) {
                postings.entry(word).or_default().push(position);
            }
        }
        let mut words: Vec<(String, Vec<u32>)> = postings.into_iter().collect();
        words.sort_by(|a, b| a.0.cmp(&b.0));
        Self { codes, words }
    }

    /// Concepts whose canonical code starts with `prefix`, exact match first,
    /// then shorter codes.
    pub fn by_code_prefix<'a>(
        &self,
        concepts: &'a HashMap<String, Concept>,
        prefix: &str,
    ) -> Vec<Hit<'a>> {
        let start = self.codes.partition_point(|c| c.as_str() < prefix);
        self.codes[start..]
            .iter()
            .take_while(|c| c.starts_with(prefix))
            .filter_map(|code| concepts.get(code))
            .map(|concept| Hit {
                concept,
                score: 1.0 / (1.0 + (concept.code.len() - prefix.len()) as f64),
            })
            .collect()
    }

    /// Concepts whose titles contain every word of `query` (as a word or a
    /// word prefix), best first: exact word matches and short titles rank
    /// higher, billable codes break ties.
    pub fn by_words<'a>(
        &self,
        concepts: &'a HashMap<String, Concept>,
        query: &str,
    ) -> Vec<Hit<'a>> {
        let terms: Vec<String> = words(query).collect();
        if terms.is_empty() {
            return Vec::new();
        }
        let mut candidates: Option<Vec<u32>> = None;
        for term in &terms {
            let start = self
                .words
                .partition_point(|(w, _)| w.as_str() < term.as_str());
            let mut matching: Vec<u32> = self.words[start..]
                .iter()
                .take_while(|(w, _)| w.starts_with(term.as_str()))
                .flat_map(|(_, positions)| positions.iter().copied())
                .collect();
            matching.sort_unstable();
            matching.dedup();
            candidates = Some(match candidates {
                None => matching,
                Some(previous) => intersect(&previous, &matching),
            });
            if candidates.as_ref().is_some_and(Vec::is_empty) {
                return Vec::new();
            }
        }
        let mut hits: Vec<Hit<'a>> = candidates
            .unwrap_or_default()
            .into_iter()
            .filter_map(|position| concepts.get(&self.codes[position as usize]))
            .map(|concept| {
                let title = title_words(concept);
                let exact = terms
                    .iter()
                    .filter(|t| title.binary_search(t).is_ok())
                    .count() as f64;
                let matched = (exact + 0.7 * (terms.len() as f64 - exact)) / terms.len() as f64;
                let brevity = 1.0 / (1.0 + 0.08 * title.len() as f64);
                let billable = if concept.billable { 0.01 } else { 0.0 };
                Hit {
                    concept,
                    score: matched * brevity + billable,
                }
            })
            .collect();
        hits.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(a.concept.code.len().cmp(&b.concept.code.len()))
                .then(a.concept.code.cmp(&b.concept.code))
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

    fn concepts(rows: &[(&str, &str, bool)]) -> HashMap<String, Concept> {
        rows.iter()
            .map(|(code, title, billable)| {
                (
                    (*code).to_owned(),
                    Concept {
                        code: (*code).into(),
                        display: (*title).into(),
                        long_description: None,
                        billable: *billable,
                        parent_code: None,
                        added_date: None,
                        effective_date: None,
                        termination_date: None,
                        properties: Vec::new(),
                    },
                )
            })
            .collect()
    }

    fn sample() -> HashMap<String, Concept> {
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
        let concepts = sample();
        let index = SearchIndex::build(&concepts);
        let hits = index.by_words(&concepts, "benign neoplasm skin trunk");
        assert_eq!(hits[0].concept.code, "D235");
        assert!(
            hits.iter().all(|h| h.concept.code != "D225"),
            "nevi are not 'benign neoplasm'"
        );
        assert!(
            hits.iter().all(|h| h.concept.code != "C4459"),
            "every word must match"
        );
    }

    #[test]
    fn a_query_word_matches_longer_index_words() {
        let concepts = sample();
        let index = SearchIndex::build(&concepts);
        let hits = index.by_words(&concepts, "neoplasm skin");
        assert!(
            hits.iter().any(|h| h.concept.code == "D23"),
            "'neoplasm' is a prefix of 'neoplasms'"
        );
        assert!(
            index.by_words(&concepts, "of the").is_empty(),
            "stopwords alone match nothing"
        );
    }

    #[test]
    fn code_prefixes_rank_the_exact_code_first() {
        let concepts = sample();
        let index = SearchIndex::build(&concepts);
        let codes: Vec<&str> = index
            .by_code_prefix(&concepts, "D236")
            .iter()
            .map(|h| h.concept.code.as_str())
            .collect();
        assert_eq!(codes, ["D236", "D2361"]);
        assert!(index.by_code_prefix(&concepts, "Z99").is_empty());
    }
}
