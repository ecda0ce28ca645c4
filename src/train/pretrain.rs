//! Pretraining the embedded world's tiny target model: next-token likelihood of responses given
//! prompts (the SFT objective on the world's corpus) with AdamW. What makes the base model
//! imperfect is the corpus (wrong at family-specific rates), not an early stop.

use std::time::Instant;

use anyhow::bail;
use burn::module::Module;
use burn::optim::{GradientsAccumulator, GradientsParams};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rayon::{ThreadPool, ThreadPoolBuilder};

use super::optimizer::{OptimizerKind, build};
use super::schedule::Schedule;
use crate::model::llama::Llama;
use crate::model::score::{ScoreBatch, Truncation, sequence_logps};

#[derive(Debug, Clone)]
pub struct PretrainSpec {
    pub epochs: usize,
    pub learning_rate: f64,
    pub batch_size: usize,
    pub truncation: Truncation,
    pub seed: u64,
    pub pad_id: u32,
}

impl PretrainSpec {
    /// Optimizer updates per epoch over `examples` examples (the last batch may be short).
    pub fn steps_per_epoch(&self, examples: usize) -> usize {
        examples.div_ceil(self.batch_size.max(1))
    }
}

/// Mean token NLL of each epoch's last quarter of updates, for the manifest.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PretrainReport {
    pub epoch_losses: Vec<f64>,
    pub seconds: f64,
}

/// Batches of `batch_size` example indices for one epoch: a seeded shuffle, then within each
/// window of [`BUCKET_WINDOW`] batches the examples are sorted by length before they are cut
/// into batches, and the batches are shuffled again. A batch is padded to its longest row, so
/// grouping similar lengths saves the padding (about a third of the compute on the world's
/// corpus) while every batch stays a random draw of the corpus.
fn length_bucketed_batches(examples: &[(Vec<u32>, Vec<u32>)], batch_size: usize, seed: u64) -> Vec<Vec<usize>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut order: Vec<usize> = (0..examples.len()).collect();
    order.shuffle(&mut rng);
    let len = |i: &usize| examples[*i].0.len() + examples[*i].1.len();
    let mut batches: Vec<Vec<usize>> = Vec::new();
    for window in order.chunks(batch_size.max(1) * BUCKET_WINDOW) {
        let mut w = window.to_vec();
        w.sort_by_key(len);
        batches.extend(w.chunks(batch_size.max(1)).map(<[usize]>::to_vec));
    }
    batches.shuffle(&mut rng);
    batches
}

/// Batches per length-sorting window in [`length_bucketed_batches`].
const BUCKET_WINDOW: usize = 16;

/// Each batch is cut into this many shards whose gradients are computed on separate threads
/// and summed. The base model's pretraining is the dataset stage's critical path (nothing else
/// can run while it does) and the flex backend keeps one core busy on the tiny model's small
/// matrices, so two shards nearly halve its wall time on 2 cores. The count is a constant,
/// not the machine's core count, so the same seed gives the same weights everywhere.
const SHARDS: usize = 2;

/// One single-thread rayon pool per shard: a shard's kernels stay on its own thread whatever
/// pool the task was given (a CPU slot's pool may have one thread, see `exec::slots`).
fn shard_pools() -> anyhow::Result<Vec<ThreadPool>> {
    (0..SHARDS).map(|_| Ok(ThreadPoolBuilder::new().num_threads(1).build()?)).collect()
}

