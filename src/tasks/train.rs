//! `train`: one (dataset, objective, seed) cell, all epochs, via `crate::train`. Resumable
//! state lives in the task's partial folder; when the run ends, its per-epoch checkpoints and
//! step log move into the artifact. While it runs, its progress line shows the epoch, step,
//! loss and time left, and its TensorBoard view is rewritten at each saved epoch.

use std::cell::RefCell;

use anyhow::Context;
use serde_json::{Value, json};

use super::bundle;
use super::reference::tokenize;
use crate::artifacts::{DATASET_TRAIN, EPOCHS_DIR, JsonArtifact, ReferenceLogps, STEP_LOG};
use crate::data::triple::read_jsonl;
use crate::data::winner_vs_model::PairComparison;
use crate::exec::TaskContext;
use crate::plan::TaskKind;
use crate::plan::inputs::TrainInput;
use crate::report::tensorboard;
use crate::train::{TokenPair, TrainEvent, train};

pub fn run(input: &TrainInput, ctx: &TaskContext) -> anyhow::Result<Value> {
    let base = bundle::base(ctx, &input.model)?;
    let data = ctx.parent(TaskKind::Dataset)?;
    let triples = read_jsonl(&data.join(DATASET_TRAIN))?;
    // SFT has no reference parent: its pairs carry zeros, which only its logged rewards read.
    let reference = match ctx.parent(TaskKind::ReferenceLogps) {
        Ok(dir) => ReferenceLogps::read(&dir)?.train,
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
            let winner_beats_model = t.metadata.winner_vs_model.map(|c| c == PairComparison::WinnerBetter);
            TokenPair { prompt, chosen, rejected, reference_chosen: r[0], reference_rejected: r[1], winner_beats_model }
        })
        .collect();
    if input.objective.kind().needs_comparisons()
        && let Some(i) = triples.iter().position(|t| t.metadata.winner_vs_model.is_none())
    {
        anyhow::bail!(
            "{}: pair {} has no winner-vs-model comparison, which `{}` needs; the dataset was built without comparing every pair",
            data.join(DATASET_TRAIN).display(),
            i + 1,
            input.objective.name()
        );
    }
    let spec = input.train.spec(input.objective, input.seed, base.tokenizer.pad_id());
    // The TensorBoard view follows the saved epochs; a view that cannot be written is worth a
    // warning, not the run.
    let view_warnings = RefCell::new(Vec::new());
    let watch = |event: TrainEvent| -> anyhow::Result<()> {
        match event {
            TrainEvent::Step(status) => ctx.progress.set(status.to_string()),
            TrainEvent::EpochSaved(epoch) => {
                ctx.progress.milestone(format!("epoch {epoch}/{} saved", spec.epochs));
                if let Err(e) = tensorboard::refresh(ctx.plan, ctx.store, ctx.index) {
                    ctx.progress.milestone(format!("warning: {e}"));
                    view_warnings.borrow_mut().push(format!("the TensorBoard view was not written: {e}"));
                }
            }
            TrainEvent::Warning(w) => ctx.progress.milestone(format!("warning: {w}")),
        }
        Ok(())
    };
    let summary = train(base.model, &pairs, &spec, &ctx.partial, &watch)?;
    // Hard links, not moves: the resumable state stays whole until the store commits the
    // artifact, so a kill at any moment loses nothing.
    for name in [EPOCHS_DIR, STEP_LOG] {
        let (from, to) = (ctx.partial.join(name), ctx.out.join(name));
        link_tree(&from, &to).with_context(|| format!("linking {} into the artifact", from.display()))?;
    }
    summary.write(&ctx.out)?;
    let mut notes: Vec<String> = summary.warnings.iter().map(|w| format!("warning: {w}")).collect();
    notes.extend(view_warnings.into_inner().into_iter().map(|w| format!("warning: {w}")));
    Ok(json!({ "pairs": pairs.len(), "updates": summary.updates, "seconds": summary.seconds,
               "resumed_from_epoch": summary.resumed_from_epoch, "warnings": summary.warnings, "notes": notes }))
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
