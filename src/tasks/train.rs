//! `train`: one (dataset, objective, seed) cell, all epochs, via `crate::train`. Resumable
//! state lives in the task's partial folder; when the run ends, its per-epoch checkpoints and
//! step log move into the artifact.

use anyhow::Context;
use serde_json::{Value, json};

use super::bundle;
use super::io::{label, read_json, write_json};
use super::reference::{ReferenceLogps, tokenize, truncation};
use crate::data::triple::read_jsonl;
use crate::exec::TaskContext;
use crate::grid::schema::{self, TrainSection};
use crate::grid::{Grid, Objective as GridObjective};
use crate::objective::{DEFAULT_BETA, Objective};
use crate::plan::{Task, TaskKind};
use crate::train::{OptimizerKind, Schedule, TokenPair, TrainSpec, train};

/// The objective a grid row names.
pub fn objective_of(o: &GridObjective) -> anyhow::Result<Objective> {
    Ok(Objective::new(
        o.kind.name(),
        o.beta.unwrap_or(DEFAULT_BETA),
        o.desirable_weight.unwrap_or(1.0),
        o.undesirable_weight.unwrap_or(1.0),
    )?)
}

pub fn grid_objective<'a>(grid: &'a Grid, task: &Task) -> anyhow::Result<&'a GridObjective> {
    let name = label(task, "objective")?;
    grid.objectives.iter().find(|o| o.name == name).with_context(|| format!("no objective `{name}` in the grid"))
}

pub fn run(grid: &Grid, task: &Task, ctx: &TaskContext) -> anyhow::Result<Value> {
    let settings: TrainSection = serde_json::from_value(task.params["train"].clone()).context("train parameters")?;
    let objective = objective_of(grid_objective(grid, task)?)?;
    let base = bundle::base(ctx, &grid.model.spec)?;
    let data = ctx.parent(TaskKind::Dataset)?;
    let triples = read_jsonl(&data.join("train.jsonl"))?;
    // SFT has no reference parent: its pairs carry zeros, which only its logged rewards read.
    let reference = match ctx.parent(TaskKind::ReferenceLogps) {
        Ok(dir) => read_json::<ReferenceLogps>(&dir.join("reference.json"))?.train,
        Err(_) => vec![[0.0, 0.0]; triples.len()],
    };
    anyhow::ensure!(
        reference.len() == triples.len(),
        "reference log-probs cover {} pairs, the dataset {}",
        reference.len(),
        triples.len()
    );
    let pairs: Vec<TokenPair> = triples
        .iter()
        .zip(&reference)
        .map(|(t, r)| {
            let (prompt, chosen, rejected) = tokenize(&base, t);
            TokenPair { prompt, chosen, rejected, reference_chosen: r[0], reference_rejected: r[1] }
        })
        .collect();
    let spec = TrainSpec {
        objective,
        epochs: settings.epochs,
        learning_rate: settings.learning_rate,
        schedule: match settings.schedule {
            schema::Schedule::Linear => Schedule::Linear,
            schema::Schedule::Constant => Schedule::Constant,
        },
        optimizer: match settings.optimizer {
            schema::Optimizer::Rmsprop => OptimizerKind::RmsProp,
            schema::Optimizer::Adamw => OptimizerKind::AdamW,
        },
        batch_size: settings.batch_size,
        micro_batch_size: settings.micro_batch_size,
        truncation: truncation(&task_truncation(task)),
        seed: task.params["seed"].as_u64().unwrap_or(0),
        pad_id: base.tokenizer.pad_id(),
    };
    let summary = train(&base.model, &pairs, &spec, &ctx.partial, &|m| ctx.progress.set(m))?;
    // Hard links, not moves: the resumable state stays whole until the store commits the
    // artifact, so a kill at any moment loses nothing.
    for name in ["epochs", "log.jsonl"] {
        let (from, to) = (ctx.partial.join(name), ctx.out.join(name));
        link_tree(&from, &to).with_context(|| format!("linking {} into the artifact", from.display()))?;
    }
    write_json(&ctx.out.join("train.json"), &summary)?;
    Ok(json!({ "pairs": pairs.len(), "updates": summary.updates, "seconds": summary.seconds,
               "resumed_from_epoch": summary.resumed_from_epoch }))
}

/// A task view whose params hold the truncation at top level (as the reference task's do).
fn task_truncation(task: &Task) -> Task {
    let mut t = task.clone();
    t.params = task.params["train"].clone();
    t
}

/// Hard-links a file, or a folder's files recursively, from `from` to `to`.
fn link_tree(from: &std::path::Path, to: &std::path::Path) -> std::io::Result<()> {
    if from.is_dir() {
        std::fs::create_dir_all(to)?;
        for entry in std::fs::read_dir(from)? {
            let entry = entry?;
            link_tree(&entry.path(), &to.join(entry.file_name()))?;
        }
        Ok(())
    } else {
        std::fs::hard_link(from, to)
    }
}
