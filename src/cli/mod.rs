//! One file per subcommand: an `Args` struct and a `run(args) -> anyhow::Result<()>`.

pub mod bench_step;
pub mod cancel;
pub mod common;
pub mod contrast;
pub mod eval;
pub mod export;
pub mod export_dataset;
pub mod generate;
pub mod interrupt;
pub mod logprob;
pub mod loss;
pub mod plan;
pub mod run;
pub mod status;
pub mod table;
pub mod task;
pub mod verify;
