//! The executor: a ready queue over the plan's DAG, and backends that run the ready tasks.
//!
//! A task runs when all its parents are done; finished tasks (by key, in the store) are never
//! run again; independent tasks run concurrently; a failure is recorded and only that task's
//! descendants are skipped (Snakemake's `--keep-going`), so unrelated branches finish. A panic
//! inside a task is a failure of that task, not of the run.
//!
//! - [`scheduler`]: what is ready, what a finished or failed task unlocks or skips;
//! - [`Executor`]: the seam; [`local::LocalExecutor`] runs tasks on threads of this process,
//!   one per slot, and a cluster backend submits them as jobs;
//! - [`run_one`]: one task against the store (output folder, commit or failure record), the
//!   unit every backend and `apogrid task` run.

pub mod local;
pub mod progress;
pub mod run_one;
pub mod scheduler;
pub mod slots;
pub mod slurm;

use std::path::PathBuf;

use serde_json::Value;

use crate::plan::{Plan, Task, TaskKind};
use crate::store::{Store, StoreError};
pub use local::LocalExecutor;
pub use progress::Progress;
pub use scheduler::{Outcome, Scheduler};
pub use slots::{DeviceName, Slot};
pub use slurm::SlurmExecutor;

/// How a task kind is carried out. The real implementation is `crate::tasks::TaskRunner`;
/// tests plug in their own.
pub trait Runner: Sync {
    /// Writes the task's artifacts into `ctx.out` and returns a summary for its manifest. A
    /// `"notes"` list of strings in the summary is also printed under the task's `done` line.
    fn run(&self, task: &Task, ctx: &TaskContext) -> anyhow::Result<Value>;

    /// Told that `plan.tasks[index]` is now done in the store, by the scheduler of the process
    /// that runs the grid, one task at a time, whichever backend ran it: for views of the store
    /// that follow it as it fills (a training run's TensorBoard view after each of its
    /// evaluations). Called after the commit, so a view made here sees this task and every
    /// one before it; made in the tasks themselves, two evaluations ending together could
    /// each miss the other. Returns warnings to show; the task stays done whatever happens.
    fn after_commit(&self, _plan: &Plan, _store: &Store, _index: usize) -> Vec<String> {
        Vec::new()
    }
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
            .find(|t| t.kind() == kind)
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

/// Where ready tasks run. A backend takes ready tasks from the scheduler until none is left
/// and reports each one's end back to it.
pub trait Executor {
    fn execute(&self, sched: &mut Scheduler, runner: &dyn Runner) -> Result<(), StoreError>;
}

#[derive(Debug, Clone)]
pub struct ExecOptions {
    pub slots: Vec<Slot>,
    /// Only these tasks and their ancestors (`None`: the whole plan).
    pub targets: Option<Vec<usize>>,
    pub show_progress: bool,
}

/// Runs the plan (or the part `opts.targets` needs) to completion on the local executor.
pub fn execute(plan: &Plan, store: &Store, runner: &dyn Runner, opts: &ExecOptions) -> Result<Outcome, StoreError> {
    let mut sched = Scheduler::new(plan, store, opts.targets.as_deref(), opts.show_progress).watched_by(runner);
    LocalExecutor { slots: opts.slots.clone() }.execute(&mut sched, runner)?;
    Ok(sched.into_outcome())
}

#[cfg(test)]
mod tests;
