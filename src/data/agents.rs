//! The three roles a dataset builder talks to, as traits, so that the same builder code serves
//! the embedded world's oracle (`crate::world::oracle`), a local model and an LLM behind an API.
//!
//! - [`Generator`]: answers prompts (the target model, the stronger model, the off-policy pool).
//! - [`Reviser`]: minimally revises a losing output into a winning one (CLAIR, SPEC.md eq. 1).
//! - [`Judge`]: says which of two outputs is better (SPEC.md eqs. 2, 3).
//!
//! A reply that breaks the expected format is a *rejection* ([`AgentError::Rejected`]): the
//! builder drops that item and counts it under the `format` filter. Anything else
//! ([`AgentError::Failed`]) stops the build.

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

/// A model (or stand-in) that answers prompts. Batched so that a local model can pad and run
/// many prompts at once.
pub trait Generator {
    /// A stable name recorded in the dataset's metadata (e.g. `"world-target"`).
    fn name(&self) -> &str;
    /// One response per prompt, in order.
    fn generate(&mut self, prompts: &[String], decoding: Decoding)
    -> Result<Vec<String>, AgentError>;
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
