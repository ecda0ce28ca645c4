//! What the integration tests share: a very small grid on the embedded world (a tiny model
//! pretrained on 96 examples, 24 prompts, one CLAIR dataset, DPO), and running the binary.
#![allow(dead_code)] // each test file uses its own part of this

pub mod fixtures;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const BIN: &str = env!("CARGO_BIN_EXE_apogrid");

/// The world benchmark's `[eval]` body used by most tests.
pub const WORLD_EVAL: &str = "count = 14\nmax_new_tokens = 24\nheldout_pairs = 4\n";

/// Writes `DIR/grid.toml`: the micro grid named `name` with `epochs` epochs, `[eval]` body
/// `eval`, and `extra` appended (more rows, overrides); its store and results live in `dir`.
pub fn micro_grid(dir: &Path, name: &str, epochs: usize, eval: &str, extra: &str) -> PathBuf {
    let text = format!(
        r#"
[grid]
name = "{name}"
seed = 3
store = "{store}"
results = "{results}"
[model]
spec = "tiny"
[model.pretrain]
examples = 96
epochs = 1
learning_rate = 2e-3
batch_size = 32
[prompts]
source = "world"
count = 24
[agents.sampling]
max_new_tokens = 24
[train]
epochs = {epochs}
learning_rate = 1e-3
batch_size = 8
micro_batch_size = 4
max_prompt_tokens = 64
max_response_tokens = 32
[eval]
{eval}
[[dataset]]
name = "clair"
builder = "clair"
[[objective]]
name = "dpo"
kind = "dpo"
{extra}
"#,
        store = dir.join("store").display(),
        results = dir.join("results").display(),
    );
    let path = dir.join("grid.toml");
    std::fs::write(&path, text).expect("write grid");
    path
}

/// `apogrid run GRID --quiet EXTRA...`
pub fn run(grid: &Path, extra: &[&str]) -> Output {
    Command::new(BIN).arg("run").arg(grid).arg("--quiet").args(extra).output().expect("run apogrid")
}

/// The `N tasks ran, ...` line of a run.
pub fn summary(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).lines().find(|l| l.contains("tasks ran")).unwrap_or_default().to_string()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}
