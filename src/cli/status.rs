//! `apogrid status GRID`: how far a grid has got, and why what failed failed.

use std::path::PathBuf;

use apogrid::exec::slurm::{queue, record};

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
    slurm_jobs(&loaded);
    Ok(())
}

/// Each task submitted to Slurm: its last job's id and state (from `squeue` while Slurm still
/// lists the job; from the store once it has left the queue).
fn slurm_jobs(loaded: &super::common::Loaded) {
    let records = record::of_plan(&loaded.plan, &loaded.store);
    if records.is_empty() {
        return;
    }
    let jobs = queue::poll_within(std::time::Duration::from_secs(20));
    if let Err(e) = &jobs {
        println!("(cannot read the Slurm queue: {e})");
    }
    println!("slurm jobs ({} task(s) submitted):", records.len());
    for (i, r) in &records {
        let key = &loaded.plan.tasks[*i].key;
        let queued = jobs.as_ref().ok().and_then(|j| j.get(&r.job_id));
        let state = match queued {
            Some(j) if j.reason != "None" => format!("{} ({})", j.state, j.reason),
            Some(j) => j.state.clone(),
            None if loaded.store.is_done(key) => "done".into(),
            None if loaded.store.failure(key).is_some() => "failed".into(),
            None => "gone".into(),
        };
        println!("  job {:>8}  {:<28} {}  (submitted {})", r.job_id, state, r.id, r.submitted);
    }
}
