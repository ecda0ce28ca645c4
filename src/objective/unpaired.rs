//! Unpaired objectives (SPEC.md section 2, second table; paper Appendix C; TRL 1.x
//! `KTOTrainer`): each preference pair becomes two examples, `y_w` desirable and `y_l`
//! undesirable, and each example carries its own log-ratio `l = log π(y|x) - log π_ref(y|x)`.
//!
//! | objective           | desirable loss              | undesirable loss            |
//! |---------------------|-----------------------------|-----------------------------|
//! | `apo_zero_unpaired` | `w_d·(1 - σ(β·l))`          | `w_u·σ(β·l)`                |
//! | `kto`               | `w_d·(1 - σ(β·(l - z0)))`   | `w_u·(1 - σ(β·(z0 - l)))`   |
//!
//! `z0 = max(0, mean_k (log π(y'_k|x_k) - log π_ref(y'_k|x_k)))` over the batch's mismatched
//! pairs (each prompt with the previous example's completion), detached. The loss is the sum
//! of the N weighted terms divided by N (TRL: `losses.nanmean()`). `1 - σ(x)` is computed as
//! `σ(-x)`.

use burn::tensor::activation::sigmoid;
use burn::tensor::{Bool, Tensor, TensorData};

use super::metrics::{self, LossOutput};
use super::{ObjectiveError, check_len, clamp_min_zero, to_host};

/// One batch of unpaired examples.
///
/// # Shapes
/// - `policy`: `[N]`, summed `log π(y|x)` over response tokens; the loss is differentiable in it.
/// - `reference`: `[N]`, summed `log π_ref(y|x)`, constants.
/// - `desirable`: `N` flags, `true` for a winning output.
/// - `policy_kl`, `reference_kl`: `[N]`, log-probs of the mismatched pairs `(x_k, y'_k)`;
///   required by `kto` (the policy's are used detached), ignored by `apo_zero_unpaired`.
#[derive(Debug, Clone)]
pub struct UnpairedBatch {
    pub policy: Tensor<1>,
    pub reference: Tensor<1>,
    pub desirable: Vec<bool>,
    pub policy_kl: Option<Tensor<1>>,
    pub reference_kl: Option<Tensor<1>>,
}

impl UnpairedBatch {
    /// A batch without the mismatched-pair log-probs (enough for `apo_zero_unpaired`).
    pub fn new(policy: Tensor<1>, reference: Tensor<1>, desirable: Vec<bool>) -> Self {
        UnpairedBatch { policy, reference, desirable, policy_kl: None, reference_kl: None }
    }

    /// Adds the mismatched-pair log-probs `[N]` that `kto`'s KL estimate needs.
    pub fn with_kl(mut self, policy_kl: Tensor<1>, reference_kl: Tensor<1>) -> Self {
        self.policy_kl = Some(policy_kl);
        self.reference_kl = Some(reference_kl);
        self
    }

    /// Number of examples `N`.
    pub fn len(&self) -> usize {
        self.policy.dims()[0]
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Checks lengths; returns `N`, the log-ratios `l` `[N]` and the desirable mask `[N]`.
    fn prepare(&self, objective: &'static str) -> Result<(usize, Tensor<1>, Tensor<1, Bool>), ObjectiveError> {
        let n = self.len();
        if n == 0 {
            return Err(ObjectiveError::EmptyBatch { objective });
        }
        check_len(objective, "reference", &self.reference, n)?;
        if self.desirable.len() != n {
            let (field, got) = ("desirable", self.desirable.len());
            return Err(ObjectiveError::LengthMismatch { objective, field, expected: n, got });
        }
        for (field, t) in [("policy_kl", &self.policy_kl), ("reference_kl", &self.reference_kl)] {
            if let Some(t) = t {
                check_len(objective, field, t, n)?;
            }
        }
        let l = self.policy.clone() - self.reference.clone().detach();
        let mask = Tensor::<1, Bool>::from_data(TensorData::new(self.desirable.clone(), [n]), &self.policy.device());
        Ok((n, l, mask))
    }
}

/// Unpaired APO-zero: desirable `w_d·(1 - σ(β·l))`, undesirable `w_u·σ(β·l)`. No KL term
/// (TRL sets `calculate_KL = False` for it and logs `kl = 0`; here `z0` is `None`).
pub fn apo_zero_unpaired(
    batch: &UnpairedBatch,
    beta: f64,
    desirable_weight: f64,
    undesirable_weight: f64,
) -> Result<LossOutput, ObjectiveError> {
    let (_, l, mask) = batch.prepare("apo_zero_unpaired")?;
    let good = sigmoid(l.clone().mul_scalar(-beta)).mul_scalar(desirable_weight);
    let bad = sigmoid(l.clone().mul_scalar(beta)).mul_scalar(undesirable_weight);
    finish(batch, bad.mask_where(mask, good), l, beta, None)
}

/// KTO (TRL 1.x): desirable `w_d·(1 - σ(β·(l - z0)))`, undesirable `w_u·(1 - σ(β·(z0 - l)))`,
/// with the detached batch estimate `z0` from the mismatched pairs. Needs `N >= 2`.
pub fn kto(
    batch: &UnpairedBatch,
    beta: f64,
    desirable_weight: f64,
    undesirable_weight: f64,
) -> Result<LossOutput, ObjectiveError> {
    let objective = "kto";
    let (n, l, mask) = batch.prepare(objective)?;
    if n < 2 {
        return Err(ObjectiveError::KtoBatchTooSmall { got: n });
    }
    let missing = |field| ObjectiveError::Missing { objective, field };
    let policy_kl = batch.policy_kl.clone().ok_or(missing("policy_kl"))?;
    let reference_kl = batch.reference_kl.clone().ok_or(missing("reference_kl"))?;
    let z0 = clamp_min_zero((policy_kl.detach() - reference_kl.detach()).mean()).detach();
    let z0_host = to_host(z0.clone())?[0];
    let z0 = z0.expand([n]);
    let good = sigmoid((l.clone() - z0.clone()).mul_scalar(-beta)).mul_scalar(desirable_weight);
    let bad = sigmoid((z0 - l.clone()).mul_scalar(-beta)).mul_scalar(undesirable_weight);
    finish(batch, bad.mask_where(mask, good), l, beta, Some(z0_host))
}

fn finish(
    batch: &UnpairedBatch,
    per_example: Tensor<1>,
    l: Tensor<1>,
    beta: f64,
    z0: Option<f64>,
) -> Result<LossOutput, ObjectiveError> {
    let loss = per_example.clone().mean();
    let stats = Tensor::cat(vec![l.mul_scalar(beta).detach(), batch.policy.clone().detach()], 0);
    let (rewards, metrics) = metrics::unpaired(stats, &batch.desirable, z0)?;
    Ok(LossOutput { loss, per_example, rewards, metrics })
}
