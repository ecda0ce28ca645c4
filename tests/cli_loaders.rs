//! The `generate` and `logprob` subcommands end to end, on the Hugging Face fixture model
//! (compared with transformers' numbers), the embedded tiny model, and SmolLM2 when present.

use std::path::Path;
use std::process::{Command, Output};

fn apogrid(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_apogrid"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("running apogrid")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn fixture() -> serde_json::Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny-llama.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn logprob_json_matches_transformers_on_the_fixture_model() {
    let fx = fixture();
    let o = apogrid(&[
        "logprob",
        "--model",
        "hf:tests/fixtures/tiny-llama",
        "--prompt",
        fx["prompt"].as_str().unwrap(),
        "--response",
        fx["response"].as_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).expect("one JSON object");
    assert_eq!(v["prompt_ids"], fx["prompt_ids"]);
    assert_eq!(v["response_ids"], fx["response_ids"]);
    let got: Vec<f64> = v["token_logps"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
    let want: Vec<f64> = fx["response_logps"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert!((g - w).abs() <= 1e-3 * w.abs().max(0.1), "{g} vs {w}");
    }
    let sum: f64 = got.iter().sum();
    assert!((v["logp"].as_f64().unwrap() - sum).abs() < 1e-6);
}

#[test]
fn logprob_raw_adds_no_template_or_special_tokens() {
    let fx = fixture();
    let text = fx["texts"][0].as_str().unwrap();
    let o = apogrid(&[
        "logprob",
        "--model",
        "hf:tests/fixtures/tiny-llama",
        "--prompt",
        "The",
        "--response",
        " capital",
        "--raw",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    // "The capital ..." is the fixture's first sequence: its first ids are prompt + response here.
    let seq: Vec<u64> = fx["sequences"][0].as_array().unwrap().iter().map(|x| x.as_u64().unwrap()).collect();
    let p: Vec<u64> = v["prompt_ids"].as_array().unwrap().iter().map(|x| x.as_u64().unwrap()).collect();
    let r: Vec<u64> = v["response_ids"].as_array().unwrap().iter().map(|x| x.as_u64().unwrap()).collect();
    assert!(text.starts_with("The capital"));
    assert_eq!([p.clone(), r.clone()].concat(), seq[..p.len() + r.len()].to_vec());
    // And the human-readable form lists each token.
    let o = apogrid(&[
        "logprob",
        "--model",
        "hf:tests/fixtures/tiny-llama",
        "--prompt",
        "The",
        "--response",
        " capital",
        "--raw",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("sum logp ="), "{}", stdout(&o));
}

#[test]
fn generate_runs_the_tiny_model_reproducibly() {
    let args = [
        "generate",
        "--model",
        "tiny:3",
        "--prompt",
        "hello",
        "--max-new-tokens",
        "8",
        "--temperature",
        "1.0",
        "--seed",
        "5",
    ];
    let a = apogrid(&args);
    assert!(a.status.success(), "{}", stderr(&a));
    let b = apogrid(&args);
    assert_eq!(stdout(&a), stdout(&b), "same seed, same text");
    assert!(stderr(&a).contains("new tokens"), "{}", stderr(&a));
}

#[test]
fn bad_specs_are_explained() {
    let o = apogrid(&["generate", "--model", "llama70b", "--prompt", "x"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("llama70b") && stderr(&o).contains("hf:DIR"), "{}", stderr(&o));
    let o = apogrid(&["logprob", "--model", "gguf:/nonexistent/m.gguf", "--prompt", "x", "--response", "y"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("/nonexistent/m.gguf"), "{}", stderr(&o));
}

#[test]
fn smollm2_answers_paris() {
    if !Path::new(env!("CARGO_MANIFEST_DIR")).join("models/SmolLM2-135M-Instruct.Q4_1.gguf").exists() {
        eprintln!("SKIPPED: models/SmolLM2-135M-Instruct.Q4_1.gguf is absent (run scripts/get-smollm2.sh)");
        return;
    }
    let o = apogrid(&[
        "generate",
        "--model",
        "smollm2",
        "--prompt",
        "What is the capital of France?",
        "--max-new-tokens",
        "20",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("Paris"), "{}", stdout(&o));
}
