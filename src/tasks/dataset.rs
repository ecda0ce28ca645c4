//! `dataset`: one preference dataset from the builders of `crate::data`, with the target's
//! samples replayed from the `sample` task, the world's oracle as reviser/judge/stronger model,
//! and a pool of weaker models for the off-policy judge. Writes `train.jsonl`, `heldout.jsonl`
//! and `manifest.json` (filter counts, contrastiveness, winner-vs-model fraction).

use anyhow::{Context, bail};
use serde_json::Value;

use super::bundle::{self, device_for};
use super::io::{label, read_json};
use super::sample::GENERATION_BATCH;
use crate::agents::model::ModelGenerator;
use crate::agents::replay::{Replay, SampleSet};
use crate::data::agents::Generator;
use crate::data::builders::{self, BuildOptions, BuilderKind};
use crate::data::dataset::{Dataset, write_dir};
use crate::data::filters::{FilterConfig, FilterCounts};
use crate::data::triple::read_jsonl;
use crate::data::winner_vs_model::winner_vs_model;
use crate::exec::TaskContext;
use crate::grid::schema::{AgentSpec, Builder};
use crate::grid::{self, Grid};
use crate::plan::{Task, TaskKind};
use crate::world::oracle::{OracleJudge, OracleReviser};
use crate::world::policies::{RulePolicy, StrongerModel};

/// Winner-vs-model comparisons per dataset (SPEC.md section 5 asks for a sample).
const COMPARISONS: usize = 200;

pub fn run(grid: &Grid, task: &Task, ctx: &TaskContext) -> anyhow::Result<Value> {
    let name = label(task, "dataset")?;
    let entry = grid.datasets.iter().find(|d| d.name == name).with_context(|| format!("no dataset `{name}` in the grid"))?;
    let seed = task.params["common"]["seed"].as_u64().unwrap_or(0);
    let heldout = grid.eval.heldout_pairs;
    let dataset = match entry.builder {
        Builder::File => {
            let path = entry.path.as_deref().context("builder `file` needs a path")?;
            let triples = read_jsonl(path)?;
            let counts = FilterCounts { considered: triples.len(), kept: triples.len(), ..FilterCounts::default() };
            Dataset::from_triples("file", triples, counts, heldout, seed)
        }
        builder => build(grid, entry, builder, seed, ctx)?,
    };
    write_dir(&ctx.out, &dataset)?;
    Ok(serde_json::to_value(&dataset.manifest)?)
}

fn build(grid: &Grid, entry: &grid::Dataset, builder: Builder, seed: u64, ctx: &TaskContext) -> anyhow::Result<Dataset> {
    for (role, agent) in [("reviser", &grid.agents.reviser), ("judge", &grid.agents.judge), ("stronger", &grid.agents.stronger), ("off_policy", &grid.agents.off_policy)] {
        if *agent != AgentSpec::Oracle {
            bail!("agents.{role}: only the embedded oracle is built in this version (API and local-model agents come with issue 7)");
        }
    }
    let prompts: Vec<String> = read_json(&ctx.parent(TaskKind::Prompts)?.join("prompts.json"))?;
    let samples: SampleSet = read_json(&ctx.parent(TaskKind::Sample)?.join("samples.json"))?;
    let mut target = Replay::new(&samples);
    let kind = match builder {
        Builder::Clair => BuilderKind::Clair,
        Builder::JudgeOnPolicy => BuilderKind::JudgeOnPolicy,
        Builder::JudgeOffPolicy => BuilderKind::JudgeOffPolicy,
        Builder::StrongerPreferred => BuilderKind::StrongerPreferred,
        Builder::File => unreachable!("imported above"),
    };
    let mut opts = BuildOptions::new(kind, seed);
    opts.temperature = grid.agents.sampling.temperature as f32;
    if kind == BuilderKind::Clair {
        opts.filters = FilterConfig { length_ratio: Some((entry.min_length_ratio, entry.max_length_ratio)) };
    }
    let mut judge = OracleJudge { seed };
    ctx.progress.set(format!("building {} from {} prompts", kind.as_str(), prompts.len()));
    let built = match kind {
        BuilderKind::Clair => builders::clair(&prompts, &mut target, &mut OracleReviser, &opts)?,
        BuilderKind::JudgeOnPolicy => builders::judge_on_policy(&prompts, &mut target, &mut judge, &opts)?,
        BuilderKind::StrongerPreferred => builders::stronger_preferred(&prompts, &mut target, &mut StrongerModel, &opts)?,
        BuilderKind::JudgeOffPolicy => {
            // Other models than the target: the base model's own earlier, weaker checkpoint
            // (the tiny model's first pretraining epoch) and a noisy rule-based generator.
            let weak_dir = ctx.parent(TaskKind::BaseModel)?.join("weak");
            let mut noisy = RulePolicy::noisy_rules();
            if weak_dir.exists() {
                let weak = bundle::load(&grid.model.spec, &weak_dir, &device_for(&ctx.slot.device)?)?;
                let s = &grid.agents.sampling;
                let mut weak = ModelGenerator {
                    name: "world-earlier-checkpoint".into(),
                    model: &weak.model,
                    tokenizer: weak.tokenizer.as_ref(),
                    format: weak.format.as_ref(),
                    max_new_tokens: s.max_new_tokens,
                    top_p: s.top_p as f32,
                    batch_size: GENERATION_BATCH,
                };
                let mut pool: Vec<&mut dyn Generator> = vec![&mut weak, &mut noisy];
                builders::judge_off_policy(&prompts, &mut pool, &mut judge, &opts)?
            } else {
                let mut weak = RulePolicy::weak_checkpoint();
                let mut pool: Vec<&mut dyn Generator> = vec![&mut weak, &mut noisy];
                builders::judge_off_policy(&prompts, &mut pool, &mut judge, &opts)?
            }
        }
    };
    let mut dataset = Dataset::from_built(built, grid.eval.heldout_pairs, seed);
    let comparison = winner_vs_model(&dataset.train, &mut target, &mut judge, seed, Some(COMPARISONS))?;
    dataset.manifest.winner_vs_model = Some(comparison);
    Ok(dataset)
}
