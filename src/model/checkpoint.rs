//! Checkpoints: a directory holding the model config, its weights and optionally the
//! optimizer state, written atomically (built under a temporary name, then renamed into
//! place) and read back bit for bit.
//!
//! Layout of `<dir>`:
//! - `config.json`: the [`LlamaConfig`] (Hugging Face names)
//! - `model.bpk`: the weights as a burn record (burnpack), which also keeps each parameter's
//!   id, so optimizer state (keyed by parameter id) still applies after loading
//! - `optimizer.bpk`: the optimizer's record, when saved
//! - `meta.json`: whatever the caller wants to keep with it (epoch, step, schedule state)

use std::fs;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::optim::{ModuleOptimizer, OptimizerRecord};
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device};

use super::config::LlamaConfig;
use super::error::ModelError;
use super::llama::Llama;

const CONFIG: &str = "config.json";
const MODEL: &str = "model.bpk";
const OPTIMIZER: &str = "optimizer.bpk";
const META: &str = "meta.json";

/// What [`load`] returns.
pub struct Loaded {
    pub model: Llama,
    /// Apply with `optimizer.load_record(record)` on an optimizer of the same kind.
    pub optimizer: Option<OptimizerRecord>,
    pub meta: serde_json::Value,
}

/// Writes `model` (and `optimizer`'s state, and `meta`) to `dir`, replacing any checkpoint
/// already there. Either the old or the new checkpoint is at `dir` at any moment.
pub fn save(
    dir: &Path,
    model: &Llama,
    optimizer: Option<&ModuleOptimizer>,
    meta: &serde_json::Value,
) -> Result<(), ModelError> {
    let err = |message: String| ModelError::Checkpoint { path: dir.to_path_buf(), message };
    let tmp = sibling(dir, "tmp");
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(|e| ModelError::io(&tmp, e))?;
    }
    fs::create_dir_all(&tmp).map_err(|e| ModelError::io(&tmp, e))?;
    let config = serde_json::to_vec_pretty(model.config()).map_err(|e| err(e.to_string()))?;
    write(&tmp.join(CONFIG), &config)?;
    let weights = model.clone().into_record().into_bytes().map_err(|e| err(format!("encoding weights: {e}")))?;
    write(&tmp.join(MODEL), &weights)?;
    if let Some(optimizer) = optimizer {
        let state = optimizer.into_bytes().map_err(|e| err(format!("encoding optimizer state: {e}")))?;
        write(&tmp.join(OPTIMIZER), &state)?;
    }
    write(&tmp.join(META), &serde_json::to_vec_pretty(meta).map_err(|e| err(e.to_string()))?)?;
    let old = sibling(dir, "old");
    if dir.exists() {
        if old.exists() {
            fs::remove_dir_all(&old).map_err(|e| ModelError::io(&old, e))?;
        }
        fs::rename(dir, &old).map_err(|e| ModelError::io(dir, e))?;
    }
    fs::rename(&tmp, dir).map_err(|e| ModelError::io(dir, e))?;
    if old.exists() {
        fs::remove_dir_all(&old).map_err(|e| ModelError::io(&old, e))?;
    }
    Ok(())
}

/// Reads a checkpoint written by [`save`] onto `device` (plain or autodiff).
pub fn load(dir: &Path, device: &Device) -> Result<Loaded, ModelError> {
    let err = |file: &str, message: String| ModelError::Checkpoint { path: dir.join(file), message };
    let config: LlamaConfig =
        serde_json::from_slice(&read(&dir.join(CONFIG))?).map_err(|e| err(CONFIG, e.to_string()))?;
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(read(&dir.join(MODEL))?))
        .map_err(|e| err(MODEL, e.to_string()))?;
    let model = Llama::zeros(&config, device)?
        .try_load_record(record)
        .map_err(|e| err(MODEL, format!("does not match {CONFIG}: {e}")))?;
    let optimizer_path = dir.join(OPTIMIZER);
    let optimizer = if optimizer_path.exists() {
        let bytes = Bytes::from_bytes_vec(read(&optimizer_path)?);
        Some(OptimizerRecord::from_bytes(bytes).map_err(|e| err(OPTIMIZER, e.to_string()))?)
    } else {
        None
    };
    let meta_path = dir.join(META);
    let meta = if meta_path.exists() {
        serde_json::from_slice(&read(&meta_path)?).map_err(|e| err(META, e.to_string()))?
    } else {
        serde_json::Value::Null
    };
    Ok(Loaded { model, optimizer, meta })
}

