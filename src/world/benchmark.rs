//! The held-out benchmark: a few hundred prompts fixed by seed, disjoint from every training
//! and preference prompt, scored by exact match overall and per family, with the mean response
//! length (the stand-in for MixEval-Hard in the grid's tables).
//!
//! Disjointness does not depend on seeds: a prompt belongs to the benchmark side when the
//! FNV-1a hash of its text is 0 mod 4 ([`is_benchmark_prompt`]); training draws skip those
//! prompts, the benchmark draws only them.

use serde::{Deserialize, Serialize};

use super::families::{Family, Task};
use crate::data::agents::{AgentError, Decoding, Generator, expect_len};
use crate::data::seed;

/// Default benchmark size per family (7 families: 280 prompts).
pub const DEFAULT_PER_FAMILY: usize = 40;

/// Whether a prompt belongs to the benchmark side of the world (a quarter of all prompts).
pub fn is_benchmark_prompt(prompt: &str) -> bool {
    seed::fnv1a(prompt.as_bytes()).is_multiple_of(4)
}

#[derive(Debug, Clone)]
pub struct Benchmark {
    pub seed: u64,
    /// Family-major order: all arithmetic tasks, then facts, ...
    pub tasks: Vec<Task>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FamilyScore {
    pub family: Family,
    pub n: usize,
    pub correct: usize,
    /// Percent.
    pub accuracy: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchScore {
    pub n: usize,
    /// Exact-match accuracy over all prompts, percent.
    pub overall: f64,
    pub per_family: Vec<FamilyScore>,
    /// Mean response length in characters.
    pub mean_length: f64,
}

impl Benchmark {
    /// Up to `per_family` distinct benchmark-side prompts per family, drawn with `seed`. A
    /// family with fewer distinct prompts than asked (facts has about 48) gives all it has.
    pub fn new(seed: u64, per_family: usize) -> Self {
        let mut tasks = Vec::new();
        for family in Family::ALL {
            let mut rng = seed::rng(seed, &format!("world/benchmark/{}", family.as_str()));
            let mut seen = std::collections::BTreeSet::new();
            let mut tries = 0;
            while seen.len() < per_family && tries < per_family * 500 {
                tries += 1;
                let t = Task::generate(family, &mut rng);
                if is_benchmark_prompt(&t.prompt) && seen.insert(t.prompt.clone()) {
                    tasks.push(t);
                }
            }
        }
        Self { seed, tasks }
    }

    pub fn prompts(&self) -> Vec<String> {
        self.tasks.iter().map(|t| t.prompt.clone()).collect()
    }

    /// Scores one response per task (in [`Benchmark::tasks`] order).
    pub fn score(&self, responses: &[String]) -> BenchScore {
        let mut per_family = Vec::new();
        for family in Family::ALL {
            let (mut n, mut correct) = (0, 0);
            for (t, r) in self.tasks.iter().zip(responses).filter(|(t, _)| t.family == family) {
                n += 1;
                correct += usize::from(t.exact(r));
            }
            if n > 0 {
                per_family.push(FamilyScore { family, n, correct, accuracy: pct(correct, n) });
            }
        }
        let n = self.tasks.len().min(responses.len());
        let correct = per_family.iter().map(|f| f.correct).sum();
        let chars: usize = responses[..n].iter().map(|r| r.chars().count()).sum();
        BenchScore {
            n,
            overall: pct(correct, n),
            per_family,
            mean_length: if n == 0 { 0.0 } else { chars as f64 / n as f64 },
        }
    }

    /// Greedy answers of `model` to every prompt, scored.
    pub fn evaluate(&self, model: &mut dyn Generator) -> Result<BenchScore, AgentError> {
        let prompts = self.prompts();
        let out = model.generate(&prompts, Decoding::Greedy)?;
        expect_len(model.name(), out.len(), prompts.len())?;
        Ok(self.score(&out))
    }
}

fn pct(k: usize, n: usize) -> f64 {
    if n == 0 { 0.0 } else { k as f64 / n as f64 * 100.0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::corpus::training_tasks;

    #[test]
    fn benchmark_is_seeded_sized_and_disjoint_from_training() {
        let b = Benchmark::new(1, DEFAULT_PER_FAMILY);
        assert!(b.tasks.len() >= 250 && b.tasks.len() <= 280, "{}", b.tasks.len());
        assert_eq!(b.prompts(), Benchmark::new(1, DEFAULT_PER_FAMILY).prompts());
        assert_ne!(b.prompts(), Benchmark::new(2, DEFAULT_PER_FAMILY).prompts());
        let train: std::collections::BTreeSet<String> =
            training_tasks(1, "x", 5000).into_iter().map(|t| t.prompt).collect();
        assert!(b.prompts().iter().all(|p| !train.contains(p)));
        for f in Family::ALL {
            assert!(b.tasks.iter().filter(|t| t.family == f).count() >= 30, "{f:?}");
        }
    }

    #[test]
    fn scores_exact_match_per_family_and_length() {
        let b = Benchmark::new(3, 4);
        let responses: Vec<String> = b
            .tasks
            .iter()
            .enumerate()
            .map(|(i, t)| if i % 2 == 0 { format!("The answer is {}.", t.answer) } else { "no idea".into() })
            .collect();
        let s = b.score(&responses);
        assert_eq!(s.n, 28);
        assert_eq!(s.overall, 50.0);
        assert!(s.per_family.iter().all(|f| f.n == 4 && f.correct == 2));
        let chars: usize = responses.iter().map(|r| r.chars().count()).sum();
        assert_eq!(s.mean_length, chars as f64 / 28.0);
    }
}
