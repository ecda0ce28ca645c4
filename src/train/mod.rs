//! Training (SPEC.md section 3): the loop, its optimizer and schedule, and how tokenized pairs
//! become the objective's input. Knows nothing of grids or the store: it trains a model on
//! pairs and keeps its resumable state in a folder it is given.

pub mod divergence;
pub mod grad_norm;
pub mod memory;
pub mod optimizer;
pub mod pairs;
pub mod pretrain;
pub mod rmsprop;
pub mod run;
pub mod schedule;

pub use optimizer::OptimizerKind;
pub use pairs::TokenPair;
pub use run::{StepLog, StepStatus, TrainEvent, TrainSpec, TrainSummary, train};
pub use schedule::Schedule;

#[cfg(test)]
mod tests;
