//! What an objective returns: the differentiable loss, the per-example terms, the rewards and
//! the logged metrics (SPEC.md section 2, "Logged per step"), as Hugging Face TRL defines them.

use burn::tensor::Tensor;
use serde::Serialize;

use super::{ObjectiveError, to_host};

/// The result of [`super::Objective::loss`].
#[derive(Debug, Clone)]
pub struct LossOutput {
    /// Shape `[1]`: the batch loss. Differentiable with respect to the policy log-probs.
    pub loss: Tensor<1>,
    /// The terms whose mean is `loss` (still attached to the graph):
    /// `[B]` for dpo / apo_zero / apo_down; `[2B]` for kto_pair (the B chosen-side terms, then
    /// the B rejected-side terms); `[N]` weighted terms in input order for the unpaired
    /// objectives. For sft, `[B]` per-sequence token-mean NLLs `-log π(y_w|x) / n_w`; the loss is
    /// their token-weighted mean, not their plain mean.
    pub per_example: Tensor<1>,
    /// Per-example rewards `β·(log π - log π_ref)`, on the host.
    pub rewards: Rewards,
    /// Batch means for logging.
    pub metrics: Metrics,
}

/// Per-example rewards, on the host.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Rewards {
    /// `[B]` each: `β·lw` and `β·ll`. Empty for sft without reference log-probs.
    Paired { chosen: Vec<f64>, rejected: Vec<f64> },
    /// `[N]` in input order: `β·(log π(y|x) - log π_ref(y|x))`.
    Unpaired(Vec<f64>),
}

/// The logged batch statistics. A mean over an empty set (no desirable examples in an unpaired
/// batch, or rewards of sft without reference) is NaN, as in TRL; `n_chosen` / `n_rejected`
/// let a trainer combine micro-batches into a weighted mean, as TRL's KTO logs sums and counts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Metrics {
    /// Mean `β·lw` over chosen (desirable) outputs (`rewards/chosen`).
    pub chosen_reward: f64,
    /// Mean `β·ll` over rejected (undesirable) outputs (`rewards/rejected`).
    pub rejected_reward: f64,
    /// `rewards/margins`: paired, mean of `β·lw - β·ll`; unpaired, the difference of the means.
    pub margin: f64,
    /// `rewards/accuracies`: the fraction of pairs with `β·lw > β·ll` (strict). Paired only.
    pub accuracy: Option<f64>,
    /// Mean `log π(y_w|x)` over chosen (desirable) outputs (`logps/chosen`).
    pub chosen_logps: f64,
    /// Mean `log π(y_l|x)` over rejected (undesirable) outputs (`logps/rejected`).
    pub rejected_logps: f64,
    /// KTO's detached KL estimate `z0` (`kl`); `None` for the other objectives.
    pub z0: Option<f64>,
    /// Number of chosen (desirable) outputs in the batch.
    pub n_chosen: usize,
    /// Number of rejected (undesirable) outputs in the batch.
    pub n_rejected: usize,
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() { f64::NAN } else { v.iter().sum::<f64>() / v.len() as f64 }
}

/// Builds the paired metrics. `stats` is the host copy of the detached `[4B]` tensor
/// `cat(β·lw, β·ll, log π(y_w), log π(y_l))`, read back in one transfer; without reference
/// log-probs (sft) it is `cat(log π(y_w), log π(y_l))` and the reward metrics are NaN.
pub(crate) fn paired(stats: Tensor<1>, b: usize, has_reference: bool) -> Result<(Rewards, Metrics), ObjectiveError> {
    let host = to_host(stats)?;
    let (chosen, rejected, logps) = if has_reference {
        (host[..b].to_vec(), host[b..2 * b].to_vec(), &host[2 * b..])
    } else {
        (Vec::new(), Vec::new(), &host[..])
    };
    let (pc, pr) = logps.split_at(b);
    let margins: Vec<f64> = chosen.iter().zip(&rejected).map(|(c, r)| c - r).collect();
    let wins = chosen.iter().zip(&rejected).filter(|(c, r)| c > r).count();
    let metrics = Metrics {
        chosen_reward: mean(&chosen),
        rejected_reward: mean(&rejected),
        margin: mean(&margins),
        accuracy: has_reference.then(|| wins as f64 / b as f64),
        chosen_logps: mean(pc),
        rejected_logps: mean(pr),
        z0: None,
        n_chosen: b,
        n_rejected: b,
    };
    Ok((Rewards::Paired { chosen, rejected }, metrics))
}

/// Builds the unpaired metrics from the host copy of `cat(rewards, policy logps)` (`[2N]`).
pub(crate) fn unpaired(
    stats: Tensor<1>,
    desirable: &[bool],
    z0: Option<f64>,
) -> Result<(Rewards, Metrics), ObjectiveError> {
    let host = to_host(stats)?;
    let (rewards, logps) = host.split_at(desirable.len());
    let side = |want: bool, v: &[f64]| -> Vec<f64> {
        v.iter().zip(desirable).filter(|(_, d)| **d == want).map(|(x, _)| *x).collect()
    };
    let (chosen, rejected) = (side(true, rewards), side(false, rewards));
    let metrics = Metrics {
        chosen_reward: mean(&chosen),
        rejected_reward: mean(&rejected),
        margin: mean(&chosen) - mean(&rejected),
        accuracy: None,
        chosen_logps: mean(&side(true, logps)),
        rejected_logps: mean(&side(false, logps)),
        z0,
        n_chosen: chosen.len(),
        n_rejected: rejected.len(),
    };
    Ok((Rewards::Unpaired(rewards.to_vec()), metrics))
}
