//! The embedded world's benchmark as an evaluator: greedy answers to held-out prompts of every
//! task family, scored by exact match (`crate::world::benchmark`), as a [`ScoreRecord`] whose
//! categories are the families in their fixed order.

use crate::agents::model::{GENERATION_BATCH, ModelGenerator};
use crate::data::agents::AgentError;
use crate::model::llama::Llama;
use crate::model::tokenizer::{ChatFormat, TextTokenizer};
use crate::world::benchmark::{BenchScore, Benchmark};
use crate::world::families::Family;

use super::record::{CategoryScore, ScoreRecord};

/// Scores `model` on about `count` benchmark prompts drawn with `seed` (an equal share per
/// family), generating at most `max_new_tokens` per answer.
pub fn evaluate(
    model: &Llama,
    tokenizer: &dyn TextTokenizer,
    format: &dyn ChatFormat,
    count: usize,
    max_new_tokens: usize,
    seed: u64,
    progress: &dyn Fn(String),
) -> Result<ScoreRecord, AgentError> {
    let bench = Benchmark::new(seed, count.div_ceil(Family::ALL.len()));
    progress(format!("answering {} benchmark prompts", bench.tasks.len()));
    let mut generator = ModelGenerator {
        name: "checkpoint".into(),
        model,
        tokenizer,
        format,
        max_new_tokens,
        top_p: 1.0,
        batch_size: GENERATION_BATCH,
    };
    Ok(record(&bench.evaluate(&mut generator)?))
}

/// The world's own score as the general record.
pub fn record(s: &BenchScore) -> ScoreRecord {
    ScoreRecord {
        benchmark: "world".into(),
        n: Some(s.n),
        score: s.overall,
        categories: s
            .per_family
            .iter()
            .map(|f| CategoryScore { name: f.family.as_str().to_string(), n: Some(f.n), score: f.accuracy })
            .collect(),
        length: Some(s.mean_length),
        metrics: Default::default(),
    }
}
