//! `apogrid status GRID`: how far a grid has got, and why what failed failed.

use std::path::PathBuf;

use apogrid::exec::slurm::{queue, record};
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
