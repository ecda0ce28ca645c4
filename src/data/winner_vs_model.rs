//! Are a dataset's winners better than the target model's own answers? (SPEC.md section 5.)
//!
//! For each triple the judge compares `y_w` with the target's greedy answer to the same prompt
//! (seeded presentation order) and the report gives the fraction of winners that score strictly
//! higher. Identical texts, and equal scores where the judge has scores, are ties.
//!
//! The suggested anchor follows the paper's rule (winners better than the model: `apo_zero`;
//! worse: `apo_down`) by comparing the two strict counts, ties left out: `apo_zero` when winners
//! beat the model more often than the model beats them. A plain "fraction > 1/2" would call a
//! dataset whose winners are never worse, but tie half the time (a correct answer revised only
//! where it was wrong), worse than the model.
//!
//! `apo_auto` (paper, section 7) needs the comparison of every training pair, not a sample: a
//! build for it calls [`compare_winners`] on all of them and stores each outcome in the pair's
//! metadata ([`PairComparison`]); [`summarize`] gives the same counts as [`winner_vs_model`].

use serde::{Deserialize, Serialize};

use super::agents::{AgentError, Decoding, Generator, Judge, expect_len};
use super::builders::judge_all_in_seeded_order;
use super::triple::PreferenceTriple;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WinnerVsModel {
    /// Comparisons made (judge rejections excluded).
    pub compared: usize,
    pub winner_better: usize,
    pub model_better: usize,
    pub ties: usize,
    /// Judge replies that broke the format (or whose request failed for good).
    pub rejected: usize,
    /// `winner_better / compared` (0 when nothing was compared).
    pub fraction: f64,
    /// `model_better / compared`.
    pub model_fraction: f64,
    /// `apo_zero` when `winner_better > model_better`, else `apo_down`.
    pub suggested: String,
}

/// How one winner fared against the target's own greedy answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PairComparison {
    WinnerBetter,
    ModelBetter,
    /// Identical texts, or equal scores where the judge has scores.
    Tie,
    /// The judge's reply broke the format or its request failed for good: no comparison.
    Unjudged,
}

/// The anchor the counts call for: `apo_zero` when winners beat the model more often than not.
pub fn suggested_variant(winner_better: usize, model_better: usize) -> &'static str {
    if winner_better > model_better { "apo_zero" } else { "apo_down" }
}

/// Compares the winners of (up to `limit`) triples with the target's greedy answers.
pub fn winner_vs_model(
    triples: &[PreferenceTriple],
    target: &mut dyn Generator,
    judge: &mut dyn Judge,
    seed: u64,
    limit: Option<usize>,
) -> Result<WinnerVsModel, AgentError> {
    Ok(summarize(&compare_winners(triples, target, judge, seed, limit)?))
}

/// Each of the first `limit` (default: all) triples' comparison, in order.
pub fn compare_winners(
    triples: &[PreferenceTriple],
    target: &mut dyn Generator,
    judge: &mut dyn Judge,
    seed: u64,
    limit: Option<usize>,
) -> Result<Vec<PairComparison>, AgentError> {
    let triples = &triples[..limit.unwrap_or(triples.len()).min(triples.len())];
    let prompts: Vec<String> = triples.iter().map(|t| t.prompt.clone()).collect();
    let greedy = target.generate(&prompts, Decoding::Greedy)?;
    expect_len(target.name(), greedy.len(), prompts.len())?;
    // Identical texts are ties without a judge call; the rest go to the judge in one batch.
    let mut out = vec![PairComparison::Tie; triples.len()];
    let mut asked = Vec::new();
    let mut asked_index = Vec::new();
    for (i, (t, own)) in triples.iter().zip(&greedy).enumerate() {
        if t.chosen.trim() != own.trim() {
            asked.push((t.prompt.as_str(), t.chosen.as_str(), own.as_str()));
            asked_index.push(i);
        }
    }
    for (i, verdict) in asked_index.into_iter().zip(judge_all_in_seeded_order(judge, &asked, seed)) {
        out[i] = match verdict {
            Ok((_, verdict)) if verdict.scores.is_some_and(|(sw, sm)| sw == sm) => PairComparison::Tie,
            Ok((true, _)) => PairComparison::WinnerBetter,
            Ok((false, _)) => PairComparison::ModelBetter,
            // Format rejections and requests that failed for good: not a comparison.
            Err(AgentError::Rejected(_)) => PairComparison::Unjudged,
            Err(e) => return Err(e),
        };
    }
    Ok(out)
}

/// The counts, fractions and suggested anchor of a set of comparisons.
pub fn summarize(comparisons: &[PairComparison]) -> WinnerVsModel {
    let count = |c: PairComparison| comparisons.iter().filter(|x| **x == c).count();
    let (winner_better, model_better) = (count(PairComparison::WinnerBetter), count(PairComparison::ModelBetter));
    let (ties, rejected) = (count(PairComparison::Tie), count(PairComparison::Unjudged));
    let compared = winner_better + model_better + ties;
    let frac = |k: usize| if compared == 0 { 0.0 } else { k as f64 / compared as f64 };
    WinnerVsModel {
        compared,
        winner_better,
        model_better,
        ties,
        rejected,
        fraction: frac(winner_better),
        model_fraction: frac(model_better),
        suggested: suggested_variant(winner_better, model_better).to_string(),
    }
}
