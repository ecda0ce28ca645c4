//! A burn model as a [`Generator`]: batched KV-cache generation through its tokenizer and
//! chat format.

use crate::data::agents::{AgentError, ChatPrompt, Decoding, Generator, RejectReason};
use crate::model::generate::{GenerateOptions, generate_chat_text};
use crate::model::llama::Llama;
use crate::model::tokenizer::{ChatFormat, Encoder, TextTokenizer};

/// Prompts per generation batch, for every local-model generator (sampling, evaluation).
pub const GENERATION_BATCH: usize = 64;

pub struct ModelGenerator<'a> {
    pub name: String,
    pub model: &'a Llama,
    pub tokenizer: &'a dyn TextTokenizer,
    pub format: &'a dyn ChatFormat,
    pub max_new_tokens: usize,
    pub top_p: f32,
    /// Prompts per forward pass.
    pub batch_size: usize,
}

impl Generator for ModelGenerator<'_> {
    fn name(&self) -> &str {
        &self.name
    }

    fn generate(&mut self, prompts: &[String], decoding: Decoding) -> Result<Vec<String>, AgentError> {
        let prompts: Vec<ChatPrompt> = prompts.iter().map(|p| ChatPrompt::user(p.as_str())).collect();
        self.generate_chats(&prompts, decoding)
    }

    fn chat_each(
        &mut self,
        prompts: &[ChatPrompt],
        decoding: Decoding,
    ) -> Result<Vec<Result<String, RejectReason>>, AgentError> {
        Ok(self.generate_chats(prompts, decoding)?.into_iter().map(Ok).collect())
    }
}

impl ModelGenerator<'_> {
    /// One reply per conversation, each rendered through the model's chat format (a system
    /// message where the conversation has one).
    fn generate_chats(&self, prompts: &[ChatPrompt], decoding: Decoding) -> Result<Vec<String>, AgentError> {
        let encoder = Encoder::new(self.tokenizer, self.format);
        let (temperature, seed) = match decoding {
            Decoding::Greedy => (0.0, 0),
            Decoding::Sample { temperature, seed } => (temperature, seed),
        };
        let mut out = Vec::with_capacity(prompts.len());
        for (chunk_index, chunk) in prompts.chunks(self.batch_size.max(1)).enumerate() {
            let opts = GenerateOptions {
                max_new_tokens: self.max_new_tokens,
                temperature,
                top_p: self.top_p,
                // A different stream per chunk; the same prompts and seed give the same text.
                seed: seed.wrapping_add(chunk_index as u64 * 0x9E37_79B9),
                stop_ids: Vec::new(),
                use_cache: true,
            };
            let refs: Vec<(Option<&str>, &str)> =
                chunk.iter().map(|p| (p.system.as_deref(), p.user.as_str())).collect();
            let generated = generate_chat_text(self.model, &encoder, &refs, &opts)
                .map_err(|e| AgentError::Failed { agent: self.name.clone(), message: e.to_string() })?;
            out.extend(generated.into_iter().map(|(text, _)| text.trim().to_string()));
        }
        Ok(out)
    }
}

/// A [`ModelGenerator`] that owns its model: a local model loaded for one task to play the
/// reviser, the judge or the stronger model (through [`super::prompted`] for the first two).
pub struct OwnedModelGenerator {
    pub name: String,
    pub model: Llama,
    pub tokenizer: Box<dyn TextTokenizer>,
    pub format: Box<dyn ChatFormat>,
    pub max_new_tokens: usize,
    pub top_p: f32,
    pub batch_size: usize,
}

impl Generator for OwnedModelGenerator {
    fn name(&self) -> &str {
        &self.name
    }

    fn generate(&mut self, prompts: &[String], decoding: Decoding) -> Result<Vec<String>, AgentError> {
        self.borrowed().generate(prompts, decoding)
    }

    fn chat_each(
        &mut self,
        prompts: &[ChatPrompt],
        decoding: Decoding,
    ) -> Result<Vec<Result<String, RejectReason>>, AgentError> {
        self.borrowed().chat_each(prompts, decoding)
    }
}

impl OwnedModelGenerator {
    fn borrowed(&self) -> ModelGenerator<'_> {
        ModelGenerator {
            name: self.name.clone(),
            model: &self.model,
            tokenizer: self.tokenizer.as_ref(),
            format: self.format.as_ref(),
            max_new_tokens: self.max_new_tokens,
            top_p: self.top_p,
            batch_size: self.batch_size,
        }
    }
}
