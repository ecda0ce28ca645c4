//! The grid file's schema: what a user may write in `grids/*.toml`.
//!
//! Every struct denies unknown keys, so a typo is an error that names the key instead of a
//! silently ignored setting. Fields whose values are checked beyond their type carry a
//! `Spanned` so the check can name the line and column (see `validate.rs`). Defaults are the
//! paper's (SPEC.md section 3).

use serde::{Deserialize, Serialize};
use toml::Spanned;

pub use crate::data::builders::DatasetKind;
pub use crate::model::precision::Precision;
pub use crate::objective::ObjectiveKind;
pub use crate::train::{OptimizerKind, Schedule};

/// A whole grid file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridFile {
    pub grid: GridSection,
    pub model: ModelSection,
    #[serde(default)]
    pub prompts: PromptsSection,
    #[serde(default)]
    pub agents: AgentsSection,
    #[serde(default)]
    pub train: TrainSection,
    #[serde(default)]
    pub eval: EvalSection,
    #[serde(default, rename = "dataset")]
    pub datasets: Vec<DatasetEntry>,
    #[serde(default, rename = "objective")]
    pub objectives: Vec<ObjectiveEntry>,
    /// Per-cell changes to the train settings, e.g. a different learning rate for one cell.
    #[serde(default, rename = "override")]
    pub overrides: Vec<CellOverride>,
    /// Cells of the dataset x objective cross product that are not run.
    #[serde(default, rename = "exclude")]
    pub excludes: Vec<CellRef>,
    #[serde(default)]
    pub devices: DevicesSection,
    /// Where tasks run: `local` threads or Slurm jobs (`super::executor`).
    #[serde(default)]
    pub executor: super::executor::ExecutorSection,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridSection {
    /// Names the results folder `results/<name>/`; `[a-z0-9_-]` only.
    pub name: Spanned<String>,
    /// One seed for every cell ...
    pub seed: Option<u64>,
    /// ... or a list: every cell is replicated once per seed (benchmark scores move by about a
    /// point between identical runs, so replication matters).
    pub seeds: Option<Spanned<Vec<u64>>>,
    /// Content-addressed artifact folder; default `results/.cache`.
    pub store: Option<String>,
    /// Where tables and figures go; default `results`.
    pub results: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSection {
    /// `tiny` (the embedded world's model), `smollm2`, `hf:DIR` or `gguf:FILE`.
    pub spec: Spanned<String>,
    /// How the embedded `tiny` model is trained into an imperfect base model on the world's
    /// corpus. Only valid with `spec = "tiny"`.
    pub pretrain: Option<PretrainSection>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PretrainSection {
    #[serde(default = "d_pretrain_examples")]
    pub examples: usize,
    #[serde(default = "d_pretrain_epochs")]
    pub epochs: usize,
    #[serde(default = "d_pretrain_lr")]
    pub learning_rate: f64,
    #[serde(default = "d_pretrain_batch")]
    pub batch_size: usize,
}

impl Default for PretrainSection {
    fn default() -> Self {
        Self {
            examples: d_pretrain_examples(),
            epochs: d_pretrain_epochs(),
            learning_rate: d_pretrain_lr(),
            batch_size: d_pretrain_batch(),
        }
    }
}
fn d_pretrain_examples() -> usize {
    4000
}
fn d_pretrain_epochs() -> usize {
    3
}
fn d_pretrain_lr() -> f64 {
    1e-3
}
fn d_pretrain_batch() -> usize {
    32
}

/// Where the prompts come from. The same prompts go to every dataset builder.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PromptsSection {
    /// `world` (the embedded task families) or `file` (a JSONL file, one prompt per line).
    #[serde(default = "d_prompt_source")]
    pub source: PromptSource,
    /// How many prompts (the first N of a file).
    #[serde(default = "d_prompt_count")]
    pub count: usize,
    /// JSONL file of prompts (with `source = "file"`).
    pub path: Option<String>,
    /// The JSON field holding the prompt text.
    #[serde(default = "d_prompt_field")]
    pub field: String,
}

impl Default for PromptsSection {
    fn default() -> Self {
        Self { source: d_prompt_source(), count: d_prompt_count(), path: None, field: d_prompt_field() }
    }
}
fn d_prompt_source() -> PromptSource {
    PromptSource::World
}
fn d_prompt_count() -> usize {
    1000
}
fn d_prompt_field() -> String {
    "prompt".into()
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PromptSource {
    World,
    File,
}

/// Who revises, judges and writes the off-policy and stronger outputs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AgentsSection {
    #[serde(default)]
    pub reviser: AgentSpec,
    #[serde(default)]
    pub judge: AgentSpec,
    /// Source of the stronger model's own answers (`stronger_preferred`).
    #[serde(default)]
    pub stronger: AgentSpec,
    /// Sources of the other models' outputs for the off-policy judge.
    #[serde(default)]
    pub off_policy: AgentSpec,
    /// How the target model is sampled for `clair` and the on-policy judge.
    #[serde(default)]
    pub sampling: SamplingSection,
    /// Who samples the target: absent, the grid's `[model]` itself (burn); `kind = "api"`, a
    /// server serving the target model (e.g. vLLM). Either way `[agents.sampling]` says how
    /// (temperature, top_p, max_new_tokens); the API table's own sampling keys are not used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<AgentSpec>,
    /// A file replacing the paper's reviser prompt; placeholders `<<task>>` and
    /// `<<student_solution>>` (see `crate::data::template`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviser_template: Option<String>,
    /// A file replacing the paper's judge prompt; placeholders `<<task>>`,
    /// `<<student_solution_1>>` and `<<student_solution_2>>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judge_template: Option<String>,
}

impl Default for AgentsSection {
    fn default() -> Self {
        Self {
            reviser: AgentSpec::Oracle,
            judge: AgentSpec::Oracle,
            stronger: AgentSpec::Oracle,
            off_policy: AgentSpec::Oracle,
            sampling: SamplingSection::default(),
            target: None,
            reviser_template: None,
            judge_template: None,
        }
    }
}

/// One reviser/judge/generator provider.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum AgentSpec {
    /// The embedded world's oracle (knows every answer).
    #[default]
    Oracle,
    /// An LLM behind an OpenAI-compatible chat-completions API. The key is read from the
    /// environment variable named by `api_key_env`, never from the grid file.
    Api {
        base_url: String,
        model: String,
        #[serde(default = "d_api_key_env")]
        api_key_env: String,
        #[serde(default = "d_api_temperature")]
        temperature: f64,
        #[serde(default = "d_api_max_tokens")]
        max_tokens: usize,
        #[serde(default = "d_api_timeout")]
        timeout_s: u64,
        #[serde(default = "d_api_concurrency")]
        concurrency: usize,
        /// Retries of a request after 429, 5xx, timeouts and connection errors.
        #[serde(default = "d_api_max_retries")]
        max_retries: u32,
        /// The wait before the first retry, doubled for each further one (with jitter), unless
        /// the server sends `Retry-After`.
        #[serde(default = "d_api_backoff_ms")]
        backoff_ms: u64,
    },
    /// A local model (same SPEC syntax as `[model] spec`).
    Model { spec: String },
    /// Completions already present in the prompts file (UltraFeedback carries four models'
    /// completions per prompt), under `field`.
    File {
        #[serde(default = "d_completions_field")]
        field: String,
    },
}
fn d_api_key_env() -> String {
    "OPENAI_API_KEY".into()
}
fn d_api_temperature() -> f64 {
    0.7
}
fn d_api_max_tokens() -> usize {
    2048
}
fn d_api_timeout() -> u64 {
    120
}
fn d_api_concurrency() -> usize {
    16
}
fn d_api_max_retries() -> u32 {
    6
}
fn d_api_backoff_ms() -> u64 {
    1000
}
fn d_completions_field() -> String {
    "completions".into()
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SamplingSection {
    #[serde(default = "d_sample_temperature")]
    pub temperature: f64,
    #[serde(default = "d_top_p")]
    pub top_p: f64,
    #[serde(default = "d_max_new_tokens")]
    pub max_new_tokens: usize,
}

impl Default for SamplingSection {
    fn default() -> Self {
        Self { temperature: d_sample_temperature(), top_p: d_top_p(), max_new_tokens: d_max_new_tokens() }
    }
}
fn d_sample_temperature() -> f64 {
    0.7
}
fn d_top_p() -> f64 {
    1.0
}
fn d_max_new_tokens() -> usize {
    512
}

/// Training settings shared by every cell (SPEC.md section 3 defaults).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TrainSection {
    #[serde(default = "d_epochs")]
    pub epochs: usize,
    #[serde(default = "d_lr")]
    pub learning_rate: f64,
    #[serde(default)]
    pub schedule: Schedule,
    /// Share of all updates over which the rate climbs from 0 (Hugging Face's `warmup_ratio`;
    /// 0 by default, as the paper mentions no warm-up).
    #[serde(default)]
    pub warmup_ratio: f64,
    #[serde(default)]
    pub optimizer: OptimizerKind,
    /// Effective batch in pairs; reached by accumulating micro-batches.
    #[serde(default = "d_batch")]
    pub batch_size: usize,
    #[serde(default = "d_micro_batch")]
    pub micro_batch_size: usize,
    #[serde(default = "d_trunc")]
    pub max_prompt_tokens: usize,
    #[serde(default = "d_trunc")]
    pub max_response_tokens: usize,
    /// Clip each update's gradients to this global L2 norm (`crate::train::grad_norm`); off by
    /// default, as the paper does not mention clipping (Hugging Face's Trainer clips at 1.0).
    #[serde(default)]
    pub max_grad_norm: Option<f64>,
    #[serde(default)]
    pub keep_checkpoints: KeepCheckpoints,
    /// `f32`, or `bf16` compute with f32 master weights (`model::precision`); also used by the
    /// reference log-probs.
    #[serde(default)]
    pub precision: Precision,
    /// Recompute memory-bound activations (norms, activations, elementwise ops) in the backward
    /// instead of keeping them: burn's balanced gradient checkpointing. Same numbers, less memory.
    #[serde(default)]
    pub activation_checkpointing: bool,
}

