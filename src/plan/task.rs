//! A task is a value: a typed input (whose kind is the task's), and its parents. Its key is the
//! sha256 of exactly those, so equal work has equal keys and any change to an
//! input (or to an ancestor) gives a new key.

use serde::{Deserialize, Serialize};

use super::inputs::TaskInput;
use sha2::{Digest, Sha256};

/// Every unit of work the tool knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// The target model before alignment (loaded, or for `tiny` trained on the world's corpus).
    BaseModel,
    /// The prompts every dataset builder uses.
    Prompts,
    /// Samples (and the greedy answer) of the target model on the prompts.
    Sample,
    /// One preference dataset (plus its held-out split and contrastiveness).
    Dataset,
    /// The frozen base model's log-probs of a dataset's pairs, shared by all objectives on it.
    ReferenceLogps,
    /// One training run: a dataset x objective x seed cell, all epochs, a checkpoint per epoch.
    Train,
    /// The score of one checkpoint (epoch 0 = the base model).
    Eval,
    /// Deletes a finished run's checkpoints but its best and last (`keep_checkpoints`).
    Prune,
}

impl TaskKind {
    pub fn name(self) -> &'static str {
        match self {
            TaskKind::BaseModel => "base_model",
            TaskKind::Prompts => "prompts",
            TaskKind::Sample => "sample",
            TaskKind::Dataset => "dataset",
            TaskKind::ReferenceLogps => "reference_logps",
            TaskKind::Train => "train",
            TaskKind::Eval => "eval",
            TaskKind::Prune => "prune",
        }
    }

    pub fn from_name(s: &str) -> Option<TaskKind> {
        TaskKind::ALL.into_iter().find(|k| k.name() == s)
    }

    pub const ALL: [TaskKind; 8] = [
        TaskKind::BaseModel,
        TaskKind::Prompts,
        TaskKind::Sample,
        TaskKind::Dataset,
        TaskKind::ReferenceLogps,
        TaskKind::Train,
        TaskKind::Eval,
        TaskKind::Prune,
    ];

    /// How deeply an artifact of this kind is checked before it is used: every byte's digest
    /// for the small JSON artifacts a bit flip would silently change (datasets, log-probs,
    /// scores), file sizes only for the checkpoint-bearing ones (a 16 GB checkpoint takes
    /// seconds to hash); `apogrid verify` checks every byte of everything.
    pub fn input_check(self) -> crate::store::Check {
        match self {
            TaskKind::BaseModel | TaskKind::Train => crate::store::Check::Sizes,
            _ => crate::store::Check::Full,
        }
    }

    /// Bumped when a kind's implementation changes what it writes, so stale artifacts are not
    /// reused. Part of every key.
    pub fn version(self) -> u32 {
        match self {
            // 2: the off-policy pool uses the base model's earlier checkpoint.
            // 3: the noisy rule-based generator misses by more (unrelated answers).
            TaskKind::Dataset => 3,
            // 2: the tiny model's wider init, sharded batches, the weak checkpoint at 1/8.
            TaskKind::BaseModel => 2,
            // 2: `eval.json` holds a score record per benchmark (the evaluator seam); the key
            // holds the model spec, truncation and β it reads.
            TaskKind::Eval => 2,
            _ => 1,
        }
    }
}

/// One node of the plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    /// Human-readable and unique within a plan, e.g. `train/clair/dpo` or `eval/clair/dpo/e03`.
    pub id: String,
    /// Only what changes the output (see `super::inputs`); names of datasets and objectives
    /// are labels, not inputs.
    pub input: TaskInput,
    /// Labels for reports and the progress display; not part of the key.
    pub labels: Labels,
    /// Indices of parent tasks in the plan, in a fixed role order.
    pub deps: Vec<usize>,
    /// Hex sha256 of kind, version, input and the parents' keys.
    pub key: String,
}

impl Task {
    pub fn kind(&self) -> TaskKind {
        self.input.kind()
    }
}

/// Which grid entries a task belongs to, for reports and progress lines.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Labels {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub objective: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<usize>,
}

/// The key of a task with this input. `serde_json::Value` objects keep their keys sorted, so
/// the JSON text is canonical.
pub fn task_key(input: &TaskInput, parent_keys: &[&str]) -> String {
    let kind = input.kind();
    let canonical = serde_json::json!({
        "kind": kind.name(),
        "version": kind.version(),
        "params": input.params(),
        "parents": parent_keys,
    });
    let mut hasher = Sha256::new();
    hasher.update(canonical.to_string().as_bytes());
    hex::encode(hasher.finalize())
}
