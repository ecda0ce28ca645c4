//! Training prompts and the tiny target model's training corpus.
//!
//! The target model learns from `(prompt, response)` pairs in its own style ([`Style::Target`])
//! where the response is *wrong* at family-specific rates ([`TARGET_ERROR_RATES`]) with
//! realistic mistakes ([`wrong_answer`]: off-by-one or carried digits, a neighbouring fact, the
//! flipped yes/no, another option, two swapped letters), so the trained model is imperfect and
//! unevenly so across families. Training prompts never collide with benchmark prompts
//! ([`super::benchmark::is_benchmark_prompt`]).

use rand::Rng;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;

use super::benchmark::is_benchmark_prompt;
use super::families::{Detail, Family, Op, Task, facts};
use super::styles::{Style, render};
use crate::data::seed;

/// Per-family error rates of the target's training corpus (order of [`Family::ALL`]). They are
/// moderate because the tiny model's own limits (a few hundred updates) add errors of their
/// own; the rates still differ by family so the base model is unevenly imperfect.
pub const TARGET_ERROR_RATES: [f64; 7] = [0.30, 0.20, 0.20, 0.25, 0.35, 0.30, 0.30];
/// The error rates of the rule-based stand-in for the *trained* target model, where the model
/// is not wired in (tests, dataset builders without a model): right about half the time and
/// unevenly by family, like the trained tiny model, whose errors come from the corpus's rates
/// above plus its own limits.
pub const STANDIN_ERROR_RATES: [f64; 7] = [0.55, 0.30, 0.25, 0.35, 0.70, 0.60, 0.50];
/// The weaker, earlier checkpoint's stand-in error rates (off-policy pool).
pub const WEAK_ERROR_RATES: [f64; 7] = [0.80, 0.70, 0.45, 0.65, 0.90, 0.85, 0.75];
/// The noisy rule-based generator's error rates.
pub const NOISY_ERROR_RATES: [f64; 7] = [0.85, 0.85, 0.80, 0.85, 0.85, 0.85, 0.85];

/// The rate for `family` from a per-family table.
pub fn rate(table: &[f64; 7], family: Family) -> f64 {
    table[Family::ALL.iter().position(|f| *f == family).unwrap_or(0)]
}

/// One training example of the target model.
#[derive(Debug, Clone, PartialEq)]
pub struct CorpusExample {
    pub family: Family,
    pub prompt: String,
    pub response: String,
    /// Whether `response` states the right answer.
    pub correct: bool,
}

/// `n` tasks drawn from the training side of the world (families uniformly at random,
/// benchmark prompts skipped). `tag` separates independent draws (corpus, preference prompts).
pub fn training_tasks(seed: u64, tag: &str, n: usize) -> Vec<Task> {
    let mut rng = seed::rng(seed, tag);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let family = *Family::ALL.choose(&mut rng).unwrap_or(&Family::Arithmetic);
        let task = Task::generate(family, &mut rng);
        if !is_benchmark_prompt(&task.prompt) {
            out.push(task);
        }
    }
    out
}

/// The prompts all four builders share: `n` training-side prompts for `seed`.
pub fn preference_prompts(seed: u64, n: usize) -> Vec<String> {
    training_tasks(seed, "world/preference-prompts", n).into_iter().map(|t| t.prompt).collect()
}

/// The target model's training corpus: `n` examples, wrong at [`TARGET_ERROR_RATES`].
pub fn training_corpus(seed: u64, n: usize) -> Vec<CorpusExample> {
    let mut rng = seed::rng(seed, "world/corpus/answers");
    training_tasks(seed, "world/corpus/prompts", n)
        .into_iter()
        .map(|task| {
            let wrong = rng.random_bool(rate(&TARGET_ERROR_RATES, task.family));
            let answer = if wrong { wrong_answer(&task, &mut rng) } else { task.answer.clone() };
            let response = render(Style::Target, &task, &answer, Some(&mut rng));
            CorpusExample { family: task.family, prompt: task.prompt, response, correct: !wrong }
        })
        .collect()
}