impl Default for TrainSection {
    fn default() -> Self {
        Self {
            epochs: d_epochs(),
            learning_rate: d_lr(),
            schedule: Schedule::default(),
            warmup_ratio: 0.0,
            optimizer: OptimizerKind::default(),
            batch_size: d_batch(),
            micro_batch_size: d_micro_batch(),
            max_prompt_tokens: d_trunc(),
            max_response_tokens: d_trunc(),
            max_grad_norm: None,
            keep_checkpoints: KeepCheckpoints::default(),
            precision: Precision::default(),
            activation_checkpointing: false,
        }
    }
}
fn d_epochs() -> usize {
    18
}
fn d_lr() -> f64 {
    2e-7
}
fn d_batch() -> usize {
    16
}
fn d_micro_batch() -> usize {
    1
}
fn d_trunc() -> usize {
    512
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum KeepCheckpoints {
    #[default]
    All,
    BestLast,
}

/// How checkpoints are scored.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalSection {
    /// `world` (the embedded benchmark), `mmlu`, `hhh` or `command` (an external evaluator).
    pub benchmark: Option<Spanned<BenchmarkName>>,
    /// Several benchmarks instead of one; the first is the headline of Tables 2 and 4.
    pub benchmarks: Option<Spanned<Vec<BenchmarkName>>>,
    #[serde(default)]
    pub mmlu: MmluSection,
    #[serde(default)]
    pub hhh: HhhSection,
    /// Benchmark prompts (the embedded world's held-out set).
    #[serde(default = "d_bench_count")]
    pub count: usize,
    #[serde(default = "d_max_new_tokens")]
    pub max_new_tokens: usize,
    /// External evaluator: an argv (no shell) with `{model_dir}`, `{output}`, `{epoch}` and
    /// `{cell}` substituted (see `crate::eval::command`).
    pub command: Option<Spanned<Vec<String>>>,
    /// Environment variables the command needs, passed through by name, never stored.
    #[serde(default)]
    pub env: Vec<String>,
    /// The command's time limit, seconds.
    pub timeout_s: Option<Spanned<u64>>,
    /// Held-out pairs per dataset for the likelihood trajectories (Figure 4).
    #[serde(default = "d_heldout")]
    pub heldout_pairs: usize,
}

