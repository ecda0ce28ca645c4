//! `apogrid export-dataset`: a built dataset as TRL-ready JSONL, checked against its digests
//! first; an unbuilt or unknown dataset is named.

mod common;

use std::process::Command;

use common::*;

#[test]
fn a_built_dataset_exports_as_trl_jsonl() {
    let dir = tempfile::tempdir().expect("tempdir");
    let g = micro_grid(dir.path(), "export", 1, WORLD_EVAL, "");
    let out = dir.path().join("clair.jsonl");
    let export = |extra: &[&str]| {
        Command::new(BIN).arg("export-dataset").arg(&g).args(extra).arg("--out").arg(&out).output().expect("export")
    };
    let early = export(&["clair"]);
    assert!(!early.status.success() && stderr(&early).contains("not built yet"), "{}", stderr(&early));
    let built = run(&g, &["--only", "dataset/clair"]);
    assert!(built.status.success(), "{}", stderr(&built));
    let done = export(&["clair"]);
    assert!(done.status.success(), "{}", stderr(&done));
    let text = std::fs::read_to_string(&out).expect("jsonl");
    assert!(!text.is_empty());
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        for field in ["prompt", "chosen", "rejected"] {
            assert!(v[field].is_string(), "{field} in {line}");
        }
        assert_eq!(v["metadata"]["builder"], "clair");
    }
    let heldout = export(&["clair", "--split", "heldout"]);
    assert!(stderr(&heldout).contains("(heldout.jsonl)"), "{}", stderr(&heldout));
    let unknown = export(&["nope"]);
    assert!(stderr(&unknown).contains("the grid has no dataset `nope`; it has clair"), "{}", stderr(&unknown));
}
