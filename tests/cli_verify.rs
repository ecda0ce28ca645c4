//! `apogrid verify`: a store made by a real run of a very small grid, then a checkpoint byte,
//! an `eval.json` value and a dataset line edited in place (sizes unchanged): `verify` names
//! each file and task and exits 1, `--quarantine` moves them aside, and the next `run`
//! recomputes them to the same bytes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;

use common::*;

fn grid(dir: &Path) -> PathBuf {
    micro_grid(dir, "verify", 1, WORLD_EVAL, "")
}

fn apogrid(args: &[&str], grid: &Path) -> Output {
    Command::new(BIN).arg(args[0]).arg(grid).args(&args[1..]).output().expect("run apogrid")
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// `task id -> artifact folder` of every done task of a store.
fn tasks(store: &Path) -> BTreeMap<String, PathBuf> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(store).expect("store").flatten() {
        let Ok(text) = std::fs::read_to_string(entry.path().join("task.json")) else { continue };
        let v: serde_json::Value = serde_json::from_str(&text).expect("task.json");
        out.insert(v["id"].as_str().expect("id").to_string(), entry.path());
    }
    out
}

/// The largest file under `dir` (a checkpoint's weights in a training run's folder).
fn largest_file(dir: &Path) -> PathBuf {
    let mut best: Option<(u64, PathBuf)> = None;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("dir").flatten() {
            let meta = e.metadata().expect("meta");
            if meta.is_dir() {
                stack.push(e.path());
            } else if best.as_ref().is_none_or(|b| meta.len() > b.0) {
                best = Some((meta.len(), e.path()));
            }
        }
    }
    best.expect("a file").1
}

/// Flips one byte in the middle of a file (the size stays).
fn flip_byte(path: &Path) {
    let mut bytes = std::fs::read(path).expect("read");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x5A;
    std::fs::write(path, bytes).expect("write");
}

/// Replaces the first ASCII digit of a file by another (a JSON value edited, same size).
fn edit_a_digit(path: &Path) {
    let mut bytes = std::fs::read(path).expect("read");
    let i = bytes.iter().position(u8::is_ascii_digit).expect("a digit");
    bytes[i] = if bytes[i] == b'7' { b'8' } else { b'7' };
    std::fs::write(path, bytes).expect("write");
}

/// Swaps the chosen and rejected outputs of the first line of a dataset (same size).
fn swap_first_pair(path: &Path) {
    let text = std::fs::read_to_string(path).expect("read");
    let (first, rest) = text.split_once('\n').expect("a line");
    let mut v: serde_json::Map<String, serde_json::Value> = serde_json::from_str(first).expect("json line");
    let (c, r) = (v["chosen"].clone(), v["rejected"].clone());
    assert_ne!(c, r);
    v.insert("chosen".into(), r);
    v.insert("rejected".into(), c);
    let swapped = serde_json::to_string(&v).expect("json");
    assert_eq!(swapped.len(), first.len(), "a swap keeps the size");
    std::fs::write(path, format!("{swapped}\n{rest}")).expect("write");
}

#[test]
fn verify_names_each_edited_file_and_quarantine_lets_run_recompute_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let g = grid(dir.path());
    let out = apogrid(&["run", "--quiet", "--only", "eval"], &g);
    assert!(out.status.success(), "{}", text(&out));
    let clean = apogrid(&["verify"], &g);
    assert!(clean.status.success() && text(&clean).contains(": 0 corrupt"), "{}", text(&clean));

    let store = dir.path().join("store");
    let done = tasks(&store);
    let (train, eval, dataset) = (&done["train/clair/dpo"], &done["eval/clair/dpo/e01"], &done["dataset/clair"]);
    let checkpoint = largest_file(train);
    let original_eval = std::fs::read(eval.join("eval.json")).expect("eval.json");
    flip_byte(&checkpoint);
    edit_a_digit(&eval.join("eval.json"));
    swap_first_pair(&dataset.join("train.jsonl"));

    // Sizes alone cannot see edits in place.
    assert!(apogrid(&["verify", "--sizes-only"], &g).status.success());
    let out = apogrid(&["verify"], &g);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report = text(&out);
    let ckpt_rel = checkpoint.strip_prefix(train).expect("under the folder").to_string_lossy().into_owned();
    for (id, file) in
        [("train/clair/dpo", ckpt_rel.as_str()), ("eval/clair/dpo/e01", "eval.json"), ("dataset/clair", "train.jsonl")]
    {
        let block = report.split("CORRUPT ").find(|b| b.starts_with(id)).unwrap_or_else(|| panic!("{id}: {report}"));
        assert!(block.contains(&format!("{file}: sha256")), "{file} in {block}");
        assert!(block.contains(&format!("--only {id}")) && block.contains("apogrid run"), "{block}");
    }
    assert!(report.contains(": 3 corrupt") && report.contains("3 corrupt task artifact(s)"), "{report}");

    // Quarantine: moved aside (kept), not done any more; the next run recomputes the same bytes.
    let out = apogrid(&["verify", "--quarantine"], &g);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(std::fs::read_dir(store.join(".corrupt")).expect(".corrupt").count(), 3);
    let after = apogrid(&["verify"], &g);
    assert!(after.status.success(), "{}", text(&after));
    let out = apogrid(&["run", "--quiet", "--only", "eval"], &g);
    assert!(out.status.success(), "{}", text(&out));
    assert!(apogrid(&["verify"], &g).status.success());
    let redone = tasks(&store);
    assert_eq!(std::fs::read(redone["eval/clair/dpo/e01"].join("eval.json")).expect("eval.json"), original_eval);
}
