//! The Llama decoder: token embedding, `num_hidden_layers` pre-norm blocks (RMSNorm ->
//! grouped-query attention -> residual, RMSNorm -> SwiGLU -> residual), a final RMSNorm and the
//! language-model head (tied to the embedding when `tie_word_embeddings`).
//!
//! The math follows Hugging Face's `LlamaForCausalLM` so that the same weights give the same
//! logits. Weights come in and go out through [`TensorMap`](super::weights::TensorMap) (see
//! `tensors.rs`); the forward passes take host-side [`Padding`] descriptions from which the
//! rotary positions and the attention masks follow, so left- or right-padded batches score the
//! same as unpadded rows.

use burn::module::Module;
use burn::nn::{Embedding, Linear, RmsNorm};
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};

use super::attention::{Attention, AttentionMask};
use super::cache::{KvCache, LayerCache};
use super::config::LlamaConfig;
use super::error::ModelError;
use super::fused::{self, fused_here};
use super::mask_convention;
use super::mlp::Mlp;
use super::project;
use super::rope::{Rope, RopeTables};

/// One pre-norm transformer block.
#[derive(Module, Debug)]
pub struct DecoderLayer {
    pub input_layernorm: RmsNorm,
    pub self_attn: Attention,
    pub post_attention_layernorm: RmsNorm,
    pub mlp: Mlp,
}

impl DecoderLayer {
    /// # Shapes
    /// - `x`: `[batch, len, hidden]` -> same
    fn forward(
        &self,
        x: Tensor<3>,
        rope: &RopeTables,
        mask: &AttentionMask,
        cache: Option<&mut LayerCache>,
    ) -> Tensor<3> {
        let normed = fused::rms_norm(&self.input_layernorm, x.clone());
        let h = x + self.self_attn.forward(normed, rope, mask, cache);
        h.clone() + self.mlp.forward(fused::rms_norm(&self.post_attention_layernorm, h))
    }
}

/// A Llama-architecture causal language model.
#[derive(Module, Debug)]
pub struct Llama {
    /// `[vocab, hidden]`.
    pub embed_tokens: Embedding,
    pub layers: Vec<DecoderLayer>,
    pub norm: RmsNorm,
    /// `[hidden, vocab]`; `None` when the head is tied to `embed_tokens`.
    pub lm_head: Option<Linear>,
    #[module(skip)]
    pub(super) config: LlamaConfig,
    #[module(skip)]
    pub(super) rope: Rope,
}

/// Which tokens of a `[batch, len]` block are real (`true`) and which are padding. Padding may
/// sit on either side; a real token's rotary position is the number of real tokens before it
/// in its row, as Hugging Face computes `position_ids` from the attention mask.
#[derive(Debug, Clone, PartialEq)]
pub struct Padding {
    batch: usize,
    len: usize,
    keep: Vec<bool>,
}

impl Padding {
    /// No padding at all.
    pub fn none(batch: usize, len: usize) -> Self {
        Self { batch, len, keep: vec![true; batch * len] }
    }

    /// From a row-major `[batch, len]` keep mask.
    pub fn from_keep(batch: usize, len: usize, keep: Vec<bool>) -> Result<Self, ModelError> {
        if keep.len() != batch * len {
            return Err(ModelError::InvalidInput(format!(
                "padding mask has {} entries, expected batch {batch} x len {len}",
                keep.len()
            )));
        }
        Ok(Self { batch, len, keep })
    }

    pub fn batch(&self) -> usize {
        self.batch
    }
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    pub fn keep(&self) -> &[bool] {
        &self.keep
    }
}

impl Llama {
    pub fn config(&self) -> &LlamaConfig {
        &self.config
    }

    /// The device the weights live on (with its autodiff setting).
    pub fn device(&self) -> Device {
        // The stored tensor's device: `val()` would apply the precision's cast to the table.
        self.embed_tokens.weight.device()
    }

    /// Logits for every position.
    ///
    /// # Shapes
    /// - `ids`: `[batch, len]`, `padding` of the same extent
    /// - output: `[batch, len, vocab]`
    pub fn forward(&self, ids: Tensor<2, Int>, padding: &Padding) -> Tensor<3> {
        self.lm_head(self.forward_hidden(ids, padding))
    }