/// One batch's mean token NLL (a host scalar) and its gradients, computed shard by shard, shard
/// `i` in `pools[i % pools.len()]` (one pool: one after the other; one pool per shard: at
/// once). Each shard's loss is its summed NLL divided by the whole batch's token count, so the
/// summed gradients are the batch's; they are summed in shard order, so how the shards ran
/// changes no bit.
fn sharded_step(
    model: &Llama,
    examples: &[(Vec<u32>, Vec<u32>)],
    batch: &[usize],
    spec: &PretrainSpec,
    pools: &[ThreadPool],
) -> anyhow::Result<(f64, GradientsParams)> {
    let shard_len = batch.len().div_ceil(SHARDS).max(1);
    let shards: Vec<&[usize]> = batch.chunks(shard_len).collect();
    let tokens: usize = batch.iter().map(|i| spec.truncation.apply(&examples[*i].0, &examples[*i].1).1.len()).sum();
    let scale = -1.0 / tokens.max(1) as f64;
    let device = model.device();
    let shard = |ids: &[usize], model: Llama| -> anyhow::Result<(f64, GradientsParams)> {
        let rows: Vec<(&[u32], &[u32])> =
            ids.iter().map(|i| (examples[*i].0.as_slice(), examples[*i].1.as_slice())).collect();
        let batch = ScoreBatch::from_ids(&rows, spec.truncation, spec.pad_id)?;
        let loss = sequence_logps(&model, &batch).sum.sum().mul_scalar(scale);
        let value = f64::from(loss.clone().into_scalar::<f32>());
        Ok((value, GradientsParams::from_grads(loss.backward(), &model)))
    };
    let results: Vec<anyhow::Result<(f64, GradientsParams)>> = std::thread::scope(|scope| {
        let running: Vec<_> = shards
            .iter()
            .enumerate()
            .map(|(i, ids)| {
                let (forked, pool, shard) = (model.clone().fork(&device), &pools[i % pools.len()], &shard);
                scope.spawn(move || pool.install(|| shard(ids, forked)))
            })
            .collect();
        running.into_iter().map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect()
    });
    let mut accumulator = GradientsAccumulator::<Llama>::new();
    let mut value = 0.0;
    for result in results {
        let (v, grads) = result?;
        value += v;
        accumulator.accumulate(model, grads);
    }
    Ok((value, accumulator.grads()))
}

