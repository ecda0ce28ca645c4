//! Scoring fixed continuations of fixed contexts, the core of every log-likelihood benchmark:
//! the summed log-probability of each continuation's tokens given its context.
//!
//! Two entry points, both batched (rows right-padded like [`ScoreBatch`], sorted longest first so
//! that a batch's rows have similar lengths, and capped at [`MAX_BATCH_TOKENS`] padded tokens):
//! - [`score_rows`]: any `(context, continuation)` rows, one row per continuation.
//! - [`score_next_tokens`]: a context whose candidates are all single tokens (MMLU's ` A`..` D`)
//!   needs one forward pass for all of them: the log-softmax at the context's last position.
//!   It equals [`score_rows`] on the same rows (tested) at a quarter of the cost for MMLU.
//!
//! Tokenization follows lm-evaluation-harness's `_encode_pair` ([`encode_pair`]).

use burn::tensor::activation::log_softmax;
use burn::tensor::{Int, Tensor, TensorData};

use super::error::EvalError;
use crate::model::score::{ScoreBatch, Truncation, token_logps};
use crate::model::tensors::host_vec;
use crate::model::tokenizer::TextTokenizer;
use crate::model::{Llama, Padding};

/// Most padded tokens (rows x longest row) per forward pass: bounds memory on long items.
pub const MAX_BATCH_TOKENS: usize = 8192;

/// Scoring never truncates: a benchmark item is scored whole or not at all.
const WHOLE: Truncation = Truncation { max_prompt_tokens: usize::MAX, max_response_tokens: usize::MAX };

/// `(context ids, continuation ids)`: one scored row.
pub type Row = (Vec<u32>, Vec<u32>);

/// lm-evaluation-harness's `_encode_pair`: trailing whitespace of the context moves to the
/// continuation, `context + continuation` is encoded whole and the continuation is what follows
/// the context's own encoding. So a BPE merge across the boundary is scored as the model would
/// see the whole text, and the context ids are exactly `encode(context)`. `add_bos` prepends the
/// tokenizer's bos to both encodings (lm-eval: only when the tokenizer adds it by default).
pub fn encode_pair(tokenizer: &dyn TextTokenizer, add_bos: bool, context: &str, continuation: &str) -> Row {
    let trimmed = context.trim_end();
    let (context, continuation) = (trimmed, format!("{}{continuation}", &context[trimmed.len()..]));
    let encode = |text: &str| {
        let mut ids: Vec<u32> = if add_bos { tokenizer.bos_id().into_iter().collect() } else { Vec::new() };
        ids.extend(tokenizer.encode(text));
        ids
    };
    let whole = encode(&format!("{context}{continuation}"));
    let context_ids = encode(context);
    let continuation_ids = whole.get(context_ids.len()..).unwrap_or_default().to_vec();
    (context_ids, continuation_ids)
}

/// Row indices in batches: longest first, at most `max_rows` rows and [`MAX_BATCH_TOKENS`]
/// padded tokens per batch (always at least one row).
fn batches(lens: &[usize], max_rows: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lens.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(lens[i]));
    let mut out: Vec<Vec<usize>> = Vec::new();
    for i in order {
        match out.last_mut() {
            Some(b) if b.len() < max_rows.max(1) && (b.len() + 1) * lens[b[0]] <= MAX_BATCH_TOKENS => b.push(i),
            _ => out.push(vec![i]),
        }
    }
    out
}

fn check_rows(rows: &[Row]) -> Result<(), EvalError> {
    for (i, (c, r)) in rows.iter().enumerate() {
        if c.is_empty() || r.is_empty() {
            return Err(EvalError::InvalidInput(format!(
                "row {i} has {} context and {} continuation tokens; both must be non-empty",
                c.len(),
                r.len()
            )));
        }
    }
    Ok(())
}

/// Summed continuation log-probs of every row (in `rows` order), `batch` rows per forward.
pub fn score_rows(
    model: &Llama,
    rows: &[Row],
    batch: usize,
    pad_id: u32,
    progress: &dyn Fn(String),
) -> Result<Vec<f64>, EvalError> {
    check_rows(rows)?;
    let lens: Vec<usize> = rows.iter().map(|(c, r)| c.len() + r.len()).collect();
    let mut out = vec![0f64; rows.len()];
    let mut done = 0;
    for chunk in batches(&lens, batch) {
        let pairs: Vec<(&[u32], &[u32])> = chunk.iter().map(|&i| (&rows[i].0[..], &rows[i].1[..])).collect();
        let scored = token_logps(model, &ScoreBatch::from_ids(&pairs, WHOLE, pad_id)?);
        for (&i, logps) in chunk.iter().zip(&scored) {
            out[i] = logps.iter().map(|&v| f64::from(v)).sum();
        }
        done += chunk.len();
        progress(format!("{done}/{} rows scored", rows.len()));
    }
    Ok(out)
}

