//! The fused ops through burn (flex, with and without autodiff) against burn's own ops on the
//! same tensors: the same values and the same gradients, to f32 rounding.

use burn::module::Param;
use burn::nn::RmsNormConfig;
use burn::tensor::module::attention as burn_attention;
use burn::tensor::ops::AttentionModuleOptions;
use burn::tensor::{Bool, Device, Distribution, Tensor, TensorData};

use super::*;
use crate::model::tensors::host_vec;

fn close(a: Vec<f32>, b: Vec<f32>, tol: f32, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert!((x - y).abs() <= tol * (1.0 + y.abs()), "{what}[{i}]: fused {x} vs burn {y}");
    }
}

fn random<const D: usize>(shape: [usize; D], device: &Device) -> Tensor<D> {
    Tensor::random(shape, Distribution::Normal(0.0, 1.0), device).require_grad()
}

#[test]
fn only_flex_in_f32_is_fused() {
    assert!(fused_here(&Device::flex(), DType::F32));
    assert!(fused_here(&Device::flex().autodiff(), DType::F32));
    assert!(!fused_here(&Device::flex(), DType::BF16));
}

#[test]
fn rms_norm_gives_burns_values_and_gradients() {
    let device = Device::flex().autodiff();
    let mut norm = RmsNormConfig::new(24).with_epsilon(1e-5).init(&device);
    norm.gamma = Param::from_tensor(random([24], &device));
    let x = random([3, 5, 24], &device);
    let w = Tensor::<3>::random([3, 5, 24], Distribution::Normal(0.0, 1.0), &device);
    let fused = rms_norm(&norm, x.clone());
    let plain = norm.forward(x.clone());
    close(host_vec(fused.clone()), host_vec(plain.clone()), 1e-5, "rms_norm");
    let gf = (fused * w.clone()).sum().backward();
    let gp = (plain * w).sum().backward();
    close(host_vec(x.grad(&gf).unwrap()), host_vec(x.grad(&gp).unwrap()), 1e-4, "d_x");
    let gamma = norm.gamma.val();
    close(host_vec(gamma.grad(&gf).unwrap()), host_vec(gamma.grad(&gp).unwrap()), 1e-4, "d_gamma");
}

#[test]
fn swiglu_gives_burns_values_and_gradients() {
    let device = Device::flex().autodiff();
    let (gate, up) = (random([4, 7, 19], &device), random([4, 7, 19], &device));
    let w = Tensor::<3>::random([4, 7, 19], Distribution::Normal(0.0, 1.0), &device);
    let fused = swiglu(gate.clone(), up.clone());
    let plain = burn::tensor::activation::silu(gate.clone()) * up.clone();
    close(host_vec(fused.clone()), host_vec(plain.clone()), 1e-5, "swiglu");
    let gf = (fused * w.clone()).sum().backward();
    let gp = (plain * w).sum().backward();
    close(host_vec(gate.grad(&gf).unwrap()), host_vec(gate.grad(&gp).unwrap()), 1e-4, "d_gate");
    close(host_vec(up.grad(&gf).unwrap()), host_vec(up.grad(&gp).unwrap()), 1e-4, "d_up");
}

