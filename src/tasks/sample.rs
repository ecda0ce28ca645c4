//! `sample`: the target model's greedy answer and the sampled outputs the builders ask for, on
//! every prompt, drawn once and replayed to all builders.

use serde_json::{Value, json};

use super::bundle;
use super::io::{read_json, write_json};
use crate::agents::model::ModelGenerator;
use crate::agents::replay::SampleSet;
use crate::data::agents::Decoding;
use crate::data::builders::{BuildOptions, BuilderKind, TARGET_SAMPLE_TAGS};
use crate::exec::TaskContext;
use crate::grid::Grid;
use crate::plan::{Task, TaskKind};

/// Prompts per generation batch.
pub const GENERATION_BATCH: usize = 64;

/// The decodings the builders ask the target for: greedy (for the winner-vs-model comparison)
/// and each sampled tag.
pub fn target_decodings(seed: u64, temperature: f32) -> Vec<Decoding> {
    let mut opts = BuildOptions::new(BuilderKind::Clair, seed);
    opts.temperature = temperature;
    std::iter::once(Decoding::Greedy).chain(TARGET_SAMPLE_TAGS.iter().map(|t| opts.sample(t))).collect()
}

pub fn run(grid: &Grid, task: &Task, ctx: &TaskContext) -> anyhow::Result<Value> {
    let prompts: Vec<String> = read_json(&ctx.parent(TaskKind::Prompts)?.join("prompts.json"))?;
    let base = bundle::base(ctx, &grid.model.spec)?;
    let s = &grid.agents.sampling;
    let mut generator = ModelGenerator {
        name: "target".into(),
        model: &base.model,
        tokenizer: base.tokenizer.as_ref(),
        format: base.format.as_ref(),
        max_new_tokens: s.max_new_tokens,
        top_p: s.top_p as f32,
        batch_size: GENERATION_BATCH,
    };
    let seed = task.params["seed"].as_u64().unwrap_or(0);
    ctx.progress.set(format!("sampling {} prompts", prompts.len()));
    let set = SampleSet::draw(&mut generator, prompts, &target_decodings(seed, s.temperature as f32))?;
    write_json(&ctx.out.join("samples.json"), &set)?;
    Ok(json!({ "prompts": set.prompts.len(), "decodings": set.responses.keys().collect::<Vec<_>>() }))
}
