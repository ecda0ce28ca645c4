//! The executor: a ready queue over the plan's DAG.
//!
//! A task runs when all its parents are done; finished tasks (by key, in the store) are never
//! run again; independent tasks run concurrently, one per free slot; a failure is recorded and
//! only that task's descendants are skipped (Snakemake's `--keep-going`), so unrelated
//! branches finish. A panic inside a task is a failure of that task, not of the run.

pub mod progress;
pub mod slots;

use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Instant, SystemTime};

use serde_json::Value;

use crate::plan::{Plan, Task, TaskKind};
use crate::store::{Manifest, ParentRef, Status, Store, StoreError};
pub use progress::Progress;
pub use slots::{DeviceName, Slot};

/// How a task kind is carried out. The real implementation is `crate::tasks::TaskRunner`;
/// tests plug in their own.
pub trait Runner: Sync {
    /// Writes the task's artifacts into `ctx.out` and returns a summary for its manifest. A
    /// `"notes"` list of strings in the summary is also printed under the task's `done` line.
    fn run(&self, task: &Task, ctx: &TaskContext) -> anyhow::Result<Value>;
}

/// Everything a running task may use.
pub struct TaskContext<'a> {
    pub plan: &'a Plan,
    pub index: usize,
    pub store: &'a Store,
    /// Empty folder for the task's artifacts; renamed into the store when `run` returns Ok.
    pub out: PathBuf,
    /// Survives kills and failures: resumable state (e.g. per-epoch checkpoints).
    pub partial: PathBuf,
    pub slot: &'a Slot,
    pub progress: progress::TaskProgress,
}

impl TaskContext<'_> {
    pub fn task(&self) -> &Task {
        &self.plan.tasks[self.index]
    }

    /// Artifact folder of the first parent of the given kind.
    pub fn parent(&self, kind: TaskKind) -> anyhow::Result<PathBuf> {
        self.task()
            .deps
            .iter()
            .map(|d| &self.plan.tasks[*d])
            .find(|t| t.kind == kind)
            .map(|t| self.store.artifact_dir(&t.key))
            .ok_or_else(|| anyhow::anyhow!("task `{}` has no `{}` parent", self.task().id, kind.name()))
    }

    /// Every parent with its artifact folder.
    pub fn parents(&self) -> Vec<(&Task, PathBuf)> {
        self.task()
            .deps
            .iter()
            .map(|d| {
                let t = &self.plan.tasks[*d];
                (t, self.store.artifact_dir(&t.key))
            })
            .collect()
    }
}

#[derive(Debug, Clone)]
pub struct ExecOptions {
    pub slots: Vec<Slot>,
    /// Only these tasks and their ancestors (`None`: the whole plan).
    pub targets: Option<Vec<usize>>,
    pub show_progress: bool,
}

/// What happened to each task of a run.
#[derive(Debug, Default, Clone)]
pub struct Outcome {
    pub cached: Vec<usize>,
    pub ran: Vec<usize>,
    pub failed: Vec<(usize, String)>,
    /// Not run because an ancestor failed.
    pub skipped: Vec<usize>,
}

impl Outcome {
    pub fn success(&self) -> bool {
        self.failed.is_empty() && self.skipped.is_empty()
    }
}

enum State {
    Waiting(usize),
    Running,
    Done,
    Failed,
}

