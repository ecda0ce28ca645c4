//! Loading llama.cpp's GGUF files into the shared hand-over types: a [`LlamaConfig`] from the
//! `llama.*` metadata, a [`TensorMap`] in Hugging Face names and layouts, and the tokenizer's
//! vocabulary, merges and chat template from the `tokenizer.*` metadata.
//!
//! Two things differ from a Hugging Face checkpoint and are undone here:
//! - names: `blk.N.attn_q.weight` is `model.layers.N.self_attn.q_proj.weight` and so on
//!   ([`hf_name`]);
//! - Q and K rows: `convert_hf_to_gguf.py` permutes them per head from Hugging Face's half-split
//!   rotary layout (`rotate_half`) to llama.cpp's interleaved pairs; [`unpermute_rows`] is the
//!   inverse, so the model sees Hugging Face's layout whatever file it came from.
//!
//! GGUF lists dims innermost first, so a PyTorch `[out, in]` weight has dims `[in, out]`;
//! [`reader::TensorInfo::shape`] reverses them.

pub mod dequant;
pub mod reader;

use std::path::{Path, PathBuf};

use super::config::LlamaConfig;
use super::weights::{HostTensor, TensorMap};
pub use reader::{GgufFile, MetaValue, TensorInfo};

/// What can go wrong reading a GGUF file; every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum GgufError {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path} is not a GGUF file (magic bytes {found:?}, expected \"GGUF\")")]
    BadMagic { path: PathBuf, found: Vec<u8> },
    #[error("{path}: GGUF version {version} is not supported (expected 2 or 3)")]
    UnsupportedVersion { path: PathBuf, version: u32 },
    #[error("{path} is truncated: reading {what} at byte {offset} needs {needed} bytes, file has {file_len}")]
    Truncated { path: PathBuf, offset: u64, what: String, needed: u64, file_len: u64 },
    #[error("{path}: malformed GGUF{}: {msg}", offset.map(|o| format!(" at byte {o}")).unwrap_or_default())]
    Malformed { path: PathBuf, offset: Option<u64>, msg: String },
    #[error(
        "{path}: tensor `{tensor}` (at byte {offset}) has ggml type {type_id}, which this loader cannot decode (supported: F32, F16, BF16, Q4_0, Q4_1, Q8_0)"
    )]
    UnsupportedTensorType { path: PathBuf, tensor: String, type_id: u32, offset: usize },
    #[error(
        "{path}: tensor `{tensor}` spans bytes {start}..{end} but the file has only {file_len} bytes (truncated download?)"
    )]
    TensorOutOfBounds { path: PathBuf, tensor: String, start: u64, end: u64, file_len: u64 },
    #[error("{path}: metadata key `{key}` is missing")]
    MissingKey { path: PathBuf, key: String },
    #[error("{path}: metadata key `{key}` should be {expected}, found {found}")]
    WrongKeyType { path: PathBuf, key: String, expected: &'static str, found: String },
    #[error("{path}: {msg}")]
    Unsupported { path: PathBuf, msg: String },
    #[error("{path}: tensor `{tensor}`: {msg}")]
    BadTensor { path: PathBuf, tensor: String, msg: String },
}

/// The tokenizer as llama.cpp stores it (`tokenizer.ggml.*` and `tokenizer.chat_template`).
#[derive(Debug, Clone, PartialEq)]
pub struct GgufTokenizerData {
    /// `tokenizer.ggml.model`: `"gpt2"` for byte-level BPE.
    pub model: String,
    /// `tokenizer.ggml.pre`: the pre-tokenizer's name (`"smollm"`, `"llama-bpe"`, ...).
    pub pre: Option<String>,
    pub tokens: Vec<String>,
    /// llama.cpp token types: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte.
    pub token_types: Vec<i32>,
    /// `"left right"` pairs, highest priority first.
    pub merges: Vec<String>,
    pub bos_id: Option<u32>,
    pub eos_id: Option<u32>,
    pub pad_id: Option<u32>,
    pub unk_id: Option<u32>,
    pub add_bos: bool,
    pub chat_template: Option<String>,
}

