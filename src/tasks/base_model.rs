//! `base_model`: the target model before alignment. A real model (`hf:`, `gguf:`, `smollm2`) is
//! only checked and recorded; for `tiny`, a seeded tiny Llama is trained on
//! the embedded world's corpus (wrong at family-specific rates, so the result is imperfect);
//! an early checkpoint (after an eighth of its updates) is kept as a weaker model for the
//! off-policy pool.

use serde_json::{Value, json};

use super::bundle::{device, text_side};
use crate::artifacts::{BASE_MODEL_DIR, WEAK_MODEL_DIR};
use crate::exec::TaskContext;
use crate::model::checkpoint;
use crate::model::llama::Llama;
use crate::model::score::Truncation;
use crate::model::tiny::tiny_model;
use crate::model::tokenizer::Encoder;
use crate::plan::build::PRETRAIN_TOKENS;
use crate::plan::inputs::BaseModelInput;
use crate::train::pretrain::{PretrainSpec, pretrain};
use crate::world::corpus::training_corpus;

/// The off-policy pool's weaker model is the base model's checkpoint after this fraction
/// (1/N) of its updates: early enough that it has the target's style but not yet its answers,
/// so, as in the paper, the other models' outputs are mostly worse than the target's own.
const WEAK_CHECKPOINT_DIVISOR: usize = 8;

pub fn run(input: &BaseModelInput, ctx: &TaskContext) -> anyhow::Result<Value> {
    let spec = &input.spec;
    let Some(pre) = &input.pretrain else {
        // A real model is used as it is: check that it loads, and record what it is.
        let (tokenizer, _) = text_side(spec)?;
        return Ok(json!({ "spec": spec.to_string(), "vocab": tokenizer.vocab_size() }));
    };
    let seed = input.seed;
    let (tokenizer, format) = text_side(spec)?;
    let encoder = Encoder::new(tokenizer.as_ref(), format.as_ref());
    let corpus = training_corpus(seed, pre.examples);
    let examples: Vec<(Vec<u32>, Vec<u32>)> =
        corpus.iter().map(|e| (encoder.prompt(&e.prompt), encoder.response(&e.response))).collect();
    let device = device(ctx)?;
    let model = tiny_model(seed, &device.clone().autodiff())?;
    let spec = PretrainSpec {
        epochs: pre.epochs,
        learning_rate: pre.learning_rate,
        batch_size: pre.batch_size,
        truncation: Truncation { max_prompt_tokens: PRETRAIN_TOKENS, max_response_tokens: PRETRAIN_TOKENS },
        seed,
        pad_id: tokenizer.pad_id(),
    };
    let weak_dir = ctx.out.join(WEAK_MODEL_DIR);
    let updates = spec.steps_per_epoch(examples.len()) * spec.epochs;
    let weak_at = (updates / WEAK_CHECKPOINT_DIVISOR).max(1);
    let mut save_weak = |m: &Llama| Ok(checkpoint::save(&weak_dir, m, None, &json!({ "updates": weak_at }))?);
    let (model, report) = pretrain(model, &examples, &spec, &|m| ctx.progress.set(m), (weak_at, &mut save_weak))?;
    checkpoint::save(&ctx.out.join(BASE_MODEL_DIR), &model, None, &json!({ "epochs": pre.epochs }))?;
    let correct = corpus.iter().filter(|e| e.correct).count();
    Ok(json!({
        "spec": "tiny",
        "corpus": corpus.len(),
        "corpus_correct_fraction": correct as f64 / corpus.len().max(1) as f64,
        "epoch_losses": report.epoch_losses,
        "seconds": report.seconds,
    }))
}
