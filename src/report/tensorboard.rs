//! The TensorBoard view of one training run, made from the store (issue 17):
//!
//! - per update, at the update's number: the step log's values as `train/<metric>`, with the
//!   metric names of `steps.csv` ([`StepLog::metrics`]);
//! - per epoch, at the epoch's number: each benchmark's `eval/<benchmark>/score`, `/length` and
//!   `/family/<name>`, and the held-out means `eval/heldout/...`, with the metric names of
//!   `epochs.csv`; epoch 0 is the base model's evaluation and the reference's held-out
//!   log-likelihoods (zero rewards), as there.
//!
//! The view is written whole each time (see [`crate::tensorboard`]): by the training run at
//! each saved epoch, after each of the run's evaluations is in the store, and by every report,
//! so a resumed run never shows a step twice and a view missed by a crash is made by the next
//! report. The run's log is read from its artifact once it is done, else from its resumable
//! state, which holds exactly the updates of the saved epochs plus the current one.

use std::path::PathBuf;
use std::time::UNIX_EPOCH;

use super::ReportError;
use super::collect::{EvalPoint, HeldoutPoint, heldout_means};
use super::tidy::{heldout_metrics, reference_point, score_metrics};
use crate::artifacts::{EvalResult, JsonArtifact, ReferenceLogps, STEP_LOG, read_step_log};
use crate::plan::{Plan, Task, TaskInput, TaskKind};
use crate::store::{Check, Store, TaskState};
use crate::tensorboard::{Event, write_view};

/// A run's view, ready to write.
pub struct RunView {
    pub dir: PathBuf,
    pub events: Vec<Event>,
    /// Artifacts that exist but could not be read (left out of the view).
    pub warnings: Vec<String>,
}

/// What [`refresh`] did.
pub struct Refreshed {
    /// The new event file; `None` when the view had not changed.
    pub written: Option<PathBuf>,
    pub warnings: Vec<String>,
}

/// Rewrites the view of training run `train` (a plan index) from the store; `None` when that
/// task is no training run.
pub fn refresh(plan: &Plan, store: &Store, train: usize) -> Result<Option<Refreshed>, ReportError> {
    let Some(v) = view(plan, store, train) else { return Ok(None) };
    let written = write_view(&v.dir, &v.events)?;
    Ok(Some(Refreshed { written, warnings: v.warnings }))
}

/// Rewrites the view of every training run of the plan that has logged an update or been
/// evaluated; returns the warnings.
pub fn refresh_all(plan: &Plan, store: &Store) -> Result<Vec<String>, ReportError> {
    let mut warnings = Vec::new();
    for (i, t) in plan.tasks.iter().enumerate() {
        if t.kind() == TaskKind::Train
            && let Some(v) = view(plan, store, i)
            && !v.events.is_empty()
        {
            write_view(&v.dir, &v.events)?;
            warnings.extend(v.warnings);
        }
    }
    Ok(warnings)
}

/// The view of training run `train` as the store holds it now.
pub fn view(plan: &Plan, store: &Store, train: usize) -> Option<RunView> {
    let task = &plan.tasks[train];
    let TaskInput::Train(input) = &task.input else { return None };
    let done = |t: &Task| matches!(store.state(&t.key, Check::Sizes), TaskState::Done);
    let mut warnings = Vec::new();
    let log_dir = if done(task) { store.artifact_dir(&task.key) } else { store.partial_dir(&task.key) };
    let steps = match log_dir.join(STEP_LOG).exists() {
        true => read_step_log(&log_dir).unwrap_or_else(|e| {
            warnings.push(format!("{e:#}"));
            Vec::new()
        }),
        false => Vec::new(),
    };
    let mut events: Vec<Event> = steps
        .iter()
        .map(|s| {
            let values: Vec<(String, f64)> = s.metrics().into_iter().map(|(m, v)| (format!("train/{m}"), v)).collect();
            Event::scalars(s.time.unwrap_or(0.0), s.step as i64, &values)
        })
        .collect();
    let first_time = steps.first().and_then(|s| s.time);

    // Epoch 0: the base model's evaluation and the reference's held-out means.
    let mut epoch0 = Vec::new();
    let base = plan.tasks.iter().find(|t| matches!(&t.input, TaskInput::Eval(e) if e.epoch == 0)).filter(|t| done(t));
    let base_time = base.and_then(|b| finished_at(store, b));
    if let Some(r) = base.and_then(|b| read::<EvalResult>(store, b, &mut warnings)) {
        epoch0.extend(benchmark_values(&r));
    }
    let reference = task.deps.iter().map(|d| &plan.tasks[*d]).find(|t| t.kind() == TaskKind::ReferenceLogps);
    let reference = reference.filter(|t| done(t)).and_then(|t| read::<ReferenceLogps>(store, t, &mut warnings));
    if let Some((chosen, rejected)) = reference.as_ref().and_then(heldout_means) {
        epoch0.extend(tagged("eval", heldout_metrics(&reference_point(chosen, rejected))));
    }
    if !epoch0.is_empty() {
        events.push(Event::scalars(base_time.or(first_time).unwrap_or(0.0), 0, &epoch0));
    }

    // Epochs 1..E: the run's evaluations.
    let mut evals: Vec<&Task> =
        plan.children(train).map(|c| &plan.tasks[c]).filter(|t| t.kind() == TaskKind::Eval).collect();
    evals.sort_by_key(|t| t.labels.epoch);
    for t in evals.into_iter().filter(|t| done(t)) {
        let Some(r) = read::<EvalResult>(store, t, &mut warnings) else { continue };
        let mut values = benchmark_values(&r);
        if let Some(h) = &r.heldout {
            values.extend(tagged("eval", heldout_metrics(&HeldoutPoint::from(h))));
        }
        let time = finished_at(store, t).or(steps.last().and_then(|s| s.time)).unwrap_or(0.0);
        events.push(Event::scalars(time, r.epoch as i64, &values));
    }
    Some(RunView { dir: input.tensorboard.clone(), events, warnings })
}

/// Every benchmark's metrics of an evaluation, `eval/<benchmark>/<metric>`.
fn benchmark_values(r: &EvalResult) -> Vec<(String, f64)> {
    (0..r.scores.len())
        .filter_map(|b| EvalPoint::from_result(r, b).map(|p| (b, p)))
        .flat_map(|(b, p)| tagged(&format!("eval/{}", r.scores[b].benchmark), score_metrics(&p)))
        .collect()
}

fn tagged(prefix: &str, values: Vec<(String, f64)>) -> Vec<(String, f64)> {
    values.into_iter().map(|(name, v)| (format!("{prefix}/{name}"), v)).collect()
}

/// When a task finished (its manifest), seconds since the Unix epoch.
fn finished_at(store: &Store, t: &Task) -> Option<f64> {
    let m = store.manifest(&t.key).ok()?;
    let at = humantime::parse_rfc3339(&m.finished).ok()?;
    at.duration_since(UNIX_EPOCH).ok().map(|d| d.as_secs_f64())
}

fn read<T: JsonArtifact>(store: &Store, t: &Task, warnings: &mut Vec<String>) -> Option<T> {
    T::read(&store.artifact_dir(&t.key)).map_err(|e| warnings.push(format!("{e:#}"))).ok()
}