/// Everything a GGUF file gives the model floor.
#[derive(Debug, Clone)]
pub struct GgufModel {
    pub config: LlamaConfig,
    pub tensors: TensorMap,
    pub tokenizer: GgufTokenizerData,
}

/// Reads a llama-architecture GGUF file: config, dequantized f32 tensors in Hugging Face names
/// and layouts, and tokenizer data.
pub fn load_gguf(path: &Path) -> Result<GgufModel, GgufError> {
    let file = GgufFile::open(path)?;
    let config = config_from_metadata(&file)?;
    let tensors = tensors_to_hf(&file, &config)?;
    let tokenizer = tokenizer_from_metadata(&file)?;
    Ok(GgufModel { config, tensors, tokenizer })
}

fn key<'a>(f: &'a GgufFile, key: &str) -> Result<&'a MetaValue, GgufError> {
    f.get(key).ok_or_else(|| GgufError::MissingKey { path: f.path.clone(), key: key.to_string() })
}

fn wrong(f: &GgufFile, key: &str, expected: &'static str, v: &MetaValue) -> GgufError {
    GgufError::WrongKeyType { path: f.path.clone(), key: key.to_string(), expected, found: v.type_name().to_string() }
}

fn key_usize(f: &GgufFile, k: &str) -> Result<usize, GgufError> {
    let v = key(f, k)?;
    v.as_u64().map(|x| x as usize).ok_or_else(|| wrong(f, k, "a non-negative integer", v))
}

fn opt_usize(f: &GgufFile, k: &str) -> Result<Option<usize>, GgufError> {
    match f.get(k) {
        None => Ok(None),
        Some(v) => v.as_u64().map(|x| Some(x as usize)).ok_or_else(|| wrong(f, k, "a non-negative integer", v)),
    }
}

/// Reads a float key; f32 values are widened through their shortest decimal form so `1e-5`
/// stays `1e-5` rather than `9.99999974738e-6`.
fn opt_f64(f: &GgufFile, k: &str) -> Result<Option<f64>, GgufError> {
    match f.get(k) {
        None => Ok(None),
        Some(MetaValue::F32(x)) => Ok(Some(format!("{x}").parse::<f64>().unwrap_or(*x as f64))),
        Some(v) => v.as_f64().map(Some).ok_or_else(|| wrong(f, k, "a number", v)),
    }
}

/// Fills a [`LlamaConfig`] from `general.architecture == "llama"` and the `llama.*` keys.
pub fn config_from_metadata(f: &GgufFile) -> Result<LlamaConfig, GgufError> {
    let arch_v = key(f, "general.architecture")?;
    let arch = arch_v.as_str().ok_or_else(|| wrong(f, "general.architecture", "a string", arch_v))?;
    if arch != "llama" {
        return Err(GgufError::Unsupported {
            path: f.path.clone(),
            msg: format!("general.architecture is `{arch}`; only `llama` is supported"),
        });
    }
    if let Some(v) = f.get("llama.rope.scaling.type") {
        let t = v.as_str().unwrap_or("?");
        if t != "none" {
            return Err(GgufError::Unsupported {
                path: f.path.clone(),
                msg: format!("llama.rope.scaling.type `{t}` is not supported"),
            });
        }
    }
    if f.tensor_info("rope_freqs.weight").is_some() {
        return Err(GgufError::Unsupported {
            path: f.path.clone(),
            msg: "tensor `rope_freqs.weight` (Llama 3.1 rope scaling) is not supported; load the Hugging Face checkpoint instead".into(),
        });
    }
    let hidden_size = key_usize(f, "llama.embedding_length")?;
    let num_attention_heads = key_usize(f, "llama.attention.head_count")?;
    let vocab_size = match opt_usize(f, "llama.vocab_size")? {
        Some(v) => v,
        None => match f.tensor_info("token_embd.weight") {
            Some(t) if t.dims.len() == 2 => t.dims[1] as usize,
            _ => match f.get("tokenizer.ggml.tokens").and_then(|v| v.as_array()) {
                Some(a) => a.len(),
                None => return Err(GgufError::MissingKey { path: f.path.clone(), key: "llama.vocab_size".into() }),
            },
        },
    };
    let head_dim = opt_usize(f, "llama.attention.key_length")?;
    let tok_id = |k: &str| opt_usize(f, k).map(|o| o.map(|v| v as u32));
    let eos = tok_id("tokenizer.ggml.eos_token_id")?;
    Ok(LlamaConfig {
        vocab_size,
        hidden_size,
        intermediate_size: key_usize(f, "llama.feed_forward_length")?,
        num_hidden_layers: key_usize(f, "llama.block_count")?,
        num_attention_heads,
        num_key_value_heads: Some(opt_usize(f, "llama.attention.head_count_kv")?.unwrap_or(num_attention_heads)),
        head_dim: head_dim.filter(|&d| d != hidden_size / num_attention_heads.max(1)),
        rms_norm_eps: opt_f64(f, "llama.attention.layer_norm_rms_epsilon")?.unwrap_or(1e-5),
        rope_theta: opt_f64(f, "llama.rope.freq_base")?.unwrap_or(10_000.0),
        rope_scaling: None,
        max_position_embeddings: opt_usize(f, "llama.context_length")?.unwrap_or(2048),
        tie_word_embeddings: f.tensor_info("output.weight").is_none(),
        bos_token_id: tok_id("tokenizer.ggml.bos_token_id")?,
        eos_token_id: eos.map(serde_json::Value::from),
    })
}

