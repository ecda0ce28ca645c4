//! Batched generation: prompts are left-padded into one block and prefilled once; then every
//! step feeds one new token per row through the key/value cache (the prefix is never
//! recomputed). Decoding is greedy at temperature 0 (the default) or samples from the
//! temperature-scaled, top-p-truncated distribution with a seeded ChaCha stream per row, so a
//! seed always gives the same output. Each row stops at its first stop id or at the token cap.
//!
//! [`GenerateOptions::use_cache`]` = false` recomputes the whole sequence every step instead:
//! slower, the reference the cache is benchmarked and tested against.
//!
//! Generate with a model on a plain device (`model.valid()` of a model being trained): on an
//! autodiff device every step would also record a graph nobody differentiates.

use burn::tensor::{Int, Tensor, TensorData};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::error::ModelError;
use super::llama::{Llama, Padding};
use super::tensors::host_vec;
use super::tokenizer::Encoder;

#[derive(Debug, Clone, PartialEq)]
pub struct GenerateOptions {
    /// Cap on new tokens per row (a stop id is not counted; it is not kept either).
    pub max_new_tokens: usize,
    /// 0 = greedy; otherwise logits are divided by it before sampling.
    pub temperature: f32,
    /// Nucleus sampling: keep the most likely tokens whose probabilities sum to `top_p`.
    pub top_p: f32,
    pub seed: u64,
    /// Ids that end a row (eos, end-of-turn).
    pub stop_ids: Vec<u32>,
    pub use_cache: bool,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        Self { max_new_tokens: 256, temperature: 0.0, top_p: 1.0, seed: 0, stop_ids: Vec::new(), use_cache: true }
    }
}

/// Why a row stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// It produced this stop id (not included in the tokens).
    Stop(u32),
    /// It reached `max_new_tokens`.
    Length,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Generated {
    /// The new tokens, without the stop id.
    pub tokens: Vec<u32>,
    pub finish: Finish,
}

/// Generates a continuation for every prompt (token ids; each must be non-empty).
pub fn generate(
    model: &Llama,
    prompts: &[Vec<u32>],
    pad_id: u32,
    opts: &GenerateOptions,
) -> Result<Vec<Generated>, ModelError> {
    if let Some(i) = prompts.iter().position(Vec::is_empty) {
        return Err(ModelError::InvalidInput(format!("prompt {i} has no tokens; start it with bos")));
    }
    if !(opts.temperature >= 0.0) || !(opts.top_p > 0.0 && opts.top_p <= 1.0) {
        return Err(ModelError::InvalidInput(format!(
            "temperature must be >= 0 and top_p in (0, 1], got {} and {}",
            opts.temperature, opts.top_p
        )));
    }
    let b = prompts.len();
    let mut out: Vec<Generated> = vec![Generated { tokens: Vec::new(), finish: Finish::Length }; b];
    if b == 0 || opts.max_new_tokens == 0 {
        return Ok(out);
    }
    let vocab = model.config().vocab_size;
    let mut rngs: Vec<ChaCha8Rng> = (0..b)
        .map(|row| {
            let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
            rng.set_stream(row as u64);
            rng
        })
        .collect();
    let mut decoder = Decoder::new(model, prompts, pad_id, opts.use_cache)?;
    let mut done = vec![false; b];
    let mut logits = decoder.prefill()?;
    loop {
        let mut next = vec![pad_id; b];
        for row in 0..b {
            if done[row] {
                continue;
            }
            let token = pick(&logits[row * vocab..(row + 1) * vocab], opts, &mut rngs[row]);
            if opts.stop_ids.contains(&token) {
                out[row].finish = Finish::Stop(token);
                done[row] = true;
                continue;
            }
            out[row].tokens.push(token);
            next[row] = token;
            if out[row].tokens.len() >= opts.max_new_tokens {
                done[row] = true; // Finish::Length
            }
        }
        if done.iter().all(|d| *d) {
            return Ok(out);
        }
        let keep: Vec<bool> = done.iter().map(|d| !d).collect();
        logits = decoder.step(&next, &keep)?;
    }
}

