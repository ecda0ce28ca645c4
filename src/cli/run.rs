//! `apogrid run GRID`: run every task that is not already in the store.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, bail};

use apogrid::exec::slurm::sbatch::JobContext;
use apogrid::exec::slurm::{queue, record};
use apogrid::exec::{self, DeviceName, ExecOptions, Executor, Outcome, Scheduler, SlurmExecutor};
use apogrid::grid::executor::ExecutorKind;
use apogrid::plan::TaskKind;
use apogrid::report;
use apogrid::tasks::TaskRunner;

use super::common::Loaded;

/// Run the grid: finished work is never redone, a killed run resumes, failures are reported
/// and only their descendants are skipped.
#[derive(clap::Args)]
pub struct Args {
    /// The grid file.
    grid: PathBuf,
    /// Concurrent CPU tasks (default: the grid's `[devices] jobs`, else 1).
    #[arg(long)]
    jobs: Option<usize>,
    /// Devices, e.g. `cpu`, `tch-cpu` or `cuda:0,cuda:1` (default: the grid's `[devices] list`, else cpu).
    #[arg(long, value_delimiter = ',')]
    devices: Option<Vec<String>>,
    /// Stop after the tasks of these kinds or ids (and what they need), e.g. `--only datasets`
    /// or `--only eval/base`.
    #[arg(long, value_delimiter = ',')]
    only: Option<Vec<String>>,
    /// Artifact store (default: the grid's, `results/.cache`).
    #[arg(long)]
    store: Option<PathBuf>,
    /// No progress bars or log lines.
    #[arg(long)]
    quiet: bool,
    /// Where tasks run: `local` (threads of this process) or `slurm` (one job per task; Ctrl-C
    /// cancels them). Default: the grid's `[executor] kind`, else local.
    #[arg(long)]
    executor: Option<String>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let loaded = super::common::load(&args.grid, args.store.as_ref())?;
    if !loaded.grid.missing.is_empty() {
        let lines: Vec<String> = loaded.grid.missing.iter().map(|e| format!("  {e}")).collect();
        bail!("the grid names input files that do not exist; nothing was run:\n{}", lines.join("\n"));
    }
    let kind = match &args.executor {
        Some(name) => ExecutorKind::parse(name)
            .ok_or_else(|| anyhow::anyhow!("--executor: expected `local` or `slurm`, got `{name}`"))?,
        None => loaded.grid.executor.kind,
    };
    let devices = match &args.devices {
        Some(names) => names.iter().map(|d| DeviceName::parse(d)).collect::<Result<Vec<_>, _>>()?,
        None => loaded.grid.devices.list.clone(),
    };
    // A device that cannot run (a build without `cuda`, no NVIDIA driver, no such GPU) is one
    // line now, not a failed task after others ran.
    if kind == ExecutorKind::Local {
        for d in &devices {
            d.burn().map_err(|e| anyhow::anyhow!("--devices {d}: {e}"))?;
        }
    }
    // Refuse before anything runs a training task that cannot fit its device.
    apogrid::plan::memory::report(&loaded.grid, &loaded.plan, &devices, kind == ExecutorKind::Local).check()?;
    // A local run holds the store's lock until its reports are written; a Slurm run does not
    // (see `run_on_slurm`).
    let _lock = match kind {
        ExecutorKind::Local => {
            let lock = loaded.store.lock()?;
            no_live_jobs(&loaded)?;
            let keys = loaded.plan.tasks.iter().map(|t| t.key.clone()).collect();
            let resume: Vec<String> = std::env::args().collect();
            super::interrupt::install(&loaded.store, keys, resume.join(" "))?;
            Some(lock)
        }
        ExecutorKind::Slurm => None,
    };
    let jobs = args.jobs.or(loaded.grid.devices.jobs).unwrap_or(1);
    let targets = args.only.as_ref().map(|only| targets(&loaded, only)).transpose()?;
    let opts = ExecOptions { slots: exec::slots::slots(&devices, jobs), targets, show_progress: !args.quiet };
    let outcome = match kind {
        ExecutorKind::Local => exec::execute(&loaded.plan, &loaded.store, &TaskRunner, &opts)?,
        ExecutorKind::Slurm => run_on_slurm(&loaded, &args.grid, &opts)?,
    };
    eprintln!(
        "{} tasks ran, {} cached, {} failed, {} skipped",
        outcome.ran.len(),
        outcome.cached.len(),
        outcome.failed.len(),
        outcome.skipped.len()
    );
    for (i, message) in &outcome.failed {
        eprintln!("  FAILED {}: {message}", loaded.plan.tasks[*i].id);
    }
    for m in loaded.store.unrecorded_failures() {
        eprintln!("  (the store could not record the failure of {} on disk: is it full?)", m.id);
    }
    for (i, problem) in &outcome.quarantined {
        eprintln!("  RECOMPUTED {} (its artifact was corrupt: {problem})", loaded.plan.tasks[*i].id);
    }
    // The reports always reflect the store, whatever part of the grid this run covered.
    let published = loaded.publish()?;
    let datasets_only = args.only.as_ref().is_some_and(|o| o.iter().any(|k| k.starts_with("dataset")));
    if datasets_only {
        println!("{}", report::table1_markdown(&published.collected.datasets));
    }
    eprintln!("reports in {}", published.dir.display());
    if !outcome.success() {
        bail!("{} task(s) failed; `apogrid status {}` lists them", outcome.failed.len(), args.grid.display());
    }
    Ok(())
}

