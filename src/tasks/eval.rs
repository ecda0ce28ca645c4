//! `eval`: the score of one checkpoint (epoch 0 = the base model) on the benchmark, plus, for a
//! training run's checkpoints, the mean log-likelihoods and rewards of its dataset's held-out
//! pairs (the data of the paper's Figure 4).

use anyhow::bail;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::bundle::{self, Bundle, device_for};
use super::io::{read_json, write_json};
use super::reference::{ReferenceLogps, score_pairs};
use super::sample::GENERATION_BATCH;
use super::train::{grid_objective, objective_of};
use crate::agents::model::ModelGenerator;
use crate::data::triple::read_jsonl;
use crate::exec::TaskContext;
use crate::grid::Grid;
use crate::grid::schema::Benchmark as BenchmarkKind;
use crate::model::score::Truncation;
use crate::plan::{Task, TaskKind};
use crate::train::run::epoch_dir;
use crate::world::benchmark::{BenchScore, Benchmark};

/// Held-out means at one checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Heldout {
    pub pairs: usize,
    pub chosen_logps: f64,
    pub rejected_logps: f64,
    pub chosen_reward: f64,
    pub rejected_reward: f64,
}

/// `eval.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EvalResult {
    pub epoch: usize,
    pub benchmark: BenchScore,
    pub heldout: Option<Heldout>,
}

pub fn run(grid: &Grid, task: &Task, ctx: &TaskContext) -> anyhow::Result<Value> {
    let epoch = task.params["epoch"].as_u64().unwrap_or(0) as usize;
    let spec = grid.model.spec.as_str();
    let model = if epoch == 0 {
        bundle::base(ctx, spec)?
    } else {
        let run = ctx.parent(TaskKind::Train)?;
        bundle::load(spec, &epoch_dir(&run, epoch), &device_for(&ctx.slot.device)?)?
    };
    if grid.eval.benchmark != BenchmarkKind::World {
        bail!("external evaluators (`benchmark = \"command\"`) are not built yet in this version");
    }
    let seed = task.params["benchmark"]["seed"].as_u64().unwrap_or(0);
    let bench = Benchmark::new(seed, grid.eval.count.div_ceil(crate::world::families::Family::ALL.len()));
    ctx.progress.set(format!("epoch {epoch}: answering {} benchmark prompts", bench.tasks.len()));
    let mut generator = ModelGenerator {
        name: format!("epoch-{epoch}"),
        model: &model.model,
        tokenizer: model.tokenizer.as_ref(),
        format: model.format.as_ref(),
        max_new_tokens: grid.eval.max_new_tokens,
        top_p: 1.0,
        batch_size: GENERATION_BATCH,
    };
    let benchmark = bench.evaluate(&mut generator)?;
    let heldout = if epoch == 0 { None } else { Some(heldout(grid, task, ctx, &model)?) };
    let result = EvalResult { epoch, benchmark, heldout };
    write_json(&ctx.out.join("eval.json"), &result)?;
    Ok(serde_json::to_value(&result)?)
}

fn heldout(grid: &Grid, task: &Task, ctx: &TaskContext, model: &Bundle) -> anyhow::Result<Heldout> {
    let triples = read_jsonl(&ctx.parent(TaskKind::Dataset)?.join("heldout.jsonl"))?;
    let reference: ReferenceLogps = read_json(&ctx.parent(TaskKind::ReferenceLogps)?.join("reference.json"))?;
    let beta = objective_of(grid_objective(grid, task)?)?.beta();
    let truncation = Truncation {
        max_prompt_tokens: grid.train.max_prompt_tokens,
        max_response_tokens: grid.train.max_response_tokens,
    };
    let logps = score_pairs(model, &triples, truncation, &|m| ctx.progress.set(format!("held-out: {m}")))?;
    let n = logps.len().max(1) as f64;
    let mean = |f: &dyn Fn(usize) -> f64| (0..logps.len()).map(f).sum::<f64>() / n;
    anyhow::ensure!(
        reference.heldout.len() == logps.len(),
        "reference covers {} held-out pairs, the dataset {}",
        reference.heldout.len(),
        logps.len()
    );
    Ok(Heldout {
        pairs: logps.len(),
        chosen_logps: mean(&|i| logps[i][0] as f64),
        rejected_logps: mean(&|i| logps[i][1] as f64),
        chosen_reward: mean(&|i| beta * (logps[i][0] - reference.heldout[i][0]) as f64),
        rejected_reward: mean(&|i| beta * (logps[i][1] - reference.heldout[i][1]) as f64),
    })
}
