//! The burn Llama model, its loaders, tokenizers, scoring and generation.
