//! GGUF tests on files written in memory by a minimal writer, so every byte is known.

use std::path::Path;

use half::f16;

use super::*;

/// A minimal GGUF v3 writer for tests.
struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    fn str(&mut self, s: &str) {
        self.buf.extend((s.len() as u64).to_le_bytes());
        self.buf.extend(s.as_bytes());
    }
    fn value(&mut self, v: &MetaValue) {
        match v {
            MetaValue::U32(x) => self.buf.extend(x.to_le_bytes()),
            MetaValue::I32(x) => self.buf.extend(x.to_le_bytes()),
            MetaValue::F32(x) => self.buf.extend(x.to_le_bytes()),
            MetaValue::U64(x) => self.buf.extend(x.to_le_bytes()),
            MetaValue::Bool(x) => self.buf.push(*x as u8),
            MetaValue::String(s) => self.str(s),
            MetaValue::Array(a) => {
                self.buf.extend(type_id(&a[0]).to_le_bytes());
                self.buf.extend((a.len() as u64).to_le_bytes());
                for x in a {
                    self.value(x);
                }
            }
            other => panic!("writer does not handle {other:?}"),
        }
    }
}

fn type_id(v: &MetaValue) -> u32 {
    match v {
        MetaValue::U32(_) => 4,
        MetaValue::I32(_) => 5,
        MetaValue::F32(_) => 6,
        MetaValue::Bool(_) => 7,
        MetaValue::String(_) => 8,
        MetaValue::Array(_) => 9,
        MetaValue::U64(_) => 10,
        _ => panic!("unhandled"),
    }
}

struct T {
    name: String,
    dims: Vec<u64>,
    ty: u32,
    data: Vec<u8>,
}

fn write_gguf(kv: &[(&str, MetaValue)], tensors: &[T]) -> Vec<u8> {
    let mut w = Writer { buf: Vec::new() };
    w.buf.extend(b"GGUF");
    w.buf.extend(3u32.to_le_bytes());
    w.buf.extend((tensors.len() as u64).to_le_bytes());
    w.buf.extend((kv.len() as u64).to_le_bytes());
    for (k, v) in kv {
        w.str(k);
        w.buf.extend(type_id(v).to_le_bytes());
        w.value(v);
    }
    let mut offset = 0u64;
    let mut offsets = Vec::new();
    for t in tensors {
        w.str(&t.name);
        w.buf.extend((t.dims.len() as u32).to_le_bytes());
        for d in &t.dims {
            w.buf.extend(d.to_le_bytes());
        }
        w.buf.extend(t.ty.to_le_bytes());
        w.buf.extend(offset.to_le_bytes());
        offsets.push(offset);
        offset += (t.data.len() as u64).div_ceil(32) * 32;
    }
    while !w.buf.len().is_multiple_of(32) {
        w.buf.push(0);
    }
    let start = w.buf.len();
    for (t, off) in tensors.iter().zip(offsets) {
        w.buf.resize(start + off as usize, 0);
        w.buf.extend(&t.data);
    }
    w.buf
}

fn f32_tensor(name: &str, dims: &[u64], vals: &[f32]) -> T {
    T { name: name.into(), dims: dims.to_vec(), ty: 0, data: vals.iter().flat_map(|v| v.to_le_bytes()).collect() }
}

fn s(x: &str) -> MetaValue {
    MetaValue::String(x.into())
}

