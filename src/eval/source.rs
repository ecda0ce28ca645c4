//! Finding and reading benchmark files: the fetched defaults under `models/eval/` (written by
//! scripts/get-eval-data.sh) or a user's own file.

use std::path::{Path, PathBuf};

use super::error::EvalError;
use crate::model::spec::resolve_models_path;

/// The default file `rel` (relative to the working directory or the crate root), or an error
/// that names it and the script that fetches `what`.
pub fn default_path(rel: &str, what: &'static str) -> Result<PathBuf, EvalError> {
    let path = resolve_models_path(rel);
    if path.exists() { Ok(path) } else { Err(EvalError::MissingData { path, what }) }
}

pub fn read_text(path: &Path) -> Result<String, EvalError> {
    std::fs::read_to_string(path).map_err(|e| EvalError::io(path, e))
}

/// Non-blank lines of a JSONL file parsed as `T`, with their 1-based line numbers.
pub fn read_jsonl<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Vec<(usize, T)>, EvalError> {
    let text = read_text(path)?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let value = serde_json::from_str(line).map_err(|e| EvalError::json(path, i + 1, &e))?;
        out.push((i + 1, value));
    }
    if out.is_empty() {
        return Err(EvalError::Empty { path: path.to_path_buf() });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_default_names_the_path_and_the_fetch_script() {
        let e = default_path("models/eval/absent.jsonl", "MMLU").unwrap_err().to_string();
        assert!(e.contains("models/eval/absent.jsonl") && e.contains("scripts/get-eval-data.sh"), "{e}");
    }
}
