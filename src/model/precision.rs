//! Numeric precision of a model's compute: `f32`, or `bf16` with f32 master weights.
//!
//! burn 0.22 has no autocast, and a device's default float dtype is one setting for the whole
//! process (every task sharing the CPU would get it). So bf16 here is per model, through burn's
//! parameter reparameterization: each float parameter stays an f32 tensor (the *base*, which the
//! optimizer updates and checkpoints store), and every read of it (`Param::val`) casts it to bf16.
//! The forward pass therefore runs in bf16 (matmuls, attention, norms, activations), the cast's
//! backward brings the gradient back to f32, and the log-softmax over the vocabulary and every
//! loss run in f32 because [`super::score`] casts the logits up first. This is the usual mixed
//! precision recipe (PyTorch's autocast with f32 parameters):
//!
//! | what | dtype |
//! |---|---|
//! | parameters (master copy), gradients, RMSProp state, checkpoints | f32 |
//! | weights as used by the forward, activations, attention, KV cache | bf16 |
//! | logits -> log-softmax -> log-probs, rewards, losses | f32 |
//!
//! Pure bf16 weights would halve the memory of parameters but lose updates: at the paper's
//! learning rates (1e-6 and below) an RMSProp step is far below bf16's 8-bit mantissa.

use burn::module::{Module, Param, Reparameterization, Reparameterizer};
use burn::tensor::{DType, FloatDType, Tensor};
use serde::{Deserialize, Serialize};

use super::llama::Llama;

/// What a run computes in; `[train] precision` in a grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    #[default]
    F32,
    /// bf16 compute with f32 master weights (see the module docs).
    Bf16,
}

impl Precision {
    /// For `skip_serializing_if`: an f32 run's task key is what it was before precision existed.
    pub fn is_f32(&self) -> bool {
        *self == Precision::F32
    }

    /// The dtype of activations.
    pub fn compute_dtype(self) -> FloatDType {
        match self {
            Precision::F32 => FloatDType::F32,
            Precision::Bf16 => FloatDType::BF16,
        }
    }

    /// Bytes per element of the weights the forward uses (and of activations).
    pub fn compute_bytes(self) -> u64 {
        match self {
            Precision::F32 => 4,
            Precision::Bf16 => 2,
        }
    }

    /// Makes `model` compute in this precision. A no-op for f32; for bf16 it attaches the
    /// casting reparameterization, so the model must not already carry one.
    pub fn apply(self, model: Llama) -> Llama {
        match self {
            Precision::F32 => model,
            Precision::Bf16 => model.apply_reparameterization(CastTo { dtype: FloatDType::BF16 }),
        }
    }
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Precision::F32 => "f32",
            Precision::Bf16 => "bf16",
        })
    }
}

/// The reparameterization: `val() = base.cast(dtype)`. No parameters of its own.
#[derive(Module, Debug)]
pub struct ComputeCast {
    #[module(skip)]
    dtype: DTypeTag,
}

/// `FloatDType` as a plain value the module derive can skip over.
#[derive(Debug, Clone, Copy)]
struct DTypeTag(FloatDType);

impl Reparameterization for ComputeCast {
    const NAME: &'static str = "compute_cast";

    fn apply<const D: usize>(&self, base: Tensor<D>) -> Tensor<D> {
        base.cast(self.dtype.0)
    }
}

/// Attaches [`ComputeCast`] to every float parameter.
struct CastTo {
    dtype: FloatDType,
}

impl Reparameterizer for CastTo {
    type Reparam = ComputeCast;

    fn reparameterize<const D: usize>(
        &mut self,
        _path: &str,
        param: Param<Tensor<D>>,
    ) -> (Param<Tensor<D>>, Option<ComputeCast>) {
        (param, Some(ComputeCast { dtype: DTypeTag(self.dtype) }))
    }
}

/// `t` in f32 (a no-op when it already is): where the forward's output enters the log-softmax.
pub fn to_f32<const D: usize>(t: Tensor<D>) -> Tensor<D> {
    cast_to(t, DType::F32)
}

/// `t` in `dtype`, untouched when it already is: where an f32 constant (rotary tables) meets
/// activations of the model's compute dtype.
pub fn cast_to<const D: usize>(t: Tensor<D>, dtype: DType) -> Tensor<D> {
    if t.dtype() == dtype { t } else { t.cast(FloatDType::from(dtype)) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::score::{ScoreBatch, Truncation, sequence_logps};
    use crate::model::test_util::{small_config, values};
    use burn::optim::{GradientsParams, RmsPropConfig};
    use burn::tensor::Device;

    fn batch() -> ScoreBatch {
        ScoreBatch::from_ids(
            &[(vec![1u32, 2, 3], vec![4u32, 5, 6, 7]), (vec![8u32], vec![9u32, 10])],
            Truncation::default(),
            0,
        )
        .unwrap()
    }

    /// Five RMSProp steps on `-sum logps`, returning the losses and the final weights' dtype.
    fn train(precision: Precision) -> (Vec<f32>, DType) {
        let device = Device::flex().autodiff();
        let mut m = precision.apply(Llama::init_seeded(&small_config(false), 11, &device).unwrap());
        let mut optim = RmsPropConfig::new().with_alpha(0.99).with_epsilon(1e-8).with_momentum(0.0).init();
        let mut losses = Vec::new();
        for _ in 0..5 {
            let loss = sequence_logps(&m, &batch()).sum.neg().mean();
            assert_eq!(loss.dtype(), DType::F32, "the loss is computed in f32");
            losses.push(values(loss.clone())[0]);
            let grads = GradientsParams::from_grads(loss.backward(), &m);
            m = optim.step(1e-3, m, grads);
        }
        (losses, m.embed_tokens.weight.base().dtype())
    }

    #[test]
    fn bf16_compute_tracks_f32_and_keeps_f32_master_weights() {
        let (f32_losses, f32_dtype) = train(Precision::F32);
        let (bf16_losses, bf16_dtype) = train(Precision::Bf16);
        assert_eq!(f32_dtype, DType::F32);
        assert_eq!(bf16_dtype, DType::F32, "the optimizer updates f32 master weights");
        eprintln!("f32 losses {f32_losses:?}\nbf16 losses {bf16_losses:?}");
        assert!(bf16_losses[4] < bf16_losses[0] - 1.0, "bf16 training did not learn: {bf16_losses:?}");
        for (a, b) in f32_losses.iter().zip(&bf16_losses) {
            // bf16 keeps 8 bits of mantissa: relative error ~ 2^-8 per op, accumulated.
            assert!((a - b).abs() < 0.02 * a.abs().max(1.0), "f32 {f32_losses:?} vs bf16 {bf16_losses:?}");
        }
    }

    /// A checkpoint of a bf16-computing model holds its f32 master weights, bit for bit, and
    /// loads as a plain f32 model.
    #[test]
    fn checkpoints_store_the_f32_master_weights() {
        let device = Device::flex();
        let plain = Llama::init_seeded(&small_config(false), 3, &device).unwrap();
        let want = plain.to_tensors();
        let bf16 = Precision::Bf16.apply(plain);
        let dir = tempfile::tempdir().unwrap();
        crate::model::checkpoint::save(dir.path(), &bf16, None, &serde_json::Value::Null).unwrap();
        let loaded = crate::model::checkpoint::load(dir.path(), &device).unwrap().model;
        assert_eq!(loaded.embed_tokens.weight.val().dtype(), DType::F32);
        assert!(loaded.to_tensors() == want, "the checkpoint differs from the master weights");
        assert!(bf16.to_tensors() == want, "to_tensors (export) reads the master weights, not the bf16 cast");
    }
}