/// A 1-layer llama: hidden 4, 2 heads of 2 (1 kv head), ffn 6, vocab 3, tied embeddings.
fn tiny_file() -> Vec<u8> {
    let kv = vec![
        ("general.architecture", s("llama")),
        ("llama.embedding_length", MetaValue::U32(4)),
        ("llama.feed_forward_length", MetaValue::U32(6)),
        ("llama.block_count", MetaValue::U32(1)),
        ("llama.attention.head_count", MetaValue::U32(2)),
        ("llama.attention.head_count_kv", MetaValue::U32(1)),
        ("llama.attention.layer_norm_rms_epsilon", MetaValue::F32(1e-5)),
        ("llama.rope.freq_base", MetaValue::F32(100000.0)),
        ("llama.context_length", MetaValue::U32(64)),
        ("tokenizer.ggml.model", s("gpt2")),
        ("tokenizer.ggml.pre", s("smollm")),
        ("tokenizer.ggml.tokens", MetaValue::Array(vec![s("a"), s("b"), s("ab")])),
        ("tokenizer.ggml.token_type", MetaValue::Array(vec![MetaValue::I32(1), MetaValue::I32(1), MetaValue::I32(3)])),
        ("tokenizer.ggml.merges", MetaValue::Array(vec![s("a b")])),
        ("tokenizer.ggml.eos_token_id", MetaValue::U32(2)),
        ("tokenizer.chat_template", s("{{ messages }}")),
    ];
    let seq = |n: usize| (0..n).map(|i| i as f32).collect::<Vec<_>>();
    // HF q rows 0..4 laid out as GGUF would store them (permuted per head).
    let q_hf = seq(16);
    let q_gguf = permute_rows(&q_hf, 4, 4, 2);
    let k_hf = seq(8);
    let k_gguf = permute_rows(&k_hf, 2, 4, 1);
    // Q8_0 embedding: 3 x 4 = 12 values, not a whole block -> use F16 instead.
    let emb: Vec<u8> = seq(12).iter().flat_map(|v| f16::from_f32(*v).to_le_bytes()).collect();
    let tensors = vec![
        T { name: "token_embd.weight".into(), dims: vec![4, 3], ty: 1, data: emb },
        f32_tensor("blk.0.attn_q.weight", &[4, 4], &q_gguf),
        f32_tensor("blk.0.attn_k.weight", &[4, 2], &k_gguf),
        f32_tensor("blk.0.attn_v.weight", &[4, 2], &seq(8)),
        f32_tensor("blk.0.attn_output.weight", &[4, 4], &seq(16)),
        f32_tensor("blk.0.ffn_up.weight", &[4, 6], &seq(24)),
        f32_tensor("blk.0.ffn_gate.weight", &[4, 6], &seq(24)),
        f32_tensor("blk.0.ffn_down.weight", &[6, 4], &seq(24)),
        f32_tensor("blk.0.attn_norm.weight", &[4], &[1.0; 4]),
        f32_tensor("blk.0.ffn_norm.weight", &[4], &[1.0; 4]),
        f32_tensor("output_norm.weight", &[4], &[1.0; 4]),
    ];
    write_gguf(&kv, &tensors)
}

fn load_bytes(bytes: Vec<u8>) -> Result<GgufModel, GgufError> {
    let f = GgufFile::parse(Path::new("mem.gguf"), bytes)?;
    let config = config_from_metadata(&f)?;
    let tensors = tensors_to_hf(&f, &config)?;
    let tokenizer = tokenizer_from_metadata(&f)?;
    Ok(GgufModel { config, tensors, tokenizer })
}

#[test]
fn tiny_file_loads_with_hf_names_shapes_and_config() {
    let m = load_bytes(tiny_file()).expect("loads");
    let c = &m.config;
    assert_eq!((c.vocab_size, c.hidden_size, c.intermediate_size, c.num_hidden_layers), (3, 4, 6, 1));
    assert_eq!((c.num_attention_heads, c.kv_heads(), c.head_dim()), (2, 1, 2));
    assert_eq!(c.rms_norm_eps, 1e-5);
    assert_eq!(c.rope_theta, 100000.0);
    assert!(c.tie_word_embeddings);
    assert_eq!(c.eos_ids(), vec![2]);
    assert!(!m.tensors.contains_key("lm_head.weight"));
    assert_eq!(m.tensors["model.embed_tokens.weight"].shape, vec![3, 4]);
    assert_eq!(m.tensors["model.embed_tokens.weight"].data[5], 5.0);
    assert_eq!(m.tensors["model.layers.0.mlp.up_proj.weight"].shape, vec![6, 4]);
    assert_eq!(m.tensors["model.layers.0.mlp.down_proj.weight"].shape, vec![4, 6]);
    assert_eq!(m.tensors["model.layers.0.self_attn.k_proj.weight"].shape, vec![2, 4]);
    assert_eq!(m.tensors["model.layers.0.post_attention_layernorm.weight"].shape, vec![4]);
    // Q/K rows come back in Hugging Face order.
    let seq = |n: usize| (0..n).map(|i| i as f32).collect::<Vec<_>>();
    assert_eq!(m.tensors["model.layers.0.self_attn.q_proj.weight"].data, seq(16));
    assert_eq!(m.tensors["model.layers.0.self_attn.k_proj.weight"].data, seq(8));
    assert_eq!(m.tensors.len(), 11);
    assert_eq!(m.tokenizer.tokens, vec!["a", "b", "ab"]);
    assert_eq!(m.tokenizer.merges, vec!["a b"]);
    assert_eq!(m.tokenizer.token_types, vec![1, 1, 3]);
    assert_eq!(m.tokenizer.pre.as_deref(), Some("smollm"));
    assert_eq!(m.tokenizer.chat_template.as_deref(), Some("{{ messages }}"));
}

