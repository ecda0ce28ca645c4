//! What the store holds for one grid, gathered through the plan into plain structs.
//!
//! Everything is optional: a dataset not built yet, an epoch not evaluated, a run not trained
//! are simply absent, so a partial grid gives partial tables. Artifacts that exist but cannot
//! be read are skipped too, and named in [`Collected::warnings`] so the user can see why a
//! number is missing; collecting never fails and never panics.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::artifacts::{
    self, DATASET_MANIFEST, EvalResult, Heldout, JsonArtifact, ReferenceLogps, StepLog, TrainSummary,
};
use crate::data::builders::DatasetKind;
use crate::grid::{DatasetSource, Grid};
use crate::objective::ObjectiveKind;
use crate::plan::{Plan, TaskInput, TaskKind};
use crate::store::{Store, TaskState};

/// Everything the reports are made from.
#[derive(Debug, Clone, Default)]
pub struct Collected {
    pub grid: String,
    /// The benchmark these numbers are of, and every benchmark of the grid (the first is the
    /// headline).
    pub benchmark: String,
    pub benchmarks: Vec<String>,
    /// The grid's seeds, in order (the first also seeded the data).
    pub seeds: Vec<u64>,
    /// The base model's evaluation (epoch 0), when done.
    pub base: Option<EvalPoint>,
    /// One per grid dataset, in grid order; `manifest` is `None` until the dataset is built.
    pub datasets: Vec<DatasetInfo>,
    /// One per (dataset, objective, seed) cell of the grid, in plan order.
    pub runs: Vec<RunData>,
    /// Artifacts that exist but could not be read (file and reason).
    pub warnings: Vec<String>,
    /// When the finished tasks ran; `None` before any has.
    pub timing: Option<Timing>,
}

/// When a grid's finished tasks ran, from their manifests.
#[derive(Debug, Clone, PartialEq)]
pub struct Timing {
    pub tasks: usize,
    /// The earliest start and the latest end among the tasks, as the manifests record them.
    pub first_started: String,
    pub last_finished: String,
    /// Seconds from that start to that end: the grid's wall time when one `run` did all of it
    /// (with pauses in between when several runs filled the store).
    pub wall_s: f64,
    /// The tasks' own times added up.
    pub task_s: f64,
}

impl Timing {
    /// Folds the manifests of finished tasks; `None` for none (or none with readable times).
    fn of<'a>(manifests: impl Iterator<Item = &'a crate::store::Manifest>) -> Option<Timing> {
        let mut t: Option<(std::time::SystemTime, String, std::time::SystemTime, String, usize, f64)> = None;
        for m in manifests {
            let (Ok(start), Ok(end)) = (humantime::parse_rfc3339(&m.started), humantime::parse_rfc3339(&m.finished))
            else {
                continue;
            };
            let (s0, s0_text, e1, e1_text, n, sum) =
                t.get_or_insert_with(|| (start, m.started.clone(), end, m.finished.clone(), 0, 0.0));
            if start < *s0 {
                (*s0, *s0_text) = (start, m.started.clone());
            }
            if end > *e1 {
                (*e1, *e1_text) = (end, m.finished.clone());
            }
            *n += 1;
            *sum += m.seconds;
        }
        t.map(|(s0, first_started, e1, last_finished, tasks, task_s)| Timing {
            tasks,
            first_started,
            last_finished,
            wall_s: e1.duration_since(s0).map(|d| d.as_secs_f64()).unwrap_or(0.0),
            task_s,
        })
    }
}

/// One dataset's Table 1 numbers (from its `manifest.json`).
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetInfo {
    pub name: String,
    /// How the grid makes it (which builder, or a user's file). From the grid, so it is known
    /// before the dataset is built and the claims (`super::claims`) match datasets by it,
    /// never by their free-text names.
    pub kind: DatasetKind,
    pub manifest: Option<DatasetNumbers>,
}

/// A grid dataset's kind, as its `builder = "..."` declared it.
pub fn dataset_kind(d: &crate::grid::Dataset) -> DatasetKind {
    match &d.source {
        DatasetSource::Build { kind, .. } => DatasetKind::Build(*kind),
        DatasetSource::File { .. } => DatasetKind::File,
    }
}

