//! The burn Llama model, its loaders, tokenizers, scoring and generation.
//!
//! - [`config`], [`weights`]: the hand-over types shared with the weight loaders.
//! - [`llama`] (+ [`attention`], [`rope`], [`mlp`], [`cache`]): the architecture;
//!   [`mask_convention`]: the attention mask as each backend reads it.
//! - [`tensors`]: building a model from Hugging Face-named tensors and back; random inits.
//! - [`tokenizer`]: the tokenizer and chat-format traits the rest of the crate uses.
//! - [`tiny`]: the embedded tiny model and its character tokenizer.
//! - [`score`]: summed and per-token response log-probabilities (training and evaluation).
//! - [`generate`]: batched sampling with a key/value cache.
//! - [`checkpoint`]: weights + optimizer state to a directory and back.
//! - Loaders: [`gguf`] (llama.cpp files), [`hf`] (Hugging Face directories, load and export),
//!   [`hf_tokenizer`] (tokenizer.json / GGUF BPE), [`chat`] (Jinja chat templates), and
//!   [`spec`] (`hf:DIR`, `gguf:FILE`, `smollm2`, `tiny` -> a loaded bundle).

pub mod attention;
pub mod bucket;
pub mod cache;
pub mod chat;
pub mod checkpoint;
pub mod config;
pub mod error;
pub mod fused;
pub mod generate;
pub mod gguf;
pub mod hf;
pub mod hf_tokenizer;
pub mod known;
pub mod llama;
pub mod mask_convention;
pub mod mlp;
pub mod precision;
pub mod project;
pub mod rope;
pub mod score;
pub mod spec;
pub mod tensors;
#[cfg(test)]
pub(crate) mod test_util;
pub mod tiny;
pub mod tokenizer;
pub mod weights;

pub use error::ModelError;
pub use llama::{Llama, Padding};
pub use tokenizer::{ChatFormat, Encoder, RawFormat, TextTokenizer};
