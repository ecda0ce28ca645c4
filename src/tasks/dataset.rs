//! `dataset`: one preference dataset from the builders of `crate::data`, with the target's
//! samples replayed from the `sample` task, and the reviser, judge, stronger model and
//! off-policy pool its input names (embedded oracle, local model or API; see
//! `super::agents`). Writes the dataset folder (train and held-out triples, manifest with
//! filter counts, contrastiveness and the winner-vs-model fraction), and, when an API or
//! prompted agent ran, its costs and rejections.
//!
//! Failed requests: an item whose request failed for good (after retries) is dropped and
//! counted. When more than half of the items that reached an agent failed that way, the task
//! fails instead (an unreachable API, a wrong key or model name must not yield a small,
//! silently biased dataset); the replies that did arrive are cached, so a rerun sends only the
//! requests that failed.

use std::sync::Arc;

use anyhow::bail;
use serde_json::Value;

use super::agents::{AgentFactory, local_generator};
use super::bundle;
use crate::agents::file;
use crate::agents::replay::{Replay, SampleSet};
use crate::artifacts::{
    API_STATS_FILE, CompletionRatings, Completions, JsonArtifact, Prompts, WEAK_MODEL_DIR, write_json,
};
use crate::data::agents::{Generator, Judge};
use crate::data::builders::{self, BuildOptions, BuilderKind, Built};
use crate::data::dataset::{Dataset, write_dir};
use crate::data::filters::{FilterConfig, FilterCounts};
use crate::data::ratings::{self, Rated, RatingSource};
use crate::data::triple::read_jsonl;
use crate::data::winner_vs_model::{compare_winners, summarize, winner_vs_model};
use crate::exec::TaskContext;
use crate::grid::schema::AgentSpec;
use crate::plan::TaskKind;
use crate::plan::inputs::{BuiltDatasetInput, DatasetInput};
use crate::world::policies::RulePolicy;

/// Winner-vs-model comparisons per dataset (SPEC.md section 5 asks for a sample); every
/// training pair when the grid trains `apo_auto` on the dataset.
pub const COMPARISONS: usize = 200;

pub fn run(input: &DatasetInput, ctx: &TaskContext) -> anyhow::Result<Value> {
    let split = input.split();
    let mut api = None;
    let dataset = match input {
        DatasetInput::File(f) => {
            let triples = read_jsonl(std::path::Path::new(&f.path))?;
            let counts = FilterCounts { considered: triples.len(), kept: triples.len(), ..FilterCounts::default() };
            Dataset::from_triples("file", triples, counts, split.heldout, split.seed)
        }
        DatasetInput::Built(b) => {
            let (dataset, stats) = build(b, ctx)?;
            api = stats;
            dataset
        }
    };
    if dataset.train.len() < split.min_pairs {
        let m = &dataset.manifest;
        let api = api.as_ref().map(|(stats, _)| format!("; agents: {stats}")).unwrap_or_default();
        bail!(
            "the dataset kept {} training pairs, fewer than its minimum of {} (`min_pairs`): of {} items, \
             {} dropped for their format, {} empty, {} identical, {} for their length ratio, {} held out{api}",
            dataset.train.len(),
            split.min_pairs,
            m.filters.considered,
            m.filters.format,
            m.filters.empty,
            m.filters.identical,
            m.filters.length_ratio,
            m.heldout
        );
    }
    write_dir(&ctx.out, &dataset)?;
    let mut summary = serde_json::to_value(&dataset.manifest)?;
    if let Some((stats, lines)) = api {
        write_json(&ctx.out.join(API_STATS_FILE), &stats)?;
        summary["api"] = stats;
        summary["notes"] = lines.into();
    }
    Ok(summary)
}

/// API costs per role as JSON, and one line per role for the run's log.
type ApiSummary = Option<(Value, Vec<String>)>;

