//! `apogrid task GRID ID`: one task alone, what a cluster job runs. It refuses while a parent is
//! not done (naming it), runs and records the task once they are, and is a no-op after.

mod common;

use std::process::Command;

use common::*;

#[test]
fn one_task_runs_alone_once_its_parents_are_done() {
    let dir = tempfile::tempdir().expect("tempdir");
    let g = micro_grid(dir.path(), "task", 1, WORLD_EVAL, "");
    let task = |id: &str| Command::new(BIN).arg("task").arg(&g).arg(id).output().expect("apogrid task");

    let early = task("reference/clair");
    assert!(!early.status.success());
    assert!(
        stderr(&early).contains("reference/clair cannot run yet: its parents base_model, dataset/clair are not done"),
        "{}",
        stderr(&early)
    );

    let data = run(&g, &["--only", "dataset/clair"]);
    assert!(data.status.success(), "{}", stderr(&data));
    let reference = task("reference/clair");
    assert!(reference.status.success(), "{}", stderr(&reference));
    assert!(stderr(&reference).contains("done    reference/clair"), "{}", stderr(&reference));
    let again = task("reference/clair");
    assert!(stderr(&again).contains("already done"), "{}", stderr(&again));

    // The rest of the grid finds it done.
    let rest = run(&g, &[]);
    assert!(rest.status.success(), "{}", stderr(&rest));
    // Base model, prompts, sample, dataset and the reference are cached; the run trains and
    // evaluates (base model and epoch 1).
    assert!(summary(&rest).starts_with("3 tasks ran, 5 cached"), "{}", summary(&rest));
    let unknown = task("train/nope");
    assert!(stderr(&unknown).contains("the grid has no task `train/nope`"), "{}", stderr(&unknown));
}
