//! Grid files: the schema a user writes (`schema`), the checks that turn it into a [`Grid`]
//! (`validate`), and errors that name the file, line, column and key (`error`).

pub mod agents;
pub mod error;
pub mod eval;
pub mod executor;
pub mod resolved;
pub mod schema;
pub mod validate;

use std::path::Path;

pub use error::GridError;
pub use resolved::{Cell, Dataset, DatasetSource, Devices, Eval, Grid, GridModel, Objective};

/// Reads, parses and validates a grid file.
pub fn load(path: &Path) -> Result<Grid, GridError> {
    let error = |line, column, message| GridError { file: path.to_path_buf(), line, column, key: None, message };
    let bytes = std::fs::read(path).map_err(|e| error(0, 0, format!("cannot read the grid file: {e}")))?;
    let source = String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let valid = std::str::from_utf8(valid).unwrap_or_default();
        let (line, column) = error::Locator { file: path, source: valid }.line_col(valid.len());
        error(line, column, "the grid file is not UTF-8 text (an invalid byte here)".into())
    })?;
    parse(&source, path)
}

/// Parses and validates grid text; `path` only labels errors.
pub fn parse(source: &str, path: &Path) -> Result<Grid, GridError> {
    let loc = error::Locator { file: path, source };
    let file: schema::GridFile = toml::from_str(source).map_err(|e| loc.from_toml(&e))?;
    validate::validate(file, path, source)
}

#[cfg(test)]
mod tests;
