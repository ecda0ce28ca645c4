//! `apogrid status GRID`: how far a grid has got, and why what failed failed.

use std::path::PathBuf;

use apogrid::store::{Check, TaskState};

/// Count done / pending / failed tasks and show the failures' errors.
#[derive(clap::Args)]
pub struct Args {
    /// The grid file.
    grid: PathBuf,
    /// Artifact store (default: the grid's, `results/.cache`).
    #[arg(long)]
    store: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let loaded = super::common::load(&args.grid, args.store.as_ref())?;
    let (mut done, mut pending) = (0, 0);
    let (mut failed, mut corrupt) = (Vec::new(), Vec::new());
    for t in &loaded.plan.tasks {
        // Sizes only: cheap enough for every task; `apogrid verify` reads every byte.
        match loaded.store.state(&t.key, Check::Sizes) {
            TaskState::Done => done += 1,
            TaskState::Corrupt(c) => corrupt.push((t.id.clone(), c.to_string())),
            TaskState::Missing => match loaded.store.failure(&t.key) {
                Some(f) => failed.push((t.id.clone(), f.error.unwrap_or_default(), f.finished)),
                None => pending += 1,
            },
        }
    }
    println!(
        "grid `{}`: {} tasks: {done} done, {pending} pending, {} failed, {} corrupt",
        loaded.grid.name,
        loaded.plan.tasks.len(),
        failed.len(),
        corrupt.len()
    );
    for (id, problem) in &corrupt {
        println!("  CORRUPT {id}: {problem} (the next `run` moves it aside and recomputes it)");
    }
    for (id, error, when) in &failed {
        println!("  FAILED {id} (at {when}): {error}");
    }
    Ok(())
}
