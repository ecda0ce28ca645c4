//! The validated grid: plain values, no spans, every default filled in, every cross-reference
//! checked, every string already parsed into the lower floors' types. This is what the planner
//! reads; tasks never see it (they read their typed inputs, `crate::plan::inputs`).

use std::path::PathBuf;

use super::schema::{AgentsSection, PretrainSection, PromptsSection, TrainSection};
use crate::data::builders::BuilderKind;
use crate::device::DeviceName;
use crate::eval::Evaluator;
use crate::model::spec::ModelSpec;
use crate::objective::Objective as Loss;

#[derive(Debug, Clone)]
pub struct Grid {
    pub name: String,
    /// The file it was read from.
    pub path: PathBuf,
    /// At least one; each cell runs once per seed.
    pub seeds: Vec<u64>,
    pub store: PathBuf,
    pub results: PathBuf,
    pub model: GridModel,
    pub prompts: PromptsSection,
    pub agents: AgentsSection,
    pub train: TrainSection,
    pub eval: Eval,
    pub datasets: Vec<Dataset>,
    /// Enabled objectives only.
    pub objectives: Vec<Objective>,
    /// The dataset x objective cross product minus exclusions, with overrides applied.
    pub cells: Vec<Cell>,
    pub devices: Devices,
    /// Input files the grid names that do not exist: `plan` lists them, `run` refuses to start.
    pub missing: Vec<super::GridError>,
    /// `[executor]`: local threads or Slurm jobs; never part of a task's key.
    pub executor: super::executor::Executor,
}

impl Grid {
    /// Where the grid's reports go: `<results>/<grid name>/`.
    pub fn results_dir(&self) -> PathBuf {
        self.results.join(&self.name)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct GridModel {
    pub spec: ModelSpec,
    /// Only for `tiny`: how the base model is trained on the world's corpus.
    pub pretrain: Option<PretrainSection>,
}

/// `[eval]`, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Eval {
    /// One or more benchmarks; the first is the headline of Tables 2 and 4.
    pub evaluators: Vec<Evaluator>,
    /// Held-out pairs per dataset for the likelihood trajectories (Figure 4).
    pub heldout_pairs: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub name: String,
    pub source: DatasetSource,
    /// The fewest training pairs the build may end with.
    pub min_pairs: usize,
}

impl Dataset {
    /// Which stored rating ranks the completions, for a dataset built from ratings.
    pub fn rating(&self) -> Option<crate::data::ratings::RatingSource> {
        match &self.source {
            DatasetSource::Build { rating, .. } => *rating,
            DatasetSource::File { .. } => None,
        }
    }
}

/// How a dataset is made: built from the grid's prompts, or imported from a user's file.
#[derive(Debug, Clone, PartialEq)]
pub enum DatasetSource {
    Build {
        kind: BuilderKind,
        /// Revisions whose length ratio to the losing output falls outside this range are
        /// dropped (CLAIR only).
        length_ratio: (f64, f64),
        /// Which stored rating ranks the completions (`off_policy_ratings` only).
        rating: Option<crate::data::ratings::RatingSource>,
    },
    File {
        path: PathBuf,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Objective {
    pub name: String,
    /// The loss with its hyper-parameters (β, weights), as the objective floor builds it.
    pub loss: Loss,
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

/// `[devices]`, parsed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Devices {
    pub list: Vec<DeviceName>,
    pub jobs: Option<usize>,
    /// `[devices] memory_gib` in bytes: overrides what the devices report.
    pub memory: Option<u64>,
}
