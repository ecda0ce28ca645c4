//! The model's fused kernels on the CPU: attention, rotary positions, the SwiGLU activation and
//! RMSNorm, each
//! one pass over its data forward and backward instead of burn's chain of small ops.
//!
//! Why: on flex a training step spent most of its time outside the matrix products (README
//! "Speed on the CPU": `exp` through libm 23%, allocation and copies 12%, attention's
//! decomposition about ten passes over the scores each way). burn's backend extensions
//! (`#[backend_extension]`) let a model call its own op on a backend and, through autodiff, its
//! own backward; this module is that op set for flex and for autodiff over flex.
//!
//! Every other backend (libtorch, CUDA) keeps burn's own ops: [`swiglu()`] and [`rms_norm()`]
//! ask [`fused_here`] and fall back themselves; [`attention()`] and [`rope()`] are called only
//! where it holds (their callers, [`super::attention::Attention`] and
//! [`super::rope::RopeTables::rotate_heads_first`], keep burn's path for the rest), so the same
//! model code runs everywhere. The f32 kernels are in [`mod@attention`], [`mod@rope`],
//! [`mod@swiglu`] and [`mod@rms_norm`] (each tested against an f64 reference and finite
//! differences); `flex.rs` moves tensors to and from them, `autodiff.rs` registers the backward
//! passes.

pub mod attention;
mod autodiff;
mod flex;
pub mod rms_norm;
pub mod rope;
pub mod simd;
pub mod swiglu;

use burn::backend::tensor::{BoolTensor, FloatTensor};
use burn::backend::{Backend, Dispatch, DispatchDevice, backend_extension};
use burn::tensor::{Bool, DType, Device, Tensor};

/// The fused ops. The `*_forward` / `*_backward` methods are the inner backend's halves that
/// the autodiff implementation calls; models call the public functions of this module.
#[backend_extension(Flex, Autodiff)]
pub trait FusedOps: Backend {
    /// Attention without keeping probabilities (inference).
    /// `q`: `[batch, heads, q_len, head_dim]`; `k`, `v`: `[batch, kv_heads, k_len, head_dim]`;
    /// `mask`: `[batch, q_len, k_len]`, `true` = may not attend.
    /// Output: `[batch, q_len, heads, head_dim]`.
    fn fused_attention(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
        mask: BoolTensor<Self>,
        scale: f32,
    ) -> FloatTensor<Self>;

    /// As [`FusedOps::fused_attention`], and the probabilities `[batch, heads, q_len, k_len]`.
    fn attention_forward(
        _q: FloatTensor<Self>,
        _k: FloatTensor<Self>,
        _v: FloatTensor<Self>,
        _mask: BoolTensor<Self>,
        _scale: f32,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        unreachable!("called by the autodiff node on its inner backend only")
    }

    /// `(d_q, d_k, d_v)` from the output's gradient `d_out` (`[batch, q_len, heads, head_dim]`).
    fn attention_backward(
        _q: FloatTensor<Self>,
        _k: FloatTensor<Self>,
        _v: FloatTensor<Self>,
        _mask: BoolTensor<Self>,
        _probs: FloatTensor<Self>,
        _d_out: FloatTensor<Self>,
        _scale: f32,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        unreachable!("called by the autodiff node on its inner backend only")
    }

    /// Rotary positions, the head axis moved in front of the positions: `x` `[batch, len,
    /// heads, d]`, `cos`, `sin` `[batch, len, d]` (constants) -> `[batch, heads, len, d]`.
    fn fused_rope(x: FloatTensor<Self>, cos: FloatTensor<Self>, sin: FloatTensor<Self>) -> FloatTensor<Self>;

    /// `d_x` (`[batch, len, heads, d]`) from `d_out` (`[batch, heads, len, d]`).
    fn rope_backward(_d_out: FloatTensor<Self>, _cos: FloatTensor<Self>, _sin: FloatTensor<Self>) -> FloatTensor<Self> {
        unreachable!("called by the autodiff node on its inner backend only")
    }

