//! Hugging Face model directories: read `config.json`, `model.safetensors` (or shards listed in
//! `model.safetensors.index.json`) and `generation_config.json`; write a directory that
//! `transformers.AutoModelForCausalLM.from_pretrained` loads.
//!
//! Weights are converted to f32 on load (f32, f16, bf16 and f64 files are accepted) and written
//! as f32. Names and layouts are Hugging Face's already, so nothing is renamed or permuted.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use half::{bf16, f16};
use safetensors::{Dtype, SafeTensors, View};

use super::config::LlamaConfig;
use super::weights::{HostTensor, TensorMap};

#[derive(Debug, thiserror::Error)]
pub enum HfError {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{path}: invalid JSON for {what}: {source}")]
    Json { path: PathBuf, what: &'static str, source: serde_json::Error },
    #[error("{path}: not a valid safetensors file: {msg}")]
    Safetensors { path: PathBuf, msg: String },
    #[error("{path}: tensor `{tensor}` has dtype {dtype}; only F32, F16, BF16 and F64 are supported")]
    UnsupportedDtype { path: PathBuf, tensor: String, dtype: String },
    #[error("{dir} has neither model.safetensors nor model.safetensors.index.json")]
    NoWeights { dir: PathBuf },
    #[error("{path}: {msg}")]
    Invalid { path: PathBuf, msg: String },
}

/// A Hugging Face Llama checkpoint in memory.
#[derive(Debug, Clone)]
pub struct HfModel {
    pub config: LlamaConfig,
    pub tensors: TensorMap,
    /// End-of-sequence ids from `config.json` and `generation_config.json`, deduplicated.
    pub eos_ids: Vec<u32>,
}

fn read(path: &Path) -> Result<Vec<u8>, HfError> {
    std::fs::read(path).map_err(|source| HfError::Io { path: path.to_path_buf(), source })
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path, what: &'static str) -> Result<T, HfError> {
    let bytes = read(path)?;
    serde_json::from_slice(&bytes).map_err(|source| HfError::Json { path: path.to_path_buf(), what, source })
}

/// Parses `dir/config.json`.
pub fn load_config(dir: &Path) -> Result<LlamaConfig, HfError> {
    let path = dir.join("config.json");
    let mut raw: serde_json::Value = read_json(&path, "a Llama config")?;
    normalize_rope_parameters(&mut raw);
    let cfg: LlamaConfig = serde_json::from_value(raw).map_err(|source| HfError::Json {
        path: path.clone(),
        what: "a Llama config",
        source,
    })?;
    if cfg.num_attention_heads == 0
        || (!cfg.hidden_size.is_multiple_of(cfg.num_attention_heads) && cfg.head_dim.is_none())
    {
        return Err(HfError::Invalid {
            path,
            msg: format!(
                "hidden_size {} is not divisible by num_attention_heads {}",
                cfg.hidden_size, cfg.num_attention_heads
            ),
        });
    }
    if cfg.kv_heads() == 0 || !cfg.num_attention_heads.is_multiple_of(cfg.kv_heads()) {
        return Err(HfError::Invalid {
            path,
            msg: format!(
                "num_attention_heads {} is not a multiple of num_key_value_heads {}",
                cfg.num_attention_heads,
                cfg.kv_heads()
            ),
        });
    }
    Ok(cfg)
}

/// transformers 5 writes `rope_parameters: {rope_theta, rope_type, factor, ...}` instead of
/// the top-level `rope_theta` and `rope_scaling` that [`LlamaConfig`] (and transformers 4) use;
/// move them back. `rope_type: "default"` means no scaling.
fn normalize_rope_parameters(raw: &mut serde_json::Value) {
    let Some(obj) = raw.as_object_mut() else { return };
    let Some(serde_json::Value::Object(rp)) = obj.get("rope_parameters").cloned() else { return };
    if let Some(theta) = rp.get("rope_theta") {
        obj.entry("rope_theta").or_insert(theta.clone());
    }
    let kind = rp.get("rope_type").or_else(|| rp.get("type")).and_then(|t| t.as_str()).unwrap_or("default");
    if kind != "default" && obj.get("rope_scaling").is_none_or(|v| v.is_null()) {
        let mut scaling = rp.clone();
        scaling.remove("rope_theta");
        scaling.insert("rope_type".into(), serde_json::json!(kind));
        obj.insert("rope_scaling".into(), serde_json::Value::Object(scaling));
    }
}

/// The eos ids named by `dir/generation_config.json`, if that file exists.
pub fn generation_eos_ids(dir: &Path) -> Result<Vec<u32>, HfError> {
    let path = dir.join("generation_config.json");
    if !path.exists() {
        return Ok(Vec::new());
    }
    let v: serde_json::Value = read_json(&path, "a generation config")?;
    Ok(match v.get("eos_token_id") {
        Some(serde_json::Value::Number(n)) => n.as_u64().map(|x| vec![x as u32]).unwrap_or_default(),
        Some(serde_json::Value::Array(a)) => a.iter().filter_map(|x| x.as_u64()).map(|x| x as u32).collect(),
        _ => Vec::new(),
    })
}

/// Every tensor of `dir`'s checkpoint as f32: `model.safetensors`, or each shard named by
/// `model.safetensors.index.json`'s `weight_map`.
pub fn load_tensors(dir: &Path) -> Result<TensorMap, HfError> {
    let single = dir.join("model.safetensors");
    let index = dir.join("model.safetensors.index.json");
    let files: Vec<PathBuf> = if single.exists() {
        vec![single]
    } else if index.exists() {
        let v: serde_json::Value = read_json(&index, "a safetensors index")?;
        let map = v
            .get("weight_map")
            .and_then(|m| m.as_object())
            .ok_or_else(|| HfError::Invalid { path: index.clone(), msg: "missing object `weight_map`".into() })?;
        let mut shards = BTreeSet::new();
        for (tensor, file) in map {
            let file = file.as_str().ok_or_else(|| HfError::Invalid {
                path: index.clone(),
                msg: format!("weight_map[`{tensor}`] is not a file name"),
            })?;
            shards.insert(file.to_string());
        }
        shards.into_iter().map(|f| dir.join(f)).collect()
    } else {
        return Err(HfError::NoWeights { dir: dir.to_path_buf() });
    };
    let mut map = TensorMap::new();
    for file in files {
        read_safetensors_into(&file, &mut map)?;
    }
    Ok(map)
}

/// Reads one safetensors file's tensors into `map` as f32.
pub fn read_safetensors_into(path: &Path, map: &mut TensorMap) -> Result<(), HfError> {
    let bytes = read(path)?;
    let st = SafeTensors::deserialize(&bytes)
        .map_err(|e| HfError::Safetensors { path: path.to_path_buf(), msg: e.to_string() })?;
    for (name, view) in st.iter() {
        // Old checkpoints carry the rotary frequencies as a buffer; they are derived from the config.
        if name.ends_with("rotary_emb.inv_freq") {
            continue;
        }
        let raw = view.data();
        let data: Vec<f32> = match view.dtype() {
            Dtype::F32 => raw.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect(),
            Dtype::F16 => raw.chunks_exact(2).map(|c| f16::from_le_bytes([c[0], c[1]]).to_f32()).collect(),
            Dtype::BF16 => raw.chunks_exact(2).map(|c| bf16::from_le_bytes([c[0], c[1]]).to_f32()).collect(),
            Dtype::F64 => raw
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as f32)
                .collect(),
            other => {
                return Err(HfError::UnsupportedDtype {
                    path: path.to_path_buf(),
                    tensor: name.to_string(),
                    dtype: format!("{other:?}"),
                });
            }
        };
        map.insert(name.to_string(), HostTensor::new(view.shape().to_vec(), data));
    }
    Ok(())
}

