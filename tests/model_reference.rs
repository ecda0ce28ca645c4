//! Compares the loaders (and, where the model floor provides them, forward passes and greedy
//! generation) with PyTorch / transformers references written by scripts/make-fixtures.py.
//!
//! - `tiny-llama*`: random-weight Llamas saved by transformers as Hugging Face directories.
//! - `smollm2.json`: SmolLM2-135M-Instruct loaded by transformers from the same GGUF file;
//!   those tests skip (printing why) when models/SmolLM2-135M-Instruct.Q4_1.gguf is absent.

use std::path::{Path, PathBuf};

use apogrid::model::generate::{GenerateOptions, generate};
use apogrid::model::gguf;
use apogrid::model::score::{ScoreBatch, Truncation, token_logps};
use apogrid::model::spec::{LoadedModel, ModelSpec, SMOLLM2_PATH, load_model, resolve_models_path};
use apogrid::model::tokenizer::TextTokenizer;
use apogrid::model::{Llama, Padding};
use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Int, Tensor, TensorData};
use serde_json::Value;

mod common;

use common::fixtures::{assert_logps_close, fixtures, floats, ids, read_fixture};

fn load_tiny(name: &str) -> LoadedModel {
    let spec = ModelSpec::Hf(fixtures().join(name));
    load_model(&spec).unwrap_or_else(|e| panic!("loading {spec}: {e}"))
}

fn smollm2() -> Option<LoadedModel> {
    let path = resolve_models_path(SMOLLM2_PATH);
    if !path.exists() {
        eprintln!("SKIPPED: {} is absent (run scripts/get-smollm2.sh)", path.display());
        return None;
    }
    Some(load_model(&ModelSpec::SmolLM2).expect("loading smollm2"))
}

/// A tokenizer difference the fixtures document: transformers' GGUF tokenizer ignores the
/// "smollm" pre-tokenizer's digit rule, which matters only when 2+ spaces precede a digit.
fn two_spaces_before_digit(s: &str) -> bool {
    let c: Vec<char> = s.chars().collect();
    c.windows(3).any(|w| w[0].is_whitespace() && w[1].is_whitespace() && w[2].is_ascii_digit())
}

fn check_tokens(model: &LoadedModel, expected: &Value, allow_digit_rule: bool) {
    let mut compared = 0;
    for (text, want) in expected.as_object().expect("tokens object") {
        let got = model.tokenizer.encode(text);
        let want = ids(want);
        if allow_digit_rule && two_spaces_before_digit(text) {
            // Same text back, and every digit its own token (the digit rule).
            assert_eq!(model.tokenizer.decode_with_special(&got), *text);
            continue;
        }
        assert_eq!(got, want, "token ids of {text:?}");
        assert_eq!(model.tokenizer.decode_with_special(&got), *text, "round trip of {text:?}");
        compared += 1;
    }
    assert!(compared >= 10, "only {compared} strings compared");
}

#[test]
fn tiny_hf_dirs_load_with_tokenizer_and_chat_template() {
    for name in ["tiny-llama", "tiny-llama3"] {
        let m = load_tiny(name);
        let fx = read_fixture(&format!("{name}.json"));
        assert_eq!(m.config.hidden_size, 64);
        assert_eq!(m.config.kv_heads(), 2);
        check_tokens(&m, &fx["tokens"], false);
        let prompt = m.prompt_text(fx["prompt"].as_str().unwrap()).unwrap();
        assert_eq!(prompt, fx["prompt_text"].as_str().unwrap());
        assert_eq!(m.tokenizer.encode(&prompt), ids(&fx["prompt_ids"]));
        assert_eq!(m.encoder().response(fx["response"].as_str().unwrap()), ids(&fx["response_ids"]));
        assert!(m.tokenizer.eos_ids().contains(&2), "{:?}", m.tokenizer.eos_ids());
    }
    let m3 = load_tiny("tiny-llama3");
    assert!(m3.config.tie_word_embeddings);
    assert_eq!(m3.config.rope_theta, 500000.0);
    let rs = m3.config.rope_scaling.as_ref().expect("llama3 rope scaling read from rope_parameters");
    assert_eq!((rs.rope_type.as_str(), rs.factor, rs.original_max_position_embeddings), ("llama3", 8.0, 32));
}

