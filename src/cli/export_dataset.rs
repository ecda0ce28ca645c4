//! `apogrid export-dataset GRID NAME --out FILE`: one of a grid's built datasets as TRL-ready
//! JSONL (`prompt`, `chosen`, `rejected`, and the builder's `metadata`: models, scores, the
//! judge's or reviser's reasoning), so the pairs apogrid builds can be trained on elsewhere.
//! The dataset's artifact is checked against its digests first; `--split heldout` exports the
//! held-out pairs instead.

use std::path::PathBuf;

use anyhow::{Context, bail};

use apogrid::artifacts::{DATASET_HELDOUT, DATASET_TRAIN};
use apogrid::store::Check;

#[derive(Clone, Copy, clap::ValueEnum)]
enum Split {
    Train,
    Heldout,
}

/// Write a built dataset of the grid as TRL-ready JSONL.
#[derive(clap::Args)]
pub struct Args {
    /// The grid file.
    grid: PathBuf,
    /// The dataset's name in the grid.
    name: String,
    /// The JSONL file to write (replaced atomically).
    #[arg(long)]
    out: PathBuf,
    #[arg(long, value_enum, default_value = "train")]
    split: Split,
    /// Artifact store (default: the grid's, `results/.cache`).
    #[arg(long)]
    store: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let loaded = super::common::load(&args.grid, args.store.as_ref())?;
    let id = format!("dataset/{}", args.name);
    let Some(i) = loaded.plan.index_of(&id) else {
        let names: Vec<&str> = loaded.grid.datasets.iter().map(|d| d.name.as_str()).collect();
        bail!("the grid has no dataset `{}`; it has {}", args.name, names.join(", "));
    };
    let key = &loaded.plan.tasks[i].key;
    if !loaded.store.is_done(key) {
        bail!("dataset `{}` is not built yet: `apogrid run {} --only {id}`", args.name, args.grid.display());
    }
    loaded.store.verify(key, Check::Full)?;
    let file = match args.split {
        Split::Train => DATASET_TRAIN,
        Split::Heldout => DATASET_HELDOUT,
    };
    let from = loaded.store.artifact_dir(key).join(file);
    let bytes = std::fs::read(&from).with_context(|| format!("reading {}", from.display()))?;
    apogrid::atomic_file::write(&args.out, &bytes).with_context(|| format!("writing {}", args.out.display()))?;
    let pairs = bytes.iter().filter(|b| **b == b'\n').count();
    eprintln!("wrote {pairs} pairs of `{}` ({file}) to {}", args.name, args.out.display());
    Ok(())
}
