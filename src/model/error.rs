//! Errors of the model floor: the ones a user can cause (a weight file missing a tensor, a
//! config the architecture cannot honour, a checkpoint directory that cannot be read) name the
//! tensor, key or path and what was expected.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("weights: tensor `{name}` is missing")]
    MissingTensor { name: String },
    #[error("weights: tensor `{name}` has shape {found:?}, expected {expected:?}")]
    ShapeMismatch { name: String, expected: Vec<usize>, found: Vec<usize> },
    #[error("weights: tensor `{name}` has {found} values but its shape {shape:?} needs {expected}")]
    DataLength { name: String, shape: Vec<usize>, expected: usize, found: usize },
    #[error("weights: unexpected tensor(s) the Llama architecture does not use: {names:?}")]
    UnexpectedTensors { names: Vec<String> },
    #[error("config: {0}")]
    InvalidConfig(String),
    #[error("input: {0}")]
    InvalidInput(String),
    #[error("checkpoint {path}: {message}")]
    Checkpoint { path: PathBuf, message: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl ModelError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io { path: path.into(), source }
    }
}
