//! `apogrid export GRID RUN EPOCH --out DIR`: one checkpoint of a grid's training run as a
//! Hugging Face folder (`config.json`, `model.safetensors`, tokenizer files) that
//! transformers' `AutoModelForCausalLM.from_pretrained` loads, for external evaluators
//! (MixEval, vLLM, lm-eval).

use std::path::PathBuf;

use anyhow::{Context, bail};
use burn::tensor::Device;

use apogrid::artifacts::{BASE_MODEL_DIR, epoch_dir};
use apogrid::model::checkpoint;
use apogrid::model::spec::{ModelSpec, export_hf, load_model};

/// Export a training run's checkpoint as a Hugging Face model folder.
#[derive(clap::Args)]
pub struct Args {
    /// The grid file.
    grid: PathBuf,
    /// The run, as in `apogrid plan`: `DATASET/OBJECTIVE` (plus `/sSEED` with several seeds).
    run: String,
    /// The epoch (1..E); 0 exports the base model.
    epoch: usize,
    /// The folder to write (replaced atomically if it exists).
    #[arg(long)]
    out: PathBuf,
    /// Artifact store (default: the grid's, `results/.cache`).
    #[arg(long)]
    store: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let loaded = super::common::load(&args.grid, args.store.as_ref())?;
    let spec = &loaded.grid.model.spec;
    let device = Device::flex();
    let model = if args.epoch == 0 {
        let base = loaded.plan.index_of("base_model").context("the plan has no base model")?;
        let key = &loaded.plan.tasks[base].key;
        if let ModelSpec::Tiny(_) = spec {
            anyhow::ensure!(loaded.store.is_done(key), "the base model has not been trained yet: run the grid first");
            checkpoint::load(&loaded.store.artifact_dir(key).join(BASE_MODEL_DIR), &device)?.model
        } else {
            load_model(spec)?.build(&device)?
        }
    } else {
        let id = format!("train/{}", args.run);
        let Some(i) = loaded.plan.index_of(&id) else {
            bail!("the grid has no run `{}`; `apogrid plan {}` lists them", args.run, args.grid.display());
        };
        let key = &loaded.plan.tasks[i].key;
        anyhow::ensure!(loaded.store.is_done(key), "run `{}` has not finished yet", args.run);
        let dir = epoch_dir(&loaded.store.artifact_dir(key), args.epoch);
        anyhow::ensure!(
            dir.exists(),
            "run `{}` has no checkpoint for epoch {} (pruned, or beyond its epochs)",
            args.run,
            args.epoch
        );
        checkpoint::load(&dir, &device)?.model
    };
    if !export_hf(&model, spec, &args.out)? {
        eprintln!(
            "note: the tiny model's character tokenizer has no tokenizer.json form; only weights and config are written"
        );
    }
    println!("wrote {}", args.out.display());
    Ok(())
}
