//! Running one task against the store: a fresh output folder, the task's partial state, the
//! runner, and then commit (done) or a failure record. Shared by every executor backend and by
//! `apogrid task`, which runs a single task (what a cluster job runs).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Instant, SystemTime};

use serde_json::Value;

use super::progress::TaskProgress;
use super::slots::Slot;
use super::{Runner, TaskContext};
use crate::plan::{Plan, Task};
use crate::store::{Manifest, ParentRef, Status, Store, StoreError};

/// Runs `plan.tasks[i]` on `slot` and records the result in the store. Returns the task's
/// summary or its error message, and its wall time; `Err` only when the store itself fails
/// before the task could start.
pub fn run_one(
    plan: &Plan,
    store: &Store,
    runner: &dyn Runner,
    i: usize,
    slot: &Slot,
    progress: TaskProgress,
) -> Result<(Result<Value, String>, f64), StoreError> {
    let task = &plan.tasks[i];
    if let Err(message) = verify_parents(plan, store, task) {
        return Ok((Err(message), 0.0));
    }
    let pending = store.begin(&task.key)?;
    let partial = store.partial_dir(&task.key);
    std::fs::create_dir_all(&partial).map_err(|e| StoreError::io(&partial, e))?;
    let ctx = TaskContext { plan, index: i, store, out: pending.dir.clone(), partial, slot, progress };
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
    Ok((result, seconds))
}

/// Checks the parents' artifacts before the task reads them (at their kind's depth). A corrupt
/// one is quarantined so that the next run recomputes it, and this task fails naming it.
fn verify_parents(plan: &Plan, store: &Store, task: &Task) -> Result<(), String> {
    for parent in task.deps.iter().map(|d| &plan.tasks[*d]) {
        if let Err(c) = store.verify(&parent.key, parent.kind().input_check()) {
            let moved = store.quarantine(&parent.key).map(|p| p.display().to_string()).unwrap_or_default();
            return Err(format!("{c}; moved aside to {moved}: run the grid again to recompute {}", parent.id));
        }
    }
    Ok(())
}

/// The record of a task's run for the store (`task.json`, or a failure record), whichever
/// backend ran it.
pub(crate) fn manifest(
    plan: &Plan,
    task: &Task,
    started: SystemTime,
    seconds: f64,
    result: &Result<Value, String>,
) -> Manifest {
    Manifest {
        id: task.id.clone(),
        kind: task.kind().name().to_string(),
        key: task.key.clone(),
        params: task.input.params(),
        labels: serde_json::to_value(&task.labels).unwrap_or(Value::Null),
        parents: task
            .deps
            .iter()
            .map(|d| ParentRef { id: plan.tasks[*d].id.clone(), key: plan.tasks[*d].key.clone() })
            .collect(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        started: humantime::format_rfc3339_seconds(started).to_string(),
        finished: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
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
