//! The whole pipeline on a very small grid: a rerun is a no-op, an added row runs only the new
//! cells, a failing cell does not stop the others, and a run killed (SIGKILL) at any moment
//! resumes to exactly the results of an uninterrupted run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

mod common;

use common::*;

fn grid(dir: &Path, extra: &str) -> PathBuf {
    micro_grid(dir, "pipe", 2, WORLD_EVAL, extra)
}

/// `id -> eval.json` for every finished evaluation in a store.
fn evals(store: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(store).expect("store").flatten() {
        let task = entry.path().join("task.json");
        let Ok(text) = std::fs::read_to_string(&task) else { continue };
        let v: serde_json::Value = serde_json::from_str(&text).expect("task.json");
        if v["kind"] == "eval" {
            let eval = std::fs::read_to_string(entry.path().join("eval.json")).expect("eval.json");
            out.insert(v["id"].as_str().expect("id").to_string(), eval);
        }
    }
    out
}

#[test]
fn rerun_is_a_no_op_and_new_rows_run_only_new_cells() {
    let dir = tempfile::tempdir().expect("tempdir");
    let g = grid(dir.path(), "");
    // Everything but the reports (built elsewhere).
    let first = run(&g, &["--only", "eval"]);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let again = run(&g, &["--only", "eval"]);
    assert!(again.status.success());
    assert!(summary(&again).starts_with("0 tasks ran"), "{}", summary(&again));

    let g = grid(dir.path(), "[[objective]]\nname = \"apo_zero\"\nkind = \"apo_zero\"\n");
    let added = run(&g, &["--only", "eval"]);
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    // One training run and its two epoch evaluations; nothing shared is redone.
    assert!(summary(&added).starts_with("3 tasks ran"), "{}", summary(&added));

    // Any checkpoint exports as a Hugging Face folder.
    let out = dir.path().join("hf");
    let export = Command::new(BIN)
        .arg("export")
        .arg(&g)
        .args(["clair/apo_zero", "2", "--out"])
        .arg(&out)
        .output()
        .expect("export");
    assert!(export.status.success(), "{}", String::from_utf8_lossy(&export.stderr));
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("config.json")).expect("config")).expect("json");
    assert_eq!(config["model_type"], "llama");
    assert!(out.join("model.safetensors").metadata().expect("weights").len() > 100_000);
    let missing = Command::new(BIN)
        .arg("export")
        .arg(&g)
        .args(["clair/apo_zero", "9", "--out"])
        .arg(&out)
        .output()
        .expect("export");
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no checkpoint for epoch 9"));
}

#[test]
fn a_failing_cell_does_not_stop_the_others() {
    let dir = tempfile::tempdir().expect("tempdir");
    // An absurd learning rate blows this cell's weights up: its loss turns non-finite.
    let g = grid(
        dir.path(),
        "[[objective]]\nname = \"apo_zero\"\nkind = \"apo_zero\"\n[[override]]\ndataset = \"clair\"\nobjective = \"apo_zero\"\nlearning_rate = 1e30\n",
    );
    let out = run(&g, &["--only", "eval"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("FAILED train/clair/apo_zero") && err.contains("non-finite loss"), "{err}");
    let done = evals(&dir.path().join("store"));
    assert!(done.contains_key("eval/clair/dpo/e02"), "the dpo cell finished: {:?}", done.keys());
    let status = Command::new(BIN).arg("status").arg(&g).output().expect("status");
    assert!(String::from_utf8_lossy(&status.stdout).contains("FAILED train/clair/apo_zero"));
}

/// The tables a run writes that must not depend on how it was scheduled or interrupted
/// (`steps.csv` and Table 5 carry throughput and wall times, which do).
fn tables(results: &Path) -> BTreeMap<String, String> {
    ["table2.csv", "table2.md", "table4.csv", "epochs.csv"]
        .iter()
        .map(|f| {
            (
                f.to_string(),
                std::fs::read_to_string(results.join("pipe").join(f)).unwrap_or_else(|e| panic!("{f}: {e}")),
            )
        })
        .collect()
}

#[test]
fn a_killed_run_resumes_to_the_same_results() {
    let whole = tempfile::tempdir().expect("tempdir");
    let out = run(&grid(whole.path(), ""), &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let expected = evals(&whole.path().join("store"));
    let expected_tables = tables(&whole.path().join("results"));

    let killed = tempfile::tempdir().expect("tempdir");
    let g = grid(killed.path(), "");
    // Kill as soon as training has written resumable state, i.e. in the middle of the run.
    let mut child = Command::new(BIN).arg("run").arg(&g).arg("--quiet").spawn().expect("spawn");
    let partial = killed.path().join("store").join(".partial");
    let clock = Instant::now();
    loop {
        let started = std::fs::read_dir(&partial)
            .map(|d| d.flatten().any(|e| e.path().join("log.jsonl").exists()))
            .unwrap_or(false);
        if started || clock.elapsed() > Duration::from_secs(300) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("wait");
    let resumed = run(&g, &[]);
    assert!(resumed.status.success(), "{}", String::from_utf8_lossy(&resumed.stderr));
    assert_eq!(evals(&killed.path().join("store")), expected);
    assert_eq!(tables(&killed.path().join("results")), expected_tables);
}

/// `dataset/<name> -> train.jsonl + heldout.jsonl + manifest.json` of a store.
fn datasets(store: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(store).expect("store").flatten() {
        let Ok(text) = std::fs::read_to_string(entry.path().join("task.json")) else { continue };
        let v: serde_json::Value = serde_json::from_str(&text).expect("task.json");
        if v["kind"] == "dataset" {
            let mut bytes = Vec::new();
            for f in ["train.jsonl", "heldout.jsonl", "manifest.json"] {
                bytes.extend(std::fs::read(entry.path().join(f)).expect("dataset file"));
            }
            out.insert(v["id"].as_str().expect("id").to_string(), bytes);
        }
    }
    out
}

#[test]
fn the_same_seed_gives_byte_identical_datasets_and_another_seed_different_ones() {
    let build = |seed: u64| {
        let dir = tempfile::tempdir().expect("tempdir");
        let g = grid(dir.path(), "[[dataset]]\nname = \"offp\"\nbuilder = \"judge_off_policy\"\n");
        let text = std::fs::read_to_string(&g).expect("grid").replace("seed = 3", &format!("seed = {seed}"));
        std::fs::write(&g, text).expect("grid");
        let out = run(&g, &["--only", "datasets"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        datasets(&dir.path().join("store"))
    };
    let (a, b, c) = (build(3), build(3), build(4));
    assert_eq!(a.len(), 2);
    assert_eq!(a, b, "same seed, same bytes");
    for (id, bytes) in &a {
        assert_ne!(Some(bytes), c.get(id), "{id}: another seed gives another dataset");
    }
}

/// Where stderr is no terminal (a log file, a batch job), a run still shows how far each
/// training run has come: a line per saved epoch with its step, loss and time left.
#[test]
fn a_log_shows_each_saved_epoch_with_loss_and_time_left() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(BIN).arg("run").arg(grid(dir.path(), "")).output().expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    for epoch in 1..=2 {
        let line = err
            .lines()
            .find(|l| l.starts_with(&format!("  train/clair/dpo: epoch {epoch}/2 saved (epoch {epoch}/2 step ")))
            .unwrap_or_else(|| panic!("no line for epoch {epoch}: {err}"));
        assert!(line.contains(" loss ") && line.contains(" eta "), "{line}");
    }
    let saved = err.find("epoch 2/2 saved").expect("epoch 2 line");
    assert!(saved < err.find("done    train/clair/dpo").expect("done line"), "{err}");
}