#[test]
fn smollm2_gguf_matches_transformers_weights_and_tokens() {
    let Some(m) = smollm2() else { return };
    let fx = read_fixture("smollm2.json");
    let c = &m.config;
    assert_eq!(
        (c.num_hidden_layers, c.hidden_size, c.num_attention_heads, c.kv_heads(), c.head_dim()),
        (30, 576, 9, 3, 64)
    );
    assert_eq!((c.vocab_size, c.rope_theta, c.tie_word_embeddings), (49152, 100000.0, true));
    // Dequantized values (and the Q/K un-permutation) against transformers' GGUF loader.
    for (name, want) in fx["weights"].as_object().unwrap() {
        let t = &m.tensors[name.as_str()];
        let shape: Vec<usize> =
            want["shape"].as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as usize).collect();
        assert_eq!(t.shape, shape, "{name}");
        let sum: f64 = t.data.iter().map(|&v| v as f64).sum();
        let abs: f64 = t.data.iter().map(|&v| (v as f64).abs()).sum();
        let want_abs = want["abs_sum"].as_f64().unwrap();
        assert!((abs - want_abs).abs() <= 1e-6 * want_abs, "{name}: abs sum {abs} vs {want_abs}");
        assert!((sum - want["sum"].as_f64().unwrap()).abs() <= 1e-6 * want_abs, "{name}: sum");
        let cols = *t.shape.last().unwrap();
        for (row, vals) in want["rows"].as_object().unwrap() {
            let r: usize = row.parse().unwrap();
            // JSON holds the float32 values exactly; compare in f32 (serde_json's f64 parse may be 1 ulp off).
            let want: Vec<f32> = floats(vals).iter().map(|&v| v as f32).collect();
            assert_eq!(&t.data[r * cols..r * cols + 8], &want[..], "{name} row {r}");
        }
    }
    check_tokens(&m, &fx["tokens"], true);
    let prompt = m.prompt_text(fx["prompt"].as_str().unwrap()).unwrap();
    assert_eq!(prompt, fx["prompt_text"].as_str().unwrap());
    assert_eq!(m.tokenizer.encode(&prompt), ids(&fx["prompt_ids"]));
    assert_eq!(m.encoder().response(fx["response"].as_str().unwrap()), ids(&fx["response_ids"]));
    assert!(m.tokenizer.eos_ids().contains(&2));
    // The digit rule as llama.cpp's "smollm" pre-tokenizer applies it: ":" then "ĠĠ" (256) then
    // one token per digit; transformers' GGUF tokenizer gives "Ġ", "Ġ" (216, 216) instead.
    assert_eq!(m.tokenizer.encode(":  12"), vec![42, 256, 33, 34]);
}

#[test]
fn smollm2_gguf_header_is_read_without_dequantizing() {
    let path = resolve_models_path(SMOLLM2_PATH);
    if !path.exists() {
        eprintln!("SKIPPED: {} is absent (run scripts/get-smollm2.sh)", path.display());
        return;
    }
    let f = gguf::GgufFile::open(&path).unwrap();
    assert_eq!(f.version, 3);
    assert_eq!(f.tensors.len(), 272);
    let emb = f.tensor_info("token_embd.weight").unwrap();
    assert_eq!(emb.ggml_type, gguf::dequant::GgmlType::Q8_0);
    assert_eq!(emb.shape(), vec![49152, 576]);
    // A truncated copy fails with the tensor's name rather than a panic.
    let bytes = std::fs::read(&path).unwrap();
    let err = gguf::GgufFile::parse(&path, bytes[..bytes.len() / 2].to_vec()).err().expect("truncated file must fail");
    assert!(err.to_string().contains("truncated"), "{err}");
}

fn device() -> Device {
    Device::flex()
}

/// `[len, vocab]` log-softmax of one sequence through the burn model.
fn full_logprobs(model: &Llama, ids: &[u32]) -> Vec<f32> {
    let n = ids.len();
    let data: Vec<i64> = ids.iter().map(|&i| i as i64).collect();
    let t = Tensor::<2, Int>::from_data(TensorData::new(data, [1, n]), &model.device());
    let logits = model.forward(t, &Padding::none(1, n));
    log_softmax(logits, 2).into_data().try_to_vec::<f32>().expect("f32 logits")
}

fn response_logps(model: &Llama, m: &LoadedModel, prompt: &[u32], response: &[u32]) -> Vec<f64> {
    let batch = ScoreBatch::from_ids(&[(prompt, response)], Truncation::default(), m.tokenizer.pad_id()).unwrap();
    token_logps(model, &batch)[0].iter().map(|&v| v as f64).collect()
}

fn greedy(model: &Llama, m: &LoadedModel, prompt: &[u32], n: usize, stop: Vec<u32>) -> Vec<u32> {
    let opts = GenerateOptions { max_new_tokens: n, stop_ids: stop, ..GenerateOptions::default() };
    let g = generate(model, &[prompt.to_vec()], m.tokenizer.pad_id(), &opts).unwrap().remove(0);
    let mut tokens = g.tokens;
    // transformers keeps the eos it stopped at; ours reports it as the finish reason.
    if let apogrid::model::generate::Finish::Stop(id) = g.finish {
        tokens.push(id);
    }
    tokens
}