/// `--only` names task ids or kinds; the run covers them and their ancestors.
fn targets(loaded: &Loaded, only: &[String]) -> anyhow::Result<Vec<usize>> {
    let mut targets = Vec::new();
    for k in only {
        if let Some(i) = loaded.plan.index_of(k) {
            targets.push(i);
            continue;
        }
        let kind = only_kind(k)?;
        targets.extend(loaded.plan.tasks.iter().enumerate().filter(|(_, t)| t.kind() == kind).map(|(i, _)| i));
    }
    Ok(targets)
}

/// `--only` accepts kind names, plural or singular (`datasets`, `dataset`, `train`).
fn only_kind(name: &str) -> anyhow::Result<TaskKind> {
    let singular = name.strip_suffix('s').unwrap_or(name);
    TaskKind::from_name(name).or_else(|| TaskKind::from_name(singular)).ok_or_else(|| {
        let names: Vec<&str> = TaskKind::ALL.iter().map(|k| k.name()).collect();
        anyhow::anyhow!("--only: `{name}` is neither a task id nor a task kind ({})", names.join(", "))
    })
}

/// Submits the grid's ready tasks as Slurm jobs until none is left. The store's `LOCK` is not
/// held for the run (a `run` on another login node could not tell it from a dead one): jobs
/// claim their tasks one by one (`.claims/`), and a second `run` of the grid adopts the jobs
/// the first one submitted. A local `run` holding the lock is refused, though.
fn run_on_slurm(loaded: &Loaded, grid: &Path, opts: &ExecOptions) -> anyhow::Result<Outcome> {
    local_run_check(loaded.store.root())?;
    let root = std::fs::canonicalize(loaded.store.root())
        .with_context(|| format!("resolving the store {}", loaded.store.root().display()))?;
    // Jobs get absolute paths only: they start in the same folder, but on another machine.
    let store = apogrid::store::Store::open(&root)?;
    let workdir = std::env::current_dir().context("reading the working folder")?;
    let settings = loaded.grid.executor.slurm.clone();
    let binary = match &settings.binary {
        Some(b) => workdir.join(b),
        None => std::env::current_exe().context("finding the apogrid binary")?,
    };
    let job = JobContext {
        grid_name: loaded.grid.name.clone(),
        grid: std::fs::canonicalize(grid).with_context(|| format!("resolving {}", grid.display()))?,
        store: root,
        binary,
        workdir,
    };
    // The first Ctrl-C cancels the jobs and stops cleanly; a second one exits at once.
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = interrupted.clone();
    ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::Relaxed) {
            std::process::exit(130);
        }
    })
    .context("installing the Ctrl-C handler")?;
    let executor = SlurmExecutor { settings, job, interrupted };
    let mut sched =
        Scheduler::new(&loaded.plan, &store, opts.targets.as_deref(), opts.show_progress).watched_by(&TaskRunner);
    executor.execute(&mut sched, &TaskRunner)?;
    Ok(sched.into_outcome())
}

/// Refuses while a local `run` on this machine holds the store's lock (its tasks take no
/// claims). Read, not taken: two Slurm runs of a grid may start at the same moment.
fn local_run_check(store: &Path) -> anyhow::Result<()> {
    let lock = store.join("LOCK");
    let pid = std::fs::read_to_string(&lock).ok().and_then(|t| t.trim().parse::<u32>().ok());
    if let Some(pid) = pid.filter(|p| Path::new(&format!("/proc/{p}")).exists()) {
        bail!("a local `apogrid run` (pid {pid}) is using this store (lock file {}); wait for it", lock.display());
    }
    Ok(())
}

/// A local run takes no per-task claims, so it must not start while Slurm jobs of the grid
/// are queued or running (a cluster with no Slurm client here has none to ask about).
fn no_live_jobs(loaded: &Loaded) -> anyhow::Result<()> {
    let records = record::of_plan(&loaded.plan, &loaded.store);
    if records.is_empty() {
        return Ok(());
    }
    let Ok(jobs) = queue::poll_within(std::time::Duration::from_secs(10)) else { return Ok(()) };
    let live = records.iter().filter(|(_, r)| jobs.get(&r.job_id).is_some_and(|j| !j.is_terminal())).count();
    if live > 0 {
        let grid = loaded.grid.path.display();
        bail!(
            "{live} Slurm job(s) of this grid are queued or running; `apogrid cancel {grid}` them, or use --executor slurm"
        );
    }
    Ok(())
}
