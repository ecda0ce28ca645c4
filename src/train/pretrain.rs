//! Pretraining the embedded world's tiny target model: next-token likelihood of responses given
//! prompts (the SFT objective on the world's corpus) with AdamW. What makes the base model
//! imperfect is the corpus (wrong at family-specific rates), not an early stop.

use std::time::Instant;

use anyhow::bail;
use burn::module::Module;
use burn::optim::GradientsParams;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

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

/// Mean token NLL of each epoch's last quarter of updates, for the manifest.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PretrainReport {
    pub epoch_losses: Vec<f64>,
    pub seconds: f64,
}

/// Trains `model` (on an autodiff device) on `(prompt ids, response ids)`; calls `after_epoch`
/// with the plain-device model after each epoch (to keep a weaker early checkpoint).
pub fn pretrain(
    mut model: Llama,
    examples: &[(Vec<u32>, Vec<u32>)],
    spec: &PretrainSpec,
    progress: &dyn Fn(String),
    after_epoch: &mut dyn FnMut(usize, &Llama) -> anyhow::Result<()>,
) -> anyhow::Result<(Llama, PretrainReport)> {
    if examples.is_empty() {
        bail!("the pretraining corpus is empty");
    }
    let clock = Instant::now();
    let mut optimizer = build(OptimizerKind::AdamW);
    let steps = examples.len().div_ceil(spec.batch_size);
    let total = steps * spec.epochs;
    let mut update = 0;
    let mut epoch_losses = Vec::new();
    for epoch in 1..=spec.epochs {
        let mut order: Vec<usize> = (0..examples.len()).collect();
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(spec.seed ^ (epoch as u64) << 32));
        let mut tail = Vec::new();
        for (step, chunk) in order.chunks(spec.batch_size).enumerate() {
            let rows: Vec<(&[u32], &[u32])> =
                chunk.iter().map(|i| (examples[*i].0.as_slice(), examples[*i].1.as_slice())).collect();
            let batch = ScoreBatch::from_ids(&rows, spec.truncation, spec.pad_id)?;
            let logps = sequence_logps(&model, &batch);
            let tokens: usize = logps.counts.iter().sum();
            let loss = logps.sum.sum().mul_scalar(-1.0 / tokens.max(1) as f64);
            let value: f32 = loss.clone().into_scalar::<f32>();
            if !value.is_finite() {
                bail!("non-finite pretraining loss at epoch {epoch}, step {}", step + 1);
            }
            if step * 4 >= steps * 3 {
                tail.push(value as f64);
            }
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            let lr = Schedule::Linear.rate(spec.learning_rate, update, total);
            model = optimizer.step(lr, model, grads);
            update += 1;
            progress(format!("pretrain epoch {epoch}/{} step {}/{steps} loss {value:.3}", spec.epochs, step + 1));
        }
        epoch_losses.push(tail.iter().sum::<f64>() / tail.len().max(1) as f64);
        after_epoch(epoch, &model.valid())?;
    }
    Ok((model.valid(), PretrainReport { epoch_losses, seconds: clock.elapsed().as_secs_f64() }))
}
