//! `sample`: the target model's greedy answer and the sampled outputs the builders ask for, on
//! every prompt, drawn once and replayed to all builders. The target is the grid's `[model]`
//! run locally, or, with `[agents.target] kind = "api"`, a server serving it (vLLM is how one
//! samples 32K prompts from an 8B model); an API target is all or nothing here (the samples
//! are shared by every builder), but its replies are cached, so a rerun after a failure sends
//! only what failed.

use serde_json::{Value, json};

use super::agents::AgentFactory;
use super::bundle;
use crate::agents::model::{GENERATION_BATCH, ModelGenerator};
use crate::agents::replay::SampleSet;
use crate::artifacts::{API_STATS_FILE, JsonArtifact, Prompts, write_json};
use crate::data::agents::Decoding;
use crate::data::builders::{BuildOptions, BuilderKind, TARGET_SAMPLE_TAGS};
use crate::exec::TaskContext;
use crate::plan::TaskKind;
use crate::plan::inputs::SampleInput;

/// The decodings the builders ask the target for: greedy (for the winner-vs-model comparison)
/// and each sampled tag.
pub fn target_decodings(seed: u64, temperature: f32) -> Vec<Decoding> {
    let mut opts = BuildOptions::new(BuilderKind::Clair, seed);
    opts.temperature = temperature;
    std::iter::once(Decoding::Greedy).chain(TARGET_SAMPLE_TAGS.iter().map(|t| opts.sample(t))).collect()
}

pub fn run(input: &SampleInput, ctx: &TaskContext) -> anyhow::Result<Value> {
    let Prompts(prompts) = Prompts::read(&ctx.parent(TaskKind::Prompts)?)?;
    let decodings = target_decodings(input.seed, input.temperature as f32);
    ctx.progress.set(format!("sampling {} prompts", prompts.len()));
    let mut summary = json!({});
    let set = match &input.target {
        Some(target) => {
            let mut agents = AgentFactory::new(ctx, input.max_new_tokens, input.top_p);
            // `[agents.sampling]` says how the target is sampled, wherever it runs; greedy is
            // temperature 0, its most likely answer.
            let mut generator = agents.api("target", &target.0, Some(0.0))?;
            generator.name = "target".into();
            generator.max_tokens = input.max_new_tokens;
            generator.top_p = (input.top_p != 1.0).then_some(input.top_p);
            let set = SampleSet::draw(&mut generator, prompts, &decodings)?;
            if let Some(stats) = agents.summary() {
                write_json(&ctx.out.join(API_STATS_FILE), &stats)?;
                summary["api"] = stats;
                summary["notes"] = agents.summary_lines().into();
            }
            set
        }
        None => {
            let base = bundle::base(ctx, &input.model)?;
            let mut generator = ModelGenerator {
                name: "target".into(),
                model: &base.model,
                tokenizer: base.tokenizer.as_ref(),
                format: base.format.as_ref(),
                max_new_tokens: input.max_new_tokens,
                top_p: input.top_p as f32,
                batch_size: GENERATION_BATCH,
            };
            SampleSet::draw(&mut generator, prompts, &decodings)?
        }
    };
    set.write(&ctx.out)?;
    summary["prompts"] = json!(set.prompts.len());
    summary["decodings"] = json!(set.responses.keys().collect::<Vec<_>>());
    Ok(summary)
}
