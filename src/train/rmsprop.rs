//! PyTorch's RMSProp (no momentum, not centered, no weight decay) as one pass over each
//! parameter on flex, in place where the parameter's buffer is not shared.
//!
//! burn's `RmsProp` makes about nine passes per parameter, several into fresh buffers
//! (square, two scalings, a sum, a square root, a shift, a division, a scaling, a
//! subtraction): 0.38 s of a 1.8 s SmolLM2-135M step on one core. The arithmetic here is the
//! same per element, in the same order:
//! `s = alpha * s + (1 - alpha) * g^2`, `p = p - lr * (g / (sqrt(s) + eps))`.
//!
//! The state is burn's [`RmsPropState`] (its centred average the square average, no
//! momentum), as burn's own optimizer keeps it, so checkpoints written by either resume with
//! the other. Other backends run the same formula through burn's ops.

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, DispatchDevice, backend_extension};
use burn::optim::{CenteredState, LearningRate, Optimizer, RmsPropState, SquareAvgState};
use burn::tensor::{DType, Device, Tensor};
use rayon::prelude::*;

use crate::model::fused::simd::vectorised;

/// RMSProp as [`burn::optim::RmsPropConfig`] builds it with momentum 0, not centred, no
/// weight decay.
#[derive(Debug, Clone, Copy)]
pub struct FusedRmsProp {
    pub alpha: f32,
    pub epsilon: f32,
}

impl Optimizer for FusedRmsProp {
    type State<const D: usize> = RmsPropState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let square_avg = state.map(|s| s.square_avg.square_avg);
        let (tensor, square_avg) = step(tensor, grad, square_avg, lr as f32, self.alpha, self.epsilon);
        let state =
            RmsPropState::new(SquareAvgState::new(square_avg.clone()), CenteredState::new(None, square_avg), None);
        (tensor, Some(state))
    }

    fn to_device<const D: usize>(mut state: Self::State<D>, device: &Device) -> Self::State<D> {
        state.square_avg = state.square_avg.to_device(device);
        state.centered = state.centered.to_device(device);
        state
    }
}

/// One update of `param` and its square average (`None` before the first step).
fn step<const D: usize>(
    param: Tensor<D>,
    grad: Tensor<D>,
    square_avg: Option<Tensor<D>>,
    lr: f32,
    alpha: f32,
    eps: f32,
) -> (Tensor<D>, Tensor<D>) {
    let flex = matches!(param.device().as_dispatch(), DispatchDevice::Flex(_));
    if !flex || param.dtype() != DType::F32 || grad.dtype() != DType::F32 {
        let square_avg = match square_avg {
            Some(s) => s.mul_scalar(alpha).add(grad.clone().square().mul_scalar(1.0 - alpha)),
            None => grad.clone().square().mul_scalar(1.0 - alpha),
        };
        let delta = grad.div(square_avg.clone().sqrt().add_scalar(eps)).mul_scalar(lr);
        return (param - delta, square_avg);
    }
    // The first step's average starts from 0: `alpha * 0 + x` is `x` exactly.
    let square_avg = square_avg.unwrap_or_else(|| grad.zeros_like());
    let (p, s) = <Dispatch as RmsPropStep>::rmsprop_step(
        param.into_dispatch(),
        grad.into_dispatch(),
        square_avg.into_dispatch(),
        lr,
        alpha,
        eps,
    );
    (Tensor::from_dispatch(p), Tensor::from_dispatch(s))
}

/// The update as a flex backend extension (optimizers run on the inner backend, so no
/// autodiff).
#[backend_extension(Flex)]
pub trait RmsPropStep: Backend {
    /// `(param, square_avg)` after one step.
    fn rmsprop_step(
        param: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        square_avg: FloatTensor<Self>,
        lr: f32,
        alpha: f32,
        eps: f32,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);
}

/// Elements per parallel job (a fixed size: each element's arithmetic is its own).
const CHUNK: usize = 64 * 1024;

vectorised! {
    fn update(p: &mut [f32], s: &mut [f32], g: &[f32], lr: f32, alpha: f32, eps: f32) {
        for ((p, s), &g) in p.iter_mut().zip(s.iter_mut()).zip(g) {
            *s = *s * alpha + g * g * (1.0 - alpha);
            *p -= g / (s.sqrt() + eps) * lr;
        }
    }
}

mod flex {
    use burn::backend::Flex;
    use burn::backend::TensorMetadata;
    use burn::backend::tensor::FloatTensor;

    use super::*;

    impl RmsPropStep for Flex {
        fn rmsprop_step(
            param: FloatTensor<Self>,
            grad: FloatTensor<Self>,
            square_avg: FloatTensor<Self>,
            lr: f32,
            alpha: f32,
            eps: f32,
        ) -> (FloatTensor<Self>, FloatTensor<Self>) {
            assert!(
                param.shape() == grad.shape() && square_avg.shape() == grad.shape(),
                "rmsprop: parameter, gradient and state shapes differ"
            );
            // Contiguous from the buffer's first element (flex's `to_contiguous` copies any other
            // layout); `storage_mut` then writes in place when the buffer is this tensor's alone
            // and copies it first when it is shared (a cloned model's).
            let (mut p, mut s) = (param.to_contiguous(), square_avg.to_contiguous());
            let grad = grad.to_contiguous();
            let g = grad.as_slice::<f32>().expect("contiguous f32 gradient");
            let n = g.len();
            {
                let (pv, sv) = (&mut p.storage_mut::<f32>()[..n], &mut s.storage_mut::<f32>()[..n]);
                pv.par_chunks_mut(CHUNK)
                    .zip(sv.par_chunks_mut(CHUNK))
                    .zip(g.par_chunks(CHUNK))
                    .for_each(|((p, s), g)| update(p, s, g, lr, alpha, eps));
            }
            (p, s)
        }
    }
}

#[cfg(test)]
mod tests {
    use burn::nn::{Linear, LinearConfig};
    use burn::optim::{GradientsParams, ModuleOptimizer, RmsPropConfig};
    use burn::tensor::Distribution;

    use super::*;
    use crate::model::tensors::host_vec;

    fn train(mut optim: ModuleOptimizer, mut model: Linear, x: Tensor<2>) -> Vec<f32> {
        for step in 0..4 {
            let loss = (model.forward(x.clone()) * (step as f32 + 1.0)).powf_scalar(2.0).mean();
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(1e-2, model, grads);
        }
        host_vec(model.weight.val()).into_iter().chain(host_vec(model.bias.unwrap().val())).collect()
    }

    #[test]
    fn gives_burns_rmsprop_updates() {
        let burn =
            RmsPropConfig::new().with_alpha(0.99).with_epsilon(1e-8).with_momentum(0.0).with_centered(false).init();
        let fused = ModuleOptimizer::from(FusedRmsProp { alpha: 0.99, epsilon: 1e-8 });
        let device = Device::flex().autodiff();
        let model: Linear = LinearConfig::new(9, 7).init(&device);
        let x = Tensor::<2>::random([5, 9], Distribution::Normal(0.0, 1.0), &device);
        let (a, b) = (train(burn, model.clone(), x.clone()), train(fused, model, x));
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() <= 1e-6 * (1.0 + y.abs()), "{x} vs {y}");
        }
    }
}
