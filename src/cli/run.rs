//! `apogrid run GRID`: run every task that is not already in the store.

use std::path::PathBuf;

use anyhow::bail;

use apogrid::exec::{self, DeviceName, ExecOptions};
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
    /// Devices, e.g. `cpu` or `cuda:0,cuda:1` (default: the grid's `[devices] list`, else cpu).
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
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let loaded = super::common::load(&args.grid, args.store.as_ref())?;
    if !loaded.grid.missing.is_empty() {
        let lines: Vec<String> = loaded.grid.missing.iter().map(|e| format!("  {e}")).collect();
        bail!("the grid names input files that do not exist; nothing was run:\n{}", lines.join("\n"));
    }
    let _lock = loaded.store.lock()?;
    let keys = loaded.plan.tasks.iter().map(|t| t.key.clone()).collect();
    let resume: Vec<String> = std::env::args().collect();
    super::interrupt::install(&loaded.store, keys, resume.join(" "))?;
    let devices = match &args.devices {
        Some(names) => names.iter().map(|d| DeviceName::parse(d)).collect::<Result<Vec<_>, _>>()?,
        None => loaded.grid.devices.list.clone(),
    };
    let jobs = args.jobs.or(loaded.grid.devices.jobs).unwrap_or(1);
    let targets = args.only.as_ref().map(|only| targets(&loaded, only)).transpose()?;
    let opts = ExecOptions { slots: exec::slots::slots(&devices, jobs), targets, show_progress: !args.quiet };
    let outcome = exec::execute(&loaded.plan, &loaded.store, &TaskRunner, &opts)?;
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
