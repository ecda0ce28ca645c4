//! Errors of the eval floor. Everything a user can cause (a missing data file, a malformed
//! line, an answer letter outside A-D) names the file, and the line when there is one, so the
//! message alone says where to look.

use std::path::{Path, PathBuf};

use crate::model::ModelError;

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("{path} not found: run scripts/get-eval-data.sh to fetch {what} (or pass --path FILE)")]
    MissingData { path: PathBuf, what: &'static str },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A malformed record; `line` is 1-based.
    #[error("{path}:{line}: {message}")]
    Malformed { path: PathBuf, line: usize, message: String },
    #[error("{path}: no items to evaluate")]
    Empty { path: PathBuf },
    #[error("cannot score: {0}")]
    InvalidInput(String),
    #[error(transparent)]
    Model(#[from] ModelError),
}

impl EvalError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io { path: path.to_path_buf(), source }
    }

    pub(crate) fn malformed(path: &Path, line: usize, message: impl Into<String>) -> Self {
        Self::Malformed { path: path.to_path_buf(), line, message: message.into() }
    }

    /// A serde_json error on one line of a file, without serde's own "at line 1 column N"
    /// (which counts within the line, not the file).
    pub(crate) fn json(path: &Path, line: usize, err: &serde_json::Error) -> Self {
        let text = err.to_string();
        let message = match text.rfind(" at line ") {
            Some(i) => text[..i].to_string(),
            None => text,
        };
        Self::malformed(path, line, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_errors_name_file_and_line_without_serde_position() {
        let err = serde_json::from_str::<serde_json::Value>("{").unwrap_err();
        let e = EvalError::json(Path::new("x.jsonl"), 7, &err).to_string();
        assert!(e.starts_with("x.jsonl:7: "), "{e}");
        assert!(!e.contains("column"), "{e}");
    }
}
