//! Device memory of a plan's training tasks, estimated before anything runs
//! (`train::memory`), and the check that refuses a device that cannot hold them.
//!
//! The model's shape comes from its spec without loading weights: the tiny model's and
//! SmolLM2's configs are known, an `hf:DIR` spec reads `DIR/config.json`, and when that folder
//! is not on this machine (planning the paper's grid before fetching 16 GB of weights) a folder
//! named after a known model (`Meta-Llama-3-8B-Instruct`) uses that model's published config,
//! and says so.

use std::fmt;
use std::path::Path;

use super::inputs::TaskInput;
use super::{Plan, Task};
use crate::device::DeviceName;
use crate::grid::Grid;
use crate::model::config::LlamaConfig;
use crate::model::known::KnownModel;
use crate::model::spec::ModelSpec;
use crate::model::tiny::tiny_config;
use crate::train::memory::{MemoryEstimate, RunShape, human};

/// The model's config and where it came from (shown with the estimates).
pub struct ModelShape {
    pub config: LlamaConfig,
    pub source: String,
}

/// One device and what it can hold.
pub struct DeviceMemory {
    pub device: DeviceName,
    /// Bytes, or why unknown.
    pub capacity: Result<u64, String>,
    /// Whether `capacity` is `[devices] memory_gib` rather than read off the device.
    pub from_grid: bool,
}

/// Every training task's estimate against every device that may run it.
pub struct MemoryReport {
    pub model: Result<ModelShape, String>,
    pub tasks: Vec<(String, MemoryEstimate)>,
    pub devices: Vec<DeviceMemory>,
}

/// A training task that fits no device it may be given.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "training task `{task}` needs an estimated {estimate} but {device} has {capacity}{source_note}; \
     use precision = \"bf16\", a smaller micro_batch_size or truncation, or a larger device"
)]
pub struct DoesNotFit {
    pub task: String,
    pub estimate: String,
    pub device: DeviceName,
    pub capacity: String,
    pub source_note: String,
}

/// The estimates of `plan`'s training tasks on `devices` (`cpu` when empty). Capacities are
/// `[devices] memory_gib` where set, else read off the devices when they are on this machine
/// (`here`; not for a cluster's nodes).
pub fn report(grid: &Grid, plan: &Plan, devices: &[DeviceName], here: bool) -> MemoryReport {
    let model = model_shape(&grid.model.spec);
    let tasks = match &model {
        Ok(shape) => plan.tasks.iter().filter_map(|t| estimate(t, &shape.config)).collect(),
        Err(_) => Vec::new(),
    };
    let list = if devices.is_empty() { vec![DeviceName::Cpu] } else { devices.to_vec() };
    let devices = list
        .into_iter()
        .map(|device| match grid.devices.memory {
            Some(bytes) => DeviceMemory { device, capacity: Ok(bytes), from_grid: true },
            None if here => DeviceMemory { capacity: device.memory_bytes(), device, from_grid: false },
            None => DeviceMemory { device, capacity: Err("not on this machine".into()), from_grid: false },
        })
        .collect();
    MemoryReport { model, tasks, devices }
}

fn estimate(task: &Task, config: &LlamaConfig) -> Option<(String, MemoryEstimate)> {
    let TaskInput::Train(input) = &task.input else { return None };
    let t = &input.train;
    let shape = RunShape {
        precision: t.precision,
        optimizer: t.optimizer,
        micro_batch_size: t.micro_batch_size,
        truncation: t.truncation(),
    };
    Some((task.id.clone(), MemoryEstimate::new(config, &shape)))
}

impl MemoryReport {
    /// The first training task that does not fit a device of known capacity (any device may be
    /// given any task, so each must fit all).
    pub fn check(&self) -> Result<(), DoesNotFit> {
        for d in &self.devices {
            let Ok(capacity) = d.capacity else { continue };
            if let Some((task, e)) = self.tasks.iter().find(|(_, e)| !e.fits(capacity)) {
                return Err(DoesNotFit {
                    task: task.clone(),
                    estimate: e.to_string(),
                    device: d.device.clone(),
                    capacity: human(capacity),
                    source_note: if d.from_grid { " ([devices] memory_gib)".into() } else { String::new() },
                });
            }
        }
        Ok(())
    }
}

