//! Grouped-query self-attention with rotary positions and an optional key/value cache.
//!
//! Query heads `g * rep .. (g + 1) * rep` share key/value head `g` (Hugging Face's
//! `repeat_kv`). Rather than copying each key/value head `rep` times, the `rep` query heads of
//! a group are folded into the query-length axis, `[B, H, T, D] -> [B, KV, rep * T, D]`, so
//! one attention call covers the group against its single key/value head. On flex in f32 the
//! fused kernel ([`super::fused::attention()`]) does the grouping itself and writes its output in
//! `[batch, len, heads, head_dim]`, which needs no transpose back. [`AttentionMask`] carries the
//! mask in the layout the chosen path reads.

use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::module::attention;
use burn::tensor::ops::AttentionModuleOptions;
use burn::tensor::{Bool, Tensor};

use super::cache::LayerCache;
use super::fused;
use super::project;
use super::rope::RopeTables;

/// Where a query may not attend (`true`), in the layout this device's attention reads.
#[derive(Debug, Clone)]
pub enum AttentionMask {
    /// `[batch, len, seen + len]`, for the fused kernel (flex, f32), the same for every head.
    Fused(Tensor<3, Bool>),
    /// `[batch, kv_heads, rep * len, seen + len]`: burn's `attention` over the folded query
    /// axis, in the backend's own mask convention (`super::mask_convention`).
    Folded(Tensor<4, Bool>),
}

#[derive(Module, Debug)]
pub struct Attention {
    /// `[hidden, heads * head_dim]`.
    pub q_proj: Linear,
    /// `[hidden, kv_heads * head_dim]`.
    pub k_proj: Linear,
    /// `[hidden, kv_heads * head_dim]`.
    pub v_proj: Linear,
    /// `[heads * head_dim, hidden]`.
    pub o_proj: Linear,
    pub n_heads: usize,
    pub n_kv_heads: usize,
    pub head_dim: usize,
}

impl Attention {
    /// # Shapes
    /// - `x`: `[batch, len, hidden]`
    /// - `rope`: tables for the `len` new positions
    /// - `mask`: see [`AttentionMask`]
    /// - output: `[batch, len, hidden]`
    pub fn forward(
        &self,
        x: Tensor<3>,
        rope: &RopeTables,
        mask: &AttentionMask,
        cache: Option<&mut LayerCache>,
    ) -> Tensor<3> {
        let [b, t, _] = x.dims();
        let (nh, nkv, hd) = (self.n_heads, self.n_kv_heads, self.head_dim);
        // Rotary positions with the head axis moved first: `[b, heads, t, hd]`.
        let q = rope.rotate_heads_first(project::linear(&self.q_proj, x.clone()).reshape([b, t, nh, hd]));
        let k = rope.rotate_heads_first(project::linear(&self.k_proj, x.clone()).reshape([b, t, nkv, hd]));
        let v = project::linear(&self.v_proj, x).reshape([b, t, nkv, hd]).swap_dims(1, 2);
        let (k, v) = match cache {
            Some(cache) => cache.append(k, v),
            None => (k, v),
        };
        let scale = 1.0 / (hd as f64).sqrt();
        let out = match mask {
            AttentionMask::Fused(mask) => {
                fused::attention(q, k, v, mask.clone(), scale as f32).reshape([b, t, nh * hd])
            }
            AttentionMask::Folded(mask) => {
                let rep = nh / nkv;
                let q = q.reshape([b, nkv, rep * t, hd]);
                let options = AttentionModuleOptions { scale: Some(scale), softcap: None, is_causal: false };
                let out = attention(q, k, v, Some(mask.clone()), None, options);
                out.reshape([b, nh, t, hd]).swap_dims(1, 2).reshape([b, t, nh * hd])
            }
        };
        project::linear(&self.o_proj, out)
    }
}
