//! Typed task inputs: one struct per task kind, filled by the planner from the grid, read by
//! the task, and serialized canonically into the task's key. A task reads nothing from the grid
//! outside its input.
//!
//! Every field that changes a task's output is in its key, directly or through a parent:
//! - serialized fields are hashed into the task's own key;
//! - fields marked `#[serde(skip)]` say why in their doc comment: either they change no output
//!   (an API's timeout or concurrency, a label, where a view of the store is written), or they
//!   are already in the key of the named parent, whose key is part of this one (the model spec
//!   through `base_model`).
//!
//! `plan::tests::every_input_a_task_reads_changes_its_key` checks both kinds of field.
//!
//! The JSON shapes of the base model, prompts, sample, dataset, reference and train inputs are
//! the ones earlier versions wrote with `json!`, so stores filled before the types existed keep
//! their keys.

use std::path::PathBuf;

use serde::{Serialize, Serializer};

use super::agent_input::{AgentInput, TargetInput};
use super::task::TaskKind;
use crate::data::builders::BuilderKind;
use crate::eval::Evaluator;
use crate::grid::schema::{KeepCheckpoints, PretrainSection, SamplingSection, TrainSection};
use crate::model::precision::Precision;
use crate::model::score::Truncation;
use crate::model::spec::ModelSpec;
use crate::objective::Objective;
use crate::train::{OptimizerKind, Schedule, TrainSpec};

/// One task's input, by kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum TaskInput {
    BaseModel(BaseModelInput),
    Prompts(PromptsInput),
    Sample(SampleInput),
    Dataset(DatasetInput),
    ReferenceLogps(ReferenceInput),
    Train(TrainInput),
    Eval(EvalInput),
    Prune(PruneInput),
}

impl TaskInput {
    pub fn kind(&self) -> TaskKind {
        match self {
            TaskInput::BaseModel(_) => TaskKind::BaseModel,
            TaskInput::Prompts(_) => TaskKind::Prompts,
            TaskInput::Sample(_) => TaskKind::Sample,
            TaskInput::Dataset(_) => TaskKind::Dataset,
            TaskInput::ReferenceLogps(_) => TaskKind::ReferenceLogps,
            TaskInput::Train(_) => TaskKind::Train,
            TaskInput::Eval(_) => TaskKind::Eval,
            TaskInput::Prune(_) => TaskKind::Prune,
        }
    }

    /// The canonical JSON the key hashes (object keys sorted by `serde_json`).
    pub fn params(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

/// `base_model`: a real model is checked and recorded; `tiny` is trained on the world's corpus.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BaseModelInput {
    pub spec: ModelSpec,
    /// `tiny` only; serialized as `null` otherwise.
    pub pretrain: Option<PretrainSection>,
    pub seed: u64,
}

/// `prompts`: from the embedded world, or a seeded uniform subset of `count` lines of a JSONL
/// file (all of them when it has no more).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum PromptsInput {
    World {
        count: usize,
        seed: u64,
    },
    File {
        path: String,
        /// The file's content digest (`crate::digest::file_key`).
        sha256: String,
        count: usize,
        /// Draws the subset when the file has more than `count` prompts.
        seed: u64,
        field: String,
        /// The field holding other models' completions, when the off-policy agent reads them.
        #[serde(skip_serializing_if = "Option::is_none")]
        completions_field: Option<String>,
        /// Whether the completions' ratings are read too (a dataset is built from them).
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        ratings: bool,
    },
}

/// `sample`: the target's greedy answer and two samples per prompt.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SampleInput {
    /// Always 2 and true (the builders' needs), recorded so a change to them changes the key.
    pub samples: usize,
    pub greedy: bool,
    pub temperature: f64,
    pub top_p: f64,
    pub max_new_tokens: usize,
    pub seed: u64,
    /// A server sampling the target instead of the local model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<TargetInput>,
    /// The local target; in the key through the `base_model` parent (unused with `target`).
    #[serde(skip)]
    pub model: ModelSpec,
}

