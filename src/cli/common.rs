//! What several subcommands share: loading a grid and opening its store, and writing its
//! reports (the one place `report::publish` is called from).

use std::path::{Path, PathBuf};

use anyhow::Context;

use apogrid::grid::{self, Grid};
use apogrid::plan::{self, Plan};
use apogrid::report::{self, Published};
use apogrid::store::Store;

/// The grid, its plan and its store (created if missing).
pub struct Loaded {
    pub grid: Grid,
    pub plan: Plan,
    pub store: Store,
}

pub fn load(path: &Path, store_override: Option<&PathBuf>) -> anyhow::Result<Loaded> {
    let grid = grid::load(path)?;
    let plan = plan::build(&grid);
    let root = store_override.cloned().unwrap_or_else(|| grid.store.clone());
    let store = Store::open(&root).with_context(|| format!("opening the store {}", root.display()))?;
    Ok(Loaded { grid, plan, store })
}

impl Loaded {
    pub fn cached(&self) -> Vec<bool> {
        self.plan.tasks.iter().map(|t| self.store.is_done(&t.key)).collect()
    }

    /// Regenerates every report file of the grid from the store, whatever part of it is done.
    pub fn publish(&self) -> anyhow::Result<Published> {
        let published = report::publish(&self.grid, &self.plan, &self.store)?;
        for w in &published.collected.warnings {
            eprintln!("warning: skipped an unreadable artifact: {w}");
        }
        Ok(published)
    }
}
