//! The training loop (SPEC.md section 3): seeded shuffling per epoch, micro-batches accumulated
//! up to the effective batch, one optimizer update per batch with a linearly decaying rate, a
//! checkpoint per epoch, and per-step metrics appended to `log.jsonl`.
//!
//! Resumable: after each epoch the model, the optimizer state and the update count are saved
//! to `<state>/resume`; a run killed in epoch k restarts from epoch k-1's state, drops the log
//! lines written after it, and (because the shuffle of epoch e depends only on (seed, e)) ends
//! with the same numbers as an uninterrupted run.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, bail};
use burn::module::Module;
use burn::optim::{GradientsAccumulator, GradientsParams};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::grad_norm::{clip_grad_norm, grad_norm};
use super::optimizer::{OptimizerKind, build};
use super::pairs::{TokenPair, micro_batch};
use super::schedule::{Schedule, warmup_updates};
use crate::model::checkpoint;
use crate::model::llama::Llama;
use crate::model::precision::Precision;
use crate::model::score::Truncation;
use crate::objective::{Metrics, Objective};

/// Everything that decides a run's numbers.
#[derive(Debug, Clone)]
pub struct TrainSpec {
    pub objective: Objective,
    pub epochs: usize,
    pub learning_rate: f64,
    pub schedule: Schedule,
    /// The share of all updates that warm the rate up from 0 (`train::schedule`).
    pub warmup_ratio: f64,
    pub optimizer: OptimizerKind,
    /// Effective batch, in pairs.
    pub batch_size: usize,
    pub micro_batch_size: usize,
    /// Clip each update's gradients to this global norm (`None`: no clipping).
    pub max_grad_norm: Option<f64>,
    pub truncation: Truncation,
    pub seed: u64,
    pub pad_id: u32,
    /// What the policy computes in (`model::precision`); master weights stay f32.
    pub precision: Precision,
    /// burn's balanced gradient checkpointing: memory-bound activations recomputed in the
    /// backward. Changes memory and time, not results.
    pub activation_checkpointing: bool,
}

/// A run's state folder: per-epoch checkpoints under [`EPOCHS_DIR`], the step log
/// [`LOG_FILE`] (one [`StepLog`] per line).
pub const EPOCHS_DIR: &str = "epochs";
pub const LOG_FILE: &str = "log.jsonl";

/// One line of `log.jsonl`: the metrics of one optimizer update (batch means over its pairs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepLog {
    pub epoch: usize,
    /// 1-based count of updates so far in the run.
    pub step: usize,
    pub loss: f64,
    pub chosen_reward: f64,
    pub rejected_reward: f64,
    pub margin: f64,
    pub accuracy: Option<f64>,
    pub chosen_logps: f64,
    pub rejected_logps: f64,
    pub z0: Option<f64>,
    pub lr: f64,
    /// The update's global gradient norm before clipping (`[train] max_grad_norm`).
    pub grad_norm: f64,
    pub tokens_per_s: f64,
    /// When the update ended, seconds since the Unix epoch (TensorBoard's wall time); absent
    /// in logs written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<f64>,
}

impl StepLog {
    /// The logged values by name, absent ones left out: the metric names of `steps.csv` and
    /// of the TensorBoard tags (`train/<name>`), in one place.
    pub fn metrics(&self) -> Vec<(&'static str, f64)> {
        let all = [
            ("loss", Some(self.loss)),
            ("chosen_reward", Some(self.chosen_reward)),
            ("rejected_reward", Some(self.rejected_reward)),
            ("margin", Some(self.margin)),
            ("accuracy", self.accuracy),
            ("chosen_logps", Some(self.chosen_logps)),
            ("rejected_logps", Some(self.rejected_logps)),
            ("z0", self.z0),
            ("lr", Some(self.lr)),
            ("grad_norm", Some(self.grad_norm)),
            ("tokens_per_s", Some(self.tokens_per_s)),
        ];
        all.into_iter().filter_map(|(name, v)| v.map(|v| (name, v))).collect()
    }
}