/// The fields of `crate::data::dataset::DatasetManifest` that the report uses. Read leniently
/// (missing fields default) so manifests written before a field existed still report; the
/// test `dataset_numbers_read_every_manifest_field` keeps the names in step with the real type.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct DatasetNumbers {
    pub builder: String,
    pub train: usize,
    pub heldout: usize,
    pub filters: FilterNumbers,
    pub contrast: ContrastNumbers,
    pub winner_vs_model: Option<WinnerNumbers>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct FilterNumbers {
    pub considered: usize,
    pub format: usize,
    pub empty: usize,
    pub identical: usize,
    pub length_ratio: usize,
    pub kept: usize,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct ContrastNumbers {
    pub pairs: usize,
    /// Percent.
    pub mean_jaccard: f64,
    /// Characters.
    pub mean_levenshtein: f64,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct WinnerNumbers {
    pub compared: usize,
    pub winner_better: usize,
    pub model_better: usize,
    pub ties: usize,
    /// Fraction of comparisons the winner won (0..1).
    pub fraction: f64,
    /// Fraction the model's own answer won; `None` in manifests older than the field.
    pub model_fraction: Option<f64>,
    pub suggested: String,
}

impl WinnerNumbers {
    /// `model_fraction`, or recomputed from the counts where the manifest predates it.
    pub fn model_fraction(&self) -> f64 {
        self.model_fraction.unwrap_or(if self.compared == 0 {
            0.0
        } else {
            self.model_better as f64 / self.compared as f64
        })
    }
}

/// One checkpoint's evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalPoint {
    pub epoch: usize,
    /// Benchmark score, percent.
    pub score: f64,
    /// Mean response length, characters.
    pub mean_length: f64,
    /// `(family, accuracy %)` in the benchmark's family order.
    pub per_family: Vec<(String, f64)>,
    /// Held-out means (`None` for the base model).
    pub heldout: Option<HeldoutPoint>,
}

/// Held-out means at one checkpoint (Figure 4).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeldoutPoint {
    pub pairs: usize,
    pub chosen_logps: f64,
    pub rejected_logps: f64,
    pub chosen_reward: f64,
    pub rejected_reward: f64,
}

impl From<&Heldout> for HeldoutPoint {
    fn from(h: &Heldout) -> Self {
        HeldoutPoint {
            pairs: h.pairs,
            chosen_logps: h.chosen_logps,
            rejected_logps: h.rejected_logps,
            chosen_reward: h.chosen_reward,
            rejected_reward: h.rejected_reward,
        }
    }
}

impl EvalPoint {
    /// The point of an evaluation, from its `benchmark`-th benchmark (0: the headline); `None`
    /// when it has no such score.
    pub(crate) fn from_result(r: &EvalResult, benchmark: usize) -> Option<Self> {
        let headline = r.scores.get(benchmark)?;
        Some(EvalPoint {
            epoch: r.epoch,
            score: headline.score,
            mean_length: headline.length.unwrap_or(0.0),
            per_family: headline.categories.iter().map(|c| (c.name.clone(), c.score)).collect(),
            heldout: r.heldout.as_ref().map(HeldoutPoint::from),
        })
    }
}

