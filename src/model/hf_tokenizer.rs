//! Text <-> token ids through the `tokenizers` crate, built either from a Hugging Face
//! `tokenizer.json` or from the byte-level BPE that llama.cpp stores in GGUF metadata.
//!
//! The GGUF build reproduces what Hugging Face's tokenizer.json for such a model contains:
//! a BPE model over the GGUF vocabulary and merges, a pre-tokenizer chosen by
//! `tokenizer.ggml.pre` (`"smollm"` and friends split every digit on its own before the GPT-2
//! byte-level split; the others use the byte-level split alone), the byte-level decoder, and the
//! control / user-defined tokens (`<|im_start|>`, ...) as added tokens so they are matched whole
//! when they appear in text.

use std::path::{Path, PathBuf};

use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::models::bpe::{BPE, Vocab};
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::{AddedToken, Tokenizer};

use super::gguf::GgufTokenizerData;
use super::tokenizer::TextTokenizer;

#[derive(Debug, thiserror::Error)]
pub enum TokenizerError {
    #[error("cannot load tokenizer {path}: {msg}")]
    Load { path: PathBuf, msg: String },
    #[error("GGUF tokenizer: {0}")]
    Gguf(String),
    #[error("tokenizer failed on {what}: {msg}")]
    Run { what: String, msg: String },
}

/// llama.cpp's token types (`tokenizer.ggml.token_type`).
const TOKEN_TYPE_CONTROL: i32 = 3;
const TOKEN_TYPE_USER_DEFINED: i32 = 4;

/// llama.cpp pre-tokenizer names whose regex splits digits one by one before the GPT-2 pattern.
const DIGIT_SPLITTING_PRE: &[&str] = &["smollm", "codeshell", "exaone", "minerva-7b"];

/// A loaded tokenizer plus the special ids the model floor needs.
#[derive(Clone)]
pub struct HfTokenizer {
    inner: Tokenizer,
    bos_id: Option<u32>,
    eos_ids: Vec<u32>,
    pad_id: Option<u32>,
    /// Prepend `bos_id` when encoding with special tokens (GGUF `add_bos_token`); tokenizer.json
    /// files do this through their own post-processor instead.
    add_bos: bool,
}

impl std::fmt::Debug for HfTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HfTokenizer")
            .field("vocab_size", &self.inner.get_vocab_size(true))
            .field("bos_id", &self.bos_id)
            .field("eos_ids", &self.eos_ids)
            .finish()
    }
}

/// What `tokenizer_config.json` says beyond `tokenizer.json`: the chat template and the names of
/// the special tokens (which templates refer to as `bos_token` / `eos_token`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TokenizerConfig {
    pub chat_template: Option<String>,
    pub bos_token: Option<String>,
    pub eos_token: Option<String>,
    pub pad_token: Option<String>,
}

/// `"<s>"` or `{"content": "<s>", ...}` (both appear in tokenizer_config.json files).
fn token_name(v: Option<&serde_json::Value>) -> Option<String> {
    match v? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Object(o) => o.get("content").and_then(|c| c.as_str()).map(str::to_string),
        _ => None,
    }
}