/// Generates from prompt texts, decoding the new tokens; stops at the encoder's stop ids
/// (plus any in `opts.stop_ids`).
pub fn generate_text(
    model: &Llama,
    encoder: &Encoder,
    prompts: &[&str],
    opts: &GenerateOptions,
) -> Result<Vec<(String, Finish)>, ModelError> {
    let ids: Vec<Vec<u32>> = prompts.iter().map(|p| encoder.prompt(p)).collect();
    generate_from_ids(model, encoder, &ids, opts)
}

/// [`generate_text`] for conversations: `(system message, user message)` pairs, rendered by
/// [`Encoder::chat_prompt`] (the reviser and judge prompts carry a system message).
pub fn generate_chat_text(
    model: &Llama,
    encoder: &Encoder,
    prompts: &[(Option<&str>, &str)],
    opts: &GenerateOptions,
) -> Result<Vec<(String, Finish)>, ModelError> {
    let ids: Vec<Vec<u32>> = prompts.iter().map(|(system, user)| encoder.chat_prompt(*system, user)).collect();
    generate_from_ids(model, encoder, &ids, opts)
}

fn generate_from_ids(
    model: &Llama,
    encoder: &Encoder,
    ids: &[Vec<u32>],
    opts: &GenerateOptions,
) -> Result<Vec<(String, Finish)>, ModelError> {
    let mut opts = opts.clone();
    for id in encoder.stop_ids() {
        if !opts.stop_ids.contains(&id) {
            opts.stop_ids.push(id);
        }
    }
    let out = generate(model, ids, encoder.tokenizer.pad_id(), &opts)?;
    Ok(out.into_iter().map(|g| (encoder.tokenizer.decode(&g.tokens), g.finish)).collect())
}

/// Chooses the next token from one row's logits `[vocab]`.
fn pick(logits: &[f32], opts: &GenerateOptions, rng: &mut ChaCha8Rng) -> u32 {
    if opts.temperature <= 0.0 {
        // First maximum, as torch.argmax.
        let mut best = 0;
        for (i, v) in logits.iter().enumerate() {
            if *v > logits[best] {
                best = i;
            }
        }
        return best as u32;
    }
    let t = opts.temperature as f64;
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let mut probs: Vec<(usize, f64)> =
        logits.iter().enumerate().map(|(i, v)| (i, ((*v as f64 - max) / t).exp())).collect();
    let total: f64 = probs.iter().map(|p| p.1).sum();
    probs.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    // Smallest prefix of the sorted distribution whose mass reaches top_p (at least one token).
    let mut kept = 0;
    let mut mass = 0.0;
    for p in &probs {
        kept += 1;
        mass += p.1 / total;
        if mass >= opts.top_p as f64 {
            break;
        }
    }
    let probs = &probs[..kept];
    let kept_total: f64 = probs.iter().map(|p| p.1).sum();
    let mut u = rng.random::<f64>() * kept_total;
    for p in probs {
        u -= p.1;
        if u < 0.0 {
            return p.0 as u32;
        }
    }
    probs[kept - 1].0 as u32
}

