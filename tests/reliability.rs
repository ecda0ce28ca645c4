//! What a run does with a damaged store and an interrupted run (issue 18): a corrupt artifact
//! is never used (a truncated evaluation is recomputed, a dataset with swapped pairs fails the
//! task that would read it and is recomputed on the next run), a build that keeps no pairs
//! fails its own task, and Ctrl-C releases the lock, cleans up and says how to resume.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::*;

fn grid(dir: &Path, extra: &str) -> PathBuf {
    micro_grid(dir, "rel", 2, WORLD_EVAL, extra)
}

/// The artifact folder of the task `id`, from `apogrid plan --json`.
fn artifact(grid: &Path, store: &Path, id: &str) -> PathBuf {
    let out = Command::new(BIN).arg("plan").arg(grid).arg("--json").output().expect("plan");
    let tasks: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let key =
        tasks.as_array().expect("list").iter().find(|t| t["id"] == id).expect("task")["key"].as_str().expect("key");
    store.join(key)
}

#[test]
fn corrupt_artifacts_are_recomputed_never_used() {
    let dir = tempfile::tempdir().expect("tempdir");
    let g = grid(dir.path(), "");
    let first = run(&g, &[]);
    assert!(first.status.success(), "{}", stderr(&first));
    let table2 = std::fs::read_to_string(dir.path().join("results/rel/table2.csv")).expect("table2");
    let store = dir.path().join("store");

    // A truncated evaluation: `status` names it, `run` moves it aside and recomputes it.
    let eval = artifact(&g, &store, "eval/clair/dpo/e02").join("eval.json");
    let text = std::fs::read_to_string(&eval).expect("eval.json");
    std::fs::write(&eval, &text[..text.len() / 2]).expect("truncate");
    let status = Command::new(BIN).arg("status").arg(&g).output().expect("status");
    let shown = String::from_utf8_lossy(&status.stdout);
    assert!(
        shown.contains("1 corrupt") && shown.contains("CORRUPT eval/clair/dpo/e02") && shown.contains("eval.json"),
        "{shown}"
    );
    let again = run(&g, &[]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("1 tasks ran") && stderr(&again).contains("RECOMPUTED eval/clair/dpo/e02"),
        "{}",
        stderr(&again)
    );
    assert_eq!(std::fs::read_to_string(&eval).expect("eval.json"), text, "recomputed to the same bytes");

    // Swapped chosen/rejected in the dataset (same size): the report leaves it out, and a new
    // cell that would train on it fails naming it; the next run rebuilds it.
    let train = artifact(&g, &store, "dataset/clair").join("train.jsonl");
    let original = std::fs::read_to_string(&train).expect("train.jsonl");
    let first_line = original.lines().next().expect("a pair");
    let v: serde_json::Value = serde_json::from_str(first_line).expect("json");
    let (c, r) = (v["chosen"].as_str().expect("chosen"), v["rejected"].as_str().expect("rejected"));
    let swapped = first_line.replacen(c, "\u{0}", 1).replacen(r, c, 1).replacen('\u{0}', r, 1);
    std::fs::write(&train, original.replacen(first_line, &swapped, 1)).expect("swap");
    let table = Command::new(BIN).arg("table").arg(&g).output().expect("table");
    assert!(
        stderr(&table).contains("corrupt artifact of task dataset/clair") && stderr(&table).contains("train.jsonl"),
        "{}",
        stderr(&table)
    );
    let g = grid(dir.path(), "[[objective]]\nname = \"apo_zero\"\nkind = \"apo_zero\"\n");
    let added = run(&g, &[]);
    assert!(!added.status.success());
    assert!(
        stderr(&added).contains("corrupt artifact of task dataset/clair")
            && stderr(&added).contains("run the grid again"),
        "{}",
        stderr(&added)
    );
    let rebuilt = run(&g, &[]);
    assert!(rebuilt.status.success(), "{}", stderr(&rebuilt));
    assert_eq!(std::fs::read_to_string(&train).expect("train.jsonl"), original, "rebuilt to the same bytes");
    let table2_after = std::fs::read_to_string(dir.path().join("results/rel/table2.csv")).expect("table2");
    let dpo = |t: &str| t.lines().find(|l| l.starts_with("clair,dpo,")).map(str::to_string);
    assert_eq!(dpo(&table2_after), dpo(&table2), "the dpo cell is unchanged");
}