impl fmt::Display for MemoryReport {
    /// What `apogrid plan` prints under its table: the model's shape, the largest estimate
    /// (and each task whose estimate differs from it), and each device's capacity.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shape = match &self.model {
            Ok(s) => s,
            Err(why) => return writeln!(f, "training memory: not estimated ({why})"),
        };
        let Some(largest) = self.tasks.iter().map(|(_, e)| e.total()).max() else { return Ok(()) };
        writeln!(f, "training memory, estimated (model: {}):", shape.source)?;
        let mut shown = std::collections::BTreeMap::new();
        for (task, e) in &self.tasks {
            shown.entry(e.to_string()).or_insert_with(Vec::new).push(task.as_str());
        }
        for (estimate, tasks) in &shown {
            let which = if shown.len() == 1 { "every training task".to_string() } else { tasks.join(", ") };
            writeln!(f, "  {estimate}: {which}")?;
        }
        for d in &self.devices {
            match d.capacity {
                Ok(c) => {
                    let verdict = if largest <= c { "fits" } else { "does NOT fit" };
                    let note = if d.from_grid { " ([devices] memory_gib)" } else { "" };
                    writeln!(f, "  {}: {}{note}, {verdict}", d.device, human(c))?;
                }
                Err(ref why) => {
                    writeln!(f, "  {}: memory unknown ({why}); set [devices] memory_gib to check", d.device)?
                }
            }
        }
        Ok(())
    }
}

/// The model's config without its weights, and a phrase saying where it came from.
pub fn model_shape(spec: &ModelSpec) -> Result<ModelShape, String> {
    let known = |m: KnownModel, source: String| Ok(ModelShape { config: m.config(), source });
    match spec {
        ModelSpec::Tiny(_) => Ok(ModelShape { config: tiny_config(), source: "the embedded tiny model".into() }),
        ModelSpec::SmolLM2 => known(KnownModel::SmolLM2_135M, "SmolLM2-135M-Instruct".into()),
        ModelSpec::Hf(dir) => {
            let path = dir.join("config.json");
            if let Ok(text) = std::fs::read_to_string(&path) {
                let config: LlamaConfig = serde_json::from_str(&text)
                    .map_err(|e| format!("{} is not a Llama config: {e}", path.display()))?;
                return Ok(ModelShape { config, source: path.display().to_string() });
            }
            match folder_name(dir).and_then(KnownModel::from_folder_name) {
                Some(m) => known(
                    m,
                    format!(
                        "{} not found; the published config of {} assumed from the folder name",
                        path.display(),
                        m.repo_name()
                    ),
                ),
                None => Err(format!("{} not found", path.display())),
            }
        }
        ModelSpec::Gguf(path) => Err(format!("the shape of {} is read only when the model loads", path.display())),
    }
}

fn folder_name(dir: &Path) -> Option<&str> {
    dir.file_name()?.to_str()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn a_missing_hf_folder_named_after_a_known_model_uses_its_config() {
        let shape = model_shape(&ModelSpec::Hf(PathBuf::from("/nowhere/Meta-Llama-3-8B-Instruct"))).unwrap();
        assert_eq!(shape.config.hidden_size, 4096);
        assert!(shape.source.contains("assumed from the folder name"), "{}", shape.source);
        let err = model_shape(&ModelSpec::Hf(PathBuf::from("/nowhere/my-model"))).err().unwrap();
        assert!(err.contains("/nowhere/my-model/config.json not found"), "{err}");
    }

    #[test]
    fn an_hf_folder_with_a_config_uses_it() {
        let dir = tempfile::tempdir().unwrap();
        let config = serde_json::to_string(&KnownModel::Llama32_1B.config()).unwrap();
        std::fs::write(dir.path().join("config.json"), config).unwrap();
        let shape = model_shape(&ModelSpec::Hf(dir.path().to_path_buf())).unwrap();
        assert_eq!(shape.config, KnownModel::Llama32_1B.config());
    }
}