/// The two ways of running the model during generation; both return `[batch * vocab]`
/// last-position logits on the host.
enum Decoder<'a> {
    Cached { model: &'a Llama, cache: super::cache::KvCache, ids: Vec<u32>, keep: Vec<bool>, len: usize },
    Full { model: &'a Llama, rows: Vec<Vec<u32>>, keeps: Vec<Vec<bool>> },
}

impl<'a> Decoder<'a> {
    /// Left-pads the prompts into rows.
    fn new(model: &'a Llama, prompts: &[Vec<u32>], pad_id: u32, use_cache: bool) -> Result<Self, ModelError> {
        let len = prompts.iter().map(Vec::len).max().unwrap_or(0);
        let mut rows = Vec::with_capacity(prompts.len());
        let mut keeps = Vec::with_capacity(prompts.len());
        for p in prompts {
            let pad = len - p.len();
            let mut row = vec![pad_id; pad];
            row.extend_from_slice(p);
            rows.push(row);
            keeps.push((0..len).map(|j| j >= pad).collect::<Vec<_>>());
        }
        Ok(if use_cache {
            Decoder::Cached {
                model,
                cache: model.new_cache(prompts.len()),
                ids: rows.concat(),
                keep: keeps.concat(),
                len,
            }
        } else {
            Decoder::Full { model, rows, keeps }
        })
    }

    fn prefill(&mut self) -> Result<Vec<f32>, ModelError> {
        match self {
            Decoder::Cached { model, cache, ids, keep, len } => {
                let b = cache.batch();
                let hidden = model.forward_cached(id_tensor(model, ids, b, *len), keep, cache)?;
                Ok(last_logits(model, hidden))
            }
            Decoder::Full { .. } => self.full(),
        }
    }

    fn step(&mut self, next: &[u32], keep: &[bool]) -> Result<Vec<f32>, ModelError> {
        match self {
            Decoder::Cached { model, cache, .. } => {
                let hidden = model.forward_cached(id_tensor(model, next, next.len(), 1), keep, cache)?;
                Ok(last_logits(model, hidden))
            }
            Decoder::Full { rows, keeps, .. } => {
                for (row, (&t, &k)) in next.iter().zip(keep).enumerate() {
                    rows[row].push(t);
                    keeps[row].push(k);
                }
                self.full()
            }
        }
    }

    fn full(&self) -> Result<Vec<f32>, ModelError> {
        let Decoder::Full { model, rows, keeps } = self else { unreachable!("full() on the cached decoder") };
        let (b, len) = (rows.len(), rows[0].len());
        let padding = Padding::from_keep(b, len, keeps.concat())?;
        let hidden = model.forward_hidden(id_tensor(model, &rows.concat(), b, len), &padding);
        Ok(last_logits(model, hidden))
    }
}

fn id_tensor(model: &Llama, ids: &[u32], b: usize, len: usize) -> Tensor<2, Int> {
    let ids: Vec<i64> = ids.iter().map(|&i| i as i64).collect();
    Tensor::from_data(TensorData::new(ids, [b, len]), &model.device())
}

/// `[batch, len, hidden]` -> the last position's logits on the host, `[batch * vocab]`.
fn last_logits(model: &Llama, hidden: Tensor<3>) -> Vec<f32> {
    let len = hidden.dims()[1];
    host_vec(model.lm_head(hidden.narrow(1, len - 1, 1)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_util::{ids, small_config, values};
    use burn::tensor::Device;

    fn model() -> Llama {
        Llama::init_seeded(&small_config(false), 5, &Device::flex()).unwrap()
    }

    fn prompts() -> Vec<Vec<u32>> {
        vec![vec![1, 2, 3, 4, 5, 6], vec![7, 8], vec![9, 10, 11, 12]]
    }

    #[test]
    fn cached_logits_match_full_forward_logits() {
        let m = model();
        let device = m.device();
        // Row 1 is left-padded by two.
        let rows: [&[u32]; 2] = [&[1, 2, 3, 4, 5, 6, 7], &[0, 0, 8, 9, 10, 11, 12]];
        let keep = [vec![true; 7], vec![false, false], vec![true; 5]].concat();
        let full = values(m.forward(ids(&rows, &device), &Padding::from_keep(2, 7, keep.clone()).unwrap()));
        let mut cache = m.new_cache(2);
        // Prefill four positions, then one at a time.
        let prefix: [&[u32]; 2] = [&rows[0][..4], &rows[1][..4]];
        let pre_keep: Vec<bool> = [&keep[..4], &keep[7..11]].concat();
        let h = m.forward_cached(ids(&prefix, &device), &pre_keep, &mut cache).unwrap();
        let mut got: Vec<Vec<f32>> = vec![Vec::new(); 2];
        let pre = values(m.lm_head(h));
        for r in 0..2 {
            got[r].extend_from_slice(&pre[r * 4 * 40..(r + 1) * 4 * 40]);
        }
        for t in 4..7 {
            let step: [&[u32]; 2] = [&rows[0][t..t + 1], &rows[1][t..t + 1]];
            let h = m.forward_cached(ids(&step, &device), &[keep[t], keep[7 + t]], &mut cache).unwrap();
            let v = values(m.lm_head(h));
            got[0].extend_from_slice(&v[..40]);
            got[1].extend_from_slice(&v[40..]);
        }
        assert_eq!(cache.seen(), 7);
        for r in 0..2 {
            let want = &full[r * 7 * 40..(r + 1) * 7 * 40];
            for (i, (g, w)) in got[r].iter().zip(want).enumerate() {
                if r == 1 && i < 2 * 40 {
                    continue; // padding positions
                }
                assert!((g - w).abs() < 1e-5, "row {r} index {i}: {g} vs {w}");
            }
        }
    }

    #[test]
    fn cached_and_uncached_greedy_decoding_agree() {
        let m = model();
        let opts = GenerateOptions { max_new_tokens: 12, ..Default::default() };
        let cached = generate(&m, &prompts(), 0, &opts).unwrap();
        let full = generate(&m, &prompts(), 0, &GenerateOptions { use_cache: false, ..opts.clone() }).unwrap();
        assert_eq!(cached, full);
        assert!(cached.iter().all(|g| g.tokens.len() == 12 && g.finish == Finish::Length));
        // A row decodes the same alone as in a left-padded batch.
        let alone = generate(&m, &prompts()[1..2], 0, &opts).unwrap();
        assert_eq!(alone[0], cached[1]);
    }

    #[test]
    fn seeded_sampling_is_reproducible() {
        let m = model();
        let opts = GenerateOptions { max_new_tokens: 10, temperature: 1.0, top_p: 0.9, seed: 42, ..Default::default() };
        let a = generate(&m, &prompts(), 0, &opts).unwrap();
        assert_eq!(a, generate(&m, &prompts(), 0, &opts).unwrap());
        let b = generate(&m, &prompts(), 0, &GenerateOptions { seed: 43, ..opts.clone() }).unwrap();
        assert_ne!(a, b);
        let greedy =
            generate(&m, &prompts(), 0, &GenerateOptions { max_new_tokens: 10, ..Default::default() }).unwrap();
        assert_ne!(a, greedy);
    }

    #[test]
    fn rows_stop_at_their_stop_ids() {
        let m = model();
        let free = generate(&m, &prompts(), 0, &GenerateOptions { max_new_tokens: 8, ..Default::default() }).unwrap();
        // Stop at the third token row 0 would produce.
        let stop = free[0].tokens[2];
        let opts = GenerateOptions { max_new_tokens: 8, stop_ids: vec![stop], ..Default::default() };
        let out = generate(&m, &prompts(), 0, &opts).unwrap();
        let first = free[0].tokens.iter().position(|t| *t == stop).unwrap();
        assert_eq!(out[0].tokens, free[0].tokens[..first].to_vec());
        assert_eq!(out[0].finish, Finish::Stop(stop));
        for (o, f) in out.iter().zip(&free).skip(1) {
            match f.tokens.iter().position(|t| *t == stop) {
                Some(p) => assert_eq!(o.tokens, f.tokens[..p].to_vec()),
                None => assert_eq!(o, f),
            }
        }
        assert!(generate(&m, &[vec![]], 0, &opts).is_err());
    }
}
