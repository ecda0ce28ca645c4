//! The `apogrid` command line. Each subcommand lives in `src/cli/<name>.rs` as a clap `Args`
//! struct and a `run` function; this file only dispatches.

mod cli;

use clap::Parser;

/// apogrid: reproduce and extend APO + CLAIR as a declarative experiment grid.
#[derive(Parser)]
#[command(name = "apogrid", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Generate an answer to one prompt with a model (greedy by default).
    Generate(cli::generate::Args),
    /// Log-probability of a response after a prompt, token by token.
    Logprob(cli::logprob::Args),
}

fn main() {
    let cli = Cli::parse();
    let result: anyhow::Result<()> = match cli.command {
        Command::Generate(args) => cli::generate::run(args),
        Command::Logprob(args) => cli::logprob::run(args),
    };
    if let Err(err) = result {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}