/// Loads config, weights and eos ids of a Hugging Face Llama directory.
pub fn load_hf_dir(dir: &Path) -> Result<HfModel, HfError> {
    let config = load_config(dir)?;
    let tensors = load_tensors(dir)?;
    let mut eos_ids = config.eos_ids();
    for id in generation_eos_ids(dir)? {
        if !eos_ids.contains(&id) {
            eos_ids.push(id);
        }
    }
    Ok(HfModel { config, tensors, eos_ids })
}

/// `config.json` as `transformers` expects it: the Llama fields (nulls dropped) plus
/// `architectures`, `model_type` and `torch_dtype`.
pub fn config_json(cfg: &LlamaConfig) -> serde_json::Value {
    let mut v = serde_json::to_value(cfg).unwrap_or_default();
    if let Some(obj) = v.as_object_mut() {
        obj.retain(|_, x| !x.is_null());
        obj.insert("architectures".into(), serde_json::json!(["LlamaForCausalLM"]));
        obj.insert("model_type".into(), serde_json::json!("llama"));
        obj.insert("torch_dtype".into(), serde_json::json!("float32"));
        // transformers 5 reads `dtype`; 4.x reads `torch_dtype`.
        obj.insert("dtype".into(), serde_json::json!("float32"));
        obj.insert("hidden_act".into(), serde_json::json!("silu"));
    }
    v
}

