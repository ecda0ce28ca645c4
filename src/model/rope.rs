//! Rotary position embedding in Hugging Face's half-split convention.
//!
//! Hugging Face's Llama rotates the pair `(x[i], x[i + d/2])` by the angle `pos * inv_freq[i]`
//! (`rotate_half`), not the interleaved pairs `(x[2i], x[2i+1])` that burn's built-in
//! `RotaryEncoding` uses; weights in the [`TensorMap`](super::weights::TensorMap) are laid out
//! for the half-split form. The tables are computed on the host for the exact positions of a
//! batch (left padding shifts them per row), then uploaded once per forward and shared by every
//! layer.

use burn::tensor::{Device, Tensor, TensorData};

use super::config::LlamaConfig;
use super::error::ModelError;
use super::fused::{self, fused_here};
use super::precision::cast_to;

/// The inverse frequencies of one model, `inv_freq[i] = 1 / theta^(2i/d)` for `i < d/2`,
/// optionally rescaled by Llama-3.1's `rope_type: llama3` rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rope {
    inv_freq: Vec<f32>,
}

impl Rope {
    /// Builds the frequencies for `config`; errors on an odd head size or an unsupported
    /// `rope_scaling.rope_type`.
    pub fn new(config: &LlamaConfig) -> Result<Self, ModelError> {
        let dim = config.head_dim();
        if dim == 0 || !dim.is_multiple_of(2) {
            return Err(ModelError::InvalidConfig(format!(
                "head_dim must be even and positive for rotary embeddings, got {dim}"
            )));
        }
        // As in transformers: the exponent is an f32 `arange(0, d, 2) / d`, the result f32.
        let mut inv_freq: Vec<f32> = (0..dim / 2)
            .map(|i| {
                let exponent = ((2 * i) as f32 / dim as f32) as f64;
                (1.0 / config.rope_theta.powf(exponent)) as f32
            })
            .collect();
        if let Some(scaling) = &config.rope_scaling {
            match scaling.rope_type.as_str() {
                "default" => {}
                "llama3" => llama3_scale(&mut inv_freq, scaling)?,
                other => {
                    return Err(ModelError::InvalidConfig(format!(
                        "rope_scaling.rope_type `{other}` is not supported (expected `llama3` or `default`)"
                    )));
                }
            }
        }
        Ok(Self { inv_freq })
    }

    pub fn inv_freq(&self) -> &[f32] {
        &self.inv_freq
    }

    /// Cos/sin tables for the given positions.
    ///
    /// # Shapes
    /// - `positions`: `batch * len` values, row-major `[batch, len]`
    /// - returned tables: `[batch, 1, len, head_dim]` (broadcast over heads)
    pub fn tables(&self, positions: &[i64], batch: usize, len: usize, device: &Device) -> RopeTables {
        debug_assert_eq!(positions.len(), batch * len);
        let half = self.inv_freq.len();
        let dim = 2 * half;
        // One row per distinct position (rows of a batch mostly share them), then copied out.
        let max_pos = positions.iter().copied().max().unwrap_or(0).max(0) as usize;
        let mut cos_rows = Vec::with_capacity((max_pos + 1) * dim);
        let mut sin_rows = Vec::with_capacity((max_pos + 1) * dim);
        let mut angles = vec![0f32; half];
        for pos in 0..=max_pos {
            // f32 product, as transformers' `inv_freq @ position_ids` in float32.
            for (a, f) in angles.iter_mut().zip(&self.inv_freq) {
                *a = f * pos as f32;
            }
            cos_rows.extend(angles.iter().map(|a| (*a as f64).cos() as f32));
            cos_rows.extend(angles.iter().map(|a| (*a as f64).cos() as f32));
            // The sign of `rotate_half` folded into the table: [-sin, sin].
            sin_rows.extend(angles.iter().map(|a| -((*a as f64).sin() as f32)));
            sin_rows.extend(angles.iter().map(|a| (*a as f64).sin() as f32));
        }
        let mut cos = Vec::with_capacity(batch * len * dim);
        let mut sin = Vec::with_capacity(batch * len * dim);
        for &pos in positions {
            let p = pos.max(0) as usize * dim;
            cos.extend_from_slice(&cos_rows[p..p + dim]);
            sin.extend_from_slice(&sin_rows[p..p + dim]);
        }
        let shape = [batch, 1, len, dim];
        RopeTables {
            cos: Tensor::from_data(TensorData::new(cos, shape), device),
            sin: Tensor::from_data(TensorData::new(sin, shape), device),
        }
    }
}

