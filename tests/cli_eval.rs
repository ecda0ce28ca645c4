//! The built-in benchmarks (MMLU, HHH) against transformers, and `apogrid eval` end to end.
//!
//! - Reference: tests/fixtures/eval-reference.json (scripts/make-eval-fixtures.py) holds the
//!   token ids and summed log-probs transformers computes on tests/fixtures/tiny-llama for the
//!   items in tests/fixtures/eval/; apogrid must produce the same ids and log-probs.
//! - SmolLM2 on the real data skips, printing why, when models/ lacks the model
//!   (scripts/get-smollm2.sh) or the data (scripts/get-eval-data.sh).

use std::process::Command;

use apogrid::eval::{hhh, mmlu};
use apogrid::model::spec::{LoadedModel, ModelSpec, SMOLLM2_PATH, load_model, resolve_models_path};
use burn::tensor::Device;
use serde_json::Value;

mod common;

use common::fixtures::{assert_logps_close, fixtures, floats, ids, read_fixture};

fn reference() -> Value {
    read_fixture("eval-reference.json")
}

fn tiny_llama() -> LoadedModel {
    load_model(&ModelSpec::Hf(fixtures().join("tiny-llama"))).expect("loading tests/fixtures/tiny-llama")
}

fn apogrid(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_apogrid")).arg("eval").args(args).output().expect("run apogrid");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json_of(stdout: &str) -> Value {
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

#[test]
fn mmlu_ids_and_logps_match_transformers_on_the_tiny_llama() {
    let m = tiny_llama();
    let model = m.build(&Device::flex()).unwrap();
    let items = mmlu::load(&fixtures().join("eval/mmlu.jsonl")).unwrap();
    let want = reference()["mmlu"].as_array().unwrap().clone();
    assert_eq!(items.len(), want.len());
    assert!(!mmlu::adds_bos(&m.tokenizer, &m.format), "the tiny tokenizer's post-processor adds no bos");
    for (item, w) in items.iter().zip(&want) {
        assert_eq!(mmlu::prompt(item), w["prompt"].as_str().unwrap());
        let rows = mmlu::rows(&m.tokenizer, false, item);
        assert_eq!(rows[0].0, ids(&w["context_ids"]), "line {}", item.line);
        let conts: Vec<Vec<u32>> = w["continuation_ids"].as_array().unwrap().iter().map(ids).collect();
        assert_eq!(rows.iter().map(|r| r.1.clone()).collect::<Vec<_>>(), conts, "line {}", item.line);
    }
    let eval = mmlu::evaluate(&model, &m.tokenizer, false, &items, 4, &|_| {}).unwrap();
    for (p, w) in eval.items.iter().zip(&want) {
        assert_logps_close(&p.logps, &floats(&w["logps"]), &format!("mmlu line {}", p.line));
    }
    assert_eq!(eval.record.n, Some(6));
}

#[test]
fn hhh_ids_and_logps_match_transformers_on_the_tiny_llama() {
    let m = tiny_llama();
    let model = m.build(&Device::flex()).unwrap();
    let items = hhh::load(&fixtures().join("eval/hhh")).unwrap();
    let want = reference()["hhh"].as_array().unwrap().clone();
    assert_eq!(items.len(), want.len());
    for (item, w) in items.iter().zip(&want) {
        assert_eq!(
            (item.subset.as_str(), item.line as u64),
            (w["subset"].as_str().unwrap(), w["line"].as_u64().unwrap())
        );
        let [better, worse] = hhh::rows(&m.encoder(), item);
        assert_eq!(better.0, ids(&w["prompt_ids"]), "{} prompt", item.subset);
        assert_eq!((better.1, worse.1), (ids(&w["better_ids"]), ids(&w["worse_ids"])), "{} responses", item.subset);
    }
    let eval = hhh::evaluate(&model, &m.encoder(), &items, 3, &|_| {}).unwrap();
    for (p, w) in eval.items.iter().zip(&want) {
        assert_logps_close(&p.logps, &floats(&w["logps"]), &format!("hhh {}", p.category));
    }
    let subsets: Vec<&str> = eval.record.categories.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(subsets, hhh::SUBSETS);
}

#[test]
fn cli_prints_records_and_per_item_predictions() {
    let model = format!("hf:{}", fixtures().join("tiny-llama").display());
    let data = fixtures().join("eval/mmlu.jsonl");
    let (code, out, err) =
        apogrid(&["--model", &model, "--benchmark", "mmlu", "--path", data.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{err}");
    let v = json_of(&out);
    assert_eq!((v["record"]["benchmark"].as_str(), v["record"]["n"].as_u64()), (Some("mmlu"), Some(6)));
    let want = reference()["mmlu"].as_array().unwrap().clone();
    for (p, w) in v["items"].as_array().unwrap().iter().zip(&want) {
        assert_logps_close(&floats(&p["logps"]), &floats(&w["logps"]), "cli mmlu");
        assert!(["A", "B", "C", "D"].contains(&p["answer"].as_str().unwrap()));
    }
    let hhh_dir = fixtures().join("eval/hhh");
    let (code, out, err) = apogrid(&["--model", &model, "--benchmark", "hhh", "--path", hhh_dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("hhh:") && out.contains("of 4") && out.contains("harmless"), "{out}");
}

#[test]
fn cli_subsets_are_seeded() {
    let model = format!("hf:{}", fixtures().join("tiny-llama").display());
    let data = fixtures().join("eval/mmlu.jsonl");
    let lines = |seed: &str| {
        let args = ["--model", &model, "--benchmark", "mmlu", "--path", data.to_str().unwrap()];
        let (code, out, err) = apogrid(&[&args[..], &["--count", "3", "--seed", seed, "--json"]].concat());
        assert_eq!(code, 0, "{err}");
        let v = json_of(&out);
        v["items"].as_array().unwrap().iter().map(|p| p["line"].as_u64().unwrap()).collect::<Vec<_>>()
    };
    let a = lines("5");
    assert_eq!(a.len(), 3);
    assert_eq!(a, lines("5"));
}

#[test]
fn cli_errors_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.jsonl");
    let row = r#"{"question": "q", "answer_a": "a", "answer_b": "b", "answer_c": "c", "answer_d": "d", "correct_answer": "E", "topic": "t"}"#;
    std::fs::write(&bad, format!("\n{row}\n")).unwrap();
    let (code, _, err) = apogrid(&["--model", "tiny", "--benchmark", "mmlu", "--path", bad.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains(&format!("{}:2:", bad.display())) && err.contains("A, B, C, D"), "{err}");
    let missing = dir.path().join("nope.jsonl");
    let (code, _, err) = apogrid(&["--model", "tiny", "--benchmark", "mmlu", "--path", missing.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("nope.jsonl"), "{err}");
}

#[test]
fn cli_world_gives_a_record_with_families_and_length() {
    let (code, out, err) =
        apogrid(&["--model", "tiny", "--benchmark", "world", "--count", "7", "--max-new-tokens", "4", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v = json_of(&out);
    assert_eq!(v["record"]["benchmark"], "world");
    assert_eq!(v["record"]["n"], 7);
    assert_eq!(v["record"]["categories"].as_array().unwrap().len(), 7);
    assert!(v["record"]["length"].as_f64().is_some());
}

/// SmolLM2 on the fetched data: a seeded handful of MMLU questions and HHH pairs.
#[test]
fn smollm2_scores_real_mmlu_and_hhh_items() {
    let needed = [
        (resolve_models_path(SMOLLM2_PATH), "scripts/get-smollm2.sh"),
        (resolve_models_path(mmlu::MMLU_PATH), "scripts/get-eval-data.sh"),
        (resolve_models_path(hhh::HHH_PATH), "scripts/get-eval-data.sh"),
    ];
    for (path, script) in &needed {
        if !path.exists() {
            eprintln!("SKIPPED: {} is absent (run {script})", path.display());
            return;
        }
    }
    for (bench, n) in [("mmlu", 8), ("hhh", 4)] {
        let (code, out, err) =
            apogrid(&["--model", "smollm2", "--benchmark", bench, "--count", &n.to_string(), "--seed", "3", "--json"]);
        assert_eq!(code, 0, "{err}");
        let v = json_of(&out);
        assert_eq!(v["record"]["n"].as_u64(), Some(n));
        let score = v["record"]["score"].as_f64().unwrap();
        assert!((0.0..=100.0).contains(&score));
        for p in v["items"].as_array().unwrap() {
            assert!(p["logps"].as_array().unwrap().iter().all(|x| x.as_f64().unwrap() < 0.0), "{p}");
        }
    }
}