/// `dataset`: one preference dataset, imported or built.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum DatasetInput {
    File(FileDatasetInput),
    Built(BuiltDatasetInput),
}

impl DatasetInput {
    pub fn split(&self) -> &SplitInput {
        match self {
            DatasetInput::File(f) => &f.common,
            DatasetInput::Built(b) => &b.common,
        }
    }
}

/// The held-out split (and, for built datasets, the revision filter) every dataset shares.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SplitInput {
    pub heldout: usize,
    pub seed: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_length_ratio: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_length_ratio: Option<f64>,
    /// The fewest training pairs the build may end with. Changes no output (a build meets it
    /// or fails), so it is not in the key.
    #[serde(skip)]
    pub min_pairs: usize,
}

/// A user's JSONL triples.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileDatasetInput {
    #[serde(serialize_with = "file_builder")]
    pub builder: (),
    pub path: String,
    pub sha256: String,
    pub common: SplitInput,
}

fn file_builder<S: Serializer>(_: &(), s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str("file")
}

/// A dataset built from the prompts, the target's samples and the grid's agents.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BuiltDatasetInput {
    pub builder: BuilderKind,
    /// Which stored rating ranks the completions (`off_policy_ratings` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rating: Option<crate::data::ratings::RatingSource>,
    /// Only the agents this builder uses.
    pub agents: BuilderAgents,
    /// The judge that decides whether winners beat the model's own answers (SPEC.md 5).
    pub comparison_judge: AgentInput,
    /// Compare every training pair's winner with the model's answer and store each outcome in
    /// the pair (an objective of the grid reads them: `apo_auto`), instead of a sample.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub compare_all: bool,
    pub common: SplitInput,
    /// Sampling settings for the off-policy pool's and local agents' generations, and the
    /// decodings replayed from the samples; in the key through the `sample` parent.
    #[serde(skip)]
    pub sampling: SamplingSection,
    /// The base model (its early checkpoint joins the off-policy pool); in the key through the
    /// `base_model` parent.
    #[serde(skip)]
    pub model: ModelSpec,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BuilderAgents {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reviser: Option<AgentInput>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub judge: Option<AgentInput>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub off_policy: Option<AgentInput>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stronger: Option<AgentInput>,
}

/// `reference_logps`: the frozen base model's log-probs of a dataset's pairs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReferenceInput {
    #[serde(flatten)]
    pub truncation: Truncation,
    /// Absent from the key when f32, so f32 keys are unchanged.
    #[serde(skip_serializing_if = "Precision::is_f32")]
    pub precision: Precision,
    /// In the key through the `base_model` parent.
    #[serde(skip)]
    pub model: ModelSpec,
}

/// `train`: one cell's run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainInput {
    #[serde(serialize_with = "objective_params")]
    pub objective: Objective,
    pub train: TrainSettings,
    pub seed: u64,
    /// In the key through the `base_model` parent.
    #[serde(skip)]
    pub model: ModelSpec,
    /// The folder of the run's TensorBoard view,
    /// `<results>/<grid>/tensorboard/<dataset>/<objective>[/s<seed>]`. Not in the key: it
    /// changes no artifact (the view is written outside the store, and made anew from the
    /// store wherever it goes), so the same run under another grid name or results folder is
    /// the same work and stays cached.
    #[serde(skip)]
    pub tensorboard: PathBuf,
}

/// The settings of `[train]` that change a run (not `keep_checkpoints`, which is `prune`'s).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainSettings {
    pub epochs: usize,
    pub learning_rate: f64,
    pub schedule: Schedule,
    /// Left out of the key when 0 (no warm-up), so earlier runs keep their keys.
    #[serde(skip_serializing_if = "is_zero")]
    pub warmup_ratio: f64,
    pub optimizer: OptimizerKind,
    pub batch_size: usize,
    pub micro_batch_size: usize,
    pub max_prompt_tokens: usize,
    pub max_response_tokens: usize,
    /// Absent from the key when f32, so f32 keys are unchanged.
    #[serde(skip_serializing_if = "Precision::is_f32")]
    pub precision: Precision,
    /// Not in the key: it changes memory, not numbers (`train::tests` checks bit for bit).
    #[serde(skip)]
    pub activation_checkpointing: bool,
    /// Left out of the key when off, so runs without clipping keep their keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_grad_norm: Option<f64>,
}