impl TokenizerConfig {
    /// Reads `dir/tokenizer_config.json` (a missing file gives the empty config). The chat
    /// template may instead be in `chat_template.jinja` (transformers 5 saves it there) or
    /// `chat_template.json`; `tokenizer_config.json`'s own wins when both exist.
    pub fn load(dir: &Path) -> Result<Self, TokenizerError> {
        let mut tc = Self::load_config_file(dir)?;
        if tc.chat_template.is_none() {
            let jinja = dir.join("chat_template.jinja");
            let json = dir.join("chat_template.json");
            if jinja.exists() {
                let text = std::fs::read_to_string(&jinja)
                    .map_err(|e| TokenizerError::Load { path: jinja.clone(), msg: e.to_string() })?;
                tc.chat_template = Some(text);
            } else if json.exists() {
                let load_err = |msg: String| TokenizerError::Load { path: json.clone(), msg };
                let bytes = std::fs::read(&json).map_err(|e| load_err(e.to_string()))?;
                let v: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| load_err(e.to_string()))?;
                tc.chat_template = v.get("chat_template").and_then(|t| t.as_str()).map(str::to_string);
            }
        }
        Ok(tc)
    }

    fn load_config_file(dir: &Path) -> Result<Self, TokenizerError> {
        let path = dir.join("tokenizer_config.json");
        if !path.exists() {
            return Ok(Self::default());
        }
        let load_err = |msg: String| TokenizerError::Load { path: path.clone(), msg };
        let bytes = std::fs::read(&path).map_err(|e| load_err(e.to_string()))?;
        let v: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| load_err(e.to_string()))?;
        // `chat_template` is a string, or a list of `{name, template}` of which "default" is used.
        let chat_template = match v.get("chat_template") {
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(serde_json::Value::Array(list)) => list
                .iter()
                .find(|t| t.get("name").and_then(|n| n.as_str()) == Some("default"))
                .and_then(|t| t.get("template"))
                .and_then(|t| t.as_str())
                .map(str::to_string),
            _ => None,
        };
        Ok(Self {
            chat_template,
            bos_token: token_name(v.get("bos_token")),
            eos_token: token_name(v.get("eos_token")),
            pad_token: token_name(v.get("pad_token")),
        })
    }
}

impl HfTokenizer {
    /// Loads `dir/tokenizer.json`; special ids come from `tokenizer_config.json`'s token names
    /// and the model's eos ids (`extra_eos`, from config.json / generation_config.json).
    pub fn from_hf_dir(dir: &Path, extra_eos: &[u32]) -> Result<(Self, TokenizerConfig), TokenizerError> {
        let path = dir.join("tokenizer.json");
        let inner =
            Tokenizer::from_file(&path).map_err(|e| TokenizerError::Load { path: path.clone(), msg: e.to_string() })?;
        let tc = TokenizerConfig::load(dir)?;
        let id = |name: &Option<String>| name.as_deref().and_then(|n| inner.token_to_id(n));
        let mut eos_ids: Vec<u32> = id(&tc.eos_token).into_iter().collect();
        for &e in extra_eos {
            if !eos_ids.contains(&e) {
                eos_ids.push(e);
            }
        }
        let tok = HfTokenizer { bos_id: id(&tc.bos_token), pad_id: id(&tc.pad_token), eos_ids, add_bos: false, inner };
        Ok((tok, tc))
    }

    /// Builds the byte-level BPE described by GGUF metadata.
    pub fn from_gguf(t: &GgufTokenizerData) -> Result<Self, TokenizerError> {
        if t.model != "gpt2" {
            return Err(TokenizerError::Gguf(format!(
                "tokenizer.ggml.model is `{}`; only byte-level BPE (`gpt2`) is supported",
                t.model
            )));
        }
        let vocab: Vocab = t.tokens.iter().enumerate().map(|(i, s)| (s.clone(), i as u32)).collect();
        let mut merges = Vec::with_capacity(t.merges.len());
        for (i, m) in t.merges.iter().enumerate() {
            let (a, b) = m.split_once(' ').ok_or_else(|| {
                TokenizerError::Gguf(format!("tokenizer.ggml.merges[{i}] = {m:?} is not `left right`"))
            })?;
            merges.push((a.to_string(), b.to_string()));
        }
        let bpe = BPE::builder()
            .vocab_and_merges(vocab, merges)
            .build()
            .map_err(|e| TokenizerError::Gguf(format!("building BPE: {e}")))?;
        let mut inner = Tokenizer::new(bpe);
        let byte_level = ByteLevel::new(false, true, true);
        let digits = t.pre.as_deref().is_some_and(|p| DIGIT_SPLITTING_PRE.contains(&p));
        if digits {
            let seq = Sequence::new(vec![
                PreTokenizerWrapper::Digits(Digits::new(true)),
                PreTokenizerWrapper::ByteLevel(byte_level),
            ]);
            inner.with_pre_tokenizer(Some(seq));
        } else {
            inner.with_pre_tokenizer(Some(byte_level));
        }
        inner.with_decoder(Some(ByteLevelDecoder::default()));
        let specials: Vec<AddedToken> = t
            .tokens
            .iter()
            .zip(&t.token_types)
            .filter(|(_, ty)| **ty == TOKEN_TYPE_CONTROL || **ty == TOKEN_TYPE_USER_DEFINED)
            .map(|(s, ty)| AddedToken::from(s.clone(), *ty == TOKEN_TYPE_CONTROL))
            .collect();
        inner.add_special_tokens(specials).map_err(|e| TokenizerError::Gguf(format!("adding control tokens: {e}")))?;
        Ok(HfTokenizer {
            inner,
            bos_id: t.bos_id,
            eos_ids: t.eos_id.into_iter().collect(),
            pad_id: t.pad_id,
            add_bos: t.add_bos,
        })
    }

