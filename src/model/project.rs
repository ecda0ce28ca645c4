//! Bias-free projections of every position as one 2-D matrix product.
//!
//! burn's `Linear` on a `[batch, len, in]` input may run a batched product against the weight
//! broadcast over the batch; autodiff then forms one weight gradient per batch row and sums
//! them (an allocation of `batch` weight-sized tensors and a reduction per projection per step;
//! for SmolLM2's tied head, 113 MB each). Folding the positions into rows first gives one
//! `[batch * len, in] @ [in, out]` product forward and one per input backward.

use burn::nn::Linear;
use burn::tensor::Tensor;

/// `x @ w`, every position a row.
///
/// # Shapes
/// - `x`: `[batch, len, in]`, `w`: `[in, out]` -> `[batch, len, out]`
pub fn by(x: Tensor<3>, w: Tensor<2>) -> Tensor<3> {
    let [b, t, d_in] = x.dims();
    let [_, d_out] = w.dims();
    x.reshape([b * t, d_in]).matmul(w).reshape([b, t, d_out])
}

/// `x @ w^T` for a weight stored `[out, in]` (a head tied to the embedding), computed as
/// `(w @ x^T)^T` so that autodiff forms `w`'s gradient as `[out, in]` directly. Written as
/// `x @ w.transpose()`, the gradient came out `[in, out]` and was added to the embedding's
/// through a transposed view: a strided pass over the whole table (SmolLM2: 28 million
/// elements) every step.
///
/// # Shapes
/// - `x`: `[batch, len, in]`, `w`: `[out, in]` -> `[batch, len, out]`
pub fn by_transposed(x: Tensor<3>, w: Tensor<2>) -> Tensor<3> {
    let [b, t, d_in] = x.dims();
    let [d_out, _] = w.dims();
    w.matmul(x.reshape([b * t, d_in]).transpose()).transpose().reshape([b, t, d_out])
}

/// `linear(x)`, every position a row (the bias, where there is one, added after).
pub fn linear(l: &Linear, x: Tensor<3>) -> Tensor<3> {
    let y = by(x, l.weight.val());
    match &l.bias {
        Some(bias) => y + bias.val().unsqueeze::<3>(),
        None => y,
    }
}

#[cfg(test)]
mod tests {
    use burn::nn::LinearConfig;
    use burn::tensor::{Device, Distribution};

    use super::*;
    use crate::model::tensors::host_vec;

    #[test]
    fn by_transposed_is_the_product_with_the_transpose() {
        let device = Device::flex();
        let x = Tensor::<3>::random([2, 3, 4], Distribution::Normal(0.0, 1.0), &device);
        let w = Tensor::<2>::random([5, 4], Distribution::Normal(0.0, 1.0), &device);
        let (a, b) = (host_vec(by_transposed(x.clone(), w.clone())), host_vec(by(x, w.transpose())));
        for (a, b) in a.iter().zip(&b) {
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
    }

    #[test]
    fn gives_what_burns_linear_gives() {
        let device = Device::flex();
        for bias in [false, true] {
            let l = LinearConfig::new(6, 5).with_bias(bias).init(&device);
            let x = Tensor::<3>::random([3, 4, 6], Distribution::Normal(0.0, 1.0), &device);
            let (a, b) = (host_vec(linear(&l, x.clone())), host_vec(l.forward(x)));
            for (a, b) in a.iter().zip(&b) {
                assert!((a - b).abs() < 1e-5, "{a} vs {b}");
            }
        }
    }
}
