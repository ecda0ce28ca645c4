//! `prune` (`keep_checkpoints = "best_last"`): once every epoch of a run is evaluated, delete
//! the checkpoints of the epochs that are neither the best (by the headline score, earliest on
//! ties) nor the last. The evaluations stay; `apogrid export` names a pruned epoch as such.
//! A step of its own in the plan, after the run's evaluations: writing reports never deletes.
//! The run's `task.json` records the removal (`Store::remove_from_artifact`), so the pruned
//! artifact still verifies.

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
            TaskKind::Train => run = Some((parent.key.clone(), dir)),
            TaskKind::Eval => {
                let eval = EvalResult::read(&dir)?;
                let score = eval.scores.first().map(|s| s.score).unwrap_or(f64::NEG_INFINITY);
                scores.push((eval.epoch, score));
            }
            _ => {}
        }
    }
    let (key, dir) = run.ok_or_else(|| anyhow::anyhow!("prune has no training run parent"))?;
    let (best, last) = best_and_last(&scores);
    let mut removed = Vec::new();
    for &(epoch, _) in &scores {
        let sub = epoch_dir(Path::new(""), epoch);
        if epoch != best && epoch != last && dir.join(&sub).exists() {
            ctx.store.remove_from_artifact(&key, &sub.to_string_lossy())?;
            removed.push(epoch);
        }
    }
    removed.sort_unstable();
    let pruned = Pruned { kept: vec![best, last], removed };
    pruned.write(&ctx.out)?;
    Ok(json!({ "kept": pruned.kept, "removed": pruned.removed }))
}

/// The best epoch of `(epoch, score)` (earliest on ties) and the last.
fn best_and_last(scores: &[(usize, f64)]) -> (usize, usize) {
    let last = scores.iter().map(|s| s.0).max().unwrap_or(0);
    let best = scores
        .iter()
        .fold(None::<(usize, f64)>, |acc, &(e, s)| match acc {
            Some((be, bs)) if bs > s || (bs == s && be < e) => Some((be, bs)),
            _ => Some((e, s)),
        })
        .map(|b| b.0)
        .unwrap_or(last);
    (best, last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_best_and_the_last_epoch() {
        let scores = [(1, 10.0), (2, 30.0), (3, 30.0), (4, 5.0)];
        assert_eq!(best_and_last(&scores), (2, 4), "best = epoch 2 (earliest of the tie), last = 4");
        let scores = [(2, 1.0), (1, 9.0)];
        assert_eq!(best_and_last(&scores), (1, 2), "plan order does not matter");
    }
}
