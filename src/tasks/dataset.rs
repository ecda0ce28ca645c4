//! `dataset`: one preference dataset from the builders of `crate::data`, with the target's
//! samples replayed from the `sample` task, and the reviser, judge, stronger model and
//! off-policy pool the grid's `[agents]` name (embedded oracle, local model or API; see
//! `super::agents`). Writes `train.jsonl`, `heldout.jsonl` and `manifest.json` (filter counts,
//! contrastiveness, winner-vs-model fraction), and, when an API or prompted agent ran,
//! `api-stats.json` (requests, cache hits, retries, failures and rejections by reason, tokens,
//! wall time).
//!
//! Failed requests: an item whose request failed for good (after retries) is dropped and
//! counted. When more than half of the items that reached an agent failed that way, the task
//! fails instead (an unreachable API, a wrong key or model name must not yield a small,
//! silently biased dataset); the replies that did arrive are cached, so a rerun sends only the
//! requests that failed.

use anyhow::{Context, bail};
use serde_json::Value;

use std::sync::Arc;

use super::agents::{AgentFactory, local_generator};
use super::bundle::{self, device_for};
use super::io::{label, read_json, write_json};
use super::prompts::COMPLETIONS;
use crate::agents::file;
use crate::agents::replay::{Replay, SampleSet};
use crate::data::agents::Generator;
use crate::data::builders::{self, BuildOptions, BuilderKind, Built};
use crate::data::dataset::{Dataset, write_dir};
use crate::data::filters::{FilterConfig, FilterCounts};
use crate::data::triple::read_jsonl;
use crate::data::winner_vs_model::winner_vs_model;
use crate::exec::TaskContext;
use crate::grid::schema::{AgentSpec, Builder};
use crate::grid::{self, Grid};
use crate::plan::{Task, TaskKind};
use crate::world::policies::RulePolicy;

/// Winner-vs-model comparisons per dataset (SPEC.md section 5 asks for a sample).
pub const COMPARISONS: usize = 200;

pub fn run(grid: &Grid, task: &Task, ctx: &TaskContext) -> anyhow::Result<Value> {
    let name = label(task, "dataset")?;
    let entry =
        grid.datasets.iter().find(|d| d.name == name).with_context(|| format!("no dataset `{name}` in the grid"))?;
    let seed = task.params["common"]["seed"].as_u64().unwrap_or(0);
    let heldout = grid.eval.heldout_pairs;
    let mut api = None;
    let dataset = match entry.builder {
        Builder::File => {
            let path = entry.path.as_deref().context("builder `file` needs a path")?;
            let triples = read_jsonl(path)?;
            let counts = FilterCounts { considered: triples.len(), kept: triples.len(), ..FilterCounts::default() };
            Dataset::from_triples("file", triples, counts, heldout, seed)
        }
        builder => {
            let (dataset, stats) = build(grid, entry, builder, seed, ctx)?;
            api = stats;
            dataset
        }
    };
    write_dir(&ctx.out, &dataset)?;
    let mut summary = serde_json::to_value(&dataset.manifest)?;
    if let Some((stats, lines)) = api {
        write_json(&ctx.out.join("api-stats.json"), &stats)?;
        summary["api"] = stats;
        summary["notes"] = lines.into();
    }
    Ok(summary)
}

