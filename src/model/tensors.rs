//! Building a [`Llama`] from named host tensors and back: the bridge to Hugging Face files,
//! GGUF (after the loader un-permutes Q/K) and HF export, plus the two random inits.
//!
//! Names and layouts are Hugging Face's (see [`super::weights`]): linear weights arrive
//! `[out, in]` and are transposed on the host into burn's `[in, out]`; `to_tensors` transposes
//! back, so `from_tensors(to_tensors(m))` reproduces `m` bit for bit.

use std::collections::BTreeSet;

use burn::module::{Param, ParamId};
use burn::nn::{Embedding, Linear, RmsNorm};
use burn::tensor::{Device, Distribution, Tensor, TensorData};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};

use super::attention::Attention;
use super::config::LlamaConfig;
use super::error::ModelError;
use super::llama::{DecoderLayer, Llama};
use super::mlp::Mlp;
use super::rope::Rope;
use super::weights::{HostTensor, TensorMap};

/// Standard deviation of Hugging Face's Llama init (`initializer_range`).
const INIT_STD: f64 = 0.02;

/// Checks that `config` describes a model this implementation can build.
pub fn validate_config(c: &LlamaConfig) -> Result<(), ModelError> {
    let bad = |m: String| Err(ModelError::InvalidConfig(m));
    if c.vocab_size == 0 || c.hidden_size == 0 || c.intermediate_size == 0 || c.num_attention_heads == 0 {
        return bad("vocab_size, hidden_size, intermediate_size and num_attention_heads must be positive".into());
    }
    let kv = c.kv_heads();
    if kv == 0 || !c.num_attention_heads.is_multiple_of(kv) {
        return bad(format!(
            "num_attention_heads ({}) must be a multiple of num_key_value_heads ({kv})",
            c.num_attention_heads
        ));
    }
    if c.head_dim.is_none() && !c.hidden_size.is_multiple_of(c.num_attention_heads) {
        return bad(format!(
            "hidden_size ({}) is not divisible by num_attention_heads ({}); set head_dim",
            c.hidden_size, c.num_attention_heads
        ));
    }
    if !(c.rms_norm_eps > 0.0) {
        return bad(format!("rms_norm_eps must be positive, got {}", c.rms_norm_eps));
    }
    Rope::new(c).map(|_| ())
}

/// Every tensor name and Hugging Face shape the config calls for, in a fixed order.
pub fn expected_tensors(c: &LlamaConfig) -> Vec<(String, Vec<usize>)> {
    let (d, f, v) = (c.hidden_size, c.intermediate_size, c.vocab_size);
    let (q, kv) = (c.num_attention_heads * c.head_dim(), c.kv_heads() * c.head_dim());
    let mut out = vec![("model.embed_tokens.weight".to_string(), vec![v, d])];
    for i in 0..c.num_hidden_layers {
        let p = format!("model.layers.{i}");
        out.push((format!("{p}.input_layernorm.weight"), vec![d]));
        out.push((format!("{p}.self_attn.q_proj.weight"), vec![q, d]));
        out.push((format!("{p}.self_attn.k_proj.weight"), vec![kv, d]));
        out.push((format!("{p}.self_attn.v_proj.weight"), vec![kv, d]));
        out.push((format!("{p}.self_attn.o_proj.weight"), vec![d, q]));
        out.push((format!("{p}.post_attention_layernorm.weight"), vec![d]));
        out.push((format!("{p}.mlp.gate_proj.weight"), vec![f, d]));
        out.push((format!("{p}.mlp.up_proj.weight"), vec![f, d]));
        out.push((format!("{p}.mlp.down_proj.weight"), vec![d, f]));
    }
    out.push(("model.norm.weight".to_string(), vec![d]));
    if !c.tie_word_embeddings {
        out.push(("lm_head.weight".to_string(), vec![v, d]));
    }
    out
}