fn build(input: &BuiltDatasetInput, ctx: &TaskContext) -> anyhow::Result<(Dataset, ApiSummary)> {
    let Prompts(prompts) = Prompts::read(&ctx.parent(TaskKind::Prompts)?)?;
    let samples = SampleSet::read(&ctx.parent(TaskKind::Sample)?)?;
    let mut target = Replay::new(&samples);
    let kind = input.builder;
    let split = &input.common;
    let mut opts = BuildOptions::new(kind, split.seed);
    opts.temperature = input.sampling.temperature as f32;
    if kind == BuilderKind::Clair {
        let ratio = split.min_length_ratio.zip(split.max_length_ratio);
        opts.filters = FilterConfig { length_ratio: ratio };
    }
    let mut agents = AgentFactory::new(ctx, input.sampling.max_new_tokens, input.sampling.top_p);
    let mut judge = agents.judge(&input.comparison_judge, split.seed)?;
    ctx.progress.set(format!("building {} from {} prompts", kind.as_str(), prompts.len()));
    let a = &input.agents;
    let missing = |role: &str| anyhow::anyhow!("the `{}` builder's input names no {role}", kind.as_str());
    let built = match kind {
        BuilderKind::Clair => {
            let mut reviser = agents.reviser(a.reviser.as_ref().ok_or_else(|| missing("reviser"))?)?;
            builders::clair(&prompts, &mut target, reviser.as_mut(), &opts)?
        }
        BuilderKind::JudgeOnPolicy => builders::judge_on_policy(&prompts, &mut target, judge.as_mut(), &opts)?,
        BuilderKind::StrongerPreferred => {
            let stronger = a.stronger.as_ref().ok_or_else(|| missing("stronger model"))?;
            let mut stronger = agents.generator("stronger", &stronger.spec)?;
            builders::stronger_preferred(&prompts, &mut target, stronger.as_mut(), &opts)?
        }
        BuilderKind::JudgeOffPolicy => {
            let pool = a.off_policy.as_ref().ok_or_else(|| missing("off-policy pool"))?;
            off_policy(input, &pool.spec, ctx, &prompts, &mut agents, judge.as_mut(), &opts)?
        }
        BuilderKind::OffPolicyRatings => {
            let rating = input.rating.ok_or_else(|| missing("rating"))?;
            from_ratings(ctx, &prompts, rating, &opts)?
        }
    };
    check_failures(&built, &agents)?;
    let mut dataset = Dataset::from_built(built, split.heldout, split.seed);
    let comparison = if input.compare_all {
        let per = compare_winners(&dataset.train, &mut target, judge.as_mut(), split.seed, None)?;
        for (triple, c) in dataset.train.iter_mut().zip(&per) {
            triple.metadata.winner_vs_model = Some(*c);
        }
        summarize(&per)
    } else {
        winner_vs_model(&dataset.train, &mut target, judge.as_mut(), split.seed, Some(COMPARISONS))?
    };
    dataset.manifest.winner_vs_model = Some(comparison);
    Ok((dataset, agents.summary().map(|s| (s, agents.summary_lines()))))
}

/// The off-policy judge's pool: the grid's `off_policy` agent, or for the oracle the base
/// model's own earlier checkpoint (where it was trained here) and a noisy rule generator.
fn off_policy(
    input: &BuiltDatasetInput,
    pool_spec: &AgentSpec,
    ctx: &TaskContext,
    prompts: &[String],
    agents: &mut AgentFactory,
    judge: &mut dyn Judge,
    opts: &BuildOptions,
) -> anyhow::Result<Built> {
    if let AgentSpec::File { .. } = pool_spec {
        let dir = ctx.parent(TaskKind::Prompts)?;
        let Completions(completions) = Completions::read(&dir)?;
        let mut members = file::pool(prompts, Arc::new(completions))
            .map_err(|m| anyhow::anyhow!("{}: {m}", dir.join(Completions::FILE).display()))?;
        let mut pool: Vec<&mut dyn Generator> = members.iter_mut().map(|m| m as &mut dyn Generator).collect();
        return Ok(builders::judge_off_policy(prompts, &mut pool, judge, opts)?);
    }
    if *pool_spec != AgentSpec::Oracle {
        // One other model: the builder draws two seeded samples of it per prompt.
        let mut other = agents.generator("off_policy", pool_spec)?;
        let mut pool: Vec<&mut dyn Generator> = vec![other.as_mut()];
        return Ok(builders::judge_off_policy(prompts, &mut pool, judge, opts)?);
    }
    // Other models than the target: the base model's own earlier, weaker checkpoint (after an
    // eighth of its pretraining) and a noisy rule-based generator. Without a local base
    // model (a target served by an API), a rule-based stand-in for the earlier checkpoint.
    let weak_dir = ctx.parent(TaskKind::BaseModel).ok().map(|d| d.join(WEAK_MODEL_DIR)).filter(|d| d.exists());
    let mut noisy = RulePolicy::noisy_rules();
    let Some(weak_dir) = weak_dir else {
        let mut weak = RulePolicy::weak_checkpoint();
        let mut pool: Vec<&mut dyn Generator> = vec![&mut weak, &mut noisy];
        return Ok(builders::judge_off_policy(prompts, &mut pool, judge, opts)?);
    };
    let weak = bundle::load(&input.model, &weak_dir, &bundle::device(ctx)?)?;
    let s = &input.sampling;
    let mut weak = local_generator("world-earlier-checkpoint", weak, s.max_new_tokens, s.top_p);
    let mut pool: Vec<&mut dyn Generator> = vec![&mut weak, &mut noisy];
    Ok(builders::judge_off_policy(prompts, &mut pool, judge, opts)?)
}

/// The off-policy dataset from the ratings stored with the prompts' completions
/// (UltraFeedback's binarization, `crate::data::ratings`).
fn from_ratings(
    ctx: &TaskContext,
    prompts: &[String],
    rating: RatingSource,
    opts: &BuildOptions,
) -> anyhow::Result<Built> {
    let dir = ctx.parent(TaskKind::Prompts)?;
    let Completions(completions) = Completions::read(&dir)?;
    let CompletionRatings(ratings) = CompletionRatings::read(&dir)?;
    if completions.len() != prompts.len() || ratings.len() != prompts.len() {
        bail!(
            "{}: {} completion lists and {} rating lists for {} prompts",
            dir.display(),
            completions.len(),
            ratings.len(),
            prompts.len()
        );
    }
    let items: Vec<Rated> = prompts
        .iter()
        .zip(&completions)
        .zip(&ratings)
        .map(|((prompt, completions), ratings)| Rated { prompt, completions, ratings })
        .collect();
    Ok(ratings::binarize(&items, rating, opts))
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