fn build(
    grid: &Grid,
    entry: &grid::Dataset,
    builder: Builder,
    seed: u64,
    ctx: &TaskContext,
) -> anyhow::Result<(Dataset, Option<(Value, Vec<String>)>)> {
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
    let mut agents = AgentFactory::new(grid, ctx);
    let mut judge = agents.judge(seed)?;
    ctx.progress.set(format!("building {} from {} prompts", kind.as_str(), prompts.len()));
    let built = match kind {
        BuilderKind::Clair => builders::clair(&prompts, &mut target, agents.reviser()?.as_mut(), &opts)?,
        BuilderKind::JudgeOnPolicy => builders::judge_on_policy(&prompts, &mut target, judge.as_mut(), &opts)?,
        BuilderKind::StrongerPreferred => {
            let mut stronger = agents.generator("stronger", &grid.agents.stronger)?;
            builders::stronger_preferred(&prompts, &mut target, stronger.as_mut(), &opts)?
        }
        BuilderKind::JudgeOffPolicy => off_policy(grid, ctx, &prompts, &mut agents, judge.as_mut(), &opts)?,
    };
    check_failures(&built, &agents)?;
    let mut dataset = Dataset::from_built(built, grid.eval.heldout_pairs, seed);
    let comparison = winner_vs_model(&dataset.train, &mut target, judge.as_mut(), seed, Some(COMPARISONS))?;
    dataset.manifest.winner_vs_model = Some(comparison);
    Ok((dataset, agents.summary().map(|s| (s, agents.summary_lines()))))
}

/// The off-policy judge's pool: the grid's `off_policy` agent, or for the oracle the base
/// model's own earlier checkpoint (where it was trained here) and a noisy rule generator.
fn off_policy(
    grid: &Grid,
    ctx: &TaskContext,
    prompts: &[String],
    agents: &mut AgentFactory,
    judge: &mut dyn crate::data::agents::Judge,
    opts: &BuildOptions,
) -> anyhow::Result<Built> {
    if let AgentSpec::File { .. } = grid.agents.off_policy {
        let path = ctx.parent(TaskKind::Prompts)?.join(COMPLETIONS);
        let completions: Vec<Vec<String>> = read_json(&path)?;
        let mut members =
            file::pool(prompts, Arc::new(completions)).map_err(|m| anyhow::anyhow!("{}: {m}", path.display()))?;
        let mut pool: Vec<&mut dyn Generator> = members.iter_mut().map(|m| m as &mut dyn Generator).collect();
        return Ok(builders::judge_off_policy(prompts, &mut pool, judge, opts)?);
    }
    if grid.agents.off_policy != AgentSpec::Oracle {
        // One other model: the builder draws two seeded samples of it per prompt.
        let mut other = agents.generator("off_policy", &grid.agents.off_policy)?;
        let mut pool: Vec<&mut dyn Generator> = vec![other.as_mut()];
        return Ok(builders::judge_off_policy(prompts, &mut pool, judge, opts)?);
    }
    // Other models than the target: the base model's own earlier, weaker checkpoint (after an
    // eighth of its pretraining) and a noisy rule-based generator. Without a local base
    // model (a target served by an API), a rule-based stand-in for the earlier checkpoint.
    let weak_dir = ctx.parent(TaskKind::BaseModel).ok().map(|d| d.join("weak")).filter(|d| d.exists());
    let mut noisy = RulePolicy::noisy_rules();
    let Some(weak_dir) = weak_dir else {
        let mut weak = RulePolicy::weak_checkpoint();
        let mut pool: Vec<&mut dyn Generator> = vec![&mut weak, &mut noisy];
        return Ok(builders::judge_off_policy(prompts, &mut pool, judge, opts)?);
    };
    let weak = bundle::load(&grid.model.spec, &weak_dir, &device_for(&ctx.slot.device)?)?;
    let mut weak = local_generator("world-earlier-checkpoint", weak, grid);
    let mut pool: Vec<&mut dyn Generator> = vec![&mut weak, &mut noisy];
    Ok(builders::judge_off_policy(prompts, &mut pool, judge, opts)?)
}

/// Fails the task when more than half of the items that reached an agent failed for good.
fn check_failures(built: &Built, agents: &AgentFactory) -> anyhow::Result<()> {
    let failed = built.failed_items();
    let reached = failed + built.counts.considered;
    if failed > 0 && failed * 2 > reached {
        let reasons: Vec<String> = built.failed.iter().map(|(r, n)| format!("{r}: {n}")).collect();
        bail!(
            "{failed} of {reached} items failed for good ({}); the API looks unreachable or misconfigured. {} \
             Replies that arrived are cached; a rerun sends only the failed requests.",
            reasons.join(", "),
            agents.summary_lines().join("; ")
        );
    }
    Ok(())
}