/// A [`HostTensor`] as a safetensors f32 view; bytes are produced when the writer asks, so a
/// whole second copy of the model is never held.
struct F32View<'a>(&'a HostTensor);

impl View for F32View<'_> {
    fn dtype(&self) -> Dtype {
        Dtype::F32
    }
    fn shape(&self) -> &[usize] {
        &self.0.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Owned(self.0.data.iter().flat_map(|v| v.to_le_bytes()).collect())
    }
    fn data_len(&self) -> usize {
        self.0.data.len() * 4
    }
}

/// Writes `tensors` as one f32 safetensors file.
pub fn write_safetensors(path: &Path, tensors: &TensorMap) -> Result<(), HfError> {
    for (name, t) in tensors {
        if t.shape.iter().product::<usize>() != t.data.len() {
            return Err(HfError::Invalid {
                path: path.to_path_buf(),
                msg: format!("tensor `{name}` has shape {:?} but {} values", t.shape, t.data.len()),
            });
        }
    }
    let views = tensors.iter().map(|(k, t)| (k.as_str(), F32View(t)));
    safetensors::serialize_to_file(views, None, path)
        .map_err(|e| HfError::Safetensors { path: path.to_path_buf(), msg: e.to_string() })?;
    // The crate writes through a private temporary file (mode 0600); give it ordinary permissions.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644))
            .map_err(|source| HfError::Write { path: path.to_path_buf(), source })?;
    }
    Ok(())
}