impl Llama {
    /// Builds the model from Hugging Face-named tensors. Errors name the first missing or
    /// misshapen tensor, or list tensors the architecture has no place for. With tied
    /// embeddings a present `lm_head.weight` is ignored (Hugging Face ties it too).
    pub fn from_tensors(config: &LlamaConfig, tensors: &TensorMap, device: &Device) -> Result<Self, ModelError> {
        validate_config(config)?;
        let expected = expected_tensors(config);
        let known: BTreeSet<&str> = expected.iter().map(|(n, _)| n.as_str()).collect();
        let unexpected: Vec<String> = tensors
            .keys()
            .filter(|n| {
                !known.contains(n.as_str())
                    && !n.ends_with("rotary_emb.inv_freq")
                    && !(config.tie_word_embeddings && n.as_str() == "lm_head.weight")
            })
            .cloned()
            .collect();
        if !unexpected.is_empty() {
            return Err(ModelError::UnexpectedTensors { names: unexpected });
        }
        assemble(config, device, |name, shape| {
            let t = tensors.get(name).ok_or_else(|| ModelError::MissingTensor { name: name.to_string() })?;
            check(name, t, shape)?;
            Ok(t.data.clone())
        })
    }

    /// Random init as Hugging Face does it (normal(0, 0.02) matrices, unit norms), drawn from
    /// `device`'s random stream: seed it with `device.seed(..)` for a reproducible model.
    pub fn init(config: &LlamaConfig, device: &Device) -> Result<Self, ModelError> {
        assemble(config, device, |name, shape| {
            if name.ends_with("norm.weight") {
                return Ok(vec![1.0; shape.iter().product()]);
            }
            let dist = Distribution::Normal(0.0, INIT_STD);
            Ok(host_vec(Tensor::<1>::random([shape.iter().product::<usize>()], dist, device)))
        })
    }

    /// Random init drawn on the host from a ChaCha stream: the same `seed` gives the same
    /// weights on every backend and machine.
    pub fn init_seeded(config: &LlamaConfig, seed: u64, device: &Device) -> Result<Self, ModelError> {
        Self::init_seeded_std(config, seed, INIT_STD, device)
    }

    /// [`Llama::init_seeded`] with matrices drawn from normal(0, `std`).
    pub fn init_seeded_std(config: &LlamaConfig, seed: u64, std: f64, device: &Device) -> Result<Self, ModelError> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        assemble(config, device, |name, shape| {
            let n = shape.iter().product();
            if name.ends_with("norm.weight") {
                return Ok(vec![1.0; n]);
            }
            Ok((0..n).map(|_| (normal(&mut rng) * std) as f32).collect())
        })
    }

    /// A model of the right structure with zero weights, for loading a record into.
    pub(super) fn zeros(config: &LlamaConfig, device: &Device) -> Result<Self, ModelError> {
        assemble(config, device, |_, shape| Ok(vec![0.0; shape.iter().product()]))
    }

    /// Every weight as a Hugging Face-named host tensor (the inverse of
    /// [`Llama::from_tensors`]); tied models carry no `lm_head.weight`.
    pub fn to_tensors(&self) -> TensorMap {
        let mut map = TensorMap::new();
        let mut put = |name: String, t: HostTensor| {
            map.insert(name, t);
        };
        put("model.embed_tokens.weight".into(), host(&self.embed_tokens.weight));
        for (i, l) in self.layers.iter().enumerate() {
            let p = format!("model.layers.{i}");
            put(format!("{p}.input_layernorm.weight"), host(&l.input_layernorm.gamma));
            put(format!("{p}.self_attn.q_proj.weight"), host_linear(&l.self_attn.q_proj));
            put(format!("{p}.self_attn.k_proj.weight"), host_linear(&l.self_attn.k_proj));
            put(format!("{p}.self_attn.v_proj.weight"), host_linear(&l.self_attn.v_proj));
            put(format!("{p}.self_attn.o_proj.weight"), host_linear(&l.self_attn.o_proj));
            put(format!("{p}.post_attention_layernorm.weight"), host(&l.post_attention_layernorm.gamma));
            put(format!("{p}.mlp.gate_proj.weight"), host_linear(&l.mlp.gate_proj));
            put(format!("{p}.mlp.up_proj.weight"), host_linear(&l.mlp.up_proj));
            put(format!("{p}.mlp.down_proj.weight"), host_linear(&l.mlp.down_proj));
        }
        put("model.norm.weight".into(), host(&self.norm.gamma));
        if let Some(head) = &self.lm_head {
            put("lm_head.weight".into(), host_linear(head));
        }
        map
    }
}