/// Llama-3.1 frequency rescaling (transformers' `_compute_llama3_parameters`): long
/// wavelengths are divided by `factor`, short ones kept, the band between interpolated.
fn llama3_scale(inv_freq: &mut [f32], s: &super::config::RopeScaling) -> Result<(), ModelError> {
    if s.factor <= 0.0 || s.high_freq_factor <= s.low_freq_factor || s.low_freq_factor <= 0.0 {
        return Err(ModelError::InvalidConfig(format!(
            "rope_scaling (llama3) needs factor > 0 and high_freq_factor > low_freq_factor > 0, got {s:?}"
        )));
    }
    let old = s.original_max_position_embeddings as f64;
    let low_freq_wavelen = old / s.low_freq_factor;
    let high_freq_wavelen = old / s.high_freq_factor;
    for f in inv_freq.iter_mut() {
        let freq = *f as f64;
        let wavelen = 2.0 * std::f64::consts::PI / freq;
        let scaled = if wavelen > low_freq_wavelen { freq / s.factor } else { freq };
        let out = if wavelen < high_freq_wavelen || wavelen > low_freq_wavelen {
            scaled
        } else {
            let smooth = (old / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
            (1.0 - smooth) * scaled / s.factor + smooth * scaled
        };
        *f = out as f32;
    }
    Ok(())
}

/// Per-batch cos/sin tables; see [`Rope::tables`].
#[derive(Debug, Clone)]
pub struct RopeTables {
    cos: Tensor<4>,
    sin: Tensor<4>,
}

impl RopeTables {
    /// [`RopeTables::apply`] to a projection's heads, which come in position-major: the fused
    /// kernel where [`fused_here`] (one pass, the transpose included), else a swap and `apply`.
    ///
    /// # Shapes
    /// - `x`: `[batch, len, heads, head_dim]` -> `[batch, heads, len, head_dim]`
    pub fn rotate_heads_first(&self, x: Tensor<4>) -> Tensor<4> {
        if !fused_here(&x.device(), x.dtype()) {
            return self.apply(x.swap_dims(1, 2));
        }
        let [b, _, t, d] = self.cos.dims();
        fused::rope(x, self.cos.clone().reshape([b, t, d]), self.sin.clone().reshape([b, t, d]))
    }

    /// `x * cos + rotate_half(x) * sin`, with `rotate_half(x) = [-x2, x1]`.
    ///
    /// # Shapes
    /// - `x`: `[batch, heads, len, head_dim]` -> same
    pub fn apply(&self, x: Tensor<4>) -> Tensor<4> {
        let d = x.dims()[3];
        let h = d / 2;
        let swapped = Tensor::cat(vec![x.clone().narrow(3, h, h), x.clone().narrow(3, 0, h)], 3);
        // The tables are f32; a bf16 forward multiplies in bf16.
        let dtype = x.dtype();
        x * cast_to(self.cos.clone(), dtype) + swapped * cast_to(self.sin.clone(), dtype)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::config::RopeScaling;

    fn cfg() -> LlamaConfig {
        serde_json::from_value(serde_json::json!({
            "vocab_size": 10, "hidden_size": 16, "intermediate_size": 32,
            "num_hidden_layers": 1, "num_attention_heads": 2, "rope_theta": 10000.0
        }))
        .unwrap()
    }

    #[test]
    fn inv_freq_follows_theta_power_law() {
        let rope = Rope::new(&cfg()).unwrap();
        assert_eq!(rope.inv_freq().len(), 4);
        assert_eq!(rope.inv_freq()[0], 1.0);
        assert!((rope.inv_freq()[1] - 0.1).abs() < 1e-7); // 10000^(-2/8)
    }

    #[test]
    fn llama3_scaling_divides_long_wavelengths_only() {
        let mut c = cfg();
        c.head_dim = Some(128);
        c.rope_theta = 500_000.0;
        let plain = Rope::new(&c).unwrap();
        c.rope_scaling = Some(RopeScaling {
            rope_type: "llama3".into(),
            factor: 8.0,
            low_freq_factor: 1.0,
            high_freq_factor: 4.0,
            original_max_position_embeddings: 8192,
        });
        let scaled = Rope::new(&c).unwrap();
        assert_eq!(plain.inv_freq()[0], scaled.inv_freq()[0]);
        let last = plain.inv_freq().len() - 1;
        assert!((scaled.inv_freq()[last] - plain.inv_freq()[last] / 8.0).abs() < 1e-12);
        c.rope_scaling.as_mut().unwrap().rope_type = "yarn".into();
        assert!(matches!(Rope::new(&c), Err(ModelError::InvalidConfig(_))));
    }

    #[test]
    fn rotation_matches_rotate_half_by_hand() {
        let device = Device::flex();
        let rope = Rope::new(&cfg()).unwrap();
        let tables = rope.tables(&[3], 1, 1, &device);
        let x: Vec<f32> = (0..8).map(|v| v as f32 + 1.0).collect();
        let out = tables
            .apply(Tensor::<4>::from_data(TensorData::new(x.clone(), [1, 1, 1, 8]), &device))
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        for i in 0..4 {
            let a = 3.0 * rope.inv_freq()[i] as f64;
            let (x1, x2) = (x[i] as f64, x[i + 4] as f64);
            assert!((out[i] as f64 - (x1 * a.cos() - x2 * a.sin())).abs() < 1e-5);
            assert!((out[i + 4] as f64 - (x2 * a.cos() + x1 * a.sin())).abs() < 1e-5);
        }
    }
}