/// A plausible wrong answer to `task` (never the right one), in canonical form.
pub fn wrong_answer(task: &Task, rng: &mut ChaCha8Rng) -> String {
    for _ in 0..16 {
        let w = mistake(task, rng);
        if w != task.answer && !w.is_empty() {
            return w;
        }
    }
    // Every family has a mistake that always differs; this is a last resort.
    format!("{}x", task.answer)
}

fn mistake(task: &Task, rng: &mut ChaCha8Rng) -> String {
    match &task.detail {
        Detail::Arithmetic { a, op, b } => {
            let right = op.apply(*a, *b);
            match rng.random_range(0..4) {
                0 => (right + if rng.random_bool(0.5) { 1 } else { -1 }).to_string(),
                1 => (right + if rng.random_bool(0.5) { 10 } else { -10 }).to_string(),
                2 => {
                    // Confuses the operation.
                    let other = match op {
                        Op::Plus => Op::Times,
                        Op::Minus => Op::Plus,
                        Op::Times => Op::Plus,
                    };
                    other.apply(*a, *b).to_string()
                }
                _ => right.to_string().chars().rev().collect(),
            }
        }
        Detail::Fact { relation, .. } => {
            let values: Vec<&str> = facts().values(*relation).collect();
            values.choose(rng).unwrap_or(&"Nowhere").to_string()
        }
        Detail::Compare { .. } => if task.answer == "yes" { "no" } else { "yes" }.to_string(),
        Detail::Choice { .. } => ["A", "B", "C", "D"].choose(rng).unwrap_or(&"A").to_string(),
        Detail::Reverse { word } => {
            let mut cs: Vec<char> = task.answer.chars().collect();
            match rng.random_range(0..3) {
                0 if cs.len() > 1 => {
                    let i = rng.random_range(0..cs.len() - 1);
                    cs.swap(i, i + 1);
                    cs.into_iter().collect()
                }
                1 => word.clone(),
                _ => {
                    cs.remove(rng.random_range(0..cs.len().max(1)).min(cs.len().saturating_sub(1)));
                    cs.into_iter().collect()
                }
            }
        }
        Detail::Sort { letters } => {
            let mut ls: Vec<&str> = task.answer.split(' ').collect();
            if rng.random_bool(0.5) && ls.len() > 1 {
                let i = rng.random_range(0..ls.len() - 1);
                ls.swap(i, i + 1);
                ls.join(" ")
            } else {
                letters.iter().map(char::to_string).collect::<Vec<_>>().join(" ")
            }
        }
        Detail::Count { .. } => {
            let n: i64 = task.answer.parse().unwrap_or(0);
            let d = if rng.random_bool(0.5) { 1 } else { -1 };
            (n + d).max(0).to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corpus_is_seeded_wrong_at_family_rates_and_off_the_benchmark() {
        let a = training_corpus(5, 2800);
        assert_eq!(a, training_corpus(5, 2800));
        assert_ne!(a, training_corpus(6, 2800));
        assert!(a.iter().all(|e| !is_benchmark_prompt(&e.prompt)));
        for (i, f) in Family::ALL.iter().enumerate() {
            let fam: Vec<_> = a.iter().filter(|e| e.family == *f).collect();
            let wrong = fam.iter().filter(|e| !e.correct).count() as f64 / fam.len() as f64;
            assert!((wrong - TARGET_ERROR_RATES[i]).abs() < 0.08, "{f:?}: {wrong}");
            // The scorer agrees with the label.
            for e in &fam {
                let t = Task::parse(&e.prompt).unwrap();
                assert_eq!(t.exact(&e.response), e.correct, "{e:?}");
            }
        }
        assert!(a.iter().all(|e| e.response.chars().count() < 100 && e.prompt.chars().count() < 80));
    }
}
