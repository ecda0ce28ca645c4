//! What the rest of the crate needs from a tokenizer and from a chat format, independent of
//! where they come from (the tiny model's character tokenizer here; Hugging Face
//! `tokenizer.json`, GGUF BPE and Jinja chat templates in the loaders).
//!
//! Prompts and responses are tokenized separately and concatenated, as TRL does for
//! preference training: `prompt ids = [bos]? + encode(format.prompt_text(prompt))` and
//! `response ids = encode(format.response_text(response)) + format.end_of_turn_ids()`.

/// A text <-> token-id mapping.
pub trait TextTokenizer: Send + Sync {
    /// Token ids of `text`, without special tokens (no bos/eos added).
    fn encode(&self, text: &str) -> Vec<u32>;
    /// Text of `ids`; special tokens are dropped.
    fn decode(&self, ids: &[u32]) -> String;
    fn vocab_size(&self) -> usize;
    /// Ids that end a sequence (a model may have several, e.g. `<|eot_id|>` and `<|end_of_text|>`).
    fn eos_ids(&self) -> Vec<u32>;
    fn bos_id(&self) -> Option<u32>;
    /// The id used to fill padded positions (never scored).
    fn pad_id(&self) -> u32;
    /// Whether the tokenizer's own configuration starts a text with bos (tokenizer.json's
    /// post-processor, GGUF's `add_bos_token`), as lm-eval's tokenization does; `None` when
    /// the tokenizer has no such setting and the chat format decides.
    fn adds_bos(&self) -> Option<bool> {
        None
    }
}

/// How a user prompt becomes the model's input text, and what closes a response.
pub trait ChatFormat: Send + Sync {
    /// The input text for `prompt`: unchanged for a raw model, or the chat template applied
    /// to one user message with the generation prompt.
    fn prompt_text(&self, prompt: &str) -> String;

    /// The input text for a system message followed by the user message `prompt`. Default (a
    /// raw model has no roles): the two separated by a blank line, as one prompt.
    fn system_prompt_text(&self, system: &str, prompt: &str) -> String {
        self.prompt_text(&format!("{system}\n\n{prompt}"))
    }

    /// The text of `response` as it follows the prompt (a chat format may add its
    /// end-of-turn marker text here instead of in [`ChatFormat::end_of_turn_ids`]).
    fn response_text(&self, response: &str) -> String {
        response.to_owned()
    }

    /// Whether prompt ids start with the tokenizer's bos (chat templates usually write it
    /// into the text themselves).
    fn add_bos(&self) -> bool {
        false
    }

    /// Ids appended after every response's tokens; TRL appends eos.
    fn end_of_turn_ids(&self, tokenizer: &dyn TextTokenizer) -> Vec<u32> {
        tokenizer.eos_ids().into_iter().take(1).collect()
    }

    /// Ids that stop generation: every eos and the end-of-turn ids.
    fn stop_ids(&self, tokenizer: &dyn TextTokenizer) -> Vec<u32> {
        let mut ids = tokenizer.eos_ids();
        for id in self.end_of_turn_ids(tokenizer) {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        ids
    }
}

/// No template: the prompt is the input text, responses end with eos.
#[derive(Debug, Clone, Copy, Default)]
pub struct RawFormat {
    /// Start prompts with the tokenizer's bos.
    pub add_bos: bool,
}

impl ChatFormat for RawFormat {
    fn prompt_text(&self, prompt: &str) -> String {
        prompt.to_owned()
    }
    fn add_bos(&self) -> bool {
        self.add_bos
    }
}

/// A tokenizer together with a chat format: the one thing scoring and generation take.
#[derive(Clone, Copy)]
pub struct Encoder<'a> {
    pub tokenizer: &'a dyn TextTokenizer,
    pub format: &'a dyn ChatFormat,
}

impl<'a> Encoder<'a> {
    pub fn new(tokenizer: &'a dyn TextTokenizer, format: &'a dyn ChatFormat) -> Self {
        Self { tokenizer, format }
    }

    /// `[bos]? + encode(prompt_text(prompt))`.
    pub fn prompt(&self, prompt: &str) -> Vec<u32> {
        let mut ids = Vec::new();
        if self.format.add_bos() {
            ids.extend(self.tokenizer.bos_id());
        }
        ids.extend(self.tokenizer.encode(&self.format.prompt_text(prompt)));
        ids
    }

    /// [`Encoder::prompt`] with an optional system message before the user message.
    pub fn chat_prompt(&self, system: Option<&str>, prompt: &str) -> Vec<u32> {
        let Some(system) = system else { return self.prompt(prompt) };
        let mut ids = Vec::new();
        if self.format.add_bos() {
            ids.extend(self.tokenizer.bos_id());
        }
        ids.extend(self.tokenizer.encode(&self.format.system_prompt_text(system, prompt)));
        ids
    }

    /// `encode(response_text(response)) + end_of_turn_ids`.
    pub fn response(&self, response: &str) -> Vec<u32> {
        let mut ids = self.tokenizer.encode(&self.format.response_text(response));
        ids.extend(self.format.end_of_turn_ids(self.tokenizer));
        ids
    }

    pub fn stop_ids(&self) -> Vec<u32> {
        self.format.stop_ids(self.tokenizer)
    }
}
