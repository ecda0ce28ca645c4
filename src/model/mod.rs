//! The burn Llama model, its loaders, tokenizers, scoring and generation.

pub mod config;
pub mod weights;
pub mod gguf;
pub mod hf;
pub mod hf_tokenizer;
pub mod chat;
pub mod spec;
