//! Evaluators: how a checkpoint gets its benchmark scores. Every evaluator returns a
//! [`ScoreRecord`], so the embedded world's benchmark, the built-in log-likelihood benchmarks
//! and a user's external command are peers to the tasks and the reports.

pub mod record;

pub use record::{CategoryScore, ScoreRecord};
