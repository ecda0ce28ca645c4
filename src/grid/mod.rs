//! Grid files: the schema a user writes (`schema`), the checks that turn it into a [`Grid`]
//! (`validate`), and errors that name the file, line, column and key (`error`).

pub mod agents;
pub mod error;
pub mod executor;
pub mod resolved;
pub mod schema;
pub mod validate;

use std::path::Path;

pub use error::GridError;
pub use resolved::{Cell, Dataset, DatasetSource, Devices, Eval, Grid, GridModel, Objective};

/// Reads, parses and validates a grid file.
pub fn load(path: &Path) -> Result<Grid, GridError> {
    let source = std::fs::read_to_string(path).map_err(|e| GridError {
        file: path.to_path_buf(),
        line: 0,
        column: 0,
        key: None,
        message: format!("cannot read the grid file: {e}"),
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
