//! `apo_auto` end to end on the micro grid: its dataset compares every training pair's winner
//! with the target's greedy answer (the oracle judges) and stores each outcome; the run trains
//! on them and the report has its cell; a grid without `apo_auto` keeps its dataset keys.

use std::path::Path;
use std::process::Command;

mod common;

use common::*;

const AUTO: &str = "[[objective]]\nname = \"apo_auto\"\nkind = \"apo_auto\"\n";

fn dataset_key(grid: &Path) -> String {
    let out = Command::new(BIN).args(["plan", "--json"]).arg(grid).output().expect("plan");
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).expect("plan json");
    let task = plan.as_array().expect("tasks").iter().find(|t| t["id"] == "dataset/clair").expect("dataset");
    task["key"].as_str().expect("key").to_string()
}

#[test]
fn apo_auto_trains_on_every_pairs_stored_comparison() {
    let dir = tempfile::tempdir().expect("tempdir");
    let without = dataset_key(&micro_grid(dir.path(), "auto", 2, WORLD_EVAL, ""));
    let g = micro_grid(dir.path(), "auto", 2, WORLD_EVAL, AUTO);
    assert_ne!(dataset_key(&g), without, "comparing every pair is a different dataset");
    let out = run(&g, &[]);
    assert!(out.status.success(), "{}", stderr(&out));

    let store = dir.path().join("store");
    let task = |id: &str| {
        std::fs::read_dir(&store)
            .expect("store")
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                let text = std::fs::read_to_string(p.join("task.json")).unwrap_or_default();
                serde_json::from_str::<serde_json::Value>(&text).is_ok_and(|v| v["id"] == id)
            })
            .unwrap_or_else(|| panic!("no finished {id}"))
    };
    let data = task("dataset/clair");
    let train = std::fs::read_to_string(data.join("train.jsonl")).expect("train.jsonl");
    let outcomes: Vec<String> = train
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("triple");
            v["metadata"]["winner_vs_model"].as_str().expect("a stored comparison").to_string()
        })
        .collect();
    assert!(!outcomes.is_empty());
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("manifest.json")).expect("manifest")).expect("json");
    let w = &manifest["winner_vs_model"];
    assert_eq!(w["compared"].as_u64().unwrap() + w["rejected"].as_u64().unwrap(), outcomes.len() as u64);
    let better = outcomes.iter().filter(|o| *o == "winner_better").count() as u64;
    assert_eq!(w["winner_better"].as_u64(), Some(better));
    eprintln!("apo_auto micro grid: {better} of {} training pairs use APO-zero", outcomes.len());

    // The run trained both epochs and the report has the cell.
    let log = std::fs::read_to_string(task("train/clair/apo_auto").join("log.jsonl")).expect("log");
    assert!(log.lines().count() >= 2);
    let table2 = std::fs::read_to_string(dir.path().join("results/auto/table2.md")).expect("table2");
    assert!(table2.contains("apo_auto"), "{table2}");
}