    /// Token ids of `text`, special-token strings in it matched whole, nothing added.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, TokenizerError> {
        self.encode_with_special(text, false)
    }

    /// Like [`encode`](Self::encode); with `add_special` the tokenizer's own framing is added
    /// (tokenizer.json's post-processor, or the GGUF bos token when `add_bos_token` is set).
    pub fn encode_with_special(&self, text: &str, add_special: bool) -> Result<Vec<u32>, TokenizerError> {
        let enc = self
            .inner
            .encode(text, add_special)
            .map_err(|e| TokenizerError::Run { what: format!("encoding {:?}", truncate(text)), msg: e.to_string() })?;
        let mut ids = enc.get_ids().to_vec();
        if add_special
            && self.add_bos
            && let Some(b) = self.bos_id
        {
            ids.insert(0, b);
        }
        Ok(ids)
    }

    /// Whether encoding with special tokens starts a text with bos (tokenizer.json's
    /// post-processor, as Llama 3's does, or GGUF's `add_bos_token`).
    pub fn adds_bos(&self) -> bool {
        match (self.bos_id, self.encode_with_special("a", true)) {
            (Some(bos), Ok(ids)) => ids.first() == Some(&bos),
            _ => false,
        }
    }

    /// Text of `ids`, special tokens dropped.
    pub fn decode(&self, ids: &[u32]) -> Result<String, TokenizerError> {
        self.decode_with_special(ids, true)
    }

    pub fn decode_with_special(&self, ids: &[u32], skip_special: bool) -> Result<String, TokenizerError> {
        self.inner
            .decode(ids, skip_special)
            .map_err(|e| TokenizerError::Run { what: format!("decoding {} ids", ids.len()), msg: e.to_string() })
    }

    pub fn bos_id(&self) -> Option<u32> {
        self.bos_id
    }
    pub fn eos_ids(&self) -> &[u32] {
        &self.eos_ids
    }
    pub fn pad_id(&self) -> Option<u32> {
        self.pad_id
    }
    /// Adds an id that ends generation (e.g. the chat template's end-of-turn token).
    pub fn add_eos_id(&mut self, id: u32) {
        if !self.eos_ids.contains(&id) {
            self.eos_ids.push(id);
        }
    }
    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }
    pub fn id_to_token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }
    /// The `tokenizer.json` text, for exporting a Hugging Face directory.
    pub fn to_json(&self) -> Result<String, TokenizerError> {
        self.inner
            .to_string(false)
            .map_err(|e| TokenizerError::Run { what: "serializing tokenizer.json".into(), msg: e.to_string() })
    }
    /// The underlying `tokenizers` tokenizer.
    pub fn inner(&self) -> &Tokenizer {
        &self.inner
    }
}

