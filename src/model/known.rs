//! Configs of published models by name, for what needs a model's shape without its weights:
//! memory estimates of a grid whose weights are elsewhere (the paper's Llama-3-8B-Instruct),
//! and random-initialised models at real sizes for device benchmarks (`apogrid bench-step`).
//! Values are those of each model's Hugging Face `config.json`.

use std::fmt;
use std::str::FromStr;

use super::config::{LlamaConfig, RopeScaling};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(non_camel_case_types)]
pub enum KnownModel {
    /// HuggingFaceTB/SmolLM2-135M-Instruct.
    SmolLM2_135M,
    /// meta-llama/Llama-3.2-1B-Instruct.
    Llama32_1B,
    /// meta-llama/Meta-Llama-3-8B-Instruct, the paper's model.
    Llama3_8B,
}

impl KnownModel {
    pub const ALL: [KnownModel; 3] = [KnownModel::SmolLM2_135M, KnownModel::Llama32_1B, KnownModel::Llama3_8B];

    /// The short name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            KnownModel::SmolLM2_135M => "smollm2-135m",
            KnownModel::Llama32_1B => "llama3.2-1b",
            KnownModel::Llama3_8B => "llama3-8b",
        }
    }

    /// The Hugging Face repository's name (a local `hf:` folder is usually named after it).
    pub fn repo_name(self) -> &'static str {
        match self {
            KnownModel::SmolLM2_135M => "SmolLM2-135M-Instruct",
            KnownModel::Llama32_1B => "Llama-3.2-1B-Instruct",
            KnownModel::Llama3_8B => "Meta-Llama-3-8B-Instruct",
        }
    }

    /// The model a folder name names, e.g. `models/Meta-Llama-3-8B-Instruct`.
    pub fn from_folder_name(name: &str) -> Option<KnownModel> {
        Self::ALL.into_iter().find(|m| m.repo_name().eq_ignore_ascii_case(name))
    }

    pub fn config(self) -> LlamaConfig {
        let base = LlamaConfig {
            vocab_size: 128_256,
            hidden_size: 4096,
            intermediate_size: 14_336,
            num_hidden_layers: 32,
            num_attention_heads: 32,
            num_key_value_heads: Some(8),
            head_dim: None,
            rms_norm_eps: 1e-5,
            rope_theta: 500_000.0,
            rope_scaling: None,
            max_position_embeddings: 8192,
            tie_word_embeddings: false,
            bos_token_id: Some(128_000),
            eos_token_id: Some(serde_json::json!(128_009)),
        };
        match self {
            KnownModel::Llama3_8B => base,
            KnownModel::Llama32_1B => LlamaConfig {
                hidden_size: 2048,
                intermediate_size: 8192,
                num_hidden_layers: 16,
                num_attention_heads: 32,
                head_dim: Some(64),
                max_position_embeddings: 131_072,
                tie_word_embeddings: true,
                rope_scaling: Some(RopeScaling {
                    rope_type: "llama3".into(),
                    factor: 32.0,
                    low_freq_factor: 1.0,
                    high_freq_factor: 4.0,
                    original_max_position_embeddings: 8192,
                }),
                eos_token_id: Some(serde_json::json!([128_001, 128_008, 128_009])),
                ..base
            },
            KnownModel::SmolLM2_135M => LlamaConfig {
                vocab_size: 49_152,
                hidden_size: 576,
                intermediate_size: 1536,
                num_hidden_layers: 30,
                num_attention_heads: 9,
                num_key_value_heads: Some(3),
                head_dim: None,
                rope_theta: 100_000.0,
                max_position_embeddings: 8192,
                tie_word_embeddings: true,
                bos_token_id: Some(1),
                eos_token_id: Some(serde_json::json!(2)),
                ..base
            },
        }
    }
}

impl fmt::Display for KnownModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for KnownModel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL.into_iter().find(|m| m.name() == s).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|m| m.name()).collect();
            format!("unknown model `{s}`; expected one of {}", names.join(", "))
        })
    }
}