fn check(name: &str, t: &HostTensor, shape: &[usize]) -> Result<(), ModelError> {
    if t.shape != shape {
        return Err(ModelError::ShapeMismatch { name: name.into(), expected: shape.to_vec(), found: t.shape.clone() });
    }
    let n: usize = shape.iter().product();
    if t.data.len() != n {
        return Err(ModelError::DataLength {
            name: name.into(),
            shape: shape.to_vec(),
            expected: n,
            found: t.data.len(),
        });
    }
    Ok(())
}

/// Builds every module from a source of HF-layout data (`get(name, hf_shape)`).
fn assemble(
    c: &LlamaConfig,
    device: &Device,
    mut get: impl FnMut(&str, &[usize]) -> Result<Vec<f32>, ModelError>,
) -> Result<Llama, ModelError> {
    validate_config(c)?;
    let mut tensors = expected_tensors(c).into_iter();
    let mut next = |get: &mut dyn FnMut(&str, &[usize]) -> Result<Vec<f32>, ModelError>| {
        let (name, shape) = tensors.next().expect("expected_tensors covers every module");
        get(&name, &shape).map(|data| (name, data, shape))
    };
    let vector =
        |(name, data, shape): (String, Vec<f32>, Vec<usize>)| param(&name, TensorData::new(data, shape), device);
    let norm = |t: (String, Vec<f32>, Vec<usize>)| RmsNorm { gamma: vector(t), epsilon: c.rms_norm_eps };
    let lin = |(name, data, shape): (String, Vec<f32>, Vec<usize>)| {
        let (out, inp) = (shape[0], shape[1]);
        Linear { weight: param(&name, TensorData::new(transpose(&data, out, inp), [inp, out]), device), bias: None }
    };
    let (name, data, shape) = next(&mut get)?;
    let embed_tokens = Embedding { weight: param(&name, TensorData::new(data, shape), device) };
    let mut layers = Vec::with_capacity(c.num_hidden_layers);
    for _ in 0..c.num_hidden_layers {
        let input_layernorm = norm(next(&mut get)?);
        let (q_proj, k_proj, v_proj, o_proj) =
            (lin(next(&mut get)?), lin(next(&mut get)?), lin(next(&mut get)?), lin(next(&mut get)?));
        let post_attention_layernorm = norm(next(&mut get)?);
        let mlp =
            Mlp { gate_proj: lin(next(&mut get)?), up_proj: lin(next(&mut get)?), down_proj: lin(next(&mut get)?) };
        let self_attn = Attention {
            q_proj,
            k_proj,
            v_proj,
            o_proj,
            n_heads: c.num_attention_heads,
            n_kv_heads: c.kv_heads(),
            head_dim: c.head_dim(),
        };
        layers.push(DecoderLayer { input_layernorm, self_attn, post_attention_layernorm, mlp });
    }
    let final_norm = norm(next(&mut get)?);
    let lm_head = if c.tie_word_embeddings { None } else { Some(lin(next(&mut get)?)) };
    Ok(Llama { embed_tokens, layers, norm: final_norm, lm_head, config: c.clone(), rope: Rope::new(c)? })
}

/// A parameter whose id is derived from its Hugging Face name instead of drawn at random.
/// Checkpoints store each parameter's id (the optimizer's state is keyed by it), so with random
/// ids the same weights were written as different bytes on every run: a rerun's artifacts had
/// other digests although not one weight differed, which read as a non-reproducible run.
fn param<const D: usize>(name: &str, data: TensorData, device: &Device) -> Param<Tensor<D>> {
    let digest = Sha256::digest(name.as_bytes());
    let id = u64::from_le_bytes(digest[..8].try_into().expect("a sha256 digest has 32 bytes"));
    let mut p = Param::from_data(data, device);
    p.id = ParamId::from(id);
    p
}

