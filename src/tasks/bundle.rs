//! The base model as tasks use it: weights on a device plus its tokenizer and chat format.

use std::path::Path;

use anyhow::{Context, bail};
use burn::tensor::Device;

use crate::exec::{DeviceName, TaskContext};
use crate::model::checkpoint;
use crate::model::llama::Llama;
use crate::model::spec::{LoadedModel, ModelSpec, load_model};
use crate::model::tiny::CharTokenizer;
use crate::model::tokenizer::{ChatFormat, Encoder, RawFormat, TextTokenizer};
use crate::plan::TaskKind;

/// The burn device of a slot.
pub fn device_for(name: &DeviceName) -> anyhow::Result<Device> {
    match name {
        DeviceName::Cpu => Ok(Device::flex()),
        #[cfg(feature = "cuda")]
        DeviceName::Cuda(i) => Ok(Device::cuda(*i)),
        #[cfg(not(feature = "cuda"))]
        DeviceName::Cuda(i) => bail!("device cuda:{i} needs a build with `--features cuda`"),
        DeviceName::Fake(n) => bail!("fake:{n} is a test device and cannot run models"),
    }
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
pub fn text_side(spec: &str) -> anyhow::Result<(Box<dyn TextTokenizer>, Box<dyn ChatFormat>)> {
    if spec == "tiny" {
        return Ok((Box::new(CharTokenizer), Box::new(RawFormat { add_bos: true })));
    }
    let loaded = load_spec(spec)?;
    Ok((Box::new(loaded.tokenizer), Box::new(loaded.format)))
}

fn load_spec(spec: &str) -> anyhow::Result<LoadedModel> {
    let parsed: ModelSpec = spec.parse()?;
    load_model(&parsed).with_context(|| format!("loading model `{spec}`"))
}

/// Loads a checkpoint folder of the base model's kind.
pub fn load(spec: &str, dir: &Path, device: &Device) -> anyhow::Result<Bundle> {
    let (tokenizer, format) = text_side(spec)?;
    let model =
        checkpoint::load(dir, device).with_context(|| format!("loading the model checkpoint {}", dir.display()))?.model;
    Ok(Bundle { model, tokenizer, format })
}

/// The base model of the task's plan: the `tiny` model from its `base_model` parent's
/// checkpoint, any other spec straight from its files.
pub fn base(ctx: &TaskContext, spec: &str) -> anyhow::Result<Bundle> {
    let device = device_for(&ctx.slot.device)?;
    if spec == "tiny" {
        let dir = ctx.parent(TaskKind::BaseModel)?;
        return load(spec, &dir.join("model"), &device);
    }
    from_spec(spec, &device)
}

/// Any non-`tiny` spec straight from its files (the base model, or a local reviser or judge).
pub fn from_spec(spec: &str, device: &Device) -> anyhow::Result<Bundle> {
    let loaded = load_spec(spec)?;
    let model = loaded.build(device)?;
    Ok(Bundle { model, tokenizer: Box::new(loaded.tokenizer), format: Box::new(loaded.format) })
}