    /// The final-normed hidden states, before the head: callers that need logits for only
    /// some positions (scoring responses, the last token of a prompt) slice first.
    ///
    /// # Shapes
    /// - `ids`: `[batch, len]` -> `[batch, len, hidden]`
    pub fn forward_hidden(&self, ids: Tensor<2, Int>, padding: &Padding) -> Tensor<3> {
        let [b, t] = ids.dims();
        assert_eq!([b, t], [padding.batch, padding.len], "ids and padding disagree in shape");
        let mut positions = Vec::with_capacity(b * t);
        for row in padding.keep.chunks(t.max(1)) {
            let mut next = 0i64;
            for &k in row {
                positions.push(next);
                next += k as i64;
            }
        }
        let device = ids.device();
        let mask = self.mask(&padding.keep, b, t, 0, &device);
        self.run_layers(ids, &positions, &mask, None)
    }

    /// The head: `[batch, len, hidden] -> [batch, len, vocab]`.
    pub fn lm_head(&self, hidden: Tensor<3>) -> Tensor<3> {
        match &self.lm_head {
            Some(head) => project::linear(head, hidden),
            None => project::by_transposed(hidden, self.embed_tokens.weight.val()),
        }
    }

    /// An empty cache for incremental decoding of `batch` rows.
    pub fn new_cache(&self, batch: usize) -> KvCache {
        KvCache::new(batch, self.layers.len())
    }

    /// Runs `len` new tokens per row on top of what `cache` holds and appends them to it.
    /// `keep` marks which new tokens are real (`false` for padding, e.g. the left padding of a
    /// prompt or the filler of a finished row).
    ///
    /// # Shapes
    /// - `ids`: `[batch, len]`, `keep`: `batch * len` row-major
    /// - output: `[batch, len, hidden]` (final-normed; apply [`Llama::lm_head`])
    pub fn forward_cached(
        &self,
        ids: Tensor<2, Int>,
        keep: &[bool],
        cache: &mut KvCache,
    ) -> Result<Tensor<3>, ModelError> {
        let [b, t] = ids.dims();
        if cache.batch() != b || keep.len() != b * t {
            return Err(ModelError::InvalidInput(format!(
                "cached step: ids [{b}, {t}], {} keep flags, cache of {} rows",
                keep.len(),
                cache.batch()
            )));
        }
        let seen = cache.seen();
        let mut positions = Vec::with_capacity(b * t);
        for (row, flags) in keep.chunks(t.max(1)).enumerate() {
            for &k in flags {
                positions.push(cache.next_pos[row]);
                cache.next_pos[row] += k as i64;
            }
            cache.keep[row].extend_from_slice(flags);
        }
        let key_keep: Vec<bool> = cache.keep.iter().flatten().copied().collect();
        let device = ids.device();
        let mask = self.mask(&key_keep, b, t, seen, &device);
        Ok(self.run_layers(ids, &positions, &mask, Some(&mut cache.layers)))
    }

    fn run_layers(
        &self,
        ids: Tensor<2, Int>,
        positions: &[i64],
        mask: &AttentionMask,
        caches: Option<&mut Vec<LayerCache>>,
    ) -> Tensor<3> {
        let [b, t] = ids.dims();
        let device = ids.device();
        let rope = self.rope.tables(positions, b, t, &device);
        let mut x = self.embed_tokens.forward(ids);
        match caches {
            Some(caches) => {
                for (layer, cache) in self.layers.iter().zip(caches.iter_mut()) {
                    x = layer.forward(x, &rope, mask, Some(cache));
                }
            }
            None => {
                for layer in &self.layers {
                    x = layer.forward(x, &rope, mask, None);
                }
            }
        }
        fused::rms_norm(&self.norm, x)
    }

