//! Log-probabilities of responses given prompts, the quantity every objective is built on.
//!
//! As in TRL: prompt and response are tokenized separately and concatenated; the prompt keeps
//! its LAST `max_prompt_tokens` ids, the response its FIRST `max_response_tokens`. Rows are
//! right-padded (every row starts at position 0, like TRL's flush-left batches), and only
//! response tokens count: token `j` is scored by the logits at `j - 1`, so prompt tokens,
//! padding and (for an empty prompt) the very first token are masked out of the sum.
//!
//! [`sequence_logps`] keeps the result on the device as a `Tensor<1>` so that training can
//! differentiate it; [`token_logps`] and [`summed_logps`] bring values to the host for reference
//! log-probs and evaluation.

use burn::tensor::activation::log_softmax;
use burn::tensor::{Int, Tensor, TensorData};

use super::bucket::length_groups;
use super::error::ModelError;
use super::llama::{Llama, Padding};
use super::precision::to_f32;
use super::tensors::host_vec;
use super::tokenizer::Encoder;

/// Token budgets for scoring (the paper: 512 each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Truncation {
    pub max_prompt_tokens: usize,
    pub max_response_tokens: usize,
}

impl Default for Truncation {
    fn default() -> Self {
        Self { max_prompt_tokens: 512, max_response_tokens: 512 }
    }
}

impl Truncation {
    /// The kept parts: the last `max_prompt_tokens` of the prompt, the first
    /// `max_response_tokens` of the response.
    pub fn apply<'a>(&self, prompt: &'a [u32], response: &'a [u32]) -> (&'a [u32], &'a [u32]) {
        let p = &prompt[prompt.len().saturating_sub(self.max_prompt_tokens)..];
        let r = &response[..response.len().min(self.max_response_tokens)];
        (p, r)
    }
}

/// A right-padded batch of `prompt ++ response` rows.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreBatch {
    /// `[batch, len]` row-major.
    pub ids: Vec<u32>,
    pub padding: Padding,
    /// Kept prompt length of each row.
    pub prompt_lens: Vec<usize>,
    /// Kept response length of each row.
    pub response_lens: Vec<usize>,
}

impl ScoreBatch {
    /// Builds a batch from token ids, truncating each pair by `truncation`.
    pub fn from_ids<P: AsRef<[u32]>, R: AsRef<[u32]>>(
        pairs: &[(P, R)],
        truncation: Truncation,
        pad_id: u32,
    ) -> Result<Self, ModelError> {
        if pairs.is_empty() {
            return Err(ModelError::InvalidInput("cannot score an empty batch".into()));
        }
        let kept: Vec<(&[u32], &[u32])> = pairs.iter().map(|(p, r)| truncation.apply(p.as_ref(), r.as_ref())).collect();
        let len = kept.iter().map(|(p, r)| p.len() + r.len()).max().unwrap_or(0).max(1);
        let mut ids = Vec::with_capacity(kept.len() * len);
        let mut keep = Vec::with_capacity(kept.len() * len);
        for (p, r) in &kept {
            let n = p.len() + r.len();
            ids.extend_from_slice(p);
            ids.extend_from_slice(r);
            ids.extend(std::iter::repeat_n(pad_id, len - n));
            keep.extend((0..len).map(|j| j < n));
        }
        Ok(Self {
            padding: Padding::from_keep(kept.len(), len, keep)?,
            ids,
            prompt_lens: kept.iter().map(|(p, _)| p.len()).collect(),
            response_lens: kept.iter().map(|(_, r)| r.len()).collect(),
        })
    }

    /// Tokenizes `(prompt, response)` texts with `encoder` (TRL style) and builds the batch.
    pub fn from_text(encoder: &Encoder, pairs: &[(&str, &str)], truncation: Truncation) -> Result<Self, ModelError> {
        let ids: Vec<(Vec<u32>, Vec<u32>)> =
            pairs.iter().map(|(p, r)| (encoder.prompt(p), encoder.response(r))).collect();
        Self::from_ids(&ids, truncation, encoder.tokenizer.pad_id())
    }

    pub fn batch(&self) -> usize {
        self.prompt_lens.len()
    }