#[test]
fn permute_matches_convert_hf_to_gguf() {
    // numpy: w.reshape(n_head, 2, half, cols).swapaxes(1, 2).reshape(rows, cols), n_head 1, half 2:
    // GGUF rows are HF rows [0, 2, 1, 3].
    let hf = vec![0.0, 1.0, 2.0, 3.0];
    assert_eq!(permute_rows(&hf, 4, 1, 1), vec![0.0, 2.0, 1.0, 3.0]);
    let big: Vec<f32> = (0..6 * 8 * 3).map(|i| i as f32).collect();
    assert_eq!(unpermute_rows(&permute_rows(&big, 48, 3, 6), 48, 3, 6), big);
    assert_ne!(permute_rows(&big, 48, 3, 6), big);
}

#[test]
fn every_truncation_is_an_error_not_a_panic() {
    let full = tiny_file();
    for cut in 0..full.len() {
        let r = GgufFile::parse(Path::new("cut.gguf"), full[..cut].to_vec());
        assert!(r.is_err(), "prefix of {cut} bytes parsed");
    }
    let msg = GgufFile::parse(Path::new("cut.gguf"), full[..100].to_vec()).err().unwrap().to_string();
    assert!(msg.contains("cut.gguf") && msg.contains("truncated") && msg.contains("byte"), "{msg}");
    let msg = GgufFile::parse(Path::new("cut.gguf"), full[..full.len() - 4].to_vec()).err().unwrap().to_string();
    assert!(msg.contains("output_norm.weight"), "{msg}");
}

#[test]
fn bad_magic_version_and_tensor_type_are_named() {
    let mut b = tiny_file();
    b[0] = b'X';
    assert!(matches!(GgufFile::parse(Path::new("x"), b), Err(GgufError::BadMagic { .. })));
    let mut b = tiny_file();
    b[4] = 1;
    assert!(matches!(GgufFile::parse(Path::new("x"), b), Err(GgufError::UnsupportedVersion { version: 1, .. })));
    let t = T { name: "blk.0.attn_q.weight".into(), dims: vec![256], ty: 12, data: vec![0; 144] };
    let b = write_gguf(&[("general.architecture", s("llama"))], &[t]);
    let err = GgufFile::parse(Path::new("x"), b).err().unwrap();
    assert!(matches!(err, GgufError::UnsupportedTensorType { type_id: 12, .. }), "{err}");
    assert!(err.to_string().contains("blk.0.attn_q.weight"));
}

#[test]
fn non_llama_architecture_is_refused() {
    let b = write_gguf(&[("general.architecture", s("qwen2"))], &[]);
    let f = GgufFile::parse(Path::new("x"), b).unwrap();
    let err = config_from_metadata(&f).err().unwrap().to_string();
    assert!(err.contains("qwen2"), "{err}");
}

#[test]
fn hf_names_cover_llama_cpp_names() {
    assert_eq!(hf_name("blk.12.attn_output.weight").as_deref(), Some("model.layers.12.self_attn.o_proj.weight"));
    assert_eq!(hf_name("blk.0.ffn_norm.weight").as_deref(), Some("model.layers.0.post_attention_layernorm.weight"));
    assert_eq!(hf_name("output.weight").as_deref(), Some("lm_head.weight"));
    assert_eq!(hf_name("blk.x.attn_q.weight"), None);
    assert_eq!(hf_name("rope_freqs.weight"), None);
}
