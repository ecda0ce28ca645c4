//! One file per subcommand: an `Args` struct and a `run(args) -> anyhow::Result<()>`.

pub mod generate;
pub mod logprob;