/// Writes a Hugging Face directory: `config.json`, `model.safetensors` (f32) and the given
/// tokenizer files (`(file name, bytes)`, e.g. `tokenizer.json`, `tokenizer_config.json`).
///
/// Atomic: everything is written into a sibling temporary directory that is renamed onto `dir`;
/// an existing `dir` is replaced only after the new one is complete.
pub fn export_hf_dir(
    dir: &Path,
    cfg: &LlamaConfig,
    tensors: &TensorMap,
    tokenizer_files: &[(String, Vec<u8>)],
) -> Result<(), HfError> {
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = dir
        .file_name()
        .ok_or_else(|| HfError::Invalid { path: dir.to_path_buf(), msg: "not a directory name".into() })?;
    fn wr(path: &Path) -> impl FnOnce(std::io::Error) -> HfError + '_ {
        move |source| HfError::Write { path: path.to_path_buf(), source }
    }
    std::fs::create_dir_all(&parent).map_err(wr(&parent))?;
    let tmp = parent.join(format!(".{}.tmp-{}", name.to_string_lossy(), std::process::id()));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(wr(&tmp))?;
    }
    std::fs::create_dir(&tmp).map_err(wr(&tmp))?;
    let result = (|| {
        let cfg_path = tmp.join("config.json");
        let text = serde_json::to_string_pretty(&config_json(cfg)).unwrap_or_default();
        std::fs::write(&cfg_path, text).map_err(wr(&cfg_path))?;
        write_safetensors(&tmp.join("model.safetensors"), tensors)?;
        for (file, bytes) in tokenizer_files {
            if file.contains('/') || file.contains('\\') || file == ".." {
                return Err(HfError::Invalid {
                    path: tmp.join(file),
                    msg: "tokenizer file names must be plain names".into(),
                });
            }
            let p = tmp.join(file);
            std::fs::write(&p, bytes).map_err(wr(&p))?;
        }
        if dir.exists() {
            let old = parent.join(format!(".{}.old-{}", name.to_string_lossy(), std::process::id()));
            std::fs::rename(dir, &old).map_err(wr(dir))?;
            std::fs::rename(&tmp, dir).map_err(wr(dir))?;
            std::fs::remove_dir_all(&old).map_err(wr(&old))?;
        } else {
            std::fs::rename(&tmp, dir).map_err(wr(dir))?;
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> LlamaConfig {
        serde_json::from_value(serde_json::json!({
            "vocab_size": 5, "hidden_size": 4, "intermediate_size": 6, "num_hidden_layers": 1,
            "num_attention_heads": 2, "num_key_value_heads": 1, "eos_token_id": [3, 4],
            "tie_word_embeddings": true
        }))
        .unwrap()
    }

    #[test]
    fn export_then_load_round_trips() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("out");
        let mut t = TensorMap::new();
        t.insert(
            "model.embed_tokens.weight".into(),
            HostTensor::new(vec![5, 4], (0..20).map(|i| i as f32 * 0.5).collect()),
        );
        t.insert("model.norm.weight".into(), HostTensor::new(vec![4], vec![1.0, 2.0, 3.0, 4.0]));
        let files = vec![("tokenizer.json".to_string(), b"{}".to_vec())];
        export_hf_dir(&dir, &cfg(), &t, &files).unwrap();
        // A second export replaces the first.
        export_hf_dir(&dir, &cfg(), &t, &files).unwrap();
        let m = load_hf_dir(&dir).unwrap();
        assert_eq!(m.tensors, t);
        assert_eq!(m.config, cfg());
        assert_eq!(m.eos_ids, vec![3, 4]);
        let j: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("config.json")).unwrap()).unwrap();
        assert_eq!(j["architectures"][0], "LlamaForCausalLM");
        assert_eq!(j["model_type"], "llama");
        assert!(j.get("head_dim").is_none());
        assert_eq!(std::fs::read(dir.join("tokenizer.json")).unwrap(), b"{}");
        let leftovers: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "temporary directories left behind");
    }

    #[test]
    fn bf16_and_sharded_files_load() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        std::fs::write(d.join("config.json"), serde_json::to_vec(&config_json(&cfg())).unwrap()).unwrap();
        let a: Vec<u8> = [1.5f32, -2.0].iter().flat_map(|v| bf16::from_f32(*v).to_le_bytes()).collect();
        let b: Vec<u8> = [0.25f32].iter().flat_map(|v| f16::from_f32(*v).to_le_bytes()).collect();
        let va = safetensors::tensor::TensorView::new(Dtype::BF16, vec![2], &a).unwrap();
        let vb = safetensors::tensor::TensorView::new(Dtype::F16, vec![1, 1], &b).unwrap();
        safetensors::serialize_to_file([("a", va)], None, &d.join("s1.safetensors")).unwrap();
        safetensors::serialize_to_file([("b", vb)], None, &d.join("s2.safetensors")).unwrap();
        std::fs::write(
            d.join("model.safetensors.index.json"),
            r#"{"weight_map": {"a": "s1.safetensors", "b": "s2.safetensors"}}"#,
        )
        .unwrap();
        std::fs::write(d.join("generation_config.json"), r#"{"eos_token_id": 7}"#).unwrap();
        let m = load_hf_dir(d).unwrap();
        assert_eq!(m.tensors["a"].data, vec![1.5, -2.0]);
        assert_eq!(m.tensors["b"].shape, vec![1, 1]);
        assert_eq!(m.tensors["b"].data, vec![0.25]);
        assert_eq!(m.eos_ids, vec![3, 4, 7]);
    }

    #[test]
    fn errors_name_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        let err = load_hf_dir(tmp.path()).err().unwrap().to_string();
        assert!(err.contains("config.json"), "{err}");
        std::fs::write(tmp.path().join("config.json"), b"{\"vocab_size\": 3}").unwrap();
        let err = load_hf_dir(tmp.path()).err().unwrap().to_string();
        assert!(err.contains("config.json") && err.contains("hidden_size"), "{err}");
        std::fs::write(tmp.path().join("config.json"), serde_json::to_vec(&config_json(&cfg())).unwrap()).unwrap();
        let err = load_hf_dir(tmp.path()).err().unwrap().to_string();
        assert!(err.contains("model.safetensors"), "{err}");
        std::fs::write(tmp.path().join("model.safetensors"), b"garbage").unwrap();
        let err = load_hf_dir(tmp.path()).err().unwrap().to_string();
        assert!(err.contains("model.safetensors") && err.contains("safetensors"), "{err}");
    }
}
