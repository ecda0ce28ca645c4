//! `eval`: the scores of one checkpoint (epoch 0 = the base model) from the grid's evaluator,
//! plus, for a training run's checkpoints, the mean log-likelihoods and rewards of its
//! dataset's held-out pairs (the data of the paper's Figure 4), computed in-process whatever
//! the evaluator.

use anyhow::Context;
use serde_json::Value;

use super::bundle::{self, Bundle};
use super::reference::score_pairs;
use crate::artifacts::{DATASET_HELDOUT, EvalResult, Heldout, JsonArtifact, ReferenceLogps, epoch_dir};
use crate::data::triple::read_jsonl;
use crate::eval::command::{self, Invocation};
use crate::eval::{Evaluator, ScoreRecord, hhh, mmlu, subset, world};

/// Contexts (MMLU) or rows (HHH) per forward pass.
const SCORE_BATCH: usize = 16;
use crate::exec::TaskContext;
use crate::plan::TaskKind;
use crate::plan::inputs::{EvalInput, HeldoutInput};

pub fn run(input: &EvalInput, ctx: &TaskContext) -> anyhow::Result<Value> {
    let epoch = input.epoch;
    let mut model = if epoch == 0 {
        bundle::base(ctx, &input.model)?
    } else {
        let run = ctx.parent(TaskKind::Train)?;
        bundle::load(&input.model, &epoch_dir(&run, epoch), &bundle::device(ctx)?)?
    };
    model.model = input.precision.apply(model.model);
    let progress = |m: String| ctx.progress.set(format!("epoch {epoch}: {m}"));
    let scores =
        input.evaluators.iter().map(|e| evaluate(e, input, &model, ctx, &progress)).collect::<anyhow::Result<_>>()?;
    let heldout = match &input.heldout {
        Some(h) => Some(heldout(h, ctx, &model)?),
        None => None,
    };
    let result = EvalResult { epoch, scores, heldout };
    result.write(&ctx.out)?;
    Ok(serde_json::to_value(&result)?)
}

/// One evaluator's score of the loaded checkpoint.
fn evaluate(
    evaluator: &Evaluator,
    input: &EvalInput,
    model: &Bundle,
    ctx: &TaskContext,
    progress: &dyn Fn(String),
) -> anyhow::Result<ScoreRecord> {
    match evaluator {
        Evaluator::World { count, max_new_tokens } => {
            let (tokenizer, format) = (model.tokenizer.as_ref(), model.format.as_ref());
            Ok(world::evaluate(&model.model, tokenizer, format, *count, *max_new_tokens, input.seed, progress)?)
        }
        Evaluator::Mmlu { data, count } => {
            let items = mmlu::load(&data.path)?;
            let items = match count {
                Some(c) => subset(&items, *c, input.seed),
                None => items,
            };
            // lm-eval starts a context with bos only when the tokenizer adds it by default.
            let add_bos = mmlu::adds_bos(model.tokenizer.as_ref(), model.format.as_ref());
            Ok(mmlu::evaluate(&model.model, model.tokenizer.as_ref(), add_bos, &items, SCORE_BATCH, progress)?.record)
        }
        Evaluator::Hhh { data } => {
            let items = hhh::load(&data.path)?;
            Ok(hhh::evaluate(&model.model, &model.encoder(), &items, SCORE_BATCH, progress)?.record)
        }
        Evaluator::Command(c) => {
            // The export lives in the task's own temporary folder (removed with it); the store
            // never keeps a second copy of the weights.
            let model_dir = ctx.out.join(".export").join("model");
            progress(format!("exporting the checkpoint to {}", model_dir.display()));
            crate::model::spec::export_hf(&model.model, &input.model, &model_dir)?;
            let output = ctx.out.join(".export").join("score.json");
            progress(format!("running {}", c.argv[0]));
            let inv = Invocation { model_dir: &model_dir, output: &output, epoch: input.epoch, cell: &input.cell };
            let record = command::run(c, &inv)
                .with_context(|| format!("evaluating {} at epoch {} with `{}`", input.cell, input.epoch, c.argv[0]))?;
            let logs = ctx.out.join("evaluator");
            std::fs::create_dir_all(&logs)?;
            for f in ["stdout.txt", "stderr.txt", "score.json"] {
                std::fs::rename(ctx.out.join(".export").join(f), logs.join(f))?;
            }
            std::fs::remove_dir_all(ctx.out.join(".export"))?;
            Ok(record)
        }
    }
}

fn heldout(input: &HeldoutInput, ctx: &TaskContext, model: &Bundle) -> anyhow::Result<Heldout> {
    let triples = read_jsonl(&ctx.parent(TaskKind::Dataset)?.join(DATASET_HELDOUT))?;
    let reference = ReferenceLogps::read(&ctx.parent(TaskKind::ReferenceLogps)?)?;
    let logps = score_pairs(model, &triples, input.truncation, &|m| ctx.progress.set(format!("held-out: {m}")))?;
    anyhow::ensure!(
        reference.heldout.len() == logps.len(),
        "reference covers {} held-out pairs, the dataset {}",
        reference.heldout.len(),
        logps.len()
    );
    let n = logps.len().max(1) as f64;
    let mean = |f: &dyn Fn(usize) -> f64| (0..logps.len()).map(f).sum::<f64>() / n;
    let beta = input.beta;
    Ok(Heldout {
        pairs: logps.len(),
        chosen_logps: mean(&|i| logps[i][0] as f64),
        rejected_logps: mean(&|i| logps[i][1] as f64),
        chosen_reward: mean(&|i| beta * (logps[i][0] - reference.heldout[i][0]) as f64),
        rejected_reward: mean(&|i| beta * (logps[i][1] - reference.heldout[i][1]) as f64),
    })
}