    /// The given rows (in that order) as a batch of their own, padded only to their longest.
    pub fn rows(&self, rows: &[usize]) -> ScoreBatch {
        let old = self.padding.len();
        let len = rows.iter().map(|&r| self.prompt_lens[r] + self.response_lens[r]).max().unwrap_or(0).max(1);
        let mut ids = Vec::with_capacity(rows.len() * len);
        let mut keep = Vec::with_capacity(rows.len() * len);
        for &r in rows {
            // Rows are right-padded: the first `len` positions hold the whole row.
            ids.extend_from_slice(&self.ids[r * old..r * old + len]);
            keep.extend_from_slice(&self.padding.keep()[r * old..r * old + len]);
        }
        ScoreBatch {
            ids,
            padding: Padding::from_keep(rows.len(), len, keep).expect("rows * len entries by construction"),
            prompt_lens: rows.iter().map(|&r| self.prompt_lens[r]).collect(),
            response_lens: rows.iter().map(|&r| self.response_lens[r]).collect(),
        }
    }

    /// The half-open range of scored token indices of `row`.
    fn scored(&self, row: usize) -> std::ops::Range<usize> {
        let (p, r) = (self.prompt_lens[row], self.response_lens[row]);
        p.max(1).min(p + r)..p + r
    }

    /// Number of scored response tokens per row.
    pub fn token_counts(&self) -> Vec<usize> {
        (0..self.batch()).map(|b| self.scored(b).len()).collect()
    }
}

/// Summed response log-probs, still on the device (differentiable on an autodiff device).
#[derive(Debug, Clone)]
pub struct SequenceLogps {
    /// `[batch]`: `sum_j log p(response_j | prompt, response_<j)`.
    pub sum: Tensor<1>,
    /// Scored tokens per row.
    pub counts: Vec<usize>,
}

/// Per-token response log-probs with their weights, on the device.
///
/// # Shapes
/// - `logps`, `weights`: `[batch, scored_len]`; column `l` is token `start + 1 + l`
fn masked_token_logps(model: &Llama, batch: &ScoreBatch) -> Option<(Tensor<2>, Tensor<2>, usize)> {
    let (b, len) = (batch.batch(), batch.padding.len());
    let device = model.device();
    let ranges: Vec<_> = (0..b).map(|r| batch.scored(r)).collect();
    // First hidden position any row needs: logits at j - 1 score token j.
    let start = ranges.iter().filter(|r| !r.is_empty()).map(|r| r.start - 1).min()?;
    let scored_len = len - 1 - start;
    let ids: Vec<i64> = batch.ids.iter().map(|&i| i as i64).collect();
    let ids = Tensor::<2, Int>::from_data(TensorData::new(ids, [b, len]), &device);
    let hidden = model.forward_hidden(ids.clone(), &batch.padding).narrow(1, start, scored_len);
    // The log-softmax over the vocabulary in f32 whatever the model computes in.
    let logps = log_softmax(to_f32(model.lm_head(hidden)), 2);
    let targets = ids.narrow(1, start + 1, scored_len).unsqueeze_dim::<3>(2);
    let token = logps.gather(2, targets).reshape([b, scored_len]);
    let mut weights = Vec::with_capacity(b * scored_len);
    for r in &ranges {
        weights.extend((start + 1..len).map(|j| if r.contains(&j) { 1f32 } else { 0f32 }));
    }
    let weights = Tensor::<2>::from_data(TensorData::new(weights, [b, scored_len]), &device);
    Some((token, weights, start))
}

/// Summed response log-probs per row, `[batch]`, on the model's device. On an autodiff
/// device the result carries the graph back to the weights.
///
/// Rows of uneven length run as a few length-sorted passes ([`length_groups`]), each padded to
/// its own longest row, and come back in the batch's order: the same numbers up to float
/// rounding, for less padding.
pub fn sequence_logps(model: &Llama, batch: &ScoreBatch) -> SequenceLogps {
    let counts = batch.token_counts();
    let lens: Vec<usize> = (0..batch.batch()).map(|r| batch.prompt_lens[r] + batch.response_lens[r]).collect();
    let groups = length_groups(&lens);
    let sum = if groups.len() == 1 {
        summed_pass(model, batch)
    } else {
        let sums: Vec<Tensor<1>> = groups.iter().map(|rows| summed_pass(model, &batch.rows(rows))).collect();
        // Position of each original row in the concatenated groups.
        let mut inverse = vec![0i64; batch.batch()];
        for (at, row) in groups.iter().flatten().enumerate() {
            inverse[*row] = at as i64;
        }
        let inverse = Tensor::<1, Int>::from_data(TensorData::new(inverse, [batch.batch()]), &model.device());
        Tensor::cat(sums, 0).select(0, inverse)
    };
    SequenceLogps { sum, counts }
}

