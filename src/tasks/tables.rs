//! `tables`: the reports (tables, tidy CSVs, figures), from the store only (see
//! `crate::report`). They go into the task's artifact and are copied into
//! `<results>/<grid name>/`, each file written atomically.

use serde_json::{Value, json};

use crate::exec::TaskContext;
use crate::grid::Grid;
use crate::grid::schema::KeepCheckpoints;
use crate::plan::Task;
use crate::report;

pub fn run(grid: &Grid, _task: &Task, ctx: &TaskContext) -> anyhow::Result<Value> {
    ctx.progress.set("collecting results from the store".to_string());
    let collected = report::collect(grid, ctx.plan, ctx.store);
    ctx.progress.set("rendering tables and figures".to_string());
    let files = report::render_all(&collected)?;
    report::write_files(&ctx.out, &files)?;
    let results = report::results_dir(grid);
    report::write_files(&results, &files)?;
    let names: Vec<String> = files.iter().map(|f| f.path.display().to_string()).collect();
    let pruned = match grid.train.keep_checkpoints {
        KeepCheckpoints::All => 0,
        KeepCheckpoints::BestLast => super::prune::prune_runs(ctx)?,
    };
    Ok(json!({ "results": results, "files": names, "warnings": collected.warnings, "pruned_checkpoints": pruned }))
}
