//! The global L2 norm of a module's gradients, logged per step, and clipping to a maximum
//! global norm (`[train] max_grad_norm`).
//!
//! Clipping is PyTorch's `clip_grad_norm_` over all parameters at once, which Hugging Face's
//! Trainer applies with `max_grad_norm = 1.0` unless told otherwise: every gradient is scaled by
//! `min(1, max_norm / (norm + 1e-6))`, so the update keeps its direction and its global norm
//! becomes (just under) `max_norm`. The paper does not mention clipping; it is off by default.

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;

/// PyTorch's guard against a zero norm in `clip_grad_norm_`.
const EPS: f64 = 1e-6;

struct SquaredNorm<'a> {
    grads: &'a GradientsParams,
    sum: f64,
}

impl ModuleVisitor for SquaredNorm<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(g) = self.grads.get::<D>(param.id) {
            let s: f32 = g.square().sum().into_scalar::<f32>();
            self.sum += s as f64;
        }
    }
}

/// `sqrt(sum over parameters of |grad|^2)`.
pub fn grad_norm<M: Module>(module: &M, grads: &GradientsParams) -> f64 {
    let mut v = SquaredNorm { grads, sum: 0.0 };
    module.visit(&mut v);
    v.sum.sqrt()
}

struct Scale<'a> {
    grads: &'a mut GradientsParams,
    factor: f64,
}

impl ModuleVisitor for Scale<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(g) = self.grads.remove::<D>(param.id) {
            self.grads.register(param.id, g.mul_scalar(self.factor));
        }
    }
}

/// The factor `clip_grad_norm_` scales the gradients by: `min(1, max_norm / (norm + 1e-6))`.
pub fn clip_factor(norm: f64, max_norm: f64) -> f64 {
    (max_norm / (norm + EPS)).min(1.0)
}

/// Scales `grads` (whose global norm is `norm`, from [`grad_norm`]) to a global norm of at most
/// `max_norm`; gradients already within it are returned as they are.
pub fn clip_grad_norm<M: Module>(module: &M, mut grads: GradientsParams, norm: f64, max_norm: f64) -> GradientsParams {
    let factor = clip_factor(norm, max_norm);
    if factor < 1.0 {
        module.visit(&mut Scale { grads: &mut grads, factor });
    }
    grads
}

#[cfg(test)]
mod tests {
    use burn::module::Module;
    use burn::nn::{Linear, LinearConfig};
    use burn::tensor::{Device, Tensor, TensorData};

    use super::*;

    /// A 2x2 linear layer with weight gradient `[[1, 2], [2, 0]]` (squares sum to 9) and bias
    /// gradient `[0, 4]` (16): global norm 5.
    fn layer_and_grads() -> (Linear, GradientsParams) {
        let device = Device::flex();
        let layer = LinearConfig::new(2, 2).init(&device);
        let mut grads = GradientsParams::new();
        grads.register(layer.weight.id, Tensor::<2>::from_data(TensorData::from([[1.0f32, 2.0], [2.0, 0.0]]), &device));
        let bias = layer.bias.as_ref().expect("bias");
        grads.register(bias.id, Tensor::<1>::from_data(TensorData::from([0.0f32, 4.0]), &device));
        (layer, grads)
    }

    fn values<const D: usize>(grads: &GradientsParams, id: burn::module::ParamId) -> Vec<f32> {
        grads.get::<D>(id).expect("gradient").into_data().try_to_vec::<f32>().expect("f32")
    }

    #[test]
    fn clipping_scales_to_the_maximum_global_norm() {
        let (layer, grads) = layer_and_grads();
        let norm = grad_norm(&layer, &grads);
        assert!((norm - 5.0).abs() < 1e-6, "{norm}");
        // max 2: factor 2 / (5 + 1e-6) = 0.39999992; weight [[0.4, 0.8], [0.8, 0]], bias [0, 1.6].
        let factor = clip_factor(norm, 2.0);
        assert!((factor - 2.0 / 5.000001).abs() < 1e-12);
        let clipped = clip_grad_norm(&layer, grads, norm, 2.0);
        let w = values::<2>(&clipped, layer.weight.id);
        let b = values::<1>(&clipped, layer.bias.as_ref().unwrap().id);
        for (got, want) in w.iter().chain(&b).zip([0.4, 0.8, 0.8, 0.0, 0.0, 1.6]) {
            assert!((*got as f64 - want).abs() < 1e-6, "{w:?} {b:?}");
        }
        assert!((grad_norm(&layer, &clipped) - 2.0).abs() < 1e-5);
        assert_eq!(layer.num_params(), 6);
    }

    #[test]
    fn gradients_within_the_maximum_are_untouched() {
        let (layer, grads) = layer_and_grads();
        let clipped = clip_grad_norm(&layer, grads, 5.0, 10.0);
        assert_eq!(values::<2>(&clipped, layer.weight.id), [1.0, 2.0, 2.0, 0.0]);
        assert_eq!(clip_factor(5.0, 10.0), 1.0);
    }
}
