//! Every artifact tasks hand each other, by file name and type, in one place: the tasks that
//! write them and the report that reads them both go through here, so no other module spells
//! a file name. Folder layouts that a lower floor owns (a dataset folder, a training run's
//! state folder, a checkpoint) are re-exported from that floor.
//!
//! | task | files |
//! |---|---|
//! | `base_model` | [`BASE_MODEL_DIR`] (tiny only), [`WEAK_MODEL_DIR`] (the off-policy pool's weak checkpoint) |
//! | `prompts` | [`Prompts`], [`Completions`] (with stored off-policy completions), [`CompletionRatings`] (with their ratings) |
//! | `sample` | [`crate::agents::replay::SampleSet`] in [`SAMPLES_FILE`], [`API_STATS_FILE`] |
//! | `dataset` | [`DATASET_TRAIN`], [`DATASET_HELDOUT`], [`DATASET_MANIFEST`], [`API_STATS_FILE`] |
//! | `reference_logps` | [`ReferenceLogps`] |
//! | `train` | [`TrainSummary`], [`STEP_LOG`] (one [`StepLog`] per line), [`epoch_dir`] checkpoints |
//! | `eval` | [`EvalResult`] |
//! | `prune` | [`Pruned`] |

use std::path::Path;

use anyhow::Context;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use crate::data::dataset::{DatasetManifest, TRAIN_FILE as DATASET_TRAIN};
pub use crate::data::dataset::{HELDOUT_FILE as DATASET_HELDOUT, MANIFEST_FILE as DATASET_MANIFEST};
use crate::eval::ScoreRecord;
pub use crate::train::run::{EPOCHS_DIR, LOG_FILE as STEP_LOG, StepLog, TrainSummary, epoch_dir};

/// The trained tiny base model's checkpoint folder.
pub const BASE_MODEL_DIR: &str = "model";
/// The base model's early checkpoint, the off-policy pool's weaker model.
pub const WEAK_MODEL_DIR: &str = "weak";
/// The target's samples, replayed to every builder.
pub const SAMPLES_FILE: &str = "samples.json";
/// An API build's costs and rejections per role.
pub const API_STATS_FILE: &str = "api-stats.json";

/// A JSON artifact: a type and the file it lives in.
pub trait JsonArtifact: Serialize + DeserializeOwned {
    const FILE: &'static str;

    fn read(dir: &Path) -> anyhow::Result<Self> {
        read_json(&dir.join(Self::FILE))
    }

    fn write(&self, dir: &Path) -> anyhow::Result<()> {
        write_json(&dir.join(Self::FILE), self)
    }
}

/// The prompts every builder uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Prompts(pub Vec<String>);
impl JsonArtifact for Prompts {
    const FILE: &'static str = "prompts.json";
}

/// Other models' completions per prompt (the off-policy pool from the prompts file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Completions(pub Vec<Vec<String>>);
impl JsonArtifact for Completions {
    const FILE: &'static str = "completions.json";
}

/// The ratings of [`Completions`], in the same layout (when a dataset is built from them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CompletionRatings(pub Vec<Vec<crate::data::ratings::Ratings>>);
impl JsonArtifact for CompletionRatings {
    const FILE: &'static str = "ratings.json";
}

impl JsonArtifact for crate::agents::replay::SampleSet {
    const FILE: &'static str = SAMPLES_FILE;
}

/// `[log π_ref(y_w|x), log π_ref(y_l|x)]` per pair, in file order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReferenceLogps {
    pub train: Vec<[f32; 2]>,
    pub heldout: Vec<[f32; 2]>,
}
impl JsonArtifact for ReferenceLogps {
    const FILE: &'static str = "reference.json";
}

impl JsonArtifact for TrainSummary {
    const FILE: &'static str = "train.json";
}

impl JsonArtifact for DatasetManifest {
    const FILE: &'static str = DATASET_MANIFEST;
}

/// Held-out means at one checkpoint (Figure 4).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Heldout {
    pub pairs: usize,
    pub chosen_logps: f64,
    pub rejected_logps: f64,
    pub chosen_reward: f64,
    pub rejected_reward: f64,
}

/// One checkpoint's evaluation: a score per benchmark (the first is the headline) and, for a
/// training run's checkpoints, the held-out means.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalResult {
    pub epoch: usize,
    pub scores: Vec<ScoreRecord>,
    pub heldout: Option<Heldout>,
}
impl JsonArtifact for EvalResult {
    const FILE: &'static str = "eval.json";
}

/// What `prune` removed from a run: the epochs kept (best, last) and those deleted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pruned {
    pub kept: Vec<usize>,
    pub removed: Vec<usize>,
}
impl JsonArtifact for Pruned {
    const FILE: &'static str = "pruned.json";
}

/// The step log of a run, one [`StepLog`] per line.
pub fn read_step_log(dir: &Path) -> anyhow::Result<Vec<StepLog>> {
    let path = dir.join(STEP_LOG);
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    lines
        .map(|(i, line)| serde_json::from_str(line).with_context(|| format!("{} line {}", path.display(), i + 1)))
        .collect()
}

/// Writes JSON atomically, naming the file in errors.
pub fn write_json(path: &Path, value: &impl Serialize) -> anyhow::Result<()> {
    crate::atomic_file::write_json(path, value).with_context(|| format!("writing {}", path.display()))
}

/// Reads JSON, naming the file in errors.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> anyhow::Result<T> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}
