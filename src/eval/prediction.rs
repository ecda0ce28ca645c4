//! What a log-likelihood evaluator returns: the [`ScoreRecord`] the reports read, plus one
//! [`ItemPrediction`] per item so a user can see which items a model got wrong and by how much.

use serde::{Deserialize, Serialize};

use super::record::ScoreRecord;

/// The result of one evaluator run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub record: ScoreRecord,
    /// One per evaluated item, in the order the items were given.
    pub items: Vec<ItemPrediction>,
}

/// One item's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemPrediction {
    /// Position in the items given to the evaluator.
    pub index: usize,
    /// 1-based line of the item in its source file (0 for items built in code).
    pub line: usize,
    /// MMLU topic or HHH subset.
    pub category: String,
    /// Summed log-probability of each option (MMLU: A, B, C, D; HHH: better, worse).
    pub logps: Vec<f64>,
    /// Index into `logps` of the model's choice (the largest, the first on ties).
    pub predicted: usize,
    /// Index into `logps` of the right option.
    pub target: usize,
    /// The choice in words: an MMLU letter, or `better` / `worse` for HHH.
    pub answer: String,
    pub correct: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predictions_round_trip_through_json() {
        let p = ItemPrediction {
            index: 0,
            line: 3,
            category: "anatomy".into(),
            logps: vec![-1.0, -2.0],
            predicted: 0,
            target: 1,
            answer: "A".into(),
            correct: false,
        };
        let back: ItemPrediction = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
        assert_eq!(back, p);
    }
}
