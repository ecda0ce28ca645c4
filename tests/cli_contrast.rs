//! `apogrid contrast`: numbers against hand-computed values, chat-list files, and errors that
//! name the file and line.

use std::process::Command;

fn apogrid(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_apogrid")).args(args).output().expect("run apogrid")
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn prints_hand_computed_means() {
    let dir = tempfile::tempdir().unwrap();
    // kitten/sitting: Levenshtein 3, Jaccard 0. "the cat sat"/"The cat ran": Levenshtein 3
    // (t->T, s->r, t->n), Jaccard on lower-cased words {the, cat} of 4 = 50%.
    let f = write(
        &dir,
        "pairs.jsonl",
        "{\"prompt\":\"p\",\"chosen\":\"kitten\",\"rejected\":\"sitting\"}\n\
         {\"prompt\":\"q\",\"chosen\":\"the cat sat\",\"rejected\":\"The cat ran\"}\n",
    );
    let out = apogrid(&["contrast", &f]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    // Means: Jaccard (0 + 50) / 2 = 25.00; Levenshtein (3 + 3) / 2 = 3.0 ("t"->"T" counts).
    let row = text.lines().nth(1).unwrap();
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(&cols[1..], ["2", "25.00", "3.0"], "{text}");

    let out = apogrid(&["contrast", "--json", &f]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["pairs"], 2);
    assert_eq!(v["mean_jaccard_percent"], 25.0);
    assert_eq!(v["mean_levenshtein_chars"], 3.0);
}

#[test]
fn reads_chat_message_lists() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        &dir,
        "chat.jsonl",
        r#"{"prompt":[{"role":"user","content":"2+2?"}],"chosen":[{"role":"assistant","content":"It is 4."}],"rejected":[{"role":"assistant","content":"It is 5."}]}
"#,
    );
    let out = apogrid(&["contrast", "--json", &f]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // {it, is} shared of {it, is, 4., 5.}: 50%; one substitution.
    assert_eq!((v["pairs"].as_u64(), v["mean_jaccard_percent"].as_f64()), (Some(1), Some(50.0)));
    assert_eq!(v["mean_levenshtein_chars"].as_f64(), Some(1.0));
}

#[test]
fn errors_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        &dir,
        "bad.jsonl",
        "{\"prompt\":\"p\",\"chosen\":\"a\",\"rejected\":\"b\"}\n{\"prompt\":\"p\",\"chosen\":\"a\"}\n",
    );
    let out = apogrid(&["contrast", &f]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("bad.jsonl line 2") && err.contains("missing `rejected`"), "{err}");

    let out = apogrid(&["contrast", "/nonexistent/x.jsonl"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8(out.stderr).unwrap().contains("/nonexistent/x.jsonl"));
}

#[test]
fn agrees_with_the_manifest_of_a_world_dataset() {
    use apogrid::data::builders::BuilderKind;
    use apogrid::data::dataset::write_dir;
    use apogrid::world::build::{WorldDataConfig, build_world_dataset};
    use apogrid::world::policies::RulePolicy;

    let dir = tempfile::tempdir().unwrap();
    let mut config = WorldDataConfig::new(3, 120);
    // All pairs in train.jsonl, so the file holds every pair the manifest measured.
    config.heldout = 0;
    let d = build_world_dataset(BuilderKind::Clair, &config, &mut RulePolicy::target_standin(), None).unwrap();
    write_dir(dir.path(), &d).unwrap();
    let train = dir.path().join("train.jsonl");
    let out = apogrid(&["contrast", "--json", train.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["pairs"].as_u64(), Some(d.manifest.contrast.pairs as u64));
    assert_eq!(v["mean_jaccard_percent"].as_f64(), Some(d.manifest.contrast.mean_jaccard));
    assert_eq!(v["mean_levenshtein_chars"].as_f64(), Some(d.manifest.contrast.mean_levenshtein));
}

#[test]
fn long_texts_are_capped_and_flagged() {
    let dir = tempfile::tempdir().unwrap();
    // 30,000 characters each: over the 20,000 cap. Chosen is "a"s, rejected "b"s then "a"s:
    // the capped distance is that of the first 20,000 characters, 10,000 substitutions.
    let chosen = "a".repeat(30_000);
    let rejected = format!("{}{}", "b".repeat(10_000), "a".repeat(20_000));
    let line = serde_json::json!({ "prompt": "p", "chosen": chosen, "rejected": rejected });
    let f = write(
        &dir,
        "long.jsonl",
        &format!("{line}\n{{\"prompt\":\"p\",\"chosen\":\"kitten\",\"rejected\":\"sitting\"}}\n"),
    );
    let out = apogrid(&["contrast", "--json", &f]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["levenshtein_capped_pairs"], 1);
    assert_eq!(v["mean_levenshtein_chars"].as_f64(), Some((10_000.0 + 3.0) / 2.0));
    let out = apogrid(&["contrast", &f]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("note: ") && text.contains("1 pair(s) have a text over 20000 characters"), "{text}");
}
