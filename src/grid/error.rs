//! Grid errors that point at the file, line, column and key, like a compiler's.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// An error in a grid file. Displays as `FILE:LINE:COL: key `KEY`: MESSAGE`.
#[derive(Debug, Clone, PartialEq)]
pub struct GridError {
    pub file: PathBuf,
    /// 1-based; 0 when the error has no position (e.g. the file cannot be read).
    pub line: usize,
    pub column: usize,
    /// Dotted key path such as `train.learning_rate` or `dataset[2].name`, when known.
    pub key: Option<String>,
    pub message: String,
}

impl fmt::Display for GridError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        write!(f, ": ")?;
        if let Some(key) = &self.key {
            write!(f, "key `{key}`: ")?;
        }
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for GridError {}

/// Turns byte spans of one source text into positioned errors.
pub struct Locator<'a> {
    pub file: &'a Path,
    pub source: &'a str,
}

impl Locator<'_> {
    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.source.len());
        let before = &self.source[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        (line, before[line_start..].chars().count() + 1)
    }

    pub fn at(&self, span: Range<usize>, key: impl Into<String>, message: impl Into<String>) -> GridError {
        let (line, column) = self.line_col(span.start);
        GridError { file: self.file.to_path_buf(), line, column, key: Some(key.into()), message: message.into() }
    }

    /// An error about a dotted key (`train.epochs`, `agents.judge.concurrency`,
    /// `devices.list[0]`), placed at the key's line when the file writes it, else at its
    /// table's header, else on the whole file (a missing table or a default value).
    pub fn key(&self, key: impl Into<String>, message: impl Into<String>) -> GridError {
        let key = key.into();
        let position = self.find_key(&key).map(|offset| self.line_col(offset));
        let (line, column) = position.unwrap_or((0, 0));
        GridError { file: self.file.to_path_buf(), line, column, key: Some(key), message: message.into() }
    }

    /// The byte offset of a dotted key's line: `a.b.c` is looked for as `c` in `[a.b]`, then
    /// as `b.c` in `[a]`, then as `a.b.c` at the top; failing that, the first table header
    /// found on the way.
    fn find_key(&self, dotted: &str) -> Option<usize> {
        let plain = dotted.split('[').next().unwrap_or(dotted);
        let parts: Vec<&str> = plain.split('.').collect();
        let mut header = None;
        for split in (0..parts.len()).rev() {
            let (table, key) = (parts[..split].join("."), parts[split..].join("."));
            let (line, table_header) = self.find_in_table(&table, &key);
            if line.is_some() {
                return line;
            }
            header = header.or(table_header);
        }
        header
    }

    /// `key = ...` inside `[table]` (the top level for an empty table), and the table's header.
    fn find_in_table(&self, table: &str, key: &str) -> (Option<usize>, Option<usize>) {
        let mut offset = 0;
        let mut in_table = table.is_empty();
        let mut header = None;
        for line in self.source.split_inclusive('\n') {
            let text = line.trim();
            let start = offset + line.len() - line.trim_start().len();
            if let Some(name) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
                in_table = name.trim_matches(|c| c == '[' || c == ']').trim() == table;
                if in_table && header.is_none() {
                    header = Some(start);
                }
            } else if in_table && text.strip_prefix(key).is_some_and(|rest| rest.trim_start().starts_with('=')) {
                return (Some(start), header);
            }
            offset += line.len();
        }
        (None, header)
    }

    pub fn whole_file(&self, message: impl Into<String>) -> GridError {
        GridError { file: self.file.to_path_buf(), line: 0, column: 0, key: None, message: message.into() }
    }

    /// Converts a toml/serde error, recovering the key path from the text around its span:
    /// the nearest table header above it plus the key on the span's line.
    pub fn from_toml(&self, err: &toml::de::Error) -> GridError {
        let message = err.message().trim().to_string();
        let Some(span) = err.span() else {
            return self.whole_file(message);
        };
        let (line, column) = self.line_col(span.start);
        GridError { file: self.file.to_path_buf(), line, column, key: self.key_at_line(line), message }
    }

    fn key_at_line(&self, line: usize) -> Option<String> {
        let lines: Vec<&str> = self.source.lines().collect();
        let text = lines.get(line.checked_sub(1)?)?.trim();
        let header = |t: &str| -> Option<String> {
            let t = t.trim();
            let inner = t
                .strip_prefix("[[")
                .and_then(|r| r.strip_suffix("]]"))
                .or_else(|| t.strip_prefix('[').and_then(|r| r.strip_suffix(']')))?;
            Some(inner.trim().to_string())
        };
        if let Some(h) = header(text) {
            return Some(h);
        }
        let key = text.split_once('=').map(|(k, _)| k.trim().trim_matches('"').to_string());
        let table = lines[..line - 1].iter().rev().find_map(|l| header(l));
        match (table, key) {
            (Some(t), Some(k)) => Some(format!("{t}.{k}")),
            (None, Some(k)) => Some(k),
            (Some(t), None) => Some(t),
            (None, None) => None,
        }
    }
}