/// What the training loop reports while it runs, to whoever watches it (a progress line, the
/// TensorBoard view): typed, so a watcher never parses a display string.
#[derive(Debug, Clone, Copy)]
pub enum TrainEvent<'a> {
    /// An update is done and its line is in the log.
    Step(StepStatus<'a>),
    /// This epoch's checkpoint and resume state are saved and the log is on disk up to it.
    EpochSaved(usize),
    /// A sign that the run diverged (also in the summary).
    Warning(&'a str),
}

/// Where a run stands after an update.
#[derive(Debug, Clone, Copy)]
pub struct StepStatus<'a> {
    pub log: &'a StepLog,
    pub epochs: usize,
    /// 1-based update within its epoch, and the epoch's updates.
    pub step_in_epoch: usize,
    pub steps_per_epoch: usize,
    /// Time left at the pace of this call so far (updates, checkpoints and all).
    pub eta: Duration,
}

impl std::fmt::Display for StepStatus<'_> {
    /// `epoch 3/18 step 40/120 loss 0.5120 margin 0.123 eta 2m 10s`
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let eta = humantime::format_duration(Duration::from_secs(self.eta.as_secs_f64().round() as u64));
        write!(
            f,
            "epoch {}/{} step {}/{} loss {:.4} margin {:.3} eta {eta}",
            self.log.epoch, self.epochs, self.step_in_epoch, self.steps_per_epoch, self.log.loss, self.log.margin
        )
    }
}

/// What a finished run leaves in its state folder.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainSummary {
    pub epochs: usize,
    pub updates: usize,
    pub seconds: f64,
    /// Epochs that were already done when this call started (resumed from).
    pub resumed_from_epoch: usize,
    /// Signs that the run diverged, one sentence each (rule: [`super::divergence`]); empty
    /// for a healthy run. The run still finishes: whether its checkpoints are usable is for
    /// whoever reads the summary to say, but it must be able to see this.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct ResumeMeta {
    epoch: usize,
    updates: usize,
    seconds: f64,
}

/// Paths inside a run's state folder.
pub fn epoch_dir(state: &Path, epoch: usize) -> PathBuf {
    state.join(EPOCHS_DIR).join(format!("e{epoch:02}"))
}

pub fn log_path(state: &Path) -> PathBuf {
    state.join(LOG_FILE)
}

