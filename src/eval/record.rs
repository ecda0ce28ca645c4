//! The general result of scoring one model on one benchmark, whatever scored it: the embedded
//! world's exact-match benchmark, MMLU or HHH by log-likelihood, or a user's external command.
//! Reports (Tables 2 and 4, `epochs.csv`) read only this.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One benchmark's score of one model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreRecord {
    /// The benchmark's name as the grid spells it (`world`, `mmlu`, `hhh`, `command`).
    pub benchmark: String,
    /// Items scored, when the evaluator says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<usize>,
    /// The headline number (accuracy in percent for the built-in benchmarks).
    pub score: f64,
    /// Per-category scores in the benchmark's own order (world families, MMLU topics, HHH
    /// subsets); empty when the evaluator gives none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<CategoryScore>,
    /// Mean response length in characters, for evaluators that generate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<f64>,
    /// Anything else the evaluator reports, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metrics: BTreeMap<String, f64>,
}

/// One category of a [`ScoreRecord`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryScore {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<usize>,
    pub score: f64,
}

/// `k` of `n` as a percentage (0 for an empty set).
pub fn percent(k: usize, n: usize) -> f64 {
    if n == 0 { 0.0 } else { k as f64 / n as f64 * 100.0 }
}

/// Per-category accuracies from `(category, correct)` per item, categories in first-seen order.
pub fn accuracy_by_category<'a>(items: impl IntoIterator<Item = (&'a str, bool)>) -> Vec<CategoryScore> {
    let mut order: Vec<&str> = Vec::new();
    let mut counts: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (category, correct) in items {
        let e = counts.entry(category).or_insert_with(|| {
            order.push(category);
            (0, 0)
        });
        e.0 += 1;
        e.1 += usize::from(correct);
    }
    order
        .into_iter()
        .map(|name| {
            let (n, k) = counts[name];
            CategoryScore { name: name.to_string(), n: Some(n), score: percent(k, n) }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_keep_first_seen_order_and_count() {
        let c = accuracy_by_category([("b", true), ("a", false), ("b", false), ("a", false)]);
        let names: Vec<&str> = c.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["b", "a"]);
        assert_eq!((c[0].n, c[0].score), (Some(2), 50.0));
        assert_eq!((c[1].n, c[1].score), (Some(2), 0.0));
    }

    #[test]
    fn a_command_record_parses_with_optional_fields_absent() {
        let r: ScoreRecord = serde_json::from_str(r#"{"benchmark":"command","score":41.5}"#).unwrap();
        assert_eq!(r.score, 41.5);
        assert!(r.categories.is_empty() && r.length.is_none() && r.metrics.is_empty());
    }
}
