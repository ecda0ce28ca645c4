//! Paired objectives (SPEC.md section 2, first table): each example is a pair `(y_w, y_l)`.
//!
//! Inputs are summed response log-probs, one per pair, shape `[B]`. With
//! `lw = log π(y_w|x) - log π_ref(y_w|x)`, `ll` likewise, `h = lw - ll`:
//!
//! | objective  | per-pair loss                   | written here as              |
//! |------------|---------------------------------|------------------------------|
//! | `dpo`      | `-log σ(β·h)`                   | `-log_sigmoid(β·h)`          |
//! | `apo_zero` | `(1 - σ(β·lw)) + σ(β·ll)`       | `σ(-β·lw) + σ(β·ll)`         |
//! | `apo_down` | `σ(β·lw) + (1 - σ(β·h))`        | `σ(β·lw) + σ(-β·h)`          |
//! | `apo_auto` | `apo_zero`'s where `a_i`, else `apo_down`'s | `a_i·zero_i + (1 - a_i)·down_i` |
//! | `kto_pair` | 2B terms `1 - σ(β·(lw_i - KL_l))`, `1 - σ(β·(KL_w - ll_i))` | `σ(-x)` |
//! | `sft`      | `-Σ_i log π(y_w,i) / Σ_i n_w,i` | token-weighted mean NLL      |
//!
//! The loss is the mean of the per-example terms (sft: the token-weighted mean). `a_i` (apo_auto)
//! is 1 when pair `i`'s winning output beats the target model's own greedy answer, else 0.

use burn::tensor::Tensor;
use burn::tensor::activation::{log_sigmoid, sigmoid};

use super::metrics::{self, LossOutput};
use super::{ObjectiveError, check_len, clamp_min_zero, constant_like};

/// One batch of preference pairs.
///
/// # Shapes
/// - `policy_chosen`, `policy_rejected`: `[B]`, summed `log π(y|x)` over response tokens; the
///   loss is differentiable with respect to both.
/// - `reference_chosen`, `reference_rejected`: `[B]`, summed `log π_ref(y|x)`, constants.
///   Required by every paired objective but `sft` (for which they only feed the rewards).
/// - `chosen_tokens`: `B` response token counts of `y_w` (`n_w,i >= 1`), required by `sft`.
/// - `winner_beats_model`: `B` flags, whether `y_w` beats the target's own greedy answer to
///   `x` (by the dataset's judge), required by `apo_auto`.
#[derive(Debug, Clone)]
pub struct PairedBatch {
    pub policy_chosen: Tensor<1>,
    pub policy_rejected: Tensor<1>,
    pub reference_chosen: Option<Tensor<1>>,
    pub reference_rejected: Option<Tensor<1>>,
    pub chosen_tokens: Option<Vec<usize>>,
    pub winner_beats_model: Option<Vec<bool>>,
}

impl PairedBatch {
    /// A batch with reference log-probs and no token counts.
    pub fn new(
        policy_chosen: Tensor<1>,
        policy_rejected: Tensor<1>,
        reference_chosen: Tensor<1>,
        reference_rejected: Tensor<1>,
    ) -> Self {
        PairedBatch {
            policy_chosen,
            policy_rejected,
            reference_chosen: Some(reference_chosen),
            reference_rejected: Some(reference_rejected),
            chosen_tokens: None,
            winner_beats_model: None,
        }
    }

    /// Adds, per pair, whether the winning output beats the model's own answer (for `apo_auto`).
    pub fn with_winner_beats_model(mut self, flags: Vec<bool>) -> Self {
        self.winner_beats_model = Some(flags);
        self
    }

    /// Adds the response token counts of the winning outputs (for `sft`).
    pub fn with_chosen_tokens(mut self, tokens: Vec<usize>) -> Self {
        self.chosen_tokens = Some(tokens);
        self
    }

