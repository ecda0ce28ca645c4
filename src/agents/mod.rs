//! Providers of the dataset builders' roles (`crate::data::agents`) beyond the embedded world's
//! oracle: a local model as a [`Generator`](crate::data::agents::Generator), an LLM behind an
//! OpenAI-compatible API (`api`), any generator as reviser or judge through the paper's prompts
//! (`prompted`), and a replay of samples already drawn (so every builder sees the same samples
//! of the target).

pub mod api;
pub mod file;
pub mod model;
pub mod prompted;
pub mod replay;
