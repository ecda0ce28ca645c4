//! `keep_checkpoints = "best_last"`: once every epoch of a run is evaluated, delete the
//! checkpoints of the epochs that are neither the best (by benchmark score, earliest on ties)
//! nor the last. The evaluations stay; `apogrid export` names a pruned epoch as such.

use std::path::Path;

use serde_json::json;

use super::eval::EvalResult;
use super::io::{read_json, write_json};
use crate::exec::TaskContext;
use crate::plan::TaskKind;
use crate::train::run::epoch_dir;

/// Prunes every finished run of the plan whose epochs are all evaluated; returns how many
/// checkpoints were removed.
pub fn prune_runs(ctx: &TaskContext) -> anyhow::Result<usize> {
    let mut removed = 0;
    for (i, run) in ctx.plan.tasks.iter().enumerate().filter(|(_, t)| t.kind == TaskKind::Train) {
        if !ctx.store.is_done(&run.key) {
            continue;
        }
        let mut scores = Vec::new();
        for child in ctx.plan.children(i).map(|c| &ctx.plan.tasks[c]).filter(|t| t.kind == TaskKind::Eval) {
            if !ctx.store.is_done(&child.key) {
                scores.clear();
                break;
            }
            let eval: EvalResult = read_json(&ctx.store.artifact_dir(&child.key).join("eval.json"))?;
            scores.push((eval.epoch, eval.benchmark.overall));
        }
        if scores.is_empty() {
            continue;
        }
        removed += prune_run(&ctx.store.artifact_dir(&run.key), &scores)?;
    }
    Ok(removed)
}

/// Keeps the best and the last of `(epoch, score)`; deletes the other epochs' checkpoints.
fn prune_run(run: &Path, scores: &[(usize, f64)]) -> anyhow::Result<usize> {
    let last = scores.iter().map(|s| s.0).max().unwrap_or(0);
    let best = scores
        .iter()
        .fold(None::<(usize, f64)>, |acc, &(e, s)| match acc {
            Some((be, bs)) if bs > s || (bs == s && be < e) => Some((be, bs)),
            _ => Some((e, s)),
        })
        .map(|b| b.0)
        .unwrap_or(last);
    let mut removed = Vec::new();
    for &(epoch, _) in scores {
        let dir = epoch_dir(run, epoch);
        if epoch != best && epoch != last && dir.exists() {
            std::fs::remove_dir_all(&dir)?;
            removed.push(epoch);
        }
    }
    if !removed.is_empty() {
        write_json(&run.join("pruned.json"), &json!({ "kept": [best, last], "removed": removed }))?;
    }
    Ok(removed.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_best_and_the_last_epoch() {
        let dir = tempfile::tempdir().expect("tempdir");
        for e in 1..=4 {
            std::fs::create_dir_all(epoch_dir(dir.path(), e)).expect("mkdir");
        }
        let removed = prune_run(dir.path(), &[(1, 10.0), (2, 30.0), (3, 30.0), (4, 5.0)]).expect("prune");
        assert_eq!(removed, 2);
        let left: Vec<bool> = (1..=4).map(|e| epoch_dir(dir.path(), e).exists()).collect();
        assert_eq!(left, vec![false, true, false, true], "best = epoch 2 (earliest of the tie), last = 4");
    }
}