    /// Number of pairs `B`.
    pub fn len(&self) -> usize {
        self.policy_chosen.dims()[0]
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Checks the batch is non-empty and every given field has `B` entries.
    fn check(&self, objective: &'static str) -> Result<usize, ObjectiveError> {
        let b = self.len();
        if b == 0 {
            return Err(ObjectiveError::EmptyBatch { objective });
        }
        check_len(objective, "policy_rejected", &self.policy_rejected, b)?;
        if let Some(t) = &self.reference_chosen {
            check_len(objective, "reference_chosen", t, b)?;
        }
        if let Some(t) = &self.reference_rejected {
            check_len(objective, "reference_rejected", t, b)?;
        }
        if let Some(n) = &self.chosen_tokens
            && n.len() != b
        {
            let (field, got) = ("chosen_tokens", n.len());
            return Err(ObjectiveError::LengthMismatch { objective, field, expected: b, got });
        }
        if let Some(a) = &self.winner_beats_model
            && a.len() != b
        {
            let (field, got) = ("winner_beats_model", a.len());
            return Err(ObjectiveError::LengthMismatch { objective, field, expected: b, got });
        }
        Ok(b)
    }

    /// `(lw, ll)`, each `[B]`, attached to the policy's graph.
    fn log_ratios(&self, objective: &'static str) -> Result<(Tensor<1>, Tensor<1>), ObjectiveError> {
        let missing = |field| ObjectiveError::Missing { objective, field };
        let rc = self.reference_chosen.clone().ok_or(missing("reference_chosen"))?;
        let rr = self.reference_rejected.clone().ok_or(missing("reference_rejected"))?;
        // The reference is frozen: make sure no gradient can leak into whatever produced it.
        let lw = self.policy_chosen.clone() - rc.detach();
        let ll = self.policy_rejected.clone() - rr.detach();
        Ok((lw, ll))
    }
}

/// DPO (Rafailov et al.): `-log σ(β·h)`, i.e. `softplus(-β·h)`.
pub fn dpo(batch: &PairedBatch, beta: f64) -> Result<LossOutput, ObjectiveError> {
    batch.check("dpo")?;
    let (lw, ll) = batch.log_ratios("dpo")?;
    let h = lw.clone() - ll.clone();
    let per = log_sigmoid(h.mul_scalar(beta)).neg();
    finish(batch, per, Some((lw, ll)), beta)
}

/// APO-zero: `(1 - σ(β·lw)) + σ(β·ll)`. Pushes `lw` up and `ll` down, each towards the zero
/// anchor of its own log-ratio: use when the winning outputs beat the model's own.
pub fn apo_zero(batch: &PairedBatch, beta: f64) -> Result<LossOutput, ObjectiveError> {
    batch.check("apo_zero")?;
    let (lw, ll) = batch.log_ratios("apo_zero")?;
    let per = sigmoid(lw.clone().mul_scalar(-beta)) + sigmoid(ll.clone().mul_scalar(beta));
    finish(batch, per, Some((lw, ll)), beta)
}

/// APO-down: `σ(β·lw) + (1 - σ(β·h))`. Pushes `lw` down and `ll` down further: use when the
/// model's own outputs beat the winning outputs.
pub fn apo_down(batch: &PairedBatch, beta: f64) -> Result<LossOutput, ObjectiveError> {
    batch.check("apo_down")?;
    let (lw, ll) = batch.log_ratios("apo_down")?;
    let h = lw.clone() - ll.clone();
    let per = sigmoid(lw.clone().mul_scalar(beta)) + sigmoid(h.mul_scalar(-beta));
    finish(batch, per, Some((lw, ll)), beta)
}

/// APO with the anchor chosen per pair (paper, section 7): APO-zero's terms
/// `σ(-β·lw_i) + σ(β·ll_i)` where the winning output beats the model's own answer (`a_i = 1`),
/// APO-down's `σ(β·lw_i) + σ(-β·h_i)` elsewhere (the model is as good or better: a tie gives no
/// reason to pull the winner up). The flags are constants; the gradient of each pair is that of
/// the variant it uses.
pub fn apo_auto(batch: &PairedBatch, beta: f64) -> Result<LossOutput, ObjectiveError> {
    let objective = "apo_auto";
    batch.check(objective)?;
    let flags =
        batch.winner_beats_model.as_ref().ok_or(ObjectiveError::Missing { objective, field: "winner_beats_model" })?;
    let (lw, ll) = batch.log_ratios(objective)?;
    let h = lw.clone() - ll.clone();
    let zero = sigmoid(lw.clone().mul_scalar(-beta)) + sigmoid(ll.clone().mul_scalar(beta));
    let down = sigmoid(lw.clone().mul_scalar(beta)) + sigmoid(h.mul_scalar(-beta));
    let a = constant_like(&lw, flags.iter().map(|&w| if w { 1.0 } else { 0.0 }).collect());
    let per = zero * a.clone() + down * a.neg().add_scalar(1.0);
    finish(batch, per, Some((lw, ll)), beta)
}

/// KTO on pairs, TRL 0.9.4 `loss_type="kto_pair"`: the 2B terms
/// `1 - σ(β·(lw_i - KL_l))` then `1 - σ(β·(KL_w - ll_i))`, with `KL_w = max(0, mean lw)` and
/// `KL_l = max(0, mean ll)` over the batch, **not** detached (gradient flows through the
/// means, with PyTorch's `clamp` convention: it passes at exactly 0).
pub fn kto_pair(batch: &PairedBatch, beta: f64) -> Result<LossOutput, ObjectiveError> {
    let b = batch.check("kto_pair")?;
    let (lw, ll) = batch.log_ratios("kto_pair")?;
    let kl_w = clamp_min_zero(lw.clone().mean()).expand([b]);
    let kl_l = clamp_min_zero(ll.clone().mean()).expand([b]);
    let chosen = sigmoid((lw.clone() - kl_l).mul_scalar(-beta));
    let rejected = sigmoid((kl_w - ll.clone()).mul_scalar(-beta));
    let per = Tensor::cat(vec![chosen, rejected], 0);
    finish(batch, per, Some((lw, ll)), beta)
}

/// SFT: the negative log-likelihood of `y_w` averaged over **all response tokens of the
/// batch**, `-Σ_i log π(y_w,i|x_i) / Σ_i n_w,i` (TRL's `nll_loss`, a token-weighted mean, not
/// the mean of per-sequence means). `per_example` holds `-log π(y_w,i|x_i) / n_w,i`.
/// Reference log-probs are optional and only feed the logged rewards.
pub fn sft(batch: &PairedBatch, beta: f64) -> Result<LossOutput, ObjectiveError> {
    let objective = "sft";
    batch.check(objective)?;
    let tokens = batch.chosen_tokens.as_ref().ok_or(ObjectiveError::Missing { objective, field: "chosen_tokens" })?;
    if let Some(index) = tokens.iter().position(|&n| n == 0) {
        return Err(ObjectiveError::ZeroTokens { objective, index });
    }
    let total: usize = tokens.iter().sum();
    let pc = batch.policy_chosen.clone();
    let counts = constant_like(&pc, tokens.iter().map(|&n| n as f64).collect());
    let per = pc.clone().neg() / counts;
    // `mul_scalar(1/total)`, not `div_scalar(total)`: burn 0.22.1's autodiff computes the
    // reciprocal of a `div_scalar` divisor in f32 in the backward pass (burn-autodiff
    // ops/tensor.rs `DivScalar`), which would cap the f64 gradient at f32 precision.
    let loss = pc.sum().neg().mul_scalar(1.0 / total as f64);
    let ratios = match (&batch.reference_chosen, &batch.reference_rejected) {
        (Some(_), Some(_)) => Some(batch.log_ratios(objective)?),
        _ => None,
    };
    finish_with_loss(batch, per, loss, ratios, beta)
}

/// Mean of the per-example terms, then the shared rewards and metrics.
fn finish(
    batch: &PairedBatch,
    per: Tensor<1>,
    ratios: Option<(Tensor<1>, Tensor<1>)>,
    beta: f64,
) -> Result<LossOutput, ObjectiveError> {
    let loss = per.clone().mean();
    finish_with_loss(batch, per, loss, ratios, beta)
}

fn finish_with_loss(
    batch: &PairedBatch,
    per_example: Tensor<1>,
    loss: Tensor<1>,
    ratios: Option<(Tensor<1>, Tensor<1>)>,
    beta: f64,
) -> Result<LossOutput, ObjectiveError> {
    let logps = [batch.policy_chosen.clone(), batch.policy_rejected.clone()];
    let has_reference = ratios.is_some();
    let parts: Vec<Tensor<1>> = match ratios {
        Some((lw, ll)) => [lw.mul_scalar(beta), ll.mul_scalar(beta)].into_iter().chain(logps).collect(),
        None => logps.to_vec(),
    };
    let stats = Tensor::cat(parts.into_iter().map(Tensor::detach).collect(), 0);
    let (rewards, metrics) = metrics::paired(stats, batch.len(), has_reference)?;
    Ok(LossOutput { loss, per_example, rewards, metrics })
}
