//! `apogrid task GRID ID`: run exactly one task of a grid, whose parents must be done, and
//! record it in the store. This is what a cluster executor submits as a job; it is also handy
//! to rerun one evaluation by hand.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;

use apogrid::exec::progress::TaskProgress;
use apogrid::exec::run_one::run_one;
use apogrid::exec::slurm::queue;
use apogrid::exec::{DeviceName, Slot};
use apogrid::store::claim::CLAIM_TTL;
use apogrid::store::{ClaimError, Store, TaskClaim};
use apogrid::tasks::TaskRunner;

/// Run one task of the grid by id (as `apogrid plan` lists them); its parents must be done.
#[derive(clap::Args)]
pub struct Args {
    /// The grid file.
    grid: PathBuf,
    /// The task id, e.g. `train/clair/dpo` or `eval/clair/dpo/e03`.
    id: String,
    /// The device to run on.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Artifact store (default: the grid's, `results/.cache`).
    #[arg(long)]
    store: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let loaded = super::common::load(&args.grid, args.store.as_ref())?;
    let (plan, store) = (&loaded.plan, &loaded.store);
    let Some(i) = plan.index_of(&args.id) else {
        bail!("the grid has no task `{}`; `apogrid plan {}` lists them", args.id, args.grid.display());
    };
    let task = &plan.tasks[i];
    if store.is_done(&task.key) {
        eprintln!("{} is already done ({})", task.id, &task.key[..12]);
        return Ok(());
    }
    let missing: Vec<&str> =
        task.deps.iter().map(|d| &plan.tasks[*d]).filter(|p| !store.is_done(&p.key)).map(|p| p.id.as_str()).collect();
    if !missing.is_empty() {
        bail!("{} cannot run yet: its parents {} are not done", task.id, missing.join(", "));
    }
    let Some(_claim) = claim(store, &task.key, &task.id)? else {
        eprintln!("{} was finished by another process meanwhile", task.id);
        return Ok(());
    };
    let device = DeviceName::parse(&args.device)?;
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let slot = Slot { index: 0, device, threads };
    let (result, seconds) = run_one(plan, store, &TaskRunner, i, &slot, TaskProgress::hidden())?;
    match result {
        Ok(_) => {
            eprintln!("done    {} ({seconds:.1}s)", task.id);
            Ok(())
        }
        Err(message) => bail!("{} failed: {message}", task.id),
    }
}

/// One process per task at a time, on any machine sharing the store; other tasks of the store
/// may run alongside. A live holder (another job of a second submission, say) is waited for:
/// `None` when it finished the task meanwhile.
fn claim(store: &Store, key: &str, id: &str) -> anyhow::Result<Option<TaskClaim>> {
    let claims = store.root().join(".claims");
    let mut told = false;
    loop {
        match TaskClaim::acquire(&claims, key, CLAIM_TTL, &queue::job_alive) {
            Ok(claim) => return Ok((!store.is_done(key)).then_some(claim)),
            Err(ClaimError::Held { holder, .. }) => {
                if store.is_done(key) {
                    return Ok(None);
                }
                if !told {
                    eprintln!("{id} is being run by {holder}; waiting for it");
                    told = true;
                }
                std::thread::sleep(Duration::from_secs(2));
            }
            Err(ClaimError::Store(e)) => return Err(e.into()),
        }
    }
}