/// Trains a copy of `base` on `pairs`, writing checkpoints and the log under `state`.
/// `base` is kept (frozen, on its device) only where the objective needs a reference model
/// in-run (KTO's mismatched pairs); otherwise it is dropped once the policy is made, so
/// training holds one model's weights on the device (reference log-probs are precomputed).
/// `watch` hears of each update, each saved epoch and each warning; an error it returns stops
/// the run.
pub fn train(
    base: Llama,
    pairs: &[TokenPair],
    spec: &TrainSpec,
    state: &Path,
    watch: &dyn Fn(TrainEvent) -> anyhow::Result<()>,
) -> anyhow::Result<TrainSummary> {
    if pairs.is_empty() {
        bail!("the training set is empty");
    }
    if !spec.objective.is_paired() && spec.objective.needs_kl() && spec.micro_batch_size < 2 {
        bail!("`{}` needs micro-batches of at least 2 pairs for its KL estimate", spec.objective.name());
    }
    std::fs::create_dir_all(state.join(EPOCHS_DIR)).with_context(|| format!("creating {}", state.display()))?;
    let device = base.device().autodiff();
    let device = if spec.activation_checkpointing { device.gradient_checkpointing() } else { device };
    let steps_per_epoch = pairs.len().div_ceil(spec.batch_size);
    let total_updates = steps_per_epoch * spec.epochs;
    let warmup = warmup_updates(spec.warmup_ratio, total_updates);
    let resume_dir = state.join("resume");

    let (policy, mut optimizer, start_epoch, mut updates, mut seconds) = if resume_dir.join("meta.json").exists() {
        let loaded = checkpoint::load(&resume_dir, &device).context("loading the resume checkpoint")?;
        let meta: ResumeMeta = serde_json::from_value(loaded.meta).context("reading the resume checkpoint's meta")?;
        let mut optimizer = build(spec.optimizer);
        if let Some(record) = loaded.optimizer {
            optimizer = optimizer.load_record(record);
        }
        (loaded.model, optimizer, meta.epoch + 1, meta.updates, meta.seconds)
    } else {
        let model = Llama::from_tensors(base.config(), &base.to_tensors(), &device)?;
        (model, build(spec.optimizer), 1, 0, 0.0)
    };
    let reference = spec.objective.needs_kl().then_some(base);
    let mut policy = spec.precision.apply(policy);
    let resumed_from_epoch = start_epoch - 1;
    truncate_log(&log_path(state), updates)?;
    let mut log = std::fs::OpenOptions::new().create(true).append(true).open(log_path(state))?;
    let (pace, updates_before) = (Instant::now(), updates);

    for epoch in start_epoch..=spec.epochs {
        let clock = Instant::now();
        let mut order: Vec<usize> = (0..pairs.len()).collect();
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(spec.seed.wrapping_mul(1_000_003).wrapping_add(epoch as u64)));
        for (step_in_epoch, batch) in order.chunks(spec.batch_size).enumerate() {
            let step_clock = Instant::now();
            let lr = spec.schedule.rate(spec.learning_rate, updates, total_updates, warmup);
            let mut accumulator = GradientsAccumulator::<Llama>::new();
            let mut sums = MetricSums::default();
            let mut tokens = 0usize;
            for micro in batch.chunks(spec.micro_batch_size) {
                let chunk: Vec<&TokenPair> = micro.iter().map(|i| &pairs[*i]).collect();
                let mb =
                    micro_batch(&policy, reference.as_ref(), &spec.objective, &chunk, spec.truncation, spec.pad_id)?;
                tokens += mb.tokens;
                let out = spec.objective.loss(&mb.batch)?;
                let loss_value = host_scalar(&out.loss);
                if !loss_value.is_finite() {
                    bail!(
                        "non-finite loss ({loss_value}) at epoch {epoch}, step {} (update {})",
                        step_in_epoch + 1,
                        updates + 1
                    );
                }
                let weight = micro_weight(spec, pairs, micro, batch);
                sums.add(loss_value, &out.metrics, weight);
                let grads = out.loss.mul_scalar(weight).backward();
                accumulator.accumulate(&policy, GradientsParams::from_grads(grads, &policy));
            }
            let mut grads = accumulator.grads();
            // Logged before clipping, as Hugging Face's Trainer logs it.
            let norm = grad_norm(&policy, &grads);
            if let Some(max_norm) = spec.max_grad_norm {
                grads = clip_grad_norm(&policy, grads, norm, max_norm);
            }
            policy = optimizer.step(lr, policy, grads);
            updates += 1;
            let elapsed = step_clock.elapsed().as_secs_f64();
            let mut line = sums.log(epoch, updates, lr, norm, tokens as f64 / elapsed.max(1e-9));
            line.time = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).ok().map(|d| d.as_secs_f64());
            writeln!(log, "{}", serde_json::to_string(&line)?)?;
            let per_update = pace.elapsed().div_f64((updates - updates_before) as f64);
            watch(TrainEvent::Step(StepStatus {
                log: &line,
                epochs: spec.epochs,
                step_in_epoch: step_in_epoch + 1,
                steps_per_epoch,
                eta: per_update.mul_f64((total_updates - updates) as f64),
            }))?;
        }
        log.flush()?;
        log.sync_data()?;
        seconds += clock.elapsed().as_secs_f64();
        let valid = policy.valid();
        checkpoint::save(
            &epoch_dir(state, epoch),
            &valid,
            None,
            &serde_json::json!({ "epoch": epoch, "updates": updates }),
        )?;
        let meta = serde_json::to_value(ResumeMeta { epoch, updates, seconds })?;
        checkpoint::save(&resume_dir, &policy, Some(&optimizer), &meta)?;
        watch(TrainEvent::EpochSaved(epoch))?;
    }
    let warnings = divergence_warnings(state, watch)?;
    // The resume state stays until the caller has stored the result (the store drops the whole
    // state folder then), so a kill after the last epoch finds a finished run, not a new one.
    Ok(TrainSummary { epochs: spec.epochs, updates, seconds, resumed_from_epoch, warnings })
}

