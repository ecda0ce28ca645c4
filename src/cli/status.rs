//! `apogrid status GRID`: how far a grid has got, and why what failed failed.

use std::path::PathBuf;

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
    let mut failed = Vec::new();
    for t in &loaded.plan.tasks {
        if loaded.store.is_done(&t.key) {
            done += 1;
        } else if let Some(f) = loaded.store.failure(&t.key) {
            failed.push((t.id.clone(), f.error.unwrap_or_default(), f.finished));
        } else {
            pending += 1;
        }
    }
    println!(
        "grid `{}`: {} tasks: {done} done, {pending} pending, {} failed",
        loaded.grid.name,
        loaded.plan.tasks.len(),
        failed.len()
    );
    for (id, error, when) in &failed {
        println!("  FAILED {id} (at {when}): {error}");
    }
    Ok(())
}
