//! The burn Llama model, its loaders, tokenizers, scoring and generation.

pub mod config;
pub mod weights;
