//! Which way round a backend reads an attention mask, so [`super::llama::Llama`] can hand every
//! backend the mask it means.
//!
//! burn's `attention` masks the `true` positions. burn-tch 0.22.1 passes the mask unchanged to
//! libtorch's `scaled_dot_product_attention`, where `true` means "may attend": on a libtorch
//! device every query attended to exactly the keys it must not (future tokens, padding), and
//! reference log-probs, generation and evaluation came out wrong (tests/tch_backend.rs; the
//! step-1 DPO loss of a grid was 0.18 instead of ln 2). Training was right: burn's autodiff
//! runs attention as its own decomposition, which follows burn's convention. The convention is
//! asked of the backend once (one 1x2 attention) rather than assumed, so a burn that fixes it
//! needs no change here.

use burn::tensor::{Bool, Device, Tensor};

/// `mask` (`true` = may not attend, burn's convention) as the attention of `device` reads it.
/// `device` is the model's: an autodiff device runs burn's decomposition whatever the backend.
pub fn for_device(mask: Tensor<4, Bool>, device: &Device) -> Tensor<4, Bool> {
    if reads_true_as_allowed(device) { mask.bool_not() } else { mask }
}

#[cfg(feature = "tch")]
fn reads_true_as_allowed(device: &Device) -> bool {
    static LIBTORCH_CPU: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    // Deprecated by burn in favour of CubeCL's backends; `tch-cpu` exists to be measured.
    #[allow(deprecated)]
    let libtorch = Device::libtorch();
    // `==` ignores autodiff, hence the first test.
    !device.is_autodiff() && *device == libtorch && *LIBTORCH_CPU.get_or_init(|| probe(&libtorch))
}

/// Only the `tch` feature brings a backend with its own attention kernel on these devices.
#[cfg(not(feature = "tch"))]
fn reads_true_as_allowed(_device: &Device) -> bool {
    false
}

/// One query against two keys with values 0 and 1, the second key masked (`true`): a backend
/// that follows burn attends to the first alone and returns 0; one that reads `true` as
/// "may attend" returns 1.
#[cfg(any(feature = "tch", test))]
fn probe(device: &Device) -> bool {
    use burn::tensor::TensorData;
    use burn::tensor::module::attention;
    use burn::tensor::ops::AttentionModuleOptions;

    let q = Tensor::<4>::zeros([1, 1, 1, 1], device);
    let k = Tensor::<4>::zeros([1, 1, 2, 1], device);
    let v = Tensor::<4>::from_data(TensorData::new(vec![0f32, 1.0], [1, 1, 2, 1]), device);
    let mask = Tensor::<4, Bool>::from_data(TensorData::new(vec![false, true], [1, 1, 1, 2]), device);
    let options = AttentionModuleOptions { scale: None, softcap: None, is_causal: false };
    attention(q, k, v, Some(mask), None, options).into_scalar::<f32>() > 0.5
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flex_follows_burn_and_keeps_the_mask() {
        let device = Device::flex();
        assert!(!probe(&device), "flex's attention reads `true` as allowed");
        assert!(!probe(&device.clone().autodiff()));
        assert!(!reads_true_as_allowed(&device));
    }
}
