//! An LLM behind an OpenAI-compatible API as a [`Generator`]: one chat request per prompt, the
//! prompt as the user message (after a system message where the prompt has one, as the reviser
//! and judge prompts do), many in flight at once ([`ChatService`]). It answers prompts
//! for the target model (a vLLM server sampling the target), the stronger model, and, wrapped
//! by [`super::prompted`], the reviser and the judge.

use std::sync::Arc;

use crate::api::{ChatRequest, ChatService, Message};
use crate::data::agents::{AgentError, ChatPrompt, Decoding, Generator, RejectReason};

pub struct ApiGenerator {
    /// Recorded in the triples' metadata: the served model's name.
    pub name: String,
    /// Names the role in progress lines (`reviser`, `judge`, `target`, ...).
    pub label: String,
    pub service: Arc<ChatService>,
    pub max_tokens: usize,
    /// The temperature of [`Decoding::Greedy`]: the agent's own configured temperature for a
    /// reviser, judge or stronger model (the paper ran GPT-4-turbo at 0.7), 0 for the target,
    /// whose greedy answer is its most likely one. A sampled decoding brings its own
    /// temperature and seed.
    pub greedy_temperature: f64,
    /// Nucleus sampling for sampled decodings (the target's `[agents.sampling] top_p`).
    pub top_p: Option<f64>,
}

impl ApiGenerator {
    fn requests(&self, prompts: &[ChatPrompt], decoding: Decoding) -> Vec<ChatRequest> {
        let (temperature, seed, top_p) = match decoding {
            Decoding::Greedy => (self.greedy_temperature, None, None),
            Decoding::Sample { temperature, seed } => (f64::from(temperature), Some(seed), self.top_p),
        };
        let max_tokens = self.max_tokens;
        prompts
            .iter()
            .map(|p| {
                let system = p.system.as_deref().map(Message::system);
                let messages = system.into_iter().chain([Message::user(p.user.as_str())]).collect();
                ChatRequest { messages, temperature, max_tokens, seed, top_p }
            })
            .collect()
    }
}

impl Generator for ApiGenerator {
    fn name(&self) -> &str {
        &self.name
    }

    /// All or nothing: any request that failed for good fails the call, naming how many and
    /// why. The replies that did arrive are cached, so a rerun sends only the failed ones.
    fn generate(&mut self, prompts: &[String], decoding: Decoding) -> Result<Vec<String>, AgentError> {
        let each = self.generate_each(prompts, decoding)?;
        let failed: Vec<&RejectReason> = each.iter().filter_map(|r| r.as_ref().err()).collect();
        if let Some(first) = failed.first() {
            return Err(AgentError::Failed {
                agent: format!("{} ({})", self.label, self.name),
                message: format!("{} of {} requests failed for good; the first: {first}", failed.len(), prompts.len()),
            });
        }
        Ok(each.into_iter().flatten().collect())
    }

    fn generate_each(
        &mut self,
        prompts: &[String],
        decoding: Decoding,
    ) -> Result<Vec<Result<String, RejectReason>>, AgentError> {
        let prompts: Vec<ChatPrompt> = prompts.iter().map(|p| ChatPrompt::user(p.as_str())).collect();
        self.chat_each(&prompts, decoding)
    }

    fn chat_each(
        &mut self,
        prompts: &[ChatPrompt],
        decoding: Decoding,
    ) -> Result<Vec<Result<String, RejectReason>>, AgentError> {
        let replies = self.service.complete_all(&self.label, &self.requests(prompts, decoding));
        Ok(replies
            .into_iter()
            .map(|r| match r {
                Ok(reply) => Ok(reply.content.trim().to_string()),
                Err(f) => Err(RejectReason::RequestFailed { reason: f.reason, detail: f.detail }),
            })
            .collect())
    }
}
