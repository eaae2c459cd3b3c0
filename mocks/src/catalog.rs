//! The fidelity catalog: the documented behaviours of Entra ID and Exchange Online that the
//! simulation is checked against, each with its public sources. Rules cite cases by id.
//!
//! The data is `catalog/cases.json`, read once. Each source is a URL and an excerpt of what it
//! shows (the source's own words, where it has exact texts).

use std::sync::OnceLock;

use serde::Deserialize;

/// One documented behaviour.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Case {
    /// The stable id (`deleg-mixed-graph-first`).
    pub id: String,
    /// What it documents, in a sentence.
    pub summary: String,
    /// Where it is documented.
    pub sources: Vec<Source>,
}

/// A public source of a case.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Source {
    /// Where to read it.
    pub url: String,
    /// What it shows, in its own words where it quotes Microsoft's texts.
    pub excerpt: String,
}

#[derive(Deserialize)]
struct CatalogFile {
    cases: Vec<Case>,
}

const CASES_JSON: &str = include_str!("../catalog/cases.json");

/// Returns every catalog case, in catalog order.
pub fn cases() -> &'static [Case] {
    static CASES: OnceLock<Vec<Case>> = OnceLock::new();
    CASES.get_or_init(|| {
        serde_json::from_str::<CatalogFile>(CASES_JSON)
            .map(|file| file.cases)
            .expect("catalog/cases.json is valid; a unit test reads it")
    })
}

/// Returns the case with `id`.
pub fn case(id: &str) -> Option<&'static Case> {
    cases().iter().find(|case| case.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_case_has_a_unique_id_a_summary_and_a_source() {
        let cases = cases();
        assert_eq!(cases.len(), 81);
        let mut ids: Vec<&str> = cases.iter().map(|case| case.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), cases.len(), "duplicate ids");
        for case in cases {
            assert!(!case.summary.is_empty(), "{}", case.id);
            assert!(!case.sources.is_empty(), "{}", case.id);
            for source in &case.sources {
                assert!(source.url.starts_with("https://"), "{}: {}", case.id, source.url);
            }
        }
    }
}