#[test]
fn tiny_hf_models_match_transformers_logprobs_and_greedy_tokens() {
    for name in ["tiny-llama", "tiny-llama3"] {
        let m = load_tiny(name);
        let fx = read_fixture(&format!("{name}.json"));
        let model = m.build(&device()).unwrap();
        let vocab = m.config.vocab_size;
        for (seq, want) in fx["sequences"].as_array().unwrap().iter().zip(fx["logprobs"].as_array().unwrap()) {
            let seq = ids(seq);
            let got: Vec<f64> = full_logprobs(&model, &seq).iter().map(|&v| v as f64).collect();
            let want: Vec<f64> = want.as_array().unwrap().iter().flat_map(floats).collect();
            assert_eq!(got.len(), seq.len() * vocab);
            assert_logps_close(&got, &want, &format!("{name} log-softmax"));
        }
        let got = response_logps(&model, &m, &ids(&fx["prompt_ids"]), &ids(&fx["response_ids"]));
        assert_logps_close(&got, &floats(&fx["response_logps"]), &format!("{name} response"));
        let want = ids(&fx["greedy_tokens"]);
        let got = greedy(&model, &m, &ids(&fx["greedy_prompt_ids"]), want.len(), Vec::new());
        assert_eq!(got, want, "{name} greedy tokens");
    }
}

#[test]
fn smollm2_matches_transformers_logprobs_and_greedy_answer() {
    let Some(m) = smollm2() else { return };
    let fx = read_fixture("smollm2.json");
    let model = m.build(&device()).unwrap();
    let got = response_logps(&model, &m, &ids(&fx["prompt_ids"]), &ids(&fx["response_ids"]));
    assert_logps_close(&got, &floats(&fx["response_logps"]), "chat response");
    let raw_prompt = m.tokenizer.encode(fx["raw_prompt"].as_str().unwrap());
    assert_eq!(raw_prompt, ids(&fx["raw_prompt_ids"]));
    let got = response_logps(&model, &m, &raw_prompt, &ids(&fx["raw_response_ids"]));
    assert_logps_close(&got, &floats(&fx["raw_response_logps"]), "raw response");
    let prompt = m.encoder().prompt(fx["prompt"].as_str().unwrap());
    assert_eq!(prompt, ids(&fx["prompt_ids"]));
    let want = ids(&fx["greedy_tokens"]);
    let got = greedy(&model, &m, &prompt, 40, m.encoder().stop_ids());
    assert_eq!(got, want, "greedy tokens: {:?}", m.tokenizer.decode(&got));
    assert!(m.tokenizer.decode(&got).contains("Paris"));
}

/// Export to a Hugging Face directory and load it back: same weights, tokens and template.
/// `APOGRID_KEEP_EXPORT=DIR` keeps the exported SmolLM2 there (to check it with transformers).
fn export_round_trip(m: &LoadedModel, dir: &Path, probe: &[&str]) {
    use apogrid::model::hf::export_hf_dir;
    use apogrid::model::spec::tokenizer_files;
    let files = tokenizer_files(m).unwrap().expect("an HF tokenizer");
    export_hf_dir(dir, &m.config, &m.tensors, &files).unwrap();
    let back = load_model(&ModelSpec::Hf(dir.to_path_buf())).unwrap();
    assert_eq!(back.config.num_hidden_layers, m.config.num_hidden_layers);
    assert_eq!(back.config.tie_word_embeddings, m.config.tie_word_embeddings);
    assert_eq!(back.config.rope_scaling, m.config.rope_scaling);
    assert!(back.tensors == m.tensors, "tensors differ after export");
    for text in probe {
        assert_eq!(back.encoder().prompt(text), m.encoder().prompt(text), "prompt ids of {text:?}");
        assert_eq!(back.encoder().response(text), m.encoder().response(text), "response ids of {text:?}");
    }
    assert_eq!(back.encoder().stop_ids(), m.encoder().stop_ids());
}

#[test]
fn exported_hf_dirs_load_back_identically() {
    let probe = ["What is the capital of France?", "  12 digits 345", "emoji 😀 and <|im_end|>"];
    let tmp = tempfile::tempdir().unwrap();
    export_round_trip(&load_tiny("tiny-llama3"), &tmp.path().join("tiny"), &probe);
    let Some(m) = smollm2() else { return };
    let dir = match std::env::var_os("APOGRID_KEEP_EXPORT") {
        Some(d) => PathBuf::from(d),
        None => tmp.path().join("smollm2"),
    };
    export_round_trip(&m, &dir, &probe);
}

#[test]
fn every_ggml_encoding_matches_the_gguf_package() {
    let path = fixtures().join("quants.gguf");
    let f = gguf::GgufFile::open(&path).unwrap();
    assert_eq!(f.get("test.answer").and_then(|v| v.as_u64()), Some(42));
    let list = f.get("test.list").and_then(|v| v.as_array()).unwrap();
    assert_eq!(list.iter().map(|v| v.as_str().unwrap()).collect::<Vec<_>>(), vec!["a", "b"]);
    let fx = read_fixture("quants.json");
    let expected = fx.as_object().unwrap();
    assert_eq!(expected.len(), 6);
    for (name, want) in expected {
        let info = f.tensor_info(name).unwrap_or_else(|| panic!("tensor {name}"));
        let shape: Vec<usize> =
            want["shape"].as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as usize).collect();
        assert_eq!(info.shape(), shape, "{name}");
        let want: Vec<f32> = floats(&want["values"]).iter().map(|&v| v as f32).collect();
        assert_eq!(f.dequantize(info), want, "{name}");
    }
}
