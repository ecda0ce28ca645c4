//! The validated grid: plain values, no spans, every default filled in, every cross-reference
//! checked. This is what the planner reads.

use std::path::PathBuf;

use super::schema::{
    AgentsSection, Builder, DevicesSection, EvalSection, ObjectiveKind, PretrainSection, PromptsSection, TrainSection,
};

#[derive(Debug, Clone)]
pub struct Grid {
    pub name: String,
    /// The file it was read from.
    pub path: PathBuf,
    /// At least one; each cell runs once per seed.
    pub seeds: Vec<u64>,
    pub store: PathBuf,
    pub results: PathBuf,
    pub model: ModelSpec,
    pub prompts: PromptsSection,
    pub agents: AgentsSection,
    pub train: TrainSection,
    pub eval: EvalSection,
    pub datasets: Vec<Dataset>,
    /// Enabled objectives only.
    pub objectives: Vec<Objective>,
    /// The dataset x objective cross product minus exclusions, with overrides applied.
    pub cells: Vec<Cell>,
    pub devices: DevicesSection,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ModelSpec {
    /// `tiny`, `smollm2`, `hf:DIR` or `gguf:FILE`.
    pub spec: String,
    /// Only for `tiny`: how the base model is trained on the world's corpus.
    pub pretrain: Option<PretrainSection>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub name: String,
    pub builder: Builder,
    pub path: Option<PathBuf>,
    pub min_length_ratio: f64,
    pub max_length_ratio: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Objective {
    pub name: String,
    pub kind: ObjectiveKind,
    /// `None` for `sft`, which has no reward scale.
    pub beta: Option<f64>,
    /// Unpaired objectives only.
    pub desirable_weight: Option<f64>,
    pub undesirable_weight: Option<f64>,
}

/// One training run: a dataset, an objective, a seed and the train settings that apply.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// Index into `Grid::datasets`.
    pub dataset: usize,
    /// Index into `Grid::objectives`.
    pub objective: usize,
    pub seed: u64,
    pub train: TrainSection,
}
