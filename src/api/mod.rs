//! An LLM behind an OpenAI-compatible chat-completions API (OpenAI, Azure-compatible gateways,
//! vLLM, llama.cpp's server), as used to build the paper's datasets: GPT-4-turbo revised and
//! judged 32K outputs (SPEC.md section 1).
//!
//! One concept per file:
//! - [`key`]: the API key, read from the environment only and never printed.
//! - [`client`]: one HTTP request and the classification of its failures.
//! - [`retry`]: exponential backoff with jitter, honouring `Retry-After` (pure functions).
//! - [`cache`]: content-addressed responses under the store, so a rerun never pays twice.
//! - [`pool`]: bounded concurrency over a batch, results in order.
//! - [`stats`]: requests, cache hits, retries, failures by reason, tokens, wall time.
//! - [`service`]: the above put together: a batch of chat requests in, one result per request out.
//! - [`mock`]: a loopback server that speaks the same protocol, for tests and the benchmark.
//!
//! This floor knows nothing of grids, plans or the dataset builders; `crate::agents::api`
//! adapts it to the builders' roles.

pub mod cache;
pub mod client;
pub mod key;
pub mod mock;
pub mod pool;
pub mod retry;
pub mod service;
pub mod stats;

pub use client::{ChatReply, ChatRequest, Message, Usage};
pub use key::ApiKey;
pub use service::{ApiSettings, ChatService, Failure};
pub use stats::{ApiStats, StatsSummary};