impl Default for EvalSection {
    fn default() -> Self {
        Self {
            benchmark: None,
            benchmarks: None,
            mmlu: MmluSection::default(),
            hhh: HhhSection::default(),
            count: d_bench_count(),
            max_new_tokens: d_max_new_tokens(),
            command: None,
            env: Vec::new(),
            timeout_s: None,
            heldout_pairs: d_heldout(),
        }
    }
}
fn d_bench_count() -> usize {
    300
}
fn d_heldout() -> usize {
    crate::data::split::DEFAULT_HELDOUT
}

/// The evaluators a grid can name (`crate::eval::Evaluator` is the validated form).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum BenchmarkName {
    #[default]
    World,
    Command,
    Mmlu,
    Hhh,
}

/// `[eval.mmlu]`: where the questions are (default: what scripts/get-eval-data.sh fetched) and
/// how many to draw (a seeded uniform subset; default all).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MmluSection {
    pub path: Option<String>,
    pub count: Option<Spanned<usize>>,
}

/// `[eval.hhh]`: a task.json, a JSONL file or a folder of them (default: the fetched set).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HhhSection {
    pub path: Option<String>,
}

/// One `[[dataset]]` row.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetEntry {
    pub name: Spanned<String>,
    /// One of the four builders of SPEC.md section 1, or `file`.
    pub builder: DatasetKind,
    /// A JSONL file of prompt/chosen/rejected triples (builder `file` only).
    pub path: Option<Spanned<String>>,
    /// Revisions whose length ratio to the losing output falls outside
    /// `[min_length_ratio, max_length_ratio]` (characters) are dropped.
    pub min_length_ratio: Option<Spanned<f64>>,
    pub max_length_ratio: Option<Spanned<f64>>,
    /// The fewest training pairs the dataset may end with; fewer fails its build with the
    /// filters' and agents' rejection counts (default 1: an empty dataset is never "done").
    pub min_pairs: Option<Spanned<usize>>,
    /// Which stored rating ranks the completions (builder `off_policy_ratings` only):
    /// `overall_score` (default) or `mean_aspects`.
    pub rating: Option<Spanned<crate::data::ratings::RatingSource>>,
}