/// Maps a llama.cpp tensor name to Hugging Face's (`None` for names this loader does not know).
pub fn hf_name(gguf: &str) -> Option<String> {
    let fixed = match gguf {
        "token_embd.weight" => Some("model.embed_tokens.weight"),
        "output_norm.weight" => Some("model.norm.weight"),
        "output.weight" => Some("lm_head.weight"),
        _ => None,
    };
    if let Some(n) = fixed {
        return Some(n.to_string());
    }
    let rest = gguf.strip_prefix("blk.")?;
    let (layer, rest) = rest.split_once('.')?;
    let layer: usize = layer.parse().ok()?;
    let (part, suffix) = rest.rsplit_once('.')?;
    if suffix != "weight" && suffix != "bias" {
        return None;
    }
    let hf = match part {
        "attn_q" => "self_attn.q_proj",
        "attn_k" => "self_attn.k_proj",
        "attn_v" => "self_attn.v_proj",
        "attn_output" => "self_attn.o_proj",
        "ffn_gate" => "mlp.gate_proj",
        "ffn_up" => "mlp.up_proj",
        "ffn_down" => "mlp.down_proj",
        "attn_norm" => "input_layernorm",
        "ffn_norm" => "post_attention_layernorm",
        _ => return None,
    };
    Some(format!("model.layers.{layer}.{hf}.{suffix}"))
}

/// Inverse of `convert_hf_to_gguf.py`'s `permute(w, n_head, n_head_kv)` on a row-major
/// `[rows, cols]` tensor: within each of `n_head` heads, GGUF row `2*i + j` becomes Hugging Face
/// row `j*half + i` (`half` = rows per head / 2).
pub fn unpermute_rows(data: &[f32], rows: usize, cols: usize, n_head: usize) -> Vec<f32> {
    move_rows(data, rows, cols, n_head, |interleaved, split| (interleaved, split))
}

/// `convert_hf_to_gguf.py`'s `permute`: Hugging Face row `j*half + i` to GGUF row `2*i + j`.
/// Used by tests and by anything that writes GGUF.
pub fn permute_rows(data: &[f32], rows: usize, cols: usize, n_head: usize) -> Vec<f32> {
    move_rows(data, rows, cols, n_head, |interleaved, split| (split, interleaved))
}

/// Copies each row between its interleaved index `2*i + j` and its half-split index
/// `j*half + i` within every head; `route(interleaved, split)` gives `(source, destination)`.
fn move_rows(
    data: &[f32],
    rows: usize,
    cols: usize,
    n_head: usize,
    route: impl Fn(usize, usize) -> (usize, usize),
) -> Vec<f32> {
    let per_head = rows / n_head;
    let half = per_head / 2;
    let mut out = vec![0.0f32; data.len()];
    for h in 0..n_head {
        for i in 0..half {
            for j in 0..2 {
                let (src, dst) = route(h * per_head + 2 * i + j, h * per_head + j * half + i);
                out[dst * cols..(dst + 1) * cols].copy_from_slice(&data[src * cols..(src + 1) * cols]);
            }
        }
    }
    out
}

