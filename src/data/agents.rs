//! The three roles a dataset builder talks to, as traits, so that the same builder code serves
//! the embedded world's oracle (`crate::world::oracle`), a local model and an LLM behind an API.
//!
//! - [`Generator`]: answers prompts (the target model, the stronger model, the off-policy pool).
//! - [`Reviser`]: minimally revises a losing output into a winning one (CLAIR, SPEC.md eq. 1).
//! - [`Judge`]: says which of two outputs is better (SPEC.md eqs. 2, 3).
//!
//! A reply that breaks the expected format is a *rejection* ([`AgentError::Rejected`]): the
//! builder drops that item and counts it under the `format` filter. A request that failed for
//! good (an API that kept answering 500) is a rejection too, [`RejectReason::RequestFailed`],
//! counted apart from the filters. Anything else ([`AgentError::Failed`]) stops the build.
//!
//! Each role has a batch form (`generate_each`, `revise_batch`, `judge_batch`) that the builders
//! call: an API agent overrides it to keep many requests in flight; the defaults loop over the
//! single-item forms, so the oracle's outputs and their order do not change.

use serde::{Deserialize, Serialize};

/// How a generator decodes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decoding {
    /// Deterministic: the model's most likely answer.
    Greedy,
    /// Sampling at `temperature`; the same `seed` and prompt give the same sample.
    Sample { temperature: f32, seed: u64 },
}

/// Why an agent's reply was unusable for this item (counted, not fatal).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RejectReason {
    /// The reply lacks the markers the protocol asks for (e.g. no corrected-solution marker,
    /// neither or both of `[1]`, `[2]`).
    #[error("reply breaks the format: {0}")]
    Format(String),
    /// The agent cannot handle this prompt (e.g. the oracle does not know the task).
    #[error("prompt not handled: {0}")]
    Unsupported(String),
    /// The request for this item failed for good (after retries): `reason` is its category
    /// (`http 500`, `timeout`, ...), `detail` the last error.
    #[error("request failed ({reason}): {detail}")]
    RequestFailed { reason: String, detail: String },
}

/// Errors from an agent.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The item is dropped and counted; the build goes on.
    #[error(transparent)]
    Rejected(#[from] RejectReason),
    /// The build stops (model failure, unreachable API, wrong batch size, ...).
    #[error("{agent} failed: {message}")]
    Failed { agent: String, message: String },
}

/// A conversation to answer: an optional system message and one user message. The reviser and
/// judge prompts are sent this way, as the authors' code sends them (SPEC.md section 1): the
/// instruction as the system message, the filled template as the user message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatPrompt {
    pub system: Option<String>,
    pub user: String,
}

impl ChatPrompt {
    /// One user message, no system message.
    pub fn user(text: impl Into<String>) -> Self {
        ChatPrompt { system: None, user: text.into() }
    }

    /// The conversation as one text, for a generator without roles: the system message and
    /// the user message separated by a blank line.
    pub fn flattened(&self) -> String {
        match &self.system {
            Some(system) => format!("{system}\n\n{}", self.user),
            None => self.user.clone(),
        }
    }
}

/// A model (or stand-in) that answers prompts. Batched so that a local model can pad and run
/// many prompts at once.
pub trait Generator {
    /// A stable name recorded in the dataset's metadata (e.g. `"world-target"`).
    fn name(&self) -> &str;
    /// One response per prompt, in order.
    fn generate(&mut self, prompts: &[String], decoding: Decoding) -> Result<Vec<String>, AgentError>;
    /// One result per prompt, where a single prompt may fail without stopping the others (an
    /// API request that failed for good). Default: [`Generator::generate`], all `Ok`.
    fn generate_each(
        &mut self,
        prompts: &[String],
        decoding: Decoding,
    ) -> Result<Vec<Result<String, RejectReason>>, AgentError> {
        Ok(self.generate(prompts, decoding)?.into_iter().map(Ok).collect())
    }
    /// [`Generator::generate_each`] for conversations with a system message (the prompted
    /// reviser and judge). Default, for generators without roles (the world's rule policies, a
    /// replay, stored completions): each conversation [flattened](ChatPrompt::flattened). An
    /// API sends the two messages; a local model renders them through its chat template.
    fn chat_each(
        &mut self,
        prompts: &[ChatPrompt],
        decoding: Decoding,
    ) -> Result<Vec<Result<String, RejectReason>>, AgentError> {
        let flat: Vec<String> = prompts.iter().map(ChatPrompt::flattened).collect();
        self.generate_each(&flat, decoding)
    }
}

/// A boxed generator is a generator (so the prompted reviser and judge can wrap any kind).
impl Generator for Box<dyn Generator + '_> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn generate(&mut self, prompts: &[String], decoding: Decoding) -> Result<Vec<String>, AgentError> {
        (**self).generate(prompts, decoding)
    }
    fn generate_each(
        &mut self,
        prompts: &[String],
        decoding: Decoding,
    ) -> Result<Vec<Result<String, RejectReason>>, AgentError> {
        (**self).generate_each(prompts, decoding)
    }
    fn chat_each(
        &mut self,
        prompts: &[ChatPrompt],
        decoding: Decoding,
    ) -> Result<Vec<Result<String, RejectReason>>, AgentError> {
        (**self).chat_each(prompts, decoding)
    }
}

/// A revision of a losing output: the corrected text and the reviser's reasoning.
#[derive(Debug, Clone, PartialEq)]
pub struct Revision {
    pub text: String,
    pub reasoning: String,
}

/// A stronger model that minimally revises `losing` into a better answer to `prompt`.
pub trait Reviser {
    fn name(&self) -> &str;
    fn revise(&mut self, prompt: &str, losing: &str) -> Result<Revision, AgentError>;
    /// One result per `(prompt, losing)` item, in order. Default: [`Reviser::revise`] on each.
    fn revise_batch(&mut self, items: &[(&str, &str)]) -> Vec<Result<Revision, AgentError>> {
        items.iter().map(|(p, l)| self.revise(p, l)).collect()
    }
}

/// Which of the two outputs shown to a judge won.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Choice {
    First,
    Second,
}

/// A judge's decision about two outputs in the order they were shown.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub winner: Choice,
    /// The judge's reasoning (an LLM's text, the oracle's scores in words).
    pub reason: String,
    /// Scores of (first, second) where the judge has them (the oracle does, an LLM does not).
    pub scores: Option<(f64, f64)>,
}

/// Compares two outputs for the same prompt. The builders present the pair in a seeded random
/// order (SPEC.md section 1); the judge sees only `first` and `second`.
pub trait Judge {
    fn name(&self) -> &str;
    fn judge(&mut self, prompt: &str, first: &str, second: &str) -> Result<Verdict, AgentError>;
    /// One verdict per `(prompt, first, second)` item, in order. Default: [`Judge::judge`] on each.
    fn judge_batch(&mut self, items: &[(&str, &str, &str)]) -> Vec<Result<Verdict, AgentError>> {
        items.iter().map(|(p, a, b)| self.judge(p, a, b)).collect()
    }
}

/// Checks that a generator returned one response per prompt.
pub fn expect_len(agent: &str, got: usize, want: usize) -> Result<(), AgentError> {
    if got == want {
        Ok(())
    } else {
        Err(AgentError::Failed {
            agent: agent.to_string(),
            message: format!("returned {got} responses for {want} prompts"),
        })
    }
}
