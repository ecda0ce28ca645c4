//! Samples drawn once (the `sample` task) and replayed to every builder, so CLAIR, the on-policy
//! judge and stronger-preferred all see the very same outputs of the target model, and the
//! model runs once for all of them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::data::agents::{AgentError, Decoding, Generator};

/// Responses per decoding, each in the order of `prompts`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SampleSet {
    pub model: String,
    pub prompts: Vec<String>,
    /// Key: [`decoding_key`].
    pub responses: BTreeMap<String, Vec<String>>,
}

/// A stable text key for a decoding.
pub fn decoding_key(d: Decoding) -> String {
    match d {
        Decoding::Greedy => "greedy".into(),
        Decoding::Sample { temperature, seed } => format!("t{temperature}-s{seed}"),
    }
}

impl SampleSet {
    /// Draws every decoding in `decodings` from `generator` for all prompts.
    pub fn draw(
        generator: &mut dyn Generator,
        prompts: Vec<String>,
        decodings: &[Decoding],
    ) -> Result<Self, AgentError> {
        let mut responses = BTreeMap::new();
        for d in decodings {
            responses.insert(decoding_key(*d), generator.generate(&prompts, *d)?);
        }
        Ok(SampleSet { model: generator.name().to_string(), prompts, responses })
    }
}

/// Answers from a [`SampleSet`]; asking for a prompt or decoding it lacks is an error, never a
/// silent fresh sample.
pub struct Replay<'a> {
    set: &'a SampleSet,
    index: BTreeMap<&'a str, usize>,
}

impl<'a> Replay<'a> {
    pub fn new(set: &'a SampleSet) -> Self {
        let index = set.prompts.iter().enumerate().map(|(i, p)| (p.as_str(), i)).collect();
        Replay { set, index }
    }
}

impl Generator for Replay<'_> {
    fn name(&self) -> &str {
        &self.set.model
    }

    fn generate(&mut self, prompts: &[String], decoding: Decoding) -> Result<Vec<String>, AgentError> {
        let key = decoding_key(decoding);
        let fail = |message: String| AgentError::Failed { agent: self.set.model.clone(), message };
        let responses =
            self.set.responses.get(&key).ok_or_else(|| fail(format!("no samples drawn with decoding `{key}`")))?;
        prompts
            .iter()
            .map(|p| {
                let i = self.index.get(p.as_str()).ok_or_else(|| fail(format!("no sample for prompt {p:?}")))?;
                Ok(responses[*i].clone())
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::policies::RulePolicy;

    #[test]
    fn replay_returns_the_drawn_samples_and_refuses_others() {
        let prompts = vec!["What is 2 plus 3?".to_string(), "Reverse the word cat.".to_string()];
        let decodings = [Decoding::Greedy, Decoding::Sample { temperature: 0.7, seed: 9 }];
        let mut policy = RulePolicy::target_standin();
        let set = SampleSet::draw(&mut policy, prompts.clone(), &decodings).expect("draw");
        let mut replay = Replay::new(&set);
        let again = replay.generate(&prompts[1..], decodings[1]).expect("replay");
        assert_eq!(again[0], set.responses[&decoding_key(decodings[1])][1]);
        assert!(replay.generate(&prompts, Decoding::Sample { temperature: 0.7, seed: 10 }).is_err());
        assert!(replay.generate(&["unknown".to_string()], Decoding::Greedy).is_err());
    }
}
