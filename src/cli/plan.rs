//! `apogrid plan GRID`: what a run would do, without doing it.

use std::path::PathBuf;

use apogrid::grid::executor::ExecutorKind;
use apogrid::plan::{memory, render};

/// Show the grid's tasks, their content keys and whether each is cached or would run.
#[derive(clap::Args)]
pub struct Args {
    /// The grid file.
    grid: PathBuf,
    /// Print Graphviz dot instead of a table (`| dot -Tsvg > plan.svg`).
    #[arg(long, conflicts_with = "json")]
    dot: bool,
    /// Print a JSON list of {"id", "kind", "key", "deps", "cached"}.
    #[arg(long)]
    json: bool,
    /// Artifact store (default: the grid's, `results/.cache`).
    #[arg(long)]
    store: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let loaded = super::common::load(&args.grid, args.store.as_ref())?;
    let cached = loaded.cached();
    for e in &loaded.grid.missing {
        eprintln!("warning: {e}; `apogrid run` will not start until it exists");
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&render::json(&loaded.plan, &cached))?);
    } else if args.dot {
        print!("{}", render::dot(&loaded.plan, &cached));
    } else {
        println!("grid `{}` ({}), store {}", loaded.grid.name, args.grid.display(), loaded.store.root().display());
        print!("{}", render::table(&loaded.plan, &cached));
    }
    // A Slurm grid's devices are the cluster's: only `[devices] memory_gib` speaks for them.
    let here = loaded.grid.executor.kind == ExecutorKind::Local;
    let memory = memory::report(&loaded.grid, &loaded.plan, &loaded.grid.devices.list, here);
    if !args.json && !args.dot {
        print!("{memory}");
    }
    memory.check()?;
    Ok(())
}
