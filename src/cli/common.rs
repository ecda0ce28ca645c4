//! What several subcommands share: loading a grid and opening its store.

use std::path::{Path, PathBuf};

use anyhow::Context;

use apogrid::grid::{self, Grid};
use apogrid::plan::{self, Plan};
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
}