    /// `silu(gate) * up`, elementwise, any shape.
    fn fused_swiglu(gate: FloatTensor<Self>, up: FloatTensor<Self>) -> FloatTensor<Self>;

    /// `(d_gate, d_up)`.
    fn swiglu_backward(
        _gate: FloatTensor<Self>,
        _up: FloatTensor<Self>,
        _d_out: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        unreachable!("called by the autodiff node on its inner backend only")
    }

    /// RMSNorm of `x` (`[..., n]`) scaled by `w` (`[n]`).
    fn fused_rms_norm(x: FloatTensor<Self>, w: FloatTensor<Self>, eps: f32) -> FloatTensor<Self>;

    /// As [`FusedOps::fused_rms_norm`], and each row's `1 / rms` (`[rows]`).
    fn rms_norm_forward(
        _x: FloatTensor<Self>,
        _w: FloatTensor<Self>,
        _eps: f32,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        unreachable!("called by the autodiff node on its inner backend only")
    }

    /// `(d_x, d_w)`.
    fn rms_norm_backward(
        _x: FloatTensor<Self>,
        _w: FloatTensor<Self>,
        _inv_rms: FloatTensor<Self>,
        _d_out: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        unreachable!("called by the autodiff node on its inner backend only")
    }
}

/// Whether the fused kernels serve a tensor on `device` of type `dtype`: flex, with or without
/// autodiff, in f32. Elsewhere callers use burn's ops.
pub fn fused_here(device: &Device, dtype: DType) -> bool {
    let flex = match device.as_dispatch() {
        DispatchDevice::Flex(_) => true,
        DispatchDevice::Autodiff(inner) => matches!(&**inner, DispatchDevice::Flex(_)),
        #[allow(unreachable_patterns)]
        _ => false,
    };
    flex && dtype == DType::F32
}

/// Fused attention; see [`FusedOps::fused_attention`] for shapes. Only where [`fused_here`].
pub fn attention(q: Tensor<4>, k: Tensor<4>, v: Tensor<4>, mask: Tensor<3, Bool>, scale: f32) -> Tensor<4> {
    Tensor::from_dispatch(<Dispatch as FusedOps>::fused_attention(
        q.into_dispatch(),
        k.into_dispatch(),
        v.into_dispatch(),
        mask.into_dispatch(),
        scale,
    ))
}

/// Rotary positions with the head axis moved first; see [`FusedOps::fused_rope`] for shapes.
/// Only where [`fused_here`] (callers: [`super::rope::RopeTables::rotate_heads_first`]).
pub fn rope(x: Tensor<4>, cos: Tensor<3>, sin: Tensor<3>) -> Tensor<4> {
    Tensor::from_dispatch(<Dispatch as FusedOps>::fused_rope(
        x.into_dispatch(),
        cos.into_dispatch(),
        sin.into_dispatch(),
    ))
}

/// `silu(gate) * up`, fused where [`fused_here`], burn's ops elsewhere.
pub fn swiglu<const D: usize>(gate: Tensor<D>, up: Tensor<D>) -> Tensor<D> {
    if !fused_here(&gate.device(), gate.dtype()) {
        return burn::tensor::activation::silu(gate) * up;
    }
    Tensor::from_dispatch(<Dispatch as FusedOps>::fused_swiglu(gate.into_dispatch(), up.into_dispatch()))
}

/// burn's [`burn::nn::RmsNorm`], fused where [`fused_here`].
pub fn rms_norm<const D: usize>(norm: &burn::nn::RmsNorm, x: Tensor<D>) -> Tensor<D> {
    let gamma = norm.gamma.val();
    if !fused_here(&x.device(), x.dtype()) || gamma.dtype() != DType::F32 {
        return norm.forward(x);
    }
    Tensor::from_dispatch(<Dispatch as FusedOps>::fused_rms_norm(
        x.into_dispatch(),
        gamma.into_dispatch(),
        norm.epsilon as f32,
    ))
}

#[cfg(test)]
mod tests;
