//! Evaluators: how a checkpoint gets its benchmark scores. Every evaluator returns a
//! [`ScoreRecord`], so the embedded world's benchmark, the built-in log-likelihood benchmarks
//! and a user's external command are peers to the tasks and the reports.
//!
//! - [`evaluator`]: the seam, the validated [`Evaluator`] a grid names;
//! - [`mmlu`] and [`hhh`]: the built-in real benchmarks, scored by log-likelihood through
//!   [`choice`] and returning an [`Evaluation`] (record + per-item predictions);
//! - [`world`]: the embedded world's exact-match benchmark;
//! - [`command`]: a user's command on the checkpoint exported as a Hugging Face folder;
//! - [`record`]: the result type.
//!
//! This floor uses the model, data, agents and world floors only (never grid, plan, tasks,
//! exec or report), so any layer above can call it.

pub mod choice;
pub mod command;
pub mod error;
pub mod evaluator;
pub mod hhh;
pub mod mmlu;
pub mod prediction;
pub mod record;
pub mod source;
pub mod subset;
pub mod world;

pub use error::EvalError;
pub use evaluator::{CommandEvaluator, Evaluator};
pub use prediction::{Evaluation, ItemPrediction};
pub use record::{CategoryScore, ScoreRecord};
pub use subset::subset;