/// One training run (a dataset x objective x seed cell) and its evaluations.
#[derive(Debug, Clone, PartialEq)]
pub struct RunData {
    pub dataset: String,
    /// The objective's name in the grid.
    pub objective: String,
    /// Its kind (`dpo`, `apo_zero`, `kto`, ...), from the grid's objective: tables and claims
    /// select objectives by kind, never by their free-text names.
    pub kind: ObjectiveKind,
    pub seed: u64,
    /// Epochs the grid asks for.
    pub epochs_planned: usize,
    /// Evaluated checkpoints, sorted by epoch (epochs 1..E; missing ones absent).
    pub evals: Vec<EvalPoint>,
    /// The finished training run, when done.
    pub train: Option<TrainInfo>,
    /// Held-out means of the reference (base) model: the epoch-0 point of Figure 4's
    /// log-likelihoods (rewards are 0 there by definition). `None` until reference log-probs exist.
    pub reference_heldout: Option<(f64, f64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TrainInfo {
    /// Wall time of the train task (its `task.json`), seconds.
    pub seconds: f64,
    pub updates: usize,
    /// `log.jsonl`, one entry per optimizer update.
    pub steps: Vec<StepLog>,
    /// The run's divergence warnings (`crate::train::divergence`).
    pub warnings: Vec<String>,
}

/// Reads what the store holds for `plan`'s tasks.
pub fn collect(grid: &Grid, plan: &Plan, store: &Store) -> Collected {
    collect_benchmark(grid, plan, store, 0)
}

/// [`collect`] with the scores of the grid's `benchmark`-th benchmark.
pub fn collect_benchmark(grid: &Grid, plan: &Plan, store: &Store, benchmark: usize) -> Collected {
    let benchmarks: Vec<String> = grid.eval.evaluators.iter().map(|e| e.name().to_string()).collect();
    let mut c = Collected {
        grid: grid.name.clone(),
        seeds: grid.seeds.clone(),
        benchmark: benchmarks.get(benchmark).cloned().unwrap_or_default(),
        benchmarks,
        ..Collected::default()
    };
    // Only intact artifacts are read (checked at their kind's depth); a corrupt one is named.
    let mut intact = vec![false; plan.tasks.len()];
    for (i, t) in plan.tasks.iter().enumerate() {
        match store.state(&t.key, t.kind().input_check()) {
            TaskState::Done => intact[i] = true,
            TaskState::Corrupt(e) => {
                c.warnings.push(format!("{e}; `apogrid verify --quarantine` then `run` recomputes it"))
            }
            TaskState::Missing => {}
        }
    }
    let manifests: Vec<crate::store::Manifest> = plan
        .tasks
        .iter()
        .zip(&intact)
        .filter(|(_, ok)| **ok)
        .filter_map(|(t, _)| store.manifest(&t.key).ok())
        .collect();
    c.timing = Timing::of(manifests.iter());
    let intact = &intact;
    let done = |kind: TaskKind| {
        plan.tasks.iter().enumerate().filter(move |(i, t)| t.kind() == kind && intact[*i]).map(|(_, t)| t)
    };
    let reference = reference_means(done(TaskKind::ReferenceLogps), store, &mut c.warnings);
    for d in &grid.datasets {
        let task = done(TaskKind::Dataset).find(|t| t.labels.dataset.as_deref() == Some(d.name.as_str()));
        let manifest = task
            .and_then(|t| read::<DatasetNumbers>(&store.artifact_dir(&t.key).join(DATASET_MANIFEST), &mut c.warnings));
        c.datasets.push(DatasetInfo { name: d.name.clone(), kind: dataset_kind(d), manifest });
    }
    let kind_of: BTreeMap<&str, ObjectiveKind> =
        grid.objectives.iter().map(|o| (o.name.as_str(), o.loss.kind())).collect();
    let mut index: BTreeMap<(String, String, u64), usize> = BTreeMap::new();
    for t in plan.tasks.iter().filter(|t| t.kind() == TaskKind::Train) {
        let (Some(dataset), Some(objective), TaskInput::Train(input)) =
            (&t.labels.dataset, &t.labels.objective, &t.input)
        else {
            continue;
        };
        // The plan is made from the grid, so every run's objective is one of the grid's.
        let Some(&kind) = kind_of.get(objective.as_str()) else { continue };
        let seed = t.labels.seed.unwrap_or(0);
        let train =
            done(TaskKind::Train).any(|d| d.key == t.key).then(|| train_info(store, &t.key, &mut c.warnings)).flatten();
        index.insert((dataset.clone(), objective.clone(), seed), c.runs.len());
        c.runs.push(RunData {
            kind,
            reference_heldout: reference.get(dataset).copied(),
            dataset: dataset.clone(),
            objective: objective.clone(),
            seed,
            epochs_planned: input.train.epochs,
            evals: Vec::new(),
            train,
        });
    }
    for t in done(TaskKind::Eval) {
        let dir = store.artifact_dir(&t.key);
        let Some(point) = read::<EvalResult>(&dir.join(EvalResult::FILE), &mut c.warnings)
            .and_then(|r| EvalPoint::from_result(&r, benchmark))
        else {
            continue;
        };
        match (&t.labels.dataset, &t.labels.objective) {
            (Some(ds), Some(obj)) => {
                let seed = t.labels.seed.unwrap_or(0);
                if let Some(&i) = index.get(&(ds.clone(), obj.clone(), seed)) {
                    c.runs[i].evals.push(point);
                }
            }
            _ => c.base = Some(point),
        }
    }
    for r in &mut c.runs {
        r.evals.sort_by_key(|e| e.epoch);
    }
    c
}

/// Each dataset's mean reference log-probs of its held-out pairs (chosen, rejected).
fn reference_means<'a>(
    tasks: impl Iterator<Item = &'a crate::plan::Task>,
    store: &Store,
    warnings: &mut Vec<String>,
) -> BTreeMap<String, (f64, f64)> {
    let mut reference = BTreeMap::new();
    for t in tasks {
        let Some(ds) = &t.labels.dataset else { continue };
        let path = store.artifact_dir(&t.key).join(ReferenceLogps::FILE);
        if let Some(means) = read::<ReferenceLogps>(&path, warnings).as_ref().and_then(heldout_means) {
            reference.insert(ds.clone(), means);
        }
    }
    reference
}

/// The reference's mean held-out log-probs (chosen, rejected); `None` without held-out pairs.
pub(crate) fn heldout_means(r: &ReferenceLogps) -> Option<(f64, f64)> {
    let n = r.heldout.len() as f64;
    let mean = |side: usize| r.heldout.iter().map(|p| p[side] as f64).sum::<f64>() / n;
    (!r.heldout.is_empty()).then(|| (mean(0), mean(1)))
}

fn train_info(store: &Store, key: &str, warnings: &mut Vec<String>) -> Option<TrainInfo> {
    let dir = store.artifact_dir(key);
    let seconds = match store.manifest(key) {
        Ok(m) => m.seconds,
        Err(e) => {
            warnings.push(e.to_string());
            return None;
        }
    };
    let summary = read::<TrainSummary>(&dir.join(TrainSummary::FILE), warnings);
    let updates = summary.as_ref().map(|t| t.updates).unwrap_or(0);
    let divergence = summary.map(|t| t.warnings).unwrap_or_default();
    let steps = artifacts::read_step_log(&dir).unwrap_or_else(|e| {
        warnings.push(format!("{e:#}"));
        Vec::new()
    });
    Some(TrainInfo { seconds, updates, steps, warnings: divergence })
}

fn read<T: DeserializeOwned>(path: &Path, warnings: &mut Vec<String>) -> Option<T> {
    match artifacts::read_json(path) {
        Ok(v) => Some(v),
        Err(e) => {
            warnings.push(format!("{e:#}"));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::contrast::ContrastStats;
    use crate::data::dataset::DatasetManifest;
    use crate::data::filters::FilterCounts;
    use crate::data::winner_vs_model::WinnerVsModel;

    #[test]
    fn dataset_numbers_read_every_manifest_field() {
        let m = DatasetManifest {
            builder: "clair".into(),
            seed: 3,
            source_models: vec![],
            filters: FilterCounts {
                considered: 10,
                format: 1,
                empty: 2,
                identical: 3,
                length_ratio: 1,
                kept: 3,
                ..FilterCounts::default()
            },
            train: 2,
            heldout: 1,
            contrast: ContrastStats { pairs: 3, mean_jaccard: 40.0, mean_levenshtein: 12.5 },
            winner_vs_model: Some(WinnerVsModel {
                compared: 4,
                winner_better: 3,
                model_better: 1,
                ties: 0,
                rejected: 0,
                fraction: 0.75,
                model_fraction: 0.25,
                suggested: "apo_zero".into(),
            }),
        };
        let n: DatasetNumbers = serde_json::from_value(serde_json::to_value(&m).unwrap()).unwrap();
        assert_eq!(n.builder, "clair");
        assert_eq!((n.train, n.heldout), (2, 1));
        assert_eq!(
            n.filters,
            FilterNumbers { considered: 10, format: 1, empty: 2, identical: 3, length_ratio: 1, kept: 3 }
        );
        assert_eq!(n.contrast, ContrastNumbers { pairs: 3, mean_jaccard: 40.0, mean_levenshtein: 12.5 });
        let w = n.winner_vs_model.unwrap();
        assert_eq!((w.compared, w.winner_better, w.model_better, w.fraction), (4, 3, 1, 0.75));
        assert_eq!((w.model_fraction, w.suggested.as_str()), (Some(0.25), "apo_zero"));
    }

    #[test]
    fn timing_spans_the_earliest_start_to_the_latest_end_and_adds_task_times() {
        let m = |started: &str, finished: &str, seconds: f64| crate::store::Manifest {
            id: "t".into(),
            kind: "eval".into(),
            key: "k".into(),
            params: serde_json::Value::Null,
            labels: serde_json::Value::Null,
            parents: vec![],
            tool_version: "0".into(),
            started: started.into(),
            finished: finished.into(),
            seconds,
            status: crate::store::Status::Done,
            error: None,
            summary: serde_json::Value::Null,
        };
        let ms = [
            m("2026-11-30T08:05:00Z", "2026-11-30T08:17:10Z", 730.0),
            m("2026-11-30T08:00:00Z", "2026-11-30T08:01:00Z", 60.0),
            m("not a time", "2026-11-30T09:00:00Z", 5.0),
        ];
        let t = Timing::of(ms.iter()).expect("two readable manifests");
        assert_eq!((t.tasks, t.wall_s, t.task_s), (2, 1030.0, 790.0));
        assert_eq!(
            (t.first_started.as_str(), t.last_finished.as_str()),
            ("2026-11-30T08:00:00Z", "2026-11-30T08:17:10Z")
        );
        assert_eq!(Timing::of(ms[2..].iter()), None);
    }

    #[test]
    fn an_older_manifest_without_model_fraction_still_reads() {
        let json = r#"{"builder":"judge_off_policy","filters":{"considered":5,"kept":5},
            "contrast":{"pairs":5,"mean_jaccard":11.0,"mean_levenshtein":41.0},
            "winner_vs_model":{"compared":4,"winner_better":3,"model_better":1,"fraction":0.75,"suggested":"apo_zero"}}"#;
        let n: DatasetNumbers = serde_json::from_str(json).unwrap();
        assert_eq!(n.winner_vs_model.unwrap().model_fraction(), 0.25);
    }
}
