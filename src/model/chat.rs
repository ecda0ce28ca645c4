//! Chat templates: Hugging Face's Jinja templates (`tokenizer_config.json`'s `chat_template` or
//! GGUF's `tokenizer.chat_template`) rendered with minijinja, configured like `transformers`
//! (`trim_blocks`, `lstrip_blocks`, a `raise_exception` function, Python's string and dict
//! methods through minijinja-contrib's pycompat). `strftime_now` is deliberately left undefined:
//! templates that use it (Llama 3.1) then fall back to their fixed date, so a prompt renders the
//! same on every day and content keys stay stable.
//!
//! The model floor needs two things from a template:
//! - the prompt for one user turn, ending with the generation prompt
//!   (`<|im_start|>user\n...<|im_end|>\n<|im_start|>assistant\n` for ChatML);
//! - the text that closes the assistant's turn (`<|im_end|>` for ChatML, `<|eot_id|>` for
//!   Llama 3), which is appended to a scored response and ends generation.
//!
//! The end-of-turn text is found by rendering the conversation with a probe answer and taking
//! what follows the answer (trailing whitespace trimmed), so no template is special-cased.

use minijinja::{Environment, Error as JinjaError, ErrorKind, context};

use super::tokenizer::{ChatFormat, TextTokenizer};

#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    #[error("chat template ({origin}) does not compile: {msg}")]
    Compile { origin: String, msg: String },
    #[error("chat template ({origin}) failed to render: {msg}")]
    Render { origin: String, msg: String },
    #[error(
        "chat template ({origin}) does not render the assistant's answer after the generation prompt; cannot find its end-of-turn text"
    )]
    NoTurnEnd { origin: String },
}

/// A compiled chat template and the special-token strings it may reference.
#[derive(Debug, Clone)]
pub struct ChatTemplate {
    /// Where the template came from (file or GGUF key), for messages.
    pub origin: String,
    env: Environment<'static>,
    source: String,
    bos_token: String,
    eos_token: String,
    /// What closes an assistant turn (e.g. `<|im_end|>`); may be empty.
    turn_end: String,
}

/// `[{"role": .., "content": ..}, ...]` as the template sees it.
fn messages(turns: &[(&str, &str)]) -> minijinja::Value {
    let list: Vec<minijinja::Value> = turns
        .iter()
        .map(|(role, content)| minijinja::Value::from_pairs([("role", *role), ("content", *content)]))
        .collect();
    minijinja::Value::from(list)
}

const PROBE: &str = "PROBE-ANSWER-7f3a";

impl ChatTemplate {
    /// Compiles `source`. `bos_token`/`eos_token` are the strings templates see under those names.
    pub fn new(source: &str, bos_token: &str, eos_token: &str, origin: &str) -> Result<Self, ChatError> {
        let mut env = Environment::new();
        let syntax = minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()
            .map_err(|e| ChatError::Compile { origin: origin.to_string(), msg: e.to_string() })?;
        env.set_syntax(syntax);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_function("raise_exception", |msg: String| -> Result<String, JinjaError> {
            Err(JinjaError::new(ErrorKind::InvalidOperation, msg))
        });
        env.add_template_owned("chat", source.to_string())
            .map_err(|e| ChatError::Compile { origin: origin.to_string(), msg: format!("{e:#}") })?;
        let mut t = ChatTemplate {
            origin: origin.to_string(),
            env,
            source: source.to_string(),
            bos_token: bos_token.to_string(),
            eos_token: eos_token.to_string(),
            turn_end: String::new(),
        };
        t.turn_end = t.find_turn_end()?;
        t.render_prompt("Hi")?;
        Ok(t)
    }

    fn render(&self, messages: minijinja::Value, add_generation_prompt: bool) -> Result<String, ChatError> {
        let tmpl = self
            .env
            .get_template("chat")
            .map_err(|e| ChatError::Render { origin: self.origin.clone(), msg: e.to_string() })?;
        tmpl.render(context! {
            messages => messages,
            add_generation_prompt => add_generation_prompt,
            bos_token => self.bos_token.clone(),
            eos_token => self.eos_token.clone(),
        })
        .map_err(|e| ChatError::Render { origin: self.origin.clone(), msg: format!("{e:#}") })
    }

    /// One user turn followed by the generation prompt.
    pub fn render_prompt(&self, user: &str) -> Result<String, ChatError> {
        self.render(messages(&[("user", user)]), true)
    }

    /// A system turn and a user turn followed by the generation prompt.
    pub fn render_system_prompt(&self, system: &str, user: &str) -> Result<String, ChatError> {
        self.render(messages(&[("system", system), ("user", user)]), true)
    }

    /// A user turn and the assistant's answer, as the template writes a finished conversation.
    pub fn render_conversation(&self, user: &str, assistant: &str) -> Result<String, ChatError> {
        self.render(messages(&[("user", user), ("assistant", assistant)]), false)
    }

