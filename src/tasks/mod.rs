//! The real task kinds: each reads its parents' artifacts from the store and calls the lower
//! floors (world, data, model, objective, train). One file per kind; this file dispatches and
//! holds what they share.

mod agents;
mod base_model;
mod bundle;
mod dataset;
pub mod eval;
mod io;
mod prompts;
mod prune;
mod reference;
mod sample;
mod tables;
mod train;

use serde_json::Value;

use crate::exec::{Runner, TaskContext};
use crate::grid::Grid;
use crate::plan::{Task, TaskKind};

pub use bundle::device_for;

/// Runs the tasks of one grid's plan.
pub struct TaskRunner<'a> {
    pub grid: &'a Grid,
}

impl Runner for TaskRunner<'_> {
    fn run(&self, task: &Task, ctx: &TaskContext) -> anyhow::Result<Value> {
        // The pool bounds the task's explicit parallel work (see `Slot::threads`).
        let pool = rayon::ThreadPoolBuilder::new().num_threads(ctx.slot.threads).build()?;
        pool.install(|| match task.kind {
            TaskKind::BaseModel => base_model::run(self.grid, task, ctx),
            TaskKind::Prompts => prompts::run(self.grid, task, ctx),
            TaskKind::Sample => sample::run(self.grid, task, ctx),
            TaskKind::Dataset => dataset::run(self.grid, task, ctx),
            TaskKind::ReferenceLogps => reference::run(self.grid, task, ctx),
            TaskKind::Train => train::run(self.grid, task, ctx),
            TaskKind::Eval => eval::run(self.grid, task, ctx),
            TaskKind::Tables => tables::run(self.grid, task, ctx),
        })
    }
}
