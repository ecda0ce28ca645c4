use clap::Parser;

/// apogrid: reproduce and extend APO + CLAIR as a declarative experiment grid.
#[derive(Parser)]
#[command(name = "apogrid", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {}
}
