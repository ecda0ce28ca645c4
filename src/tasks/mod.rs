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
use crate::plan::{Task, TaskInput};

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
}
