//! `apogrid verify GRID`: compares every done task's artifact folder with the sizes and sha256
//! digests its `task.json` recorded at commit, names each file that differs and the task to
//! run again, and exits 1 if any does. `--quarantine` moves corrupt folders to the store's
//! `.corrupt/`, so the next `run` computes them again (nothing is deleted).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::bail;
use apogrid::store::{Check, Corruption};

/// Check every done task's artifact files against the digests recorded at commit.
#[derive(clap::Args)]
pub struct Args {
    /// The grid file.
    grid: PathBuf,
    /// Artifact store (default: the grid's, `results/.cache`).
    #[arg(long)]
    store: Option<PathBuf>,
    /// Move corrupt artifact folders to `<store>/.corrupt/`, so the next `run` recomputes them.
    #[arg(long)]
    quarantine: bool,
    /// Compare file lists and sizes only, without reading the files: milliseconds instead of
    /// about a second per GB of artifacts (sha256), but edits that keep a file's size go unseen.
    #[arg(long)]
    sizes_only: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let loaded = super::common::load(&args.grid, args.store.as_ref())?;
    let check = if args.sizes_only { Check::Sizes } else { Check::Full };
    let clock = Instant::now();
    let (mut checked, mut unchecked, mut files, mut bytes) = (0usize, 0usize, 0usize, 0u64);
    let mut corrupt: Vec<(String, Corruption)> = Vec::new();
    for t in &loaded.plan.tasks {
        if !loaded.store.is_done(&t.key) {
            continue;
        }
        match loaded.store.verify(&t.key, check) {
            Ok(v) => match v.files {
                Some(n) => (checked, files, bytes) = (checked + 1, files + n, bytes + v.bytes),
                None => unchecked += 1,
            },
            Err(c) => corrupt.push((t.id.clone(), c)),
        }
    }
    let rerun = rerun_command(&args);
    for (id, c) in &corrupt {
        report(&loaded.store, id, c, &rerun, args.quarantine)?;
    }
    println!(
        "grid `{}`: {} done tasks verified ({files} files, {:.1} MB, {}) in {:.1} s: {} corrupt{}",
        loaded.grid.name,
        checked + unchecked + corrupt.len(),
        bytes as f64 / 1e6,
        if args.sizes_only { "sizes only" } else { "sha256" },
        clock.elapsed().as_secs_f64(),
        corrupt.len(),
        if unchecked > 0 {
            format!("; {unchecked} committed before digests were recorded (not checked)")
        } else {
            String::new()
        },
    );
    if !corrupt.is_empty() {
        bail!("{} corrupt task artifact(s); their results must not be used until recomputed", corrupt.len());
    }
    Ok(())
}

/// One corrupt task: each differing file, then how to recompute it.
fn report(
    store: &apogrid::store::Store,
    id: &str,
    c: &Corruption,
    rerun: &str,
    quarantine: bool,
) -> anyhow::Result<()> {
    println!("CORRUPT {id} (key {}, {})", c.key, c.dir.display());
    for p in &c.problems {
        println!("  {p}");
    }
    if quarantine {
        let to = store.quarantine(&c.key)?;
        println!("  moved to {}; recompute it with: {rerun} --only {id}", to.display());
    } else {
        let verify = rerun.replacen("apogrid run", "apogrid verify", 1);
        println!("  recompute it with: {verify} --quarantine, then {rerun} --only {id}");
    }
    Ok(())
}

/// `apogrid run GRID [--store DIR]`, as this command was called.
fn rerun_command(args: &Args) -> String {
    let mut cmd = format!("apogrid run {}", args.grid.display());
    if let Some(s) = &args.store {
        cmd.push_str(&format!(" --store {}", s.display()));
    }
    cmd
}
