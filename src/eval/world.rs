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
    Ok(ScoreRecord::from(&bench.evaluate(&mut generator)?))
}

/// The world's own score as the general record.
impl From<&BenchScore> for ScoreRecord {
    fn from(s: &BenchScore) -> Self {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::benchmark::Benchmark;

    #[test]
    fn a_bench_score_keeps_families_in_order_and_the_length() {
        let b = Benchmark::new(3, 2);
        let responses: Vec<String> = b.tasks.iter().map(|t| format!("The answer is {}.", t.answer)).collect();
        let s = b.score(&responses);
        let r = ScoreRecord::from(&s);
        assert_eq!((r.benchmark.as_str(), r.n, r.score, r.length), ("world", Some(s.n), 100.0, Some(s.mean_length)));
        let names: Vec<&str> = r.categories.iter().map(|c| c.name.as_str()).collect();
        let want: Vec<&str> = s.per_family.iter().map(|f| f.family.as_str()).collect();
        assert_eq!(names, want);
    }
}