/// Trains `model` (on an autodiff device) on `(prompt ids, response ids)`. `snapshot` is
/// `(n, save)`: after `n` updates `save` gets the plain-device model (a weaker early
/// checkpoint); `n = 0` or past the last update never fires.
pub fn pretrain(
    mut model: Llama,
    examples: &[(Vec<u32>, Vec<u32>)],
    spec: &PretrainSpec,
    progress: &dyn Fn(String),
    snapshot: (usize, &mut dyn FnMut(&Llama) -> anyhow::Result<()>),
) -> anyhow::Result<(Llama, PretrainReport)> {
    let (snapshot_at, save_snapshot) = snapshot;
    if examples.is_empty() {
        bail!("the pretraining corpus is empty");
    }
    let clock = Instant::now();
    let mut optimizer = build(OptimizerKind::AdamW);
    let pools = shard_pools()?;
    let steps = spec.steps_per_epoch(examples.len());
    let total = steps * spec.epochs;
    let mut update = 0;
    let mut epoch_losses = Vec::new();
    for epoch in 1..=spec.epochs {
        let batches = length_bucketed_batches(examples, spec.batch_size, spec.seed ^ (epoch as u64) << 32);
        let mut tail = Vec::new();
        for (step, chunk) in batches.iter().enumerate() {
            let (value, grads) = sharded_step(&model, examples, chunk, spec, &pools)?;
            if !value.is_finite() {
                bail!("non-finite pretraining loss at epoch {epoch}, step {}", step + 1);
            }
            if step * 4 >= steps * 3 {
                tail.push(value);
            }
            // A short linear warm-up lets the tiny model take a large rate without blowing up
            // its first steps (it has only a few hundred updates to learn in).
            let warmup = (total / 20).max(1);
            let lr = Schedule::Linear.rate(spec.learning_rate, update, total, 0)
                * ((update + 1) as f64 / warmup as f64).min(1.0);
            model = optimizer.step(lr, model, grads);
            update += 1;
            if update == snapshot_at {
                save_snapshot(&model.valid())?;
            }
            progress(format!("pretrain epoch {epoch}/{} step {}/{steps} loss {value:.3}", spec.epochs, step + 1));
        }
        epoch_losses.push(tail.iter().sum::<f64>() / tail.len().max(1) as f64);
    }
    Ok((model.valid(), PretrainReport { epoch_losses, seconds: clock.elapsed().as_secs_f64() }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    use crate::model::test_util::{small_config, values};

    fn spec() -> PretrainSpec {
        PretrainSpec {
            epochs: 1,
            learning_rate: 1e-3,
            batch_size: 5,
            truncation: Truncation { max_prompt_tokens: 8, max_response_tokens: 6 },
            seed: 1,
            pad_id: 0,
        }
    }

    #[test]
    fn sharded_gradients_are_the_whole_batch_gradients_however_the_shards_run() {
        let model = Llama::init_seeded(&small_config(false), 3, &Device::flex().autodiff()).unwrap();
        // Five rows of uneven lengths (one response longer than the truncation) in two shards.
        let examples: Vec<(Vec<u32>, Vec<u32>)> =
            (0..5u32).map(|i| ((1..4 + i).collect(), (5..7 + 2 * i).map(|t| t % 40).collect())).collect();
        let batch: Vec<usize> = (0..5).collect();
        let spec = spec();
        // The whole batch in one pass: mean token NLL over the truncated responses.
        let rows: Vec<(&[u32], &[u32])> = examples.iter().map(|(p, r)| (p.as_slice(), r.as_slice())).collect();
        let whole = ScoreBatch::from_ids(&rows, spec.truncation, 0).unwrap();
        let logps = sequence_logps(&model, &whole);
        let tokens: usize = logps.counts.iter().sum();
        let loss = logps.sum.sum().mul_scalar(-1.0 / tokens as f64);
        let want_value = f64::from(loss.clone().into_scalar::<f32>());
        let want = GradientsParams::from_grads(loss.backward(), &model);
        let id = model.embed_tokens.weight.id;

        // The shards one after the other (one single-thread pool) and at once (one pool each).
        let one = vec![ThreadPoolBuilder::new().num_threads(1).build().unwrap()];
        let each = shard_pools().unwrap();
        for pools in [&one, &each] {
            let (value, grads) = sharded_step(&model, &examples, &batch, &spec, pools).unwrap();
            assert!((value - want_value).abs() < 1e-5, "{value} vs {want_value}");
            let (got, want) = (values(grads.get::<2>(id).unwrap()), values(want.get::<2>(id).unwrap()));
            let err = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
            assert!(err < 1e-6, "{} pools: max gradient difference {err}", pools.len());
        }
        // How the shards ran changes nothing, bit for bit.
        let sequential = sharded_step(&model, &examples, &batch, &spec, &one).unwrap().1;
        let parallel = sharded_step(&model, &examples, &batch, &spec, &each).unwrap().1;
        assert_eq!(values(sequential.get::<2>(id).unwrap()), values(parallel.get::<2>(id).unwrap()));
    }

    #[test]
    fn bucketed_batches_cover_every_example_once_and_group_lengths() {
        let examples: Vec<(Vec<u32>, Vec<u32>)> =
            (0..1000).map(|i| (vec![1; 1 + i % 37], vec![2; 1 + i % 11])).collect();
        let batches = length_bucketed_batches(&examples, 16, 7);
        assert_eq!(batches.len(), 1000usize.div_ceil(16));
        let mut seen: Vec<usize> = batches.iter().flatten().copied().collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..1000).collect::<Vec<_>>());
        assert!(batches.iter().all(|b| b.len() <= 16));
        assert_eq!(batches, length_bucketed_batches(&examples, 16, 7));
        assert_ne!(batches, length_bucketed_batches(&examples, 16, 8));
        // Padding: the longest row of each batch, summed, is far below a plain shuffle's.
        let len = |i: &usize| examples[*i].0.len() + examples[*i].1.len();
        let padded: usize = batches.iter().map(|b| b.iter().map(len).max().unwrap_or(0) * b.len()).sum();
        let mut plain: Vec<usize> = (0..1000).collect();
        plain.shuffle(&mut ChaCha8Rng::seed_from_u64(7));
        let plain_padded: usize = plain.chunks(16).map(|b| b.iter().map(len).max().unwrap_or(0) * b.len()).sum();
        assert!(padded * 10 < plain_padded * 8, "{padded} vs {plain_padded}");
    }
}
