//! `prune` (`keep_checkpoints = "best_last"`): once every epoch of a run is evaluated, delete
//! the checkpoints of the epochs that are neither the best (by the headline score, earliest on
//! ties) nor the last. The evaluations stay; `apogrid export` names a pruned epoch as such.
//! A step of its own in the plan, after the run's evaluations: writing reports never deletes.

use std::path::Path;

use serde_json::{Value, json};

use crate::artifacts::{EvalResult, JsonArtifact, Pruned, epoch_dir};
use crate::exec::TaskContext;
use crate::plan::TaskKind;
use crate::plan::inputs::PruneInput;

pub fn run(_input: &PruneInput, ctx: &TaskContext) -> anyhow::Result<Value> {
    let mut run = None;
    let mut scores = Vec::new();
    for (parent, dir) in ctx.parents() {
        match parent.kind() {
            TaskKind::Train => run = Some(dir),
            TaskKind::Eval => {
                let eval = EvalResult::read(&dir)?;
                let score = eval.scores.first().map(|s| s.score).unwrap_or(f64::NEG_INFINITY);
                scores.push((eval.epoch, score));
            }
            _ => {}
        }
    }
    let run = run.ok_or_else(|| anyhow::anyhow!("prune has no training run parent"))?;
    let pruned = prune_run(&run, &scores)?;
    pruned.write(&run)?;
    pruned.write(&ctx.out)?;
    Ok(json!({ "kept": pruned.kept, "removed": pruned.removed }))
}

/// Keeps the best and the last of `(epoch, score)`; deletes the other epochs' checkpoints.
fn prune_run(run: &Path, scores: &[(usize, f64)]) -> anyhow::Result<Pruned> {
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
    removed.sort_unstable();
    Ok(Pruned { kept: vec![best, last], removed })
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
        let pruned = prune_run(dir.path(), &[(1, 10.0), (2, 30.0), (3, 30.0), (4, 5.0)]).expect("prune");
        assert_eq!(pruned.removed, vec![1, 3]);
        let left: Vec<bool> = (1..=4).map(|e| epoch_dir(dir.path(), e).exists()).collect();
        assert_eq!(left, vec![false, true, false, true], "best = epoch 2 (earliest of the tie), last = 4");
    }
}
