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
    /// Run every task of a grid that is not already done.
    Run(cli::run::Args),
    /// Show a grid's tasks, keys and cache state without running anything.
    Plan(cli::plan::Args),
    /// Count done, pending and failed tasks of a grid.
    Status(cli::status::Args),
    /// Evaluate an objective on given log-probs (f64): loss, rewards, autodiff gradients.
    Loss(cli::loss::Args),
    /// Contrastiveness of preference pairs (Table 1): mean Jaccard % and Levenshtein distance.
    Contrast(cli::contrast::Args),
    /// Generate an answer to one prompt with a model (greedy by default).
    Generate(cli::generate::Args),
    /// Log-probability of a response after a prompt, token by token.
    Logprob(cli::logprob::Args),
    /// Score a model on a benchmark (mmlu, hhh, world) outside a grid.
    Eval(cli::eval::Args),
    /// Time DPO training steps of a random model at a published config (device benchmarks).
    BenchStep(cli::bench_step::Args),
    /// Export a run's checkpoint as a Hugging Face model folder.
    Export(cli::export::Args),
    /// Write a built dataset of a grid as TRL-ready JSONL (prompt, chosen, rejected, metadata).
    ExportDataset(cli::export_dataset::Args),
    /// Regenerate a grid's reports (tables, CSVs, figures) from its store; print Tables 1 and 2.
    Table(cli::table::Args),
    /// Run exactly one task of a grid (its parents must be done): what a cluster job runs.
    Task(cli::task::Args),
    /// Check every done task's artifact files against the sha256 digests recorded at commit.
    Verify(cli::verify::Args),
    /// Cancel a grid's queued and running Slurm jobs (finished tasks stay done).
    Cancel(cli::cancel::Args),
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => cli::run::run(args),
        Command::Plan(args) => cli::plan::run(args),
        Command::Status(args) => cli::status::run(args),
        Command::Loss(args) => cli::loss::run(args),
        Command::Contrast(args) => cli::contrast::run(args),
        Command::Generate(args) => cli::generate::run(args),
        Command::Logprob(args) => cli::logprob::run(args),
        Command::Eval(args) => cli::eval::run(args),
        Command::BenchStep(args) => cli::bench_step::run(args),
        Command::Export(args) => cli::export::run(args),
        Command::ExportDataset(args) => cli::export_dataset::run(args),
        Command::Table(args) => cli::table::run(args),
        Command::Task(args) => cli::task::run(args),
        Command::Verify(args) => cli::verify::run(args),
        Command::Cancel(args) => cli::cancel::run(args),
    };
    if let Err(err) = result {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}
