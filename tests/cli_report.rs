//! `apogrid table`: a store filled by hand at the plan's keys (no training) regenerates the
//! reports, prints Tables 1 and 2, and a partial grid gives partial tables.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

fn apogrid(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_apogrid")).args(args).output().expect("run apogrid")
}

const GRID: &str = r#"
[grid]
name = "handmade"
seed = 0
store = "STORE"
results = "RESULTS"
[model]
spec = "tiny"
[prompts]
source = "world"
count = 20
[train]
epochs = 3
batch_size = 4
micro_batch_size = 4
[eval]
count = 14
heldout_pairs = 4
[[dataset]]
name = "clair"
builder = "clair"
[[dataset]]
name = "offp"
builder = "judge_off_policy"
[[objective]]
name = "dpo"
kind = "dpo"
[[objective]]
name = "apo_zero"
kind = "apo_zero"
[[objective]]
name = "kto"
kind = "kto"
"#;

/// Writes a finished task's folder: its files and a `task.json`.
fn finish(store: &Path, task: &apogrid::plan::Task, seconds: f64, files: &[(&str, Value)]) {
    let dir = store.join(&task.key);
    std::fs::create_dir_all(&dir).unwrap();
    for (name, v) in files {
        std::fs::write(dir.join(name), serde_json::to_string(v).unwrap()).unwrap();
    }
    let manifest = json!({
        "id": task.id, "kind": task.kind().name(), "key": task.key, "params": task.input.params(), "labels": task.labels,
        "parents": [], "tool_version": "test", "started": "2026-11-27T00:00:00Z", "finished": "2026-11-27T00:00:01Z",
        "seconds": seconds, "status": "done", "summary": {}
    });
    std::fs::write(dir.join("task.json"), manifest.to_string()).unwrap();
}

fn eval(epoch: usize, score: f64, length: f64) -> Value {
    json!({ "epoch": epoch, "scores": [{ "benchmark": "world",
        "n": 14, "score": score, "length": length,
        "categories": [{ "name": "arithmetic", "n": 7, "score": score + 1.0 },
                       { "name": "facts", "n": 7, "score": score - 1.0 }] }],
        "heldout": if epoch == 0 { Value::Null } else { json!({ "pairs": 4, "chosen_logps": -50.0 + epoch as f64,
            "rejected_logps": -60.0 - epoch as f64, "chosen_reward": 0.1 * epoch as f64, "rejected_reward": -0.1 * epoch as f64 }) } })
}

#[test]
fn regenerates_reports_from_a_handmade_store_and_prints_tables_1_and_2() {
    let dir = tempfile::tempdir().unwrap();
    let (store, results) = (dir.path().join("store"), dir.path().join("results"));
    let grid_path = dir.path().join("g.toml");
    std::fs::write(
        &grid_path,
        GRID.replace("STORE", store.to_str().unwrap()).replace("RESULTS", results.to_str().unwrap()),
    )
    .unwrap();
    let grid = apogrid::grid::load(&grid_path).unwrap();
    let plan = apogrid::plan::build(&grid);
    let task = |id: &str| plan.tasks.iter().find(|t| t.id == id).unwrap_or_else(|| panic!("no task {id}"));

    // Only the base eval, dataset clair and two epochs of clair/dpo, all of clair/kto are done.
    finish(&store, task("eval/base"), 1.0, &[("eval.json", eval(0, 40.0, 100.0))]);
    let manifest = json!({ "builder": "clair", "seed": 0, "source_models": [], "train": 16, "heldout": 4,
        "filters": { "considered": 25, "format": 1, "empty": 0, "identical": 3, "length_ratio": 1, "kept": 20 },
        "contrast": { "pairs": 20, "mean_jaccard": 43.11, "mean_levenshtein": 108.5 },
        "winner_vs_model": { "compared": 20, "winner_better": 12, "model_better": 5, "ties": 3, "rejected": 0,
                             "fraction": 0.6, "model_fraction": 0.25, "suggested": "apo_zero" } });
    finish(&store, task("dataset/clair"), 1.0, &[("manifest.json", manifest)]);
    finish(&store, task("eval/clair/dpo/e01"), 1.0, &[("eval.json", eval(1, 41.0, 110.0))]);
    finish(&store, task("eval/clair/dpo/e02"), 1.0, &[("eval.json", eval(2, 43.0, 130.0))]);
    finish(
        &store,
        task("train/clair/kto"),
        3723.0,
        &[("train.json", json!({ "epochs": 3, "updates": 12, "seconds": 3700.0, "resumed_from_epoch": 0 }))],
    );
    for (e, s) in [(1, 39.0), (2, 42.0), (3, 41.0)] {
        finish(&store, task(&format!("eval/clair/kto/e{e:02}")), 1.0, &[("eval.json", eval(e, s, 100.0))]);
    }
    // An unreadable artifact is skipped and named, not fatal.
    finish(&store, task("eval/offp/dpo/e01"), 1.0, &[("eval.json", json!({ "epoch": "one" }))]);

    let out = apogrid(&["table", grid_path.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("**Table 1.**") && text.contains("**Table 2.**"), "{text}");
    assert!(text.contains("Not built yet: offp."));
    assert!(text.contains("Base model score: 40.00%"));
    // clair/dpo over its 2 of 3 epochs: max +3 (epoch 2), mean +2, population std 1, length +30.
    let dpo = text.lines().find(|l| l.starts_with("| clair") && l.contains("dpo")).unwrap_or_else(|| panic!("{text}"));
    for want in ["+3.00", "+2.00 (1.00)", "+30.0", "2/3"] {
        assert!(dpo.contains(want), "{want} not in {dpo}");
    }
    // The best cell of clair is dpo (+3 beats kto's +2).
    assert!(dpo.contains("**+3.00**"), "{dpo}");
    assert!(stderr.contains("eval.json"), "the unreadable eval is named: {stderr}");

    let report = results.join("handmade");
    for f in [
        "table1.csv",
        "table2.md",
        "table2.tex",
        "table4.md",
        "table5.md",
        "table5.csv",
        "epochs.csv",
        "steps.csv",
        "report.md",
        "figures/figure4_clair.svg",
        "figures/figure4_clair.png",
        "figures/scores_clair.png",
    ] {
        assert!(report.join(f).is_file(), "{f} missing");
    }
    let t5 = std::fs::read_to_string(report.join("table5.md")).unwrap();
    assert!(t5.contains("1h 02m 03s"), "{t5}");
    let t2 = std::fs::read_to_string(report.join("table2.csv")).unwrap();
    assert!(t2.starts_with("dataset,objective,max,mean,std,length,best_epoch,seed,epochs,"));
    assert!(t2.contains("\nclair,dpo,3,2,1,30,2,0,2,dpo,true,40,"), "{t2}");

    let out = apogrid(&["table", grid_path.to_str().unwrap(), "--format", "csv"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("dataset,pairs,jaccard,levenshtein,winner_beats_model,"), "{text}");
    assert!(text.contains("\nclair,20,43.11,108.5,0.6,0.25,apo_zero,25,20,1,0,3,1\n"), "{text}");
    let out = apogrid(&["table", grid_path.to_str().unwrap(), "--format", "latex"]);
    assert!(String::from_utf8(out.stdout).unwrap().contains("\\toprule"));
}

#[test]
fn a_missing_grid_file_is_named() {
    let out = apogrid(&["table", "/nonexistent/grid.toml"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/grid.toml"));
}