#[test]
fn a_dataset_that_keeps_no_pairs_fails_its_own_task() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Four pairs: half are held out (small datasets keep half for training), leaving two, fewer
    // than the three the grid asks for.
    let few = dir.path().join("few.jsonl");
    let line = |i: usize| format!("{{\"prompt\": \"q{i}\", \"chosen\": \"good {i}\", \"rejected\": \"bad {i}\"}}\n");
    std::fs::write(&few, (0..4).map(line).collect::<String>()).expect("file");
    let extra =
        format!("[[dataset]]\nname = \"mine\"\nbuilder = \"file\"\npath = \"{}\"\nmin_pairs = 3\n", few.display());
    let g = grid(dir.path(), &extra);
    let out = run(&g, &["--only", "dataset/mine"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("FAILED dataset/mine") && err.contains("kept 2 training pairs, fewer than its minimum of 3"),
        "{err}"
    );
    assert!(err.contains("of 4 items") && err.contains("2 held out"), "{err}");
}

#[test]
fn ctrl_c_releases_the_lock_and_says_how_to_resume() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Pretraining long enough to be interrupted in the middle of it.
    let g = grid(dir.path(), "");
    let text = std::fs::read_to_string(&g).expect("grid").replace("examples = 96", "examples = 3000");
    std::fs::write(&g, text).expect("grid");
    let child = Command::new(BIN).arg("run").arg(&g).arg("--quiet").stderr(Stdio::piped()).spawn().expect("spawn");
    // Interrupt once a task (the base model's pretraining) is under way.
    let store = dir.path().join("store");
    let started = Instant::now();
    while std::fs::read_dir(store.join(".partial")).map(|d| d.count()).unwrap_or(0) < 1 {
        assert!(started.elapsed() < Duration::from_secs(120), "the run never got going");
        std::thread::sleep(Duration::from_millis(50));
    }
    let kill = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill");
    assert!(kill.success());
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(130));
    let err = stderr(&out);
    assert!(err.contains("interrupted:") && err.contains("Resume with:") && err.contains("run"), "{err}");
    assert!(!store.join("LOCK").exists(), "the lock is released");
    let left: Vec<_> = std::fs::read_dir(store.join(".tmp")).expect("tmp").flatten().collect();
    assert!(left.is_empty(), "no temp folders left: {left:?}");
    let resumed = run(&g, &[]);
    assert!(resumed.status.success(), "{}", stderr(&resumed));
}

#[test]
fn a_missing_input_file_stops_run_before_any_task() {
    let dir = tempfile::tempdir().expect("tempdir");
    let extra = "[[dataset]]\nname = \"mine\"\nbuilder = \"file\"\npath = \"no/such/pairs.jsonl\"\n";
    let g = grid(dir.path(), extra);
    let plan = Command::new(BIN).arg("plan").arg(&g).output().expect("plan");
    assert!(plan.status.success(), "plan still shows the grid: {}", stderr(&plan));
    assert!(stderr(&plan).contains("dataset[1].path") && stderr(&plan).contains("no such file"), "{}", stderr(&plan));
    let out = run(&g, &[]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("nothing was run") && err.contains("no/such/pairs.jsonl"), "{err}");
    let done = std::fs::read_dir(dir.path().join("store"))
        .map(|d| d.flatten().filter(|e| e.path().join("task.json").exists()).count());
    assert_eq!(done.unwrap_or(0), 0, "no task ran");
}