    /// The attention mask for `t` new queries per row after `seen` cached positions, `true`
    /// where attention is forbidden: future keys, and padding keys. A query always sees its
    /// own key, so rows of padding never become fully masked (no NaNs; their outputs are
    /// ignored anyway).
    ///
    /// # Shapes
    /// - `key_keep`: `batch * (seen + t)` row-major
    /// - output: `[batch, t, seen + t]` where the fused kernels run, else `[batch, kv_heads,
    ///   rep * t, seen + t]`, the query heads of a group folded into the query axis (see
    ///   [`AttentionMask`])
    fn mask(&self, key_keep: &[bool], b: usize, t: usize, seen: usize, device: &Device) -> AttentionMask {
        let tk = seen + t;
        let mut mask = Vec::with_capacity(b * t * tk);
        for row in 0..b {
            let keys = &key_keep[row * tk..(row + 1) * tk];
            for i in 0..t {
                let q = seen + i;
                mask.extend((0..tk).map(|j| j > q || (j != q && !keys[j])));
            }
        }
        let nkv = self.config.kv_heads();
        let rep = self.config.num_attention_heads / nkv;
        let model_device = self.device();
        if fused_here(&model_device, self.norm.gamma.val().dtype()) {
            return AttentionMask::Fused(Tensor::from_data(TensorData::new(mask, [b, t, tk]), device));
        }
        let mask = Tensor::<4, Bool>::from_data(TensorData::new(mask, [b, 1, t, tk]), device);
        // As the backend's attention reads it. The model's device, not `device` (the ids'):
        // whether it is autodiff decides which attention runs.
        let mask = mask_convention::for_device(mask, &model_device);
        let mask = if rep > 1 { mask.repeat_dim(2, rep) } else { mask };
        AttentionMask::Folded(mask.expand([b, nkv, rep * t, tk]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_util::{ids, reference_logits, small_config, values};

    fn model(tied: bool) -> Llama {
        Llama::init_seeded(&small_config(tied), 7, &Device::flex()).unwrap()
    }

    #[test]
    fn forward_gives_logits_per_position() {
        let m = model(false);
        let out = m.forward(ids(&[&[1, 2, 3, 4, 5], &[6, 7, 8, 9, 10]], &m.device()), &Padding::none(2, 5));
        assert_eq!(out.dims(), [2, 5, 40]);
        assert!(values(out).iter().all(|v| v.is_finite()));
    }

    #[test]
    fn matches_the_host_reference_implementation() {
        for tied in [false, true] {
            let m = model(tied);
            let seq = [3u32, 17, 5, 39, 0, 22, 8];
            let got = values(m.forward(ids(&[&seq], &m.device()), &Padding::none(1, seq.len())));
            let want = reference_logits(m.config(), &m.to_tensors(), &seq);
            for (t, row) in want.iter().enumerate() {
                for (v, w) in row.iter().enumerate() {
                    let g = got[t * 40 + v] as f64;
                    assert!((g - w).abs() < 1e-4 * (1.0 + w.abs()), "tied={tied} t={t} v={v}: {g} vs {w}");
                }
            }
        }
    }

    #[test]
    fn later_tokens_do_not_change_earlier_logits() {
        let m = model(false);
        let a = values(m.forward(ids(&[&[1, 2, 3, 4, 5, 6]], &m.device()), &Padding::none(1, 6)));
        let b = values(m.forward(ids(&[&[1, 2, 3, 4, 30, 31]], &m.device()), &Padding::none(1, 6)));
        assert_eq!(a[..4 * 40], b[..4 * 40]);
        assert_ne!(a[4 * 40..], b[4 * 40..]);
    }

    #[test]
    fn left_and_right_padding_give_the_unpadded_logits() {
        let m = model(false);
        let short = [5u32, 6, 7];
        let long = [9u32, 10, 11, 12, 13];
        let alone = values(m.forward(ids(&[&short], &m.device()), &Padding::none(1, 3)));
        let long_alone = values(m.forward(ids(&[&long], &m.device()), &Padding::none(1, 5)));
        let pad = 0;
        // Right padding.
        let keep = [vec![true; 3], vec![false; 2], vec![true; 5]].concat();
        let right = values(
            m.forward(ids(&[&[5, 6, 7, pad, pad], &long], &m.device()), &Padding::from_keep(2, 5, keep).unwrap()),
        );
        // Left padding.
        let keep = [vec![false; 2], vec![true; 3], vec![true; 5]].concat();
        let left = values(
            m.forward(ids(&[&[pad, pad, 5, 6, 7], &long], &m.device()), &Padding::from_keep(2, 5, keep).unwrap()),
        );
        let close = |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-5);
        assert!(close(&right[..3 * 40], &alone));
        assert!(close(&left[2 * 40..5 * 40], &alone));
        assert!(close(&right[5 * 40..], &long_alone));
        assert!(close(&left[5 * 40..], &long_alone));
    }
}
