//! Optimizers with the paper's semantics set explicitly (burn's defaults differ).

use burn::optim::{AdamWConfig, ModuleOptimizer};

use super::rmsprop::FusedRmsProp;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// PyTorch's `torch.optim.RMSprop` defaults: alpha 0.99, eps 1e-8, no momentum, not
    /// centered, no weight decay (burn's defaults are momentum 0.9, eps 1e-5).
    #[default]
    RmsProp,
    /// AdamW with PyTorch's defaults (betas 0.9/0.999, eps 1e-8, weight decay 0.01); used to
    /// pretrain the embedded tiny model.
    AdamW,
}

pub fn build(kind: OptimizerKind) -> ModuleOptimizer {
    match kind {
        // burn's `RmsPropConfig::new().with_alpha(0.99).with_epsilon(1e-8).with_momentum(0.0)`,
        // one pass per parameter (train/rmsprop.rs).
        OptimizerKind::RmsProp => ModuleOptimizer::from(FusedRmsProp { alpha: 0.99, epsilon: 1e-8 }),
        OptimizerKind::AdamW => {
            AdamWConfig::new().with_beta_1(0.9).with_beta_2(0.999).with_epsilon(1e-8).with_weight_decay(0.01).init()
        }
    }
}