#[test]
fn attention_gives_burns_values_and_gradients() {
    let device = Device::flex().autodiff();
    let (b, nh, nkv, t, hd) = (2, 4, 2, 6, 8);
    let rep = nh / nkv;
    let (q, k, v) =
        (random([b, nh, t, hd], &device), random([b, nkv, t, hd], &device), random([b, nkv, t, hd], &device));
    // Causal, and the second row's first two keys padding (seen only by themselves).
    let blocked: Vec<bool> = (0..b * t * t)
        .map(|i| {
            let (row, qi, kj) = (i / (t * t), (i / t) % t, i % t);
            kj > qi || (row == 1 && kj < 2 && kj != qi)
        })
        .collect();
    let mask = Tensor::<3, Bool>::from_data(TensorData::new(blocked, [b, t, t]), &device);
    let w = Tensor::<4>::random([b, t, nh, hd], Distribution::Normal(0.0, 1.0), &device);
    let scale = 1.0 / (hd as f32).sqrt();

    let fused = attention(q.clone(), k.clone(), v.clone(), mask.clone(), scale);
    // burn's: query heads folded into the query axis, the mask repeated to match.
    let folded = mask.clone().unsqueeze_dim::<4>(1).repeat_dim(2, rep).expand([b, nkv, rep * t, t]);
    let options = AttentionModuleOptions { scale: Some(scale as f64), softcap: None, is_causal: false };
    let plain =
        burn_attention(q.clone().reshape([b, nkv, rep * t, hd]), k.clone(), v.clone(), Some(folded), None, options)
            .reshape([b, nh, t, hd])
            .swap_dims(1, 2);
    close(host_vec(fused.clone()), host_vec(plain.clone()), 1e-5, "attention");
    let gf = (fused * w.clone()).sum().backward();
    let gp = (plain.clone() * w).sum().backward();
    for (name, x) in [("d_q", &q), ("d_k", &k), ("d_v", &v)] {
        close(host_vec(x.grad(&gf).unwrap()), host_vec(x.grad(&gp).unwrap()), 1e-4, name);
    }
    // Without autodiff the same values (the path inference takes).
    let inner = attention(q.inner(), k.inner(), v.inner(), Tensor::from_data(mask.into_data(), &Device::flex()), scale);
    close(host_vec(inner), host_vec(plain), 1e-5, "attention, no autodiff");
}

#[test]
fn rope_gives_burns_values_and_gradients() {
    let device = Device::flex().autodiff();
    let config = crate::model::test_util::small_config(false);
    let (b, t, h, d) = (2, 5, 4, config.head_dim());
    // Left padding in the second row: positions restart after it.
    let positions: Vec<i64> = vec![0, 1, 2, 3, 4, 0, 0, 0, 1, 2];
    let tables = crate::model::rope::Rope::new(&config).unwrap().tables(&positions, b, t, &device);
    let x = random([b, t, h, d], &device);
    let w = Tensor::<4>::random([b, h, t, d], Distribution::Normal(0.0, 1.0), &device);
    let fused = tables.rotate_heads_first(x.clone());
    let plain = tables.apply(x.clone().swap_dims(1, 2));
    close(host_vec(fused.clone()), host_vec(plain.clone()), 1e-6, "rope");
    let gf = (fused * w.clone()).sum().backward();
    let gp = (plain * w).sum().backward();
    close(host_vec(x.grad(&gf).unwrap()), host_vec(x.grad(&gp).unwrap()), 1e-5, "d_x");
}

/// Under burn's balanced gradient checkpointing (`[train] activation_checkpointing`) the fused
/// ops' backward nodes get the same inputs, hence the same gradients, as without it.
#[test]
fn gradients_are_the_same_under_gradient_checkpointing() {
    let grads_on = |device: &Device| {
        let (b, h, t, d) = (2, 2, 5, 8);
        let x = Tensor::<4>::from_data(
            TensorData::new((0..b * t * h * d).map(|i| ((i * 37 % 23) as f32 - 11.0) * 0.05).collect(), [b, t, h, d]),
            device,
        )
        .require_grad();
        let config = crate::model::test_util::small_config(false);
        let positions: Vec<i64> = (0..b * t).map(|i| (i % t) as i64).collect();
        let tables = crate::model::rope::Rope::new(&config).unwrap().tables(&positions, b, t, device);
        let q = tables.rotate_heads_first(x.clone().mul_scalar(0.7));
        let k = tables.rotate_heads_first(x.clone());
        let v = x.clone().swap_dims(1, 2).exp();
        let causal: Vec<bool> = (0..b * t * t).map(|i| i % t > (i / t) % t).collect();
        let mask = Tensor::<3, Bool>::from_data(TensorData::new(causal, [b, t, t]), device);
        let att = attention(q, k, v, mask, 0.35).reshape([b, t, h * d]);
        let mut norm = RmsNormConfig::new(h * d).init(device);
        norm.gamma = Param::from_tensor(Tensor::ones([h * d], device).require_grad());
        let y = swiglu(rms_norm(&norm, att.clone()), att);
        let grads = (y.clone() * y).sum().backward();
        host_vec(x.grad(&grads).unwrap())
    };
    let plain = grads_on(&Device::flex().autodiff());
    let checkpointed = grads_on(&Device::flex().autodiff().gradient_checkpointing());
    assert_eq!(plain, checkpointed);
}
