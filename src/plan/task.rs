//! A task is a value: a kind, the canonical parameters that change its output, and its parents.
//! Its key is the sha256 of exactly those, so equal work has equal keys and any change to an
//! input (or to an ancestor) gives a new key.

use serde::Serialize;
use serde_json::Value;
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
    /// Tables and figures from everything above.
    Tables,
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
            TaskKind::Tables => "tables",
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
        TaskKind::Tables,
    ];

    /// Bumped when a kind's implementation changes what it writes, so stale artifacts are not
    /// reused. Part of every key.
    pub fn version(self) -> u32 {
        match self {
            // 2: the off-policy pool uses the base model's earlier checkpoint.
            // 3: the noisy rule-based generator misses by more (unrelated answers).
            TaskKind::Dataset => 3,
            // 2: the tiny model's wider init, sharded batches, the weak checkpoint at 1/8.
            TaskKind::BaseModel => 2,
            _ => 1,
        }
    }
}

/// One node of the plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    /// Human-readable and unique within a plan, e.g. `train/clair/dpo` or `eval/clair/dpo/e03`.
    pub id: String,
    pub kind: TaskKind,
    /// Canonical parameters: only what changes the output. Names (of datasets, objectives) are
    /// labels, not inputs, and live in `labels`.
    pub params: Value,
    /// Labels for reports and the progress display; not part of the key.
    pub labels: Value,
    /// Indices of parent tasks in the plan, in a fixed role order.
    pub deps: Vec<usize>,
    /// Hex sha256 of kind, version, params and the parents' keys.
    pub key: String,
}

/// The key of a task with these inputs. `serde_json::Value` objects keep their keys sorted, so
/// the JSON text is canonical.
pub fn task_key(kind: TaskKind, params: &Value, parent_keys: &[&str]) -> String {
    let canonical = serde_json::json!({
        "kind": kind.name(),
        "version": kind.version(),
        "params": params,
        "parents": parent_keys,
    });
    let mut hasher = Sha256::new();
    hasher.update(canonical.to_string().as_bytes());
    hex::encode(hasher.finalize())
}