    fn find_turn_end(&self) -> Result<String, ChatError> {
        let full = self.render_conversation("Hi", PROBE)?;
        let at = full.rfind(PROBE).ok_or_else(|| ChatError::NoTurnEnd { origin: self.origin.clone() })?;
        Ok(full[at + PROBE.len()..].trim_end().to_string())
    }

    /// The template's Jinja source, for exporting it again.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The text that closes an assistant turn (`<|im_end|>` for ChatML); empty when the template
    /// writes nothing after the answer.
    pub fn turn_end(&self) -> &str {
        &self.turn_end
    }

    /// A response as a finished turn's text: the answer followed by the end-of-turn text.
    pub fn closed_response(&self, response: &str) -> String {
        format!("{response}{}", self.turn_end)
    }
}

/// Prompts render through the template; responses are the answer text followed by the
/// end-of-turn ids (`encode(turn_end)`, e.g. `<|im_end|>`), which also stop generation.
impl ChatFormat for ChatTemplate {
    /// A template that rendered at construction fails here only on a prompt it rejects
    /// (`raise_exception`); that is reported on stderr and the prompt is used raw. Callers
    /// that want the error use [`ChatTemplate::render_prompt`].
    fn prompt_text(&self, prompt: &str) -> String {
        self.render_prompt(prompt).unwrap_or_else(|e| {
            eprintln!("warning: {e}; using the prompt without the template");
            prompt.to_string()
        })
    }
    /// A template that refuses a system turn (some raise an exception for it) gets the system
    /// message before the user's, separated by a blank line, with a warning on stderr.
    fn system_prompt_text(&self, system: &str, prompt: &str) -> String {
        self.render_system_prompt(system, prompt).unwrap_or_else(|e| {
            eprintln!("warning: {e}; sending the system message inside the user message");
            self.prompt_text(&format!("{system}\n\n{prompt}"))
        })
    }
    fn end_of_turn_ids(&self, tokenizer: &dyn TextTokenizer) -> Vec<u32> {
        if self.turn_end.is_empty() {
            tokenizer.eos_ids().into_iter().take(1).collect()
        } else {
            tokenizer.encode(&self.turn_end)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SmolLM2-135M-Instruct's template (ChatML with a default system prompt).
    pub(crate) const SMOLLM2: &str = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

    #[test]
    fn chatml_prompt_and_turn_end() {
        let t = ChatTemplate::new(SMOLLM2, "<|im_start|>", "<|im_end|>", "test").unwrap();
        assert_eq!(
            t.render_prompt("What is 2+2?").unwrap(),
            "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n"
        );
        assert_eq!(t.turn_end(), "<|im_end|>");
        assert_eq!(t.closed_response("4"), "4<|im_end|>");
    }

    #[test]
    fn a_system_message_replaces_the_default_one() {
        let t = ChatTemplate::new(SMOLLM2, "<|im_start|>", "<|im_end|>", "test").unwrap();
        assert_eq!(
            t.system_prompt_text("Be a teacher.", "Hi"),
            "<|im_start|>system\nBe a teacher.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
        );
        let no_system = "{% for m in messages %}{% if m['role'] == 'system' %}{{ raise_exception('no system role') }}{% endif %}{{ m['content'] }}\n{% endfor %}";
        let t = ChatTemplate::new(no_system, "", "", "test").unwrap();
        assert_eq!(t.system_prompt_text("Be a teacher.", "Hi"), "Be a teacher.\n\nHi\n");
    }

    #[test]
    fn llama3_style_template_uses_bos_and_block_trimming() {
        let src = "{{ bos_token }}{% for m in messages %}\n{{ '<|start_header_id|>' + m['role'] + '<|end_header_id|>\n\n' + m['content'] | trim + '<|eot_id|>' }}{% endfor %}\n{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";
        let t = ChatTemplate::new(src, "<|begin_of_text|>", "<|eot_id|>", "test").unwrap();
        let p = t.render_prompt(" Hi ").unwrap();
        assert!(p.starts_with("<|begin_of_text|><|start_header_id|>user"), "{p:?}");
        assert!(p.ends_with("<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"), "{p:?}");
        assert_eq!(t.turn_end(), "<|eot_id|>");
    }

    #[test]
    fn python_string_methods_work() {
        let src = "{% for m in messages %}{% if m['content'].startswith('W') %}[{{ m['role'].upper() }}] {% endif %}{{ m['content'].strip() }}\n{% endfor %}{% if add_generation_prompt %}> {% endif %}";
        let t = ChatTemplate::new(src, "", "", "test").unwrap();
        assert_eq!(t.render_prompt("  What?  ").unwrap(), "What?\n> ");
        assert_eq!(t.render_prompt("Why").unwrap(), "[USER] Why\n> ");
    }

    #[test]
    fn raise_exception_and_syntax_errors_are_reported() {
        let err =
            ChatTemplate::new("{{ raise_exception('no system role') }}", "", "", "cfg.json").err().unwrap().to_string();
        assert!(err.contains("no system role") && err.contains("cfg.json"), "{err}");
        let err = ChatTemplate::new("{% for %}", "", "", "cfg.json").err().unwrap().to_string();
        assert!(err.contains("does not compile"), "{err}");
    }
}