/// One forward pass over the whole of `batch`: `[batch]` summed response log-probs.
fn summed_pass(model: &Llama, batch: &ScoreBatch) -> Tensor<1> {
    match masked_token_logps(model, batch) {
        Some((token, weights, _)) => (token * weights).sum_dim(1).reshape([batch.batch()]),
        None => Tensor::zeros([batch.batch()], &model.device()),
    }
}

/// Per-token response log-probs of each row, on the host (no gradient).
pub fn token_logps(model: &Llama, batch: &ScoreBatch) -> Vec<Vec<f32>> {
    let Some((token, _, start)) = masked_token_logps(model, batch) else {
        return vec![Vec::new(); batch.batch()];
    };
    let scored_len = token.dims()[1];
    let values = host_vec(token);
    (0..batch.batch())
        .map(|b| {
            let row = &values[b * scored_len..(b + 1) * scored_len];
            batch.scored(b).map(|j| row[j - start - 1]).collect()
        })
        .collect()
}

/// Summed response log-probs of each row, on the host (no gradient).
pub fn summed_logps(model: &Llama, batch: &ScoreBatch) -> Vec<f32> {
    host_vec(sequence_logps(model, batch).sum)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_util::{ids, small_config, values};
    use crate::model::tiny::{CharTokenizer, EOS};
    use crate::model::tokenizer::{RawFormat, TextTokenizer};
    use burn::optim::{GradientsParams, RmsPropConfig};
    use burn::tensor::Device;

    fn model(device: &Device) -> Llama {
        Llama::init_seeded(&small_config(false), 11, device).unwrap()
    }

    #[test]
    fn truncation_keeps_prompt_tail_and_response_head() {
        let t = Truncation { max_prompt_tokens: 2, max_response_tokens: 3 };
        let (p, r) = t.apply(&[1, 2, 3, 4], &[5, 6, 7, 8, 9]);
        assert_eq!((p, r), (&[3, 4][..], &[5, 6, 7][..]));
        let batch = ScoreBatch::from_ids(&[(vec![1, 2, 3, 4], vec![5, 6, 7, 8, 9]), (vec![1], vec![5])], t, 0).unwrap();
        assert_eq!(batch.padding.len(), 5);
        assert_eq!(batch.ids, vec![3, 4, 5, 6, 7, 1, 5, 0, 0, 0]);
        assert_eq!(batch.token_counts(), vec![3, 1]);
        assert_eq!(Truncation::default(), Truncation { max_prompt_tokens: 512, max_response_tokens: 512 });
    }

    #[test]
    fn text_pairs_are_encoded_trl_style() {
        let tok = CharTokenizer;
        let format = RawFormat { add_bos: true };
        let enc = Encoder::new(&tok, &format);
        let batch = ScoreBatch::from_text(&enc, &[("ab", "cd")], Truncation::default()).unwrap();
        let mut want = vec![tok.bos_id().unwrap()];
        want.extend(tok.encode("abcd"));
        want.push(EOS);
        assert_eq!(batch.ids, want);
        assert_eq!((batch.prompt_lens[0], batch.response_lens[0]), (3, 3));
    }

    #[test]
    fn logps_are_the_response_tokens_log_softmax() {
        let device = Device::flex();
        let m = model(&device);
        let (prompt, response) = (vec![3u32, 4, 5], vec![6u32, 7]);
        let batch = ScoreBatch::from_ids(&[(prompt.clone(), response.clone())], Truncation::default(), 0).unwrap();
        let logits = values(m.forward(ids(&[&[3, 4, 5, 6, 7]], &device), &Padding::none(1, 5)));
        let logp = |t: usize, tok: u32| {
            let row = &logits[t * 40..(t + 1) * 40];
            let max = row.iter().cloned().fold(f32::NEG_INFINITY, f32::max) as f64;
            let z: f64 = row.iter().map(|v| (*v as f64 - max).exp()).sum();
            row[tok as usize] as f64 - max - z.ln()
        };
        let want = [logp(2, 6), logp(3, 7)];
        let got = token_logps(&m, &batch);
        assert_eq!(got[0].len(), 2);
        for (g, w) in got[0].iter().zip(want) {
            assert!((*g as f64 - w).abs() < 1e-5);
        }
        let sum = summed_logps(&m, &batch)[0] as f64;
        assert!((sum - want.iter().sum::<f64>()).abs() < 1e-5);
    }

    #[test]
    fn batched_logps_equal_unbatched_ones() {
        let device = Device::flex();
        let m = model(&device);
        let pairs = vec![
            (vec![1u32, 2, 3, 4, 5, 6], vec![7u32, 8]),
            (vec![9u32], vec![10u32, 11, 12, 13, 14]),
            (vec![15u32, 16, 17], vec![]),
            (vec![], vec![18u32, 19, 20]),
        ];
        let t = Truncation::default();
        let batched = summed_logps(&m, &ScoreBatch::from_ids(&pairs, t, 0).unwrap());
        let per_token = token_logps(&m, &ScoreBatch::from_ids(&pairs, t, 0).unwrap());
        assert_eq!(per_token.iter().map(Vec::len).collect::<Vec<_>>(), vec![2, 5, 0, 2]);
        for (i, pair) in pairs.iter().enumerate() {
            let alone = summed_logps(&m, &ScoreBatch::from_ids(std::slice::from_ref(pair), t, 0).unwrap())[0];
            assert!((alone - batched[i]).abs() < 1e-4, "row {i}: {alone} vs {}", batched[i]);
            assert!((per_token[i].iter().sum::<f32>() - batched[i]).abs() < 1e-4);
        }
        assert_eq!(batched[2], 0.0);
    }

    #[test]
    fn length_grouped_passes_match_one_padded_pass_with_gradients() {
        let device = Device::flex().autodiff();
        let m = model(&device);
        // Twelve short rows and three long ones, interleaved: worth several passes.
        let pairs: Vec<(Vec<u32>, Vec<u32>)> = (0..15u32)
            .map(|i| {
                let n = if i % 5 == 2 { 90 } else { 3 + i % 3 };
                ((1..3 + i % 2).collect(), (0..n).map(|t| 3 + (t * 7 + i) % 37).collect())
            })
            .collect();
        let batch = ScoreBatch::from_ids(&pairs, Truncation::default(), 0).unwrap();
        let lens: Vec<usize> = (0..15).map(|r| batch.prompt_lens[r] + batch.response_lens[r]).collect();
        assert!(length_groups(&lens).len() > 1);
        let grouped = sequence_logps(&m, &batch).sum;
        let whole = summed_pass(&m, &batch);
        let (g, w) = (values(grouped.clone()), values(whole.clone()));
        for (i, (a, b)) in g.iter().zip(&w).enumerate() {
            assert!((a - b).abs() < 1e-4 * (1.0 + b.abs()), "row {i}: {a} vs {b}");
        }
        let id = m.embed_tokens.weight.id;
        let grad = |t: Tensor<1>| values(GradientsParams::from_grads(t.sum().backward(), &m).get::<2>(id).unwrap());
        let (gg, gw) = (grad(grouped), grad(whole));
        let err = gg.iter().zip(&gw).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(err < 1e-4, "max gradient difference {err}");
    }

    #[test]
    fn rmsprop_steps_on_summed_logps_reduce_the_loss() {
        let device = Device::flex().autodiff();
        let mut m = model(&device);
        let batch = ScoreBatch::from_ids(
            &[(vec![1u32, 2, 3], vec![4u32, 5, 6, 7]), (vec![8u32], vec![9u32, 10])],
            Truncation::default(),
            0,
        )
        .unwrap();
        let mut optim = RmsPropConfig::new().with_alpha(0.99).with_epsilon(1e-8).with_momentum(0.0).init();
        let mut losses = Vec::new();
        for _ in 0..5 {
            let logps = sequence_logps(&m, &batch);
            assert_eq!(logps.counts, vec![4, 2]);
            let loss = logps.sum.neg().mean();
            losses.push(values(loss.clone())[0]);
            let grads = GradientsParams::from_grads(loss.backward(), &m);
            m = optim.step(1e-3, m, grads);
        }
        assert!(losses[4] < losses[0] - 1.0, "losses did not fall: {losses:?}");
    }
}
