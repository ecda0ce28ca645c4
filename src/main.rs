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
    /// Contrastiveness of preference pairs (Table 1): mean Jaccard % and Levenshtein distance.
    Contrast(cli::contrast::Args),
}

fn main() {
    let cli = Cli::parse();
    let result: anyhow::Result<()> = match cli.command {
        Command::Contrast(args) => cli::contrast::run(args),
    };
    if let Err(err) = result {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}
