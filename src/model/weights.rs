//! The hand-over format between weight loaders (safetensors, GGUF, checkpoints) and the model:
//! named f32 tensors in Hugging Face's naming and layout.
//!
//! Names are Hugging Face's (`model.embed_tokens.weight`, `model.layers.{i}.self_attn.q_proj.weight`,
//! `model.layers.{i}.mlp.gate_proj.weight`, `model.norm.weight`, `lm_head.weight`, ...). Linear
//! weights are PyTorch-shaped `[out_features, in_features]`, and Q/K projection rows are in
//! Hugging Face's half-split rotary layout (GGUF loaders un-permute llama.cpp's layout before
//! handing tensors over).

use std::collections::BTreeMap;

/// One dense f32 tensor, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct HostTensor {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

impl HostTensor {
    pub fn new(shape: Vec<usize>, data: Vec<f32>) -> Self {
        debug_assert_eq!(shape.iter().product::<usize>(), data.len());
        Self { shape, data }
    }
}

/// Every tensor of a model, by Hugging Face name.
pub type TensorMap = BTreeMap<String, HostTensor>;