/// Dequantizes every tensor, renames it and un-permutes Q/K rows.
pub fn tensors_to_hf(f: &GgufFile, cfg: &LlamaConfig) -> Result<TensorMap, GgufError> {
    let mut map = TensorMap::new();
    for info in &f.tensors {
        let name = hf_name(&info.name).ok_or_else(|| GgufError::BadTensor {
            path: f.path.clone(),
            tensor: info.name.clone(),
            msg: "unknown llama tensor name (expected token_embd, output_norm, output or blk.N.{attn_q,attn_k,attn_v,attn_output,ffn_gate,ffn_up,ffn_down,attn_norm,ffn_norm})".into(),
        })?;
        let shape = info.shape();
        let mut data = f.dequantize(info);
        let heads = if name.contains(".self_attn.q_proj.") {
            Some(cfg.num_attention_heads)
        } else if name.contains(".self_attn.k_proj.") {
            Some(cfg.kv_heads())
        } else {
            None
        };
        if let Some(n_head) = heads {
            let rows = shape[0];
            if n_head == 0 || rows % (2 * n_head) != 0 {
                return Err(GgufError::BadTensor {
                    path: f.path.clone(),
                    tensor: info.name.clone(),
                    msg: format!("{rows} rows cannot be split into {n_head} heads of even size"),
                });
            }
            let cols = shape[1..].iter().product::<usize>().max(1);
            data = unpermute_rows(&data, rows, cols, n_head);
        }
        map.insert(name, HostTensor::new(shape, data));
    }
    Ok(map)
}

/// Extracts the tokenizer's vocabulary, merges, special ids and chat template.
pub fn tokenizer_from_metadata(f: &GgufFile) -> Result<GgufTokenizerData, GgufError> {
    let model_v = key(f, "tokenizer.ggml.model")?;
    let model = model_v.as_str().ok_or_else(|| wrong(f, "tokenizer.ggml.model", "a string", model_v))?.to_string();
    let strings = |k: &str, required: bool| -> Result<Vec<String>, GgufError> {
        let Some(v) = f.get(k) else {
            return if required {
                Err(GgufError::MissingKey { path: f.path.clone(), key: k.into() })
            } else {
                Ok(Vec::new())
            };
        };
        let arr = v.as_array().ok_or_else(|| wrong(f, k, "an array of strings", v))?;
        arr.iter()
            .map(|s| s.as_str().map(str::to_string).ok_or_else(|| wrong(f, k, "an array of strings", s)))
            .collect()
    };
    let tokens = strings("tokenizer.ggml.tokens", true)?;
    let merges = strings("tokenizer.ggml.merges", false)?;
    let token_types = match f.get("tokenizer.ggml.token_type") {
        None => vec![1; tokens.len()],
        Some(v) => {
            let arr = v.as_array().ok_or_else(|| wrong(f, "tokenizer.ggml.token_type", "an array of integers", v))?;
            arr.iter()
                .map(|t| {
                    t.as_i64()
                        .map(|x| x as i32)
                        .ok_or_else(|| wrong(f, "tokenizer.ggml.token_type", "an array of integers", t))
                })
                .collect::<Result<_, _>>()?
        }
    };
    let id = |k: &str| opt_usize(f, k).map(|o| o.map(|v| v as u32));
    let str_key = |k: &str| f.get(k).and_then(|v| v.as_str()).map(str::to_string);
    Ok(GgufTokenizerData {
        model,
        pre: str_key("tokenizer.ggml.pre"),
        tokens,
        token_types,
        merges,
        bos_id: id("tokenizer.ggml.bos_token_id")?,
        eos_id: id("tokenizer.ggml.eos_token_id")?,
        pad_id: id("tokenizer.ggml.padding_token_id")?,
        unk_id: id("tokenizer.ggml.unknown_token_id")?,
        add_bos: f.get("tokenizer.ggml.add_bos_token").and_then(|v| v.as_bool()).unwrap_or(false),
        chat_template: str_key("tokenizer.chat_template"),
    })
}

#[cfg(test)]
mod tests;
