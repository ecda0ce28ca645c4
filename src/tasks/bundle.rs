//! The base model as tasks use it: weights on a device plus its tokenizer and chat format.

use std::path::Path;

use anyhow::Context;
use burn::tensor::Device;

use crate::artifacts::BASE_MODEL_DIR;
use crate::exec::TaskContext;
use crate::model::checkpoint;
use crate::model::llama::Llama;
use crate::model::spec::{LoadedModel, ModelSpec, load_model};
use crate::model::tiny::CharTokenizer;
use crate::model::tokenizer::{ChatFormat, Encoder, RawFormat, TextTokenizer};
use crate::plan::TaskKind;

/// The burn device of the task's slot.
pub fn device(ctx: &TaskContext) -> anyhow::Result<Device> {
    Ok(ctx.slot.device.burn()?)
}

pub struct Bundle {
    pub model: Llama,
    pub tokenizer: Box<dyn TextTokenizer>,
    pub format: Box<dyn ChatFormat>,
}

impl Bundle {
    pub fn encoder(&self) -> Encoder<'_> {
        Encoder::new(self.tokenizer.as_ref(), self.format.as_ref())
    }
}

/// The tokenizer and chat format of a model spec. The embedded `tiny` model needs no files;
/// the others are read by the loaders (`crate::model::spec`).
pub fn text_side(spec: &ModelSpec) -> anyhow::Result<(Box<dyn TextTokenizer>, Box<dyn ChatFormat>)> {
    if let ModelSpec::Tiny(_) = spec {
        return Ok((Box::new(CharTokenizer), Box::new(RawFormat { add_bos: true })));
    }
    let loaded = load_spec(spec)?;
    Ok((Box::new(loaded.tokenizer), Box::new(loaded.format)))
}

fn load_spec(spec: &ModelSpec) -> anyhow::Result<LoadedModel> {
    load_model(spec).with_context(|| format!("loading model `{spec}`"))
}

/// Loads a checkpoint folder of the base model's kind.
pub fn load(spec: &ModelSpec, dir: &Path, device: &Device) -> anyhow::Result<Bundle> {
    let (tokenizer, format) = text_side(spec)?;
    let model =
        checkpoint::load(dir, device).with_context(|| format!("loading the model checkpoint {}", dir.display()))?.model;
    Ok(Bundle { model, tokenizer, format })
}

/// The base model of the task's plan: the `tiny` model from its `base_model` parent's
/// checkpoint, any other spec straight from its files.
pub fn base(ctx: &TaskContext, spec: &ModelSpec) -> anyhow::Result<Bundle> {
    let device = device(ctx)?;
    if let ModelSpec::Tiny(_) = spec {
        let dir = ctx.parent(TaskKind::BaseModel)?;
        return load(spec, &dir.join(BASE_MODEL_DIR), &device);
    }
    from_spec(spec, &device)
}

/// Any non-`tiny` spec straight from its files (the base model, or a local reviser or judge).
pub fn from_spec(spec: &ModelSpec, device: &Device) -> anyhow::Result<Bundle> {
    let loaded = load_spec(spec)?;
    let model = loaded.build(device)?;
    Ok(Bundle { model, tokenizer: Box::new(loaded.tokenizer), format: Box::new(loaded.format) })
}
