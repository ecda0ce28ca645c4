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
    let triples = &triples[..limit.unwrap_or(triples.len()).min(triples.len())];
    let prompts: Vec<String> = triples.iter().map(|t| t.prompt.clone()).collect();
    let greedy = target.generate(&prompts, Decoding::Greedy)?;
    expect_len(target.name(), greedy.len(), prompts.len())?;
    let mut r = WinnerVsModel {
        compared: 0,
        winner_better: 0,
        model_better: 0,
        ties: 0,
        rejected: 0,
        fraction: 0.0,
        model_fraction: 0.0,
        suggested: String::new(),
    };
    // Identical texts are ties without a judge call; the rest go to the judge in one batch.
    let mut asked = Vec::new();
    for (t, own) in triples.iter().zip(&greedy) {
        if t.chosen.trim() == own.trim() {
            r.compared += 1;
            r.ties += 1;
        } else {
            asked.push((t.prompt.as_str(), t.chosen.as_str(), own.as_str()));
        }
    }
    for verdict in judge_all_in_seeded_order(judge, &asked, seed) {
        match verdict {
            Ok((winner_won, verdict)) => {
                r.compared += 1;
                match verdict.scores {
                    Some((sw, sm)) if sw == sm => r.ties += 1,
                    _ if winner_won => r.winner_better += 1,
                    _ => r.model_better += 1,
                }
            }
            // Format rejections and requests that failed for good: not a comparison.
            Err(AgentError::Rejected(_)) => r.rejected += 1,
            Err(e) => return Err(e),
        }
    }
    let frac = |k: usize| if r.compared == 0 { 0.0 } else { k as f64 / r.compared as f64 };
    r.fraction = frac(r.winner_better);
    r.model_fraction = frac(r.model_better);
    r.suggested = suggested_variant(r.winner_better, r.model_better).to_string();
    Ok(r)
}