/// Row-major `[rows, cols]` -> `[cols, rows]`.
fn transpose(data: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0f32; data.len()];
    for r in 0..rows {
        for (c, v) in data[r * cols..(r + 1) * cols].iter().enumerate() {
            out[c * rows + r] = *v;
        }
    }
    out
}

/// The stored weights (for a model computing in bf16, its f32 master copy, not the cast).
fn host<const D: usize>(p: &Param<Tensor<D>>) -> HostTensor {
    let t = p.base();
    HostTensor { shape: t.dims().to_vec(), data: host_vec(t) }
}

/// A tensor's values as f32 on the host (converted from the device's float type).
pub(crate) fn host_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_into_vec::<f32>().expect("f32 data after convert")
}

fn host_linear(l: &Linear) -> HostTensor {
    let HostTensor { shape, data } = host(&l.weight);
    let (inp, out) = (shape[0], shape[1]);
    HostTensor { shape: vec![out, inp], data: transpose(&data, inp, out) }
}

/// A standard normal draw (Box-Muller), so the init needs no extra crate.
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>(); // (0, 1]
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_util::small_config;

    #[test]
    fn to_tensors_then_from_tensors_is_bit_exact() {
        let device = Device::flex();
        for tied in [false, true] {
            let c = small_config(tied);
            let m = Llama::init_seeded(&c, 3, &device).unwrap();
            let map = m.to_tensors();
            assert_eq!(map.contains_key("lm_head.weight"), !tied);
            assert_eq!(map.len(), expected_tensors(&c).len());
            assert_eq!(map["model.layers.0.self_attn.k_proj.weight"].shape, vec![16, 32]);
            let again = Llama::from_tensors(&c, &map, &device).unwrap().to_tensors();
            assert_eq!(map, again);
        }
    }

    #[test]
    fn seeded_init_is_reproducible_and_seed_dependent() {
        let (c, device) = (small_config(false), Device::flex());
        let a = Llama::init_seeded(&c, 1, &device).unwrap().to_tensors();
        assert_eq!(a, Llama::init_seeded(&c, 1, &device).unwrap().to_tensors());
        assert_ne!(a, Llama::init_seeded(&c, 2, &device).unwrap().to_tensors());
        assert!(a["model.norm.weight"].data.iter().all(|v| *v == 1.0));
        device.seed(5);
        let d = Llama::init(&c, &device).unwrap().to_tensors();
        assert_eq!(d.len(), a.len());
    }

    #[test]
    fn errors_name_the_offending_tensor() {
        let (c, device) = (small_config(false), Device::flex());
        let map = Llama::init_seeded(&c, 1, &device).unwrap().to_tensors();

        let mut missing = map.clone();
        missing.remove("model.layers.1.mlp.up_proj.weight");
        let e = Llama::from_tensors(&c, &missing, &device).unwrap_err();
        assert!(e.to_string().contains("model.layers.1.mlp.up_proj.weight"), "{e}");

        let mut misshapen = map.clone();
        misshapen.get_mut("model.layers.0.self_attn.q_proj.weight").unwrap().shape = vec![16, 64];
        let e = Llama::from_tensors(&c, &misshapen, &device).unwrap_err();
        assert!(
            matches!(&e, ModelError::ShapeMismatch { name, .. } if name == "model.layers.0.self_attn.q_proj.weight"),
            "{e}"
        );

        let mut extra = map.clone();
        extra.insert("model.layers.0.self_attn.q_proj.bias".into(), HostTensor::new(vec![32], vec![0.0; 32]));
        let e = Llama::from_tensors(&c, &extra, &device).unwrap_err();
        assert!(e.to_string().contains("q_proj.bias"), "{e}");

        let mut bad = c.clone();
        bad.num_key_value_heads = Some(3);
        assert!(matches!(Llama::from_tensors(&bad, &map, &device), Err(ModelError::InvalidConfig(_))));
    }
}