/// One `[[objective]]` row.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectiveEntry {
    pub name: Spanned<String>,
    pub kind: ObjectiveKind,
    pub beta: Option<Spanned<f64>>,
    pub desirable_weight: Option<Spanned<f64>>,
    pub undesirable_weight: Option<Spanned<f64>>,
    /// `false` keeps the row in the file but out of the plan (the paper's Appendix C block).
    #[serde(default = "d_true")]
    pub enabled: bool,
}
fn d_true() -> bool {
    true
}

/// A (dataset, objective) cell named in an override or exclusion.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CellRef {
    pub dataset: Spanned<String>,
    pub objective: Spanned<String>,
}

/// Train settings changed for one cell.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CellOverride {
    pub dataset: Spanned<String>,
    pub objective: Spanned<String>,
    pub learning_rate: Option<f64>,
    pub epochs: Option<usize>,
    pub batch_size: Option<usize>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct DevicesSection {
    /// `cpu` and `tch-cpu` (`--jobs` tasks each), or `cuda:0`, `cuda:1`, ... (one training task
    /// per device at a time).
    #[serde(default)]
    pub list: Vec<String>,
    /// Concurrent CPU tasks (default: 1).
    pub jobs: Option<usize>,
    /// Memory of each listed device in GiB, for planning a machine you are not on (e.g. a
    /// cluster's GPUs from a laptop). Default: what the device reports here.
    pub memory_gib: Option<f64>,
}
