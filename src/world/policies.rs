//! World-side generators: the stronger model and rule-based stand-ins for models.
//!
//! - [`StrongerModel`]: knows every answer, answers in its own [`Style::Stronger`]
//!   (the `stronger_preferred` winners).
//! - [`RulePolicy`]: answers in a given style, wrong at given per-family rates with the
//!   corpus's realistic mistakes. Three presets:
//!   [`RulePolicy::target_standin`] (the target's style, wrong about as often as the trained
//!   tiny model: used where the model is not wired in), [`RulePolicy::weak_checkpoint`]
//!   (target style, much less accurate: an earlier checkpoint) and [`RulePolicy::noisy_rules`]
//!   (terse style, often wrong, sometimes without an answer marker): the off-policy pool.
//!
//! Greedy decoding is a fixed function of the prompt (and the policy's name); sampling draws
//! from `(seed, prompt)`. Temperature is not modelled: a sample is as accurate as a greedy
//! answer, but picks among the style's variants. Prompts from outside the world get a fixed
//! "I do not know." in every policy.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::corpus::{NOISY_ERROR_RATES, STANDIN_ERROR_RATES, WEAK_ERROR_RATES, rate, wrong_answer};
use super::families::Task;
use super::styles::{Style, render};
use crate::data::agents::{AgentError, Decoding, Generator};
use crate::data::seed;

/// What every world policy says to a prompt it cannot parse.
pub const UNKNOWN: &str = "I do not know.";

/// The stronger model: always right, in its own style.
#[derive(Debug, Clone, Default)]
pub struct StrongerModel;

impl Generator for StrongerModel {
    fn name(&self) -> &str {
        "world-stronger"
    }
    fn generate(&mut self, prompts: &[String], _: Decoding) -> Result<Vec<String>, AgentError> {
        Ok(prompts
            .iter()
            .map(|p| match Task::parse(p) {
                Some(t) => render(Style::Stronger, &t, &t.answer, None),
                None => UNKNOWN.to_string(),
            })
            .collect())
    }
}

/// A rule-based stand-in for a model: a style and per-family error rates.
#[derive(Debug, Clone)]
pub struct RulePolicy {
    pub name: String,
    pub style: Style,
    pub error_rates: [f64; 7],
    /// Probability of leaving out the answer marker (the answer alone, unscorable).
    pub drop_marker: f64,
    /// Wrong answers are unrelated (another task's answer of the same family) rather than the
    /// target's near misses, which the judge's graded score gives partial credit.
    pub far_misses: bool,
}

impl RulePolicy {
    pub fn target_standin() -> Self {
        Self {
            name: "world-target-standin".into(),
            style: Style::Target,
            error_rates: STANDIN_ERROR_RATES,
            drop_marker: 0.0,
            far_misses: false,
        }
    }
    pub fn weak_checkpoint() -> Self {
        Self {
            name: "world-weak-checkpoint".into(),
            style: Style::Target,
            error_rates: WEAK_ERROR_RATES,
            drop_marker: 0.0,
            far_misses: false,
        }
    }
    pub fn noisy_rules() -> Self {
        Self {
            name: "world-noisy-rules".into(),
            style: Style::Terse,
            error_rates: NOISY_ERROR_RATES,
            drop_marker: 0.5,
            far_misses: true,
        }
    }

    /// This policy's answer to one prompt with the given random stream (`vary`: pick style
    /// variants, as a sampler does; a greedy decoder keeps the first).
    fn answer(&self, prompt: &str, rng: &mut ChaCha8Rng, vary: bool) -> String {
        let Some(task) = Task::parse(prompt) else { return UNKNOWN.to_string() };
        let answer = if rng.random_bool(rate(&self.error_rates, task.family)) {
            if self.far_misses { unrelated_answer(&task, rng) } else { wrong_answer(&task, rng) }
        } else {
            task.answer.clone()
        };
        if rng.random_bool(self.drop_marker) {
            return task.stated(&answer);
        }
        render(self.style, &task, &answer, if vary { Some(rng) } else { None })
    }
}

/// The answer of another task of `task`'s family (a few draws until it differs; the near-miss
/// `wrong_answer` if they all coincide, as a yes/no family may).
fn unrelated_answer(task: &Task, rng: &mut ChaCha8Rng) -> String {
    for _ in 0..4 {
        let other = Task::generate(task.family, rng).answer;
        if other != task.answer {
            return other;
        }
    }
    wrong_answer(task, rng)
}

impl Generator for RulePolicy {
    fn name(&self) -> &str {
        &self.name
    }
    fn generate(&mut self, prompts: &[String], decoding: Decoding) -> Result<Vec<String>, AgentError> {
        Ok(prompts
            .iter()
            .map(|p| match decoding {
                Decoding::Greedy => {
                    self.answer(p, &mut seed::rng_for(0, &format!("greedy/{}", self.name), &[p.as_str()]), false)
                }
                Decoding::Sample { seed, .. } => {
                    self.answer(p, &mut seed::rng_for(seed, &format!("sample/{}", self.name), &[p.as_str()]), true)
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::benchmark::Benchmark;

    #[test]
    fn stand_ins_have_the_intended_accuracy_order() {
        let b = Benchmark::new(1, 40);
        let acc = |g: &mut dyn Generator| b.evaluate(g).unwrap().overall;
        let stronger = acc(&mut StrongerModel);
        let target = acc(&mut RulePolicy::target_standin());
        let weak = acc(&mut RulePolicy::weak_checkpoint());
        let noisy = acc(&mut RulePolicy::noisy_rules());
        assert_eq!(stronger, 100.0);
        assert!((40.0..65.0).contains(&target), "{target}");
        assert!(weak < target && noisy < target, "{weak} {noisy} {target}");
    }

    #[test]
    fn greedy_is_fixed_and_samples_follow_the_seed() {
        let mut p = RulePolicy::target_standin();
        let prompts: Vec<String> = Benchmark::new(2, 5).prompts();
        let g1 = p.generate(&prompts, Decoding::Greedy).unwrap();
        assert_eq!(g1, p.generate(&prompts, Decoding::Greedy).unwrap());
        let s = |seed| Decoding::Sample { temperature: 1.0, seed };
        let s1 = p.generate(&prompts, s(1)).unwrap();
        assert_eq!(s1, p.generate(&prompts, s(1)).unwrap());
        assert_ne!(s1, p.generate(&prompts, s(2)).unwrap());
        assert_eq!(p.generate(&["hello".to_string()], s(1)).unwrap(), vec![UNKNOWN.to_string()]);
    }
}
