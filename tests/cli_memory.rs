//! Device memory and precision, end to end: `plan` prints each training task's memory estimate
//! and refuses a device that cannot hold it (as does `run`, before any task), and a grid with
//! `precision = "bf16"` trains on the CPU with its own task keys.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;

use common::*;

fn grid_with(dir: &Path, train_extra: &str, extra: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let path = micro_grid(dir, "memory", 1, WORLD_EVAL, extra);
    let text = std::fs::read_to_string(&path).unwrap();
    let text = text.replace("micro_batch_size = 4\n", &format!("micro_batch_size = 4\n{train_extra}\n"));
    std::fs::write(&path, text).unwrap();
    path
}

fn plan(grid: &Path, extra: &[&str]) -> Output {
    Command::new(BIN).arg("plan").arg(grid).args(extra).output().expect("run apogrid plan")
}

/// Task artifacts in a store (its own folders start with a dot).
fn artifacts_in(store: &Path) -> usize {
    std::fs::read_dir(store)
        .map(|d| d.flatten().filter(|e| !e.file_name().to_string_lossy().starts_with('.')).count())
        .unwrap_or(0)
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn plan_prints_the_estimate_and_refuses_a_device_too_small() {
    let dir = tempfile::tempdir().unwrap();
    let roomy = plan(&grid_with(dir.path(), "", "[devices]\nmemory_gib = 64"), &[]);
    assert!(roomy.status.success(), "{}", stderr(&roomy));
    let text = stdout(&roomy);
    assert!(text.contains("training memory, estimated (model: the embedded tiny model)"), "{text}");
    assert!(text.contains("f32: weights") && text.contains("cpu: 64.0 GiB ([devices] memory_gib), fits"), "{text}");

    let small = grid_with(dir.path(), "", "[devices]\nmemory_gib = 0.001");
    let refused = plan(&small, &[]);
    assert!(!refused.status.success());
    let err = stderr(&refused);
    assert!(
        err.contains("training task `train/clair/dpo` needs an estimated") && err.contains("but cpu has 1.0 MiB"),
        "{err}"
    );
    // `run` refuses too, before running anything.
    let ran = run(&small, &[]);
    assert!(!ran.status.success());
    assert!(stderr(&ran).contains("needs an estimated"), "{}", stderr(&ran));
    let store = dir.path().join("store");
    // The store holds only its own dot-folders: no task's artifact.
    let done = artifacts_in(&store);
    assert_eq!(done, 0, "tasks ran despite the refusal: {done} artifacts in {}", store.display());
}

#[test]
fn bf16_trains_on_the_cpu_with_its_own_keys() {
    let dir = tempfile::tempdir().unwrap();
    let f32_grid = grid_with(&dir.path().join("f32"), "", "");
    let bf16_grid = grid_with(&dir.path().join("bf16"), "precision = \"bf16\"", "");
    let keys = |grid: &Path| -> serde_json::Value {
        serde_json::from_slice(&plan(grid, &["--json"]).stdout).expect("plan --json")
    };
    let key_of = |plan: &serde_json::Value, id: &str| -> String {
        plan.as_array().unwrap().iter().find(|t| t["id"] == id).map(|t| t["key"].to_string()).unwrap()
    };
    let (a, b) = (keys(&f32_grid), keys(&bf16_grid));
    assert_eq!(key_of(&a, "dataset/clair"), key_of(&b, "dataset/clair"));
    assert_ne!(key_of(&a, "train/clair/dpo"), key_of(&b, "train/clair/dpo"));
    assert_ne!(key_of(&a, "reference/clair"), key_of(&b, "reference/clair"));

    let out = run(&bf16_grid, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let epochs = dir.path().join("bf16/results/memory/epochs.csv");
    assert!(epochs.exists(), "no report at {}", epochs.display());
}

/// A device that cannot run (here: `cuda:0` in a build without the `cuda` feature; in a CUDA
/// build without a driver, "no NVIDIA driver") stops `run` with one line before any task.
#[test]
fn an_unusable_device_is_one_line_before_any_task() {
    let dir = tempfile::tempdir().unwrap();
    let grid = grid_with(dir.path(), "", "");
    let out = run(&grid, &["--devices", "cuda:0"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.starts_with("error: --devices cuda:0: "), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    let store = dir.path().join("store");
    let done = artifacts_in(&store);
    assert_eq!(done, 0, "a task ran");
}
