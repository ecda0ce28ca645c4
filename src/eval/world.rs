//! The embedded world's benchmark as a [`ScoreRecord`]: exact-match accuracy overall and per
//! family (in family order), with the mean response length.

use super::record::{CategoryScore, ScoreRecord};
use crate::world::benchmark::BenchScore;

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