/// For each `(context, candidates)`, the log-prob of every candidate token right after the
/// context: one forward pass per context, `batch` contexts per pass.
///
/// # Shapes
/// - per pass: ids `[b, len]` -> hidden `[b, len, d]` -> last real position `[b, 1, d]` ->
///   log-softmax `[b, 1, vocab]`, read on the host at the candidates
pub fn score_next_tokens(
    model: &Llama,
    items: &[(Vec<u32>, Vec<u32>)],
    batch: usize,
    pad_id: u32,
    progress: &dyn Fn(String),
) -> Result<Vec<Vec<f64>>, EvalError> {
    if let Some(i) = items.iter().position(|(c, _)| c.is_empty()) {
        return Err(EvalError::InvalidInput(format!("context {i} has no tokens")));
    }
    let vocab = model.config().vocab_size;
    if let Some(&t) = items.iter().flat_map(|(_, k)| k).find(|&&t| t as usize >= vocab) {
        return Err(EvalError::InvalidInput(format!("candidate token {t} is outside the vocabulary ({vocab})")));
    }
    let lens: Vec<usize> = items.iter().map(|(c, _)| c.len()).collect();
    let mut out = vec![Vec::new(); items.len()];
    let mut done = 0;
    for chunk in batches(&lens, batch) {
        let contexts: Vec<&[u32]> = chunk.iter().map(|&i| &items[i].0[..]).collect();
        let logps = last_position_logps(model, &contexts, pad_id)?;
        for (k, &i) in chunk.iter().enumerate() {
            let row = &logps[k * vocab..(k + 1) * vocab];
            out[i] = items[i].1.iter().map(|&t| f64::from(row[t as usize])).collect();
        }
        done += chunk.len();
        progress(format!("{done}/{} contexts scored", items.len()));
    }
    Ok(out)
}

/// Next-token log-softmax after each context's last token, `[b * vocab]` on the host.
fn last_position_logps(model: &Llama, contexts: &[&[u32]], pad_id: u32) -> Result<Vec<f32>, EvalError> {
    let (b, len) = (contexts.len(), contexts.iter().map(|c| c.len()).max().unwrap_or(1));
    let mut ids = Vec::with_capacity(b * len);
    let mut keep = Vec::with_capacity(b * len);
    for c in contexts {
        ids.extend(c.iter().map(|&t| i64::from(t)));
        ids.extend(std::iter::repeat_n(i64::from(pad_id), len - c.len()));
        keep.extend((0..len).map(|j| j < c.len()));
    }
    let padding = Padding::from_keep(b, len, keep)?;
    let device = model.device();
    let ids = Tensor::<2, Int>::from_data(TensorData::new(ids, [b, len]), &device);
    let hidden = model.forward_hidden(ids, &padding);
    let last: Vec<Tensor<3>> =
        contexts.iter().enumerate().map(|(r, c)| hidden.clone().narrow(0, r, 1).narrow(1, c.len() - 1, 1)).collect();
    Ok(host_vec(log_softmax(model.lm_head(Tensor::cat(last, 0)), 2)))
}

/// Index of the largest value, the first on ties (numpy's `argmax`, as lm-eval uses).
pub fn argmax(values: &[f64]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_util::small_config;
    use burn::tensor::Device;

    struct Words;
    /// One token per character, so the pair split is visible; bos = 1.
    impl TextTokenizer for Words {
        fn encode(&self, text: &str) -> Vec<u32> {
            text.chars().map(|c| c as u32 % 30 + 2).collect()
        }
        fn decode(&self, _: &[u32]) -> String {
            String::new()
        }
        fn vocab_size(&self) -> usize {
            40
        }
        fn eos_ids(&self) -> Vec<u32> {
            vec![0]
        }
        fn bos_id(&self) -> Option<u32> {
            Some(1)
        }
        fn pad_id(&self) -> u32 {
            0
        }
    }

    #[test]
    fn encode_pair_moves_trailing_space_and_adds_bos_to_both() {
        let (c, r) = encode_pair(&Words, true, "ab ", "c");
        assert_eq!(c, [vec![1], Words.encode("ab")].concat());
        assert_eq!(r, Words.encode(" c"));
        let (c, r) = encode_pair(&Words, false, "Answer:", " A");
        assert_eq!((c, r), (Words.encode("Answer:"), Words.encode(" A")));
    }

    #[test]
    fn batches_are_longest_first_and_respect_both_caps() {
        let b = batches(&[3, 9, 1, 5], 2);
        assert_eq!(b, vec![vec![1, 3], vec![0, 2]]);
        let b = batches(&[MAX_BATCH_TOKENS, 2, 2], 8);
        assert_eq!(b, vec![vec![0], vec![1, 2]]);
    }

    #[test]
    fn argmax_takes_the_first_maximum() {
        assert_eq!(argmax(&[-3.0, -1.0, -1.0, -2.0]), 1);
        assert_eq!(argmax(&[0.0]), 0);
    }

    #[test]
    fn next_token_scores_equal_row_scores_and_batching_changes_nothing() {
        let device = Device::flex();
        let model = Llama::init_seeded(&small_config(false), 5, &device).unwrap();
        let items: Vec<(Vec<u32>, Vec<u32>)> =
            vec![(vec![3, 4, 5, 6, 7], vec![8, 9, 10, 11]), (vec![12], vec![13, 14]), (vec![15, 16, 17], vec![18])];
        let quiet = |_: String| {};
        let fast = score_next_tokens(&model, &items, 8, 0, &quiet).unwrap();
        let one = score_next_tokens(&model, &items, 1, 0, &quiet).unwrap();
        let rows: Vec<Row> = items.iter().flat_map(|(c, k)| k.iter().map(move |&t| (c.clone(), vec![t]))).collect();
        let slow = score_rows(&model, &rows, 3, 0, &quiet).unwrap();
        let flat: Vec<f64> = fast.iter().flatten().copied().collect();
        assert_eq!(flat.len(), slow.len());
        for ((f, s), o) in flat.iter().zip(&slow).zip(one.iter().flatten()) {
            assert!((f - s).abs() < 1e-4 && (f - o).abs() < 1e-4, "{f} {s} {o}");
        }
        assert!(score_rows(&model, &[(vec![], vec![1])], 1, 0, &quiet).is_err());
    }
}
