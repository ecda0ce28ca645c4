//! The SwiGLU feed-forward block of a Llama layer: `down(silu(gate(x)) * up(x))`.
//!
//! burn's `SwiGlu` module computes only `silu(inner(x)) * outer(x)` and names its weights
//! differently, so the three projections are kept as plain bias-free [`Linear`]s named like
//! Hugging Face's `gate_proj`, `up_proj`, `down_proj`.

use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::Tensor;

use super::fused;
use super::project;

#[derive(Module, Debug)]
pub struct Mlp {
    /// `[hidden, intermediate]` (burn stores `[in, out]`).
    pub gate_proj: Linear,
    /// `[hidden, intermediate]`.
    pub up_proj: Linear,
    /// `[intermediate, hidden]`.
    pub down_proj: Linear,
}

impl Mlp {
    /// # Shapes
    /// - `x`: `[batch, len, hidden]` -> `[batch, len, hidden]`
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let act = fused::swiglu(project::linear(&self.gate_proj, x.clone()), project::linear(&self.up_proj, x));
        project::linear(&self.down_proj, act)
    }
}
