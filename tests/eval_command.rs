//! An external evaluator command on a small grid: its scores (overall and per category) reach
//! Table 2, Table 4 and `epochs.csv`; it receives a Hugging Face export of each checkpoint;
//! a failing evaluator names the cell, the epoch and its stderr, keeps the trained run, and a
//! rerun redoes only the evaluations.

use std::path::{Path, PathBuf};

mod common;

use common::*;

/// The evaluator: checks the export, then scores epoch E as 40 + E (base model 40), with two
/// categories. It fails while `FAIL` exists beside it.
const SCRIPT: &str = r#"#!/bin/sh
model_dir="$1"; out="$2"; epoch="$3"; cell="$4"
[ -f "$(dirname "$0")/FAIL" ] && { echo "evaluator broke on $cell" >&2; exit 7; }
[ -f "$model_dir/config.json" ] && [ -f "$model_dir/model.safetensors" ] || { echo "no export in $model_dir" >&2; exit 3; }
echo "{\"score\": $((40 + epoch)), \"categories\": {\"math\": $((50 + epoch)), \"chat\": 30}, \"length\": 12.5}" > "$out"
"#;

fn grid(dir: &Path) -> PathBuf {
    let script = dir.join("eval.sh");
    std::fs::write(&script, SCRIPT).expect("script");
    let eval = format!(
        "benchmark = \"command\"\ncommand = [\"sh\", \"{}\", \"{{model_dir}}\", \"{{output}}\", \"{{epoch}}\", \"{{cell}}\"]\nheldout_pairs = 4\n",
        script.display()
    );
    micro_grid(dir, "cmd", 2, &eval, "")
}

#[test]
fn command_scores_reach_the_tables_and_a_failure_reruns_only_evaluations() {
    let dir = tempfile::tempdir().expect("tempdir");
    let g = grid(dir.path());
    std::fs::write(dir.path().join("FAIL"), "").expect("marker");
    let failed = run(&g, &[]);
    assert!(!failed.status.success());
    let err = String::from_utf8_lossy(&failed.stderr);
    assert!(err.contains("evaluating clair/dpo at epoch 1") && err.contains("exited with exit status: 7"), "{err}");
    assert!(err.contains("evaluator broke on clair/dpo"), "the command's stderr is quoted: {err}");

    std::fs::remove_file(dir.path().join("FAIL")).expect("marker");
    let fixed = run(&g, &[]);
    assert!(fixed.status.success(), "{}", String::from_utf8_lossy(&fixed.stderr));
    // The three evaluations (base, epochs 1 and 2) and nothing else: training was kept.
    assert!(summary(&fixed).starts_with("3 tasks ran"), "{}", summary(&fixed));

    let results = dir.path().join("results/cmd");
    let table2 = std::fs::read_to_string(results.join("table2.csv")).expect("table2");
    // Best epoch 2: 42 - 40 = +2 max, mean of +1 and +2.
    assert!(
        table2.lines().any(|l| l.starts_with("clair,dpo,") && l.contains(",2,") && l.contains(",1.5,")),
        "{table2}"
    );
    let table4 = std::fs::read_to_string(results.join("table4.csv")).expect("table4");
    assert!(table4.contains("math") && table4.contains("52"), "{table4}");
    let epochs = std::fs::read_to_string(results.join("epochs.csv")).expect("epochs");
    assert!(epochs.lines().any(|l| l.starts_with("clair,dpo,3,1,score,41")), "{epochs}");
    assert!(epochs.lines().any(|l| l.starts_with("base,,,0,score,40")), "{epochs}");
    // No export is left in the store.
    let leftovers = walk(&dir.path().join("store")).into_iter().filter(|p| p.ends_with("model.safetensors")).count();
    assert_eq!(leftovers, 0, "exports are removed after each evaluation");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Several benchmarks in one grid: the built-in MMLU and HHH (on the committed fixture
/// subsets) and a command. The first is the headline of Table 2; each other one gets its own.
#[test]
fn several_benchmarks_give_a_table_2_each() {
    let dir = tempfile::tempdir().expect("tempdir");
    let g = grid(dir.path());
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/eval");
    let text = std::fs::read_to_string(&g).expect("grid").replace(
        "benchmark = \"command\"",
        &format!(
            "benchmarks = [\"mmlu\", \"hhh\", \"command\"]\nmmlu.path = \"{}\"\nmmlu.count = 4\nhhh.path = \"{}\"",
            fixtures.join("mmlu.jsonl").display(),
            fixtures.join("hhh").display()
        ),
    );
    std::fs::write(&g, text).expect("grid");
    let out = run(&g, &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let results = dir.path().join("results/cmd");
    let report = std::fs::read_to_string(results.join("report.md")).expect("report");
    assert!(
        report.contains("Benchmarks: mmlu, hhh, command") && report.contains("headline benchmark, `mmlu`"),
        "{report}"
    );
    for name in ["table2.csv", "table2_hhh.csv", "table2_command.csv"] {
        let t = std::fs::read_to_string(results.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(t.lines().any(|l| l.starts_with("clair,dpo,")), "{name}: {t}");
    }
    // The command's scores are its own table's: +2 at epoch 2 over the base model's 40.
    let command = std::fs::read_to_string(results.join("table2_command.csv")).expect("table");
    assert!(command.lines().any(|l| l.starts_with("clair,dpo,2,1.5,")), "{command}");
    // MMLU's categories (topics) reach Table 4.
    let table4 = std::fs::read_to_string(results.join("table4.csv")).expect("table4");
    let header = table4.lines().next().unwrap_or_default();
    assert!(header.contains("elementary mathematics") && !header.contains(",chat"), "{table4}");
}
