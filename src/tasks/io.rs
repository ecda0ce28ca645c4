//! Reading and writing the small JSON artifacts tasks hand each other, with errors that name
//! the file.

use std::path::Path;

use anyhow::Context;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub fn write_json(path: &Path, value: &impl Serialize) -> anyhow::Result<()> {
    crate::store::atomic::write_json(path, value).with_context(|| format!("writing {}", path.display()))
}

pub fn read_json<T: DeserializeOwned>(path: &Path) -> anyhow::Result<T> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

/// The grid entry a task's label names.
pub fn label<'a>(task: &'a crate::plan::Task, name: &str) -> anyhow::Result<&'a str> {
    task.labels[name].as_str().with_context(|| format!("task `{}` has no `{name}` label", task.id))
}
