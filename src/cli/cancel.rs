//! `apogrid cancel GRID`: cancel the grid's Slurm jobs that are still queued or running.

use std::path::PathBuf;

use apogrid::exec::slurm::{queue, record};

/// Cancel (`scancel`) every queued or running Slurm job of the grid. Finished tasks stay in
/// the store; a cancelled training run keeps its partial state and resumes on the next `run`.
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
    let records = record::of_plan(&loaded.plan, &loaded.store);
    let jobs = queue::poll()?;
    let live: Vec<&record::SubmitRecord> =
        records.iter().map(|(_, r)| r).filter(|r| jobs.get(&r.job_id).is_some_and(|j| !j.is_terminal())).collect();
    let ids: Vec<String> = live.iter().map(|r| r.job_id.clone()).collect();
    queue::cancel(&ids)?;
    for r in &live {
        println!("cancelled job {} ({})", r.job_id, r.id);
    }
    println!("{} job(s) of grid `{}` cancelled", ids.len(), loaded.grid.name);
    Ok(())
}