/// Runs the plan (or the part `opts.targets` needs) to completion.
pub fn execute(plan: &Plan, store: &Store, runner: &dyn Runner, opts: &ExecOptions) -> Result<Outcome, StoreError> {
    let wanted = match &opts.targets {
        Some(t) => plan.ancestors_of(t),
        None => vec![true; plan.tasks.len()],
    };
    let mut outcome = Outcome::default();
    let mut state: Vec<State> = Vec::with_capacity(plan.tasks.len());
    for (i, t) in plan.tasks.iter().enumerate() {
        if !wanted[i] || store.is_done(&t.key) {
            if wanted[i] {
                outcome.cached.push(i);
            }
            state.push(State::Done);
        } else {
            let waiting = t.deps.iter().filter(|d| !matches!(state[**d], State::Done)).count();
            state.push(State::Waiting(waiting));
        }
    }
    let mut ready: BTreeSet<usize> =
        state.iter().enumerate().filter(|(_, s)| matches!(s, State::Waiting(0))).map(|(i, _)| i).collect();
    let to_run = state.iter().filter(|s| matches!(s, State::Waiting(_))).count();
    let progress = Progress::new(to_run, opts.show_progress);
    let mut free: Vec<&Slot> = opts.slots.iter().rev().collect();
    let (tx, rx) = mpsc::channel::<(usize, usize, Result<Value, String>, Duration)>();
    let mut running = 0usize;

    std::thread::scope(|scope| -> Result<(), StoreError> {
        loop {
            while !free.is_empty() {
                let Some(i) = ready.pop_first() else { break };
                let slot = free.pop().expect("checked non-empty");
                state[i] = State::Running;
                running += 1;
                let task = &plan.tasks[i];
                let pending = store.begin(&task.key)?;
                let partial = store.partial_dir(&task.key);
                std::fs::create_dir_all(&partial).map_err(|e| StoreError::io(&partial, e))?;
                let ctx = TaskContext {
                    plan,
                    index: i,
                    store,
                    out: pending.dir.clone(),
                    partial,
                    slot,
                    progress: progress.start(&task.id),
                };
                let tx = tx.clone();
                scope.spawn(move || {
                    let started = SystemTime::now();
                    let clock = Instant::now();
                    let result = catch_unwind(AssertUnwindSafe(|| runner.run(task, &ctx)))
                        .unwrap_or_else(|panic| Err(anyhow::anyhow!("task panicked: {}", panic_message(&panic))))
                        .map_err(|e| format!("{e:#}"));
                    ctx.progress.finish();
                    let seconds = clock.elapsed().as_secs_f64();
                    let record = manifest(plan, task, started, seconds, &result);
                    let stored = match &result {
                        Ok(_) => store.commit(pending, &record).map(|_| ()),
                        Err(_) => store.fail(pending, &record),
                    };
                    let result = match (result, stored) {
                        (Ok(v), Ok(())) => Ok(v),
                        (Ok(_), Err(e)) => Err(format!("could not store the result: {e}")),
                        (Err(e), _) => Err(e),
                    };
                    let _ = tx.send((i, slot.index, result, Duration(seconds)));
                });
            }
            if running == 0 {
                break;
            }
            let (i, slot_index, result, seconds) = rx.recv().expect("a running task always reports");
            running -= 1;
            free.push(&opts.slots[slot_index]);
            let id = &plan.tasks[i].id;
            match result {
                Ok(summary) => {
                    state[i] = State::Done;
                    outcome.ran.push(i);
                    progress.log(&format!("done    {id} ({:.1}s)", seconds.0));
                    // A task's `notes` (e.g. an API build's costs) are shown under its line.
                    for note in
                        summary.get("notes").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str)
                    {
                        progress.log(&format!("        {note}"));
                    }
                    for c in plan.children(i) {
                        if let State::Waiting(n) = &mut state[c] {
                            *n -= 1;
                            if *n == 0 {
                                ready.insert(c);
                            }
                        }
                    }
                }
                Err(message) => {
                    state[i] = State::Failed;
                    progress.log(&format!("FAILED  {id}: {message}"));
                    outcome.failed.push((i, message));
                    for d in plan.descendants_of(i) {
                        if matches!(state[d], State::Waiting(_)) {
                            state[d] = State::Failed;
                            ready.remove(&d);
                            outcome.skipped.push(d);
                            progress.skip();
                        }
                    }
                }
            }
            progress.tick();
        }
        Ok(())
    })?;
    progress.close();
    outcome.skipped.sort_unstable();
    Ok(outcome)
}

struct Duration(f64);

fn manifest(plan: &Plan, task: &Task, started: SystemTime, seconds: f64, result: &Result<Value, String>) -> Manifest {
    let finished = SystemTime::now();
    Manifest {
        id: task.id.clone(),
        kind: task.kind.name().to_string(),
        key: task.key.clone(),
        params: task.params.clone(),
        labels: task.labels.clone(),
        parents: task
            .deps
            .iter()
            .map(|d| ParentRef { id: plan.tasks[*d].id.clone(), key: plan.tasks[*d].key.clone() })
            .collect(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        started: humantime::format_rfc3339_seconds(started).to_string(),
        finished: humantime::format_rfc3339_seconds(finished).to_string(),
        seconds,
        status: if result.is_ok() { Status::Done } else { Status::Failed },
        error: result.as_ref().err().cloned(),
        summary: result.as_ref().ok().cloned().unwrap_or(Value::Null),
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "unknown panic".into())
}

/// The folder of a task's finished artifacts, for code that only reads the store.
pub fn artifact(store: &Store, task: &Task) -> Option<PathBuf> {
    store.is_done(&task.key).then(|| store.artifact_dir(&task.key))
}

#[cfg(test)]
mod tests;