/// The divergence warnings of the run, also sent to `watch`. Judged from the whole log, not
/// this call's updates, so a resumed run is compared with its own first epoch.
fn divergence_warnings(state: &Path, watch: &dyn Fn(TrainEvent) -> anyhow::Result<()>) -> anyhow::Result<Vec<String>> {
    let logged = std::fs::read_to_string(log_path(state)).unwrap_or_default();
    let warnings = super::divergence::warnings(&super::divergence::read_log(&logged));
    for w in &warnings {
        watch(TrainEvent::Warning(w))?;
    }
    Ok(warnings)
}

/// The share of the update's loss one micro-batch carries, so that accumulated gradients equal
/// those of the whole batch: by pairs, except for `sft`, whose loss is a mean over the chosen
/// outputs' tokens.
fn micro_weight(spec: &TrainSpec, pairs: &[TokenPair], micro: &[usize], batch: &[usize]) -> f64 {
    match spec.objective {
        Objective::Sft { .. } => {
            let tokens = |ids: &[usize]| -> usize {
                ids.iter().map(|i| spec.truncation.apply(&pairs[*i].prompt, &pairs[*i].chosen).1.len()).sum()
            };
            tokens(micro) as f64 / tokens(batch).max(1) as f64
        }
        _ => micro.len() as f64 / batch.len() as f64,
    }
}

/// Keeps the first `updates` lines of the log (those covered by the resume checkpoint).
fn truncate_log(path: &Path, updates: usize) -> anyhow::Result<()> {
    if !path.exists() {
        return Ok(());
    }
    let text = std::fs::read_to_string(path)?;
    let kept: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).take(updates).collect();
    let mut out = kept.join("\n");
    if !out.is_empty() {
        out.push('\n');
    }
    crate::atomic_file::write(path, out.as_bytes())?;
    Ok(())
}

fn host_scalar(t: &burn::tensor::Tensor<1>) -> f64 {
    let v: Vec<f32> = t.clone().into_data().convert::<f32>().try_to_vec::<f32>().unwrap_or_default();
    v.first().copied().map(f64::from).unwrap_or(f64::NAN)
}

/// Weighted means over the micro-batches of one update.
#[derive(Default)]
struct MetricSums {
    weight: f64,
    loss: f64,
    chosen_reward: f64,
    rejected_reward: f64,
    margin: f64,
    accuracy: Option<f64>,
    chosen_logps: f64,
    rejected_logps: f64,
    z0: Option<f64>,
}

impl MetricSums {
    fn add(&mut self, loss: f64, m: &Metrics, w: f64) {
        self.weight += w;
        self.loss += w * loss;
        self.chosen_reward += w * m.chosen_reward;
        self.rejected_reward += w * m.rejected_reward;
        self.margin += w * m.margin;
        self.chosen_logps += w * m.chosen_logps;
        self.rejected_logps += w * m.rejected_logps;
        if let Some(a) = m.accuracy {
            *self.accuracy.get_or_insert(0.0) += w * a;
        }
        if let Some(z) = m.z0 {
            *self.z0.get_or_insert(0.0) += w * z;
        }
    }

    fn log(&self, epoch: usize, step: usize, lr: f64, grad_norm: f64, tokens_per_s: f64) -> StepLog {
        let w = self.weight.max(f64::MIN_POSITIVE);
        StepLog {
            epoch,
            step,
            loss: self.loss / w,
            chosen_reward: self.chosen_reward / w,
            rejected_reward: self.rejected_reward / w,
            margin: self.margin / w,
            accuracy: self.accuracy.map(|a| a / w),
            chosen_logps: self.chosen_logps / w,
            rejected_logps: self.rejected_logps / w,
            z0: self.z0.map(|z| z / w),
            lr,
            grad_norm,
            tokens_per_s,
            time: None,
        }
    }
}