/// `<dir>.<tag>-<pid>` next to `dir`.
fn sibling(dir: &Path, tag: &str) -> PathBuf {
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "checkpoint".into());
    dir.with_file_name(format!(".{name}.{tag}-{}", std::process::id()))
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), ModelError> {
    fs::write(path, bytes).map_err(|e| ModelError::io(path, e))
}

fn read(path: &Path) -> Result<Vec<u8>, ModelError> {
    fs::read(path).map_err(|e| ModelError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::score::{ScoreBatch, Truncation, sequence_logps};
    use crate::model::test_util::small_config;
    use burn::optim::{GradientsParams, RmsPropConfig};

    fn train_step(m: Llama, optim: &mut ModuleOptimizer) -> Llama {
        let batch = ScoreBatch::from_ids(&[(vec![1u32, 2], vec![3u32, 4, 5])], Truncation::default(), 0).unwrap();
        let loss = sequence_logps(&m, &batch).sum.neg().mean();
        let grads = GradientsParams::from_grads(loss.backward(), &m);
        optim.step(1e-3, m, grads)
    }

    #[test]
    fn weights_and_optimizer_state_round_trip_bit_exactly() {
        let device = Device::flex().autodiff();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("epoch-1");
        let rms = RmsPropConfig::new().with_alpha(0.99).with_epsilon(1e-8).with_momentum(0.0);
        let mut optim = rms.init();
        let mut m = Llama::init_seeded(&small_config(false), 1, &device).unwrap();
        for _ in 0..2 {
            m = train_step(m, &mut optim);
        }
        save(&path, &m, Some(&optim), &serde_json::json!({"epoch": 1})).unwrap();
        // Saving again replaces the checkpoint in place.
        save(&path, &m, Some(&optim), &serde_json::json!({"epoch": 1})).unwrap();
        let loaded = load(&path, &device).unwrap();
        assert_eq!(loaded.meta["epoch"], 1);
        assert_eq!(loaded.model.config(), m.config());
        assert_eq!(loaded.model.to_tensors(), m.to_tensors());

        // Resuming: one more step from the loaded state equals one more step of the original.
        let mut resumed_optim = rms.init().load_record(loaded.optimizer.unwrap());
        let resumed = train_step(loaded.model, &mut resumed_optim);
        let continued = train_step(m, &mut optim);
        assert_eq!(resumed.to_tensors(), continued.to_tensors());
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(leftovers, vec![std::ffi::OsString::from("epoch-1")]);
    }

    /// A rerun must write the same weight bytes: the store's digests are how anyone checks that
    /// two runs agree. Parameter ids used to be random, so equal weights gave different files.
    /// (`optimizer.bpk` lists its tensors in the order of burn's hash map; it only lives in a
    /// run's resume state, never in a finished artifact, and loads the same either way.)
    #[test]
    fn equal_models_trained_alike_write_identical_bytes() {
        let device = Device::flex().autodiff();
        let dir = tempfile::tempdir().unwrap();
        let rms = RmsPropConfig::new().with_alpha(0.99).with_epsilon(1e-8).with_momentum(0.0);
        let files: Vec<Vec<u8>> = ["a", "b"]
            .iter()
            .map(|name| {
                let mut optim = rms.init();
                let m = train_step(Llama::init_seeded(&small_config(false), 1, &device).unwrap(), &mut optim);
                let path = dir.path().join(name);
                save(&path, &m, None, &serde_json::json!({})).unwrap();
                std::fs::read(path.join(MODEL)).unwrap()
            })
            .collect();
        assert!(files[0] == files[1], "model.bpk differs between two identical runs");
    }

    #[test]
    fn a_missing_checkpoint_names_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let e = load(&dir.path().join("nope"), &Device::flex()).err().unwrap();
        assert!(e.to_string().contains("nope"), "{e}");
    }
}