/// The model floor's view. `encode` adds no special tokens (special-token strings in the text
/// are still matched whole, which chat-rendered prompts rely on); `decode` drops them. An
/// encoding failure (which a loaded BPE tokenizer does not produce in practice) is reported on
/// stderr and gives no ids rather than a panic.
impl TextTokenizer for HfTokenizer {
    fn encode(&self, text: &str) -> Vec<u32> {
        HfTokenizer::encode(self, text).unwrap_or_else(|e| {
            eprintln!("warning: {e}");
            Vec::new()
        })
    }
    fn decode(&self, ids: &[u32]) -> String {
        HfTokenizer::decode(self, ids).unwrap_or_else(|e| {
            eprintln!("warning: {e}");
            String::new()
        })
    }
    fn vocab_size(&self) -> usize {
        HfTokenizer::vocab_size(self)
    }
    fn eos_ids(&self) -> Vec<u32> {
        self.eos_ids.clone()
    }
    fn bos_id(&self) -> Option<u32> {
        self.bos_id
    }
    /// The pad token, else the first eos (as SmolLM2 and TRL do), else 0; padded positions are
    /// never scored, so the choice does not change results.
    fn pad_id(&self) -> u32 {
        self.pad_id.or(self.eos_ids.first().copied()).unwrap_or(0)
    }
    fn adds_bos(&self) -> Option<bool> {
        Some(HfTokenizer::adds_bos(self))
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Byte-level vocabulary: "Ġ" is the space byte, "Ċ" the newline.
    fn data(pre: Option<&str>) -> GgufTokenizerData {
        let tokens: Vec<String> = [
            "<|endoftext|>",
            "<|im_start|>",
            "<|im_end|>",
            "a",
            "b",
            "1",
            "2",
            "Ġ",
            "Ċ",
            "ab",
            "Ġa",
            "ĠĠ",
            "12",
            "Ġ1",
            "Ġ12",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut token_types = vec![1; tokens.len()];
        token_types[..3].fill(3);
        GgufTokenizerData {
            model: "gpt2".into(),
            pre: pre.map(str::to_string),
            tokens,
            token_types,
            merges: vec!["a b".into(), "Ġ a".into(), "Ġ Ġ".into(), "Ġ 1".into(), "1 2".into(), "Ġ1 2".into()],
            bos_id: Some(1),
            eos_id: Some(2),
            pad_id: None,
            unk_id: None,
            add_bos: false,
            chat_template: None,
        }
    }

    #[test]
    fn gguf_bpe_merges_and_matches_control_tokens() {
        let t = HfTokenizer::from_gguf(&data(Some("gpt2"))).unwrap();
        assert_eq!(t.encode("ab a").unwrap(), vec![9, 10]);
        assert_eq!(t.encode("<|im_start|>a<|im_end|>\n").unwrap(), vec![1, 3, 2, 8]);
        assert_eq!(t.decode(&[1, 9, 10, 2]).unwrap(), "ab a");
        assert_eq!(t.decode_with_special(&[1, 9], false).unwrap(), "<|im_start|>ab");
        assert_eq!(t.eos_ids(), &[2]);
    }

    #[test]
    fn smollm_pre_tokenizer_splits_digits() {
        let plain = HfTokenizer::from_gguf(&data(Some("gpt2"))).unwrap();
        let smollm = HfTokenizer::from_gguf(&data(Some("smollm"))).unwrap();
        // GPT-2 alone merges " 12"; the digit rule keeps every digit apart.
        assert_eq!(plain.encode(" 12").unwrap(), vec![14]);
        assert_eq!(smollm.encode(" 12").unwrap(), vec![7, 5, 6]);
        // Two spaces before a digit: the GPT-2 split gives " " + " 12", the digit rule "  " + "1" + "2".
        assert_eq!(plain.encode("  12").unwrap(), vec![7, 14]);
        assert_eq!(smollm.encode("  12").unwrap(), vec![11, 5, 6]);
    }

    #[test]
    fn add_bos_follows_the_gguf_flag() {
        let mut d = data(None);
        assert!(!HfTokenizer::from_gguf(&d).unwrap().adds_bos());
        d.add_bos = true;
        let t = HfTokenizer::from_gguf(&d).unwrap();
        assert!(t.adds_bos());
        assert_eq!(t.encode_with_special("ab", true).unwrap(), vec![1, 9]);
        assert_eq!(t.encode("ab").unwrap(), vec![9]);
    }

    #[test]
    fn non_bpe_gguf_tokenizer_is_refused() {
        let mut d = data(None);
        d.model = "llama".into();
        let err = HfTokenizer::from_gguf(&d).err().unwrap().to_string();
        assert!(err.contains("llama"), "{err}");
    }
}
