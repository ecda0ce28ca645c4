//! The real task kinds: each reads its parents' artifacts from the store and calls the lower
//! floors (world, data, model, objective). One file per kind.

use serde_json::Value;

use crate::exec::{Runner, TaskContext};
use crate::grid::Grid;
use crate::plan::Task;

/// Runs the tasks of one grid's plan.
pub struct TaskRunner<'a> {
    pub grid: &'a Grid,
}

impl Runner for TaskRunner<'_> {
    fn run(&self, task: &Task, _ctx: &TaskContext) -> anyhow::Result<Value> {
        match task.kind {
            kind => anyhow::bail!(
                "task kind `{}` is not built yet in this version of apogrid (see the open issues)",
                kind.name()
            ),
        }
    }
}

