//! The real task kinds: each reads its typed input (`crate::plan::inputs`) and its parents'
//! artifacts (`crate::artifacts`) and calls the lower floors (world, data, model, objective,
//! train, eval). One file per kind; this file dispatches.

mod agents;
mod base_model;
mod bundle;
mod dataset;
mod eval;
mod prompts;
mod prune;
mod reference;
mod sample;
mod train;

use serde_json::Value;

use crate::exec::{Runner, TaskContext};
use crate::plan::{Plan, Task, TaskInput, TaskKind};
use crate::store::Store;

/// Runs any task of a plan; everything it needs is in the task's input and its parents.
pub struct TaskRunner;

impl Runner for TaskRunner {
    fn run(&self, task: &Task, ctx: &TaskContext) -> anyhow::Result<Value> {
        // The slot's share of the cores: flex's kernels run in this pool (see `Slot::threads`).
        let pool = rayon::ThreadPoolBuilder::new().num_threads(ctx.slot.threads).build()?;
        pool.install(|| match &task.input {
            TaskInput::BaseModel(input) => base_model::run(input, ctx),
            TaskInput::Prompts(input) => prompts::run(input, ctx),
            TaskInput::Sample(input) => sample::run(input, ctx),
            TaskInput::Dataset(input) => dataset::run(input, ctx),
            TaskInput::ReferenceLogps(input) => reference::run(input, ctx),
            TaskInput::Train(input) => train::run(input, ctx),
            TaskInput::Eval(input) => eval::run(input, ctx),
            TaskInput::Prune(input) => prune::run(input, ctx),
        })
    }

    /// A training run or one of its evaluations is done: the run's TensorBoard view is made
    /// anew from the store.
    fn after_commit(&self, plan: &Plan, store: &Store, index: usize) -> Vec<String> {
        let task = &plan.tasks[index];
        let run = match task.kind() {
            TaskKind::Train => Some(index),
            TaskKind::Eval => task.deps.iter().copied().find(|d| plan.tasks[*d].kind() == TaskKind::Train),
            _ => None,
        };
        match run.map(|r| crate::report::tensorboard::refresh(plan, store, r)) {
            Some(Ok(Some(refreshed))) => refreshed.warnings,
            Some(Err(e)) => vec![format!("the TensorBoard view of {} was not written: {e}", task.id)],
            _ => Vec::new(),
        }
    }
}
