//! Tokenized preference pairs and how a micro-batch of them becomes the objective's input.
//!
//! One forward pass scores a micro-batch of `m` pairs: `2m` rows, the `m` chosen outputs then
//! the `m` rejected ones. Paired objectives split the result in halves; unpaired objectives see
//! the same `2m` rows as examples (desirable, then undesirable), so KTO's rotate-by-one
//! mismatched pairs never pair a prompt with its own output when `m >= 2`.

use burn::module::Module;
use burn::tensor::{Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::model::llama::Llama;
use crate::model::score::{ScoreBatch, Truncation, sequence_logps, summed_logps};
use crate::objective::paired::PairedBatch;
use crate::objective::unpaired::UnpairedBatch;
use crate::objective::{Batch, Objective};

/// One preference pair as token ids, with the frozen reference model's summed log-probs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenPair {
    pub prompt: Vec<u32>,
    pub chosen: Vec<u32>,
    pub rejected: Vec<u32>,
    pub reference_chosen: f32,
    pub reference_rejected: f32,
    /// Whether `chosen` beats the target's own greedy answer (the dataset's stored comparison;
    /// `None` where the dataset has none). Read by `apo_auto` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub winner_beats_model: Option<bool>,
}

/// The objective's input for `pairs`, with the policy's log-probs attached to its graph.
pub struct MicroBatch {
    pub batch: Batch,
    /// Tokens fed through the model (all rows, prompt and response), for tokens/s.
    pub tokens: usize,
}

pub fn micro_batch(
    policy: &Llama,
    reference: Option<&Llama>,
    objective: &Objective,
    pairs: &[&TokenPair],
    truncation: Truncation,
    pad_id: u32,
) -> anyhow::Result<MicroBatch> {
    let m = pairs.len();
    let rows: Vec<(&[u32], &[u32])> = pairs
        .iter()
        .map(|p| (p.prompt.as_slice(), p.chosen.as_slice()))
        .chain(pairs.iter().map(|p| (p.prompt.as_slice(), p.rejected.as_slice())))
        .collect();
    let scored = ScoreBatch::from_ids(&rows, truncation, pad_id)?;
    let mut tokens: usize = scored.padding.keep().iter().filter(|k| **k).count();
    let policy_logps = sequence_logps(policy, &scored);
    let device = policy.device();
    let host = |v: Vec<f32>| Tensor::<1>::from_data(TensorData::new(v, [m]), &device);
    let reference_chosen = host(pairs.iter().map(|p| p.reference_chosen).collect());
    let reference_rejected = host(pairs.iter().map(|p| p.reference_rejected).collect());
    let batch = if objective.is_paired() {
        let chosen = policy_logps.sum.clone().narrow(0, 0, m);
        let rejected = policy_logps.sum.narrow(0, m, m);
        let chosen_tokens = policy_logps.counts[..m].to_vec();
        let mut paired =
            PairedBatch::new(chosen, rejected, reference_chosen, reference_rejected).with_chosen_tokens(chosen_tokens);
        // All or nothing: a batch with a pair lacking its comparison leaves the flags out, and
        // an objective that needs them says so.
        if let Some(flags) = pairs.iter().map(|p| p.winner_beats_model).collect::<Option<Vec<bool>>>() {
            paired = paired.with_winner_beats_model(flags);
        }
        Batch::Paired(paired)
    } else {
        let reference_logps = Tensor::cat(vec![reference_chosen, reference_rejected], 0);
        let desirable: Vec<bool> = (0..2 * m).map(|i| i < m).collect();
        let mut unpaired = UnpairedBatch::new(policy_logps.sum, reference_logps, desirable);
        if objective.needs_kl() {
            // Prompt j with the completion of example j - 1: no gradient through either model.
            let n = rows.len();
            let kl_rows: Vec<(&[u32], &[u32])> = (0..n).map(|j| (rows[j].0, rows[(j + n - 1) % n].1)).collect();
            let kl_batch = ScoreBatch::from_ids(&kl_rows, truncation, pad_id)?;
            tokens += 2 * kl_batch.padding.keep().iter().filter(|k| **k).count();
            let policy_kl = summed_logps(&policy.valid(), &kl_batch);
            let reference =
                reference.ok_or_else(|| anyhow::anyhow!("`{}` needs the reference model in-run", objective.name()))?;
            let reference_kl = summed_logps(reference, &kl_batch);
            let on_device = |v: Vec<f32>| Tensor::<1>::from_data(TensorData::new(v, [n]), &device);
            unpaired = unpaired.with_kl(on_device(policy_kl), on_device(reference_kl));
        }
        Batch::Unpaired(unpaired)
    };
    Ok(MicroBatch { batch, tokens })
}
