//! Evaluators: how a checkpoint gets its benchmark scores. Every evaluator returns a
//! [`ScoreRecord`], so the embedded world's benchmark, the built-in log-likelihood benchmarks
//! and a user's external command are peers to the tasks and the reports.
//!
//! - [`evaluator`]: the seam, the validated [`Evaluator`] a grid names;
//! - [`world`]: the embedded world's exact-match benchmark;
//! - [`command`]: a user's command on the checkpoint exported as a Hugging Face folder;
//! - [`record`]: the result type.

pub mod command;
pub mod evaluator;
pub mod record;
pub mod world;

pub use evaluator::{CommandEvaluator, Evaluator};
pub use record::{CategoryScore, ScoreRecord};