impl From<&TrainSection> for TrainSettings {
    /// A cell's `[train]` (after its overrides), less what is not the run's (`keep_checkpoints`).
    fn from(t: &TrainSection) -> Self {
        Self {
            epochs: t.epochs,
            learning_rate: t.learning_rate,
            schedule: t.schedule,
            warmup_ratio: t.warmup_ratio,
            optimizer: t.optimizer,
            batch_size: t.batch_size,
            micro_batch_size: t.micro_batch_size,
            max_prompt_tokens: t.max_prompt_tokens,
            max_response_tokens: t.max_response_tokens,
            max_grad_norm: t.max_grad_norm,
            precision: t.precision,
            activation_checkpointing: t.activation_checkpointing,
        }
    }
}

fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

impl TrainSettings {
    pub fn truncation(&self) -> Truncation {
        Truncation { max_prompt_tokens: self.max_prompt_tokens, max_response_tokens: self.max_response_tokens }
    }

    /// What the training loop needs: these settings plus the cell's objective and seed and the
    /// tokenizer's padding id.
    pub fn spec(&self, objective: Objective, seed: u64, pad_id: u32) -> TrainSpec {
        TrainSpec {
            objective,
            epochs: self.epochs,
            learning_rate: self.learning_rate,
            schedule: self.schedule,
            warmup_ratio: self.warmup_ratio,
            optimizer: self.optimizer,
            batch_size: self.batch_size,
            micro_batch_size: self.micro_batch_size,
            max_grad_norm: self.max_grad_norm,
            truncation: self.truncation(),
            seed,
            pad_id,
            precision: self.precision,
            activation_checkpointing: self.activation_checkpointing,
        }
    }
}

/// An objective as keys have always recorded it: its kind, β (`null` for `sft`, whose loss has
/// none) and the unpaired objectives' weights (`null` for the paired ones).
fn objective_params<S: Serializer>(o: &Objective, s: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Params {
        kind: crate::objective::ObjectiveKind,
        beta: Option<f64>,
        desirable_weight: Option<f64>,
        undesirable_weight: Option<f64>,
    }
    let weights = o.weights();
    Params {
        kind: o.kind(),
        beta: o.needs_reference().then(|| o.beta()),
        desirable_weight: weights.map(|w| w.0),
        undesirable_weight: weights.map(|w| w.1),
    }
    .serialize(s)
}

/// `eval`: one checkpoint's benchmark scores, and for a run's checkpoints the held-out means.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalInput {
    /// 0 is the base model.
    pub epoch: usize,
    /// Every benchmark scores the checkpoint; the first is the headline.
    pub evaluators: Vec<Evaluator>,
    /// Draws the world benchmark's prompts.
    pub seed: u64,
    /// The model the checkpoint is of (its tokenizer and chat format).
    pub model: ModelSpec,
    /// For a run's checkpoints.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heldout: Option<HeldoutInput>,
    /// `[train] precision`: evaluation computes as training did. Absent from the key when f32.
    #[serde(skip_serializing_if = "Precision::is_f32")]
    pub precision: Precision,
    /// `DATASET/OBJECTIVE[/sSEED]`, or `base`: a label passed to an evaluator command's
    /// `{cell}` for its logs, not an input.
    #[serde(skip)]
    pub cell: String,
}

/// How held-out pairs are scored: as in training, and rewards with the run's β.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeldoutInput {
    pub beta: f64,
    pub truncation: Truncation,
}

/// `prune`: once every epoch of a run is evaluated, delete the checkpoints that are neither
/// the best nor the last (`keep_checkpoints = "best_last"`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PruneInput {
    pub keep: KeepCheckpoints,
}
