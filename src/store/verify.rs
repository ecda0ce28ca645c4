//! Whether a done task's artifact folder still holds what was committed: the files listed in
//! its `task.json`, no more, no fewer, each of the recorded size and (for a full check) sha256.
//!
//! Two depths, because hashing costs a read of every byte (sha256 measured 0.9-1.3 GB/s on one
//! core here for 1-100 MB files, so a 16 GB checkpoint of an 8B model takes 12-18 s and the
//! paper grid's 360 of them two hours) while sizes cost one `stat` per file (3-16 µs):
//! - [`Check::Sizes`]: presence, extra files and sizes. Catches deleted, added and truncated
//!   files; misses bytes overwritten in place. For every done-or-not decision (plan, status,
//!   scheduling a run), where all tasks of a grid are looked at.
//! - [`Check::Full`]: also every file's sha256. Catches any edit. For `apogrid verify`, and
//!   for a task's inputs before they are read when their size allows.

use std::fmt;
use std::path::{Path, PathBuf};

use super::digest::{FileDigests, MANIFEST, scan};

/// How deep [`super::Store::verify`] looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Files present, none added, sizes as recorded (one `stat` per file).
    Sizes,
    /// [`Check::Sizes`] plus every file's sha256 (reads every byte).
    Full,
}

/// Whether a task is done, as far as its artifact folder can tell.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskState {
    /// Committed and, at the depth asked for, as committed.
    Done,
    /// Committed, but not as committed: not done, never to be read. Quarantine it
    /// ([`super::Store::quarantine`]) and run the task again.
    Corrupt(Corruption),
    /// No artifact folder, or one without `task.json` (a half-present folder: a commit replaces
    /// it). Not done.
    Missing,
}

/// One difference between an artifact folder and its `task.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// `task.json` is missing, unreadable, malformed or records another key.
    Manifest { message: String },
    /// A recorded file is gone.
    Missing { file: String, size: u64 },
    /// A file that was not there at commit.
    Extra { file: String },
    /// A recorded file has another size (truncated, appended to).
    Size { file: String, expected: u64, found: u64 },
    /// A recorded file has other bytes.
    Digest { file: String, expected: String, found: String },
    /// A file that could not be read or listed.
    Unreadable { file: String, error: String },
}

impl Problem {
    /// The file, relative to the artifact folder.
    pub fn file(&self) -> &str {
        match self {
            Problem::Manifest { .. } => MANIFEST,
            Problem::Missing { file, .. }
            | Problem::Extra { file }
            | Problem::Size { file, .. }
            | Problem::Digest { file, .. }
            | Problem::Unreadable { file, .. } => file,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Manifest { message } => write!(f, "{MANIFEST}: {message}"),
            Problem::Missing { file, size } => write!(f, "{file}: missing (committed with {size} bytes)"),
            Problem::Extra { file } => write!(f, "{file}: not part of the committed artifact (added later)"),
            Problem::Size { file, expected, found } => {
                write!(f, "{file}: {found} bytes, committed with {expected} (truncated or appended to)")
            }
            Problem::Digest { file, expected, found } => {
                write!(f, "{file}: sha256 {found}, committed as {expected} (edited or overwritten)")
            }
            Problem::Unreadable { file, error } => write!(f, "{file}: unreadable: {error}"),
        }
    }
}

/// A corrupt artifact: which task, where, and every file that differs from its commit.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("corrupt artifact of task {task} (key {key}) in {dir}: {}", list(.problems))]
pub struct Corruption {
    /// The task id recorded in `task.json`, or `?` when it cannot be read.
    pub task: String,
    pub key: String,
    pub dir: PathBuf,
    /// Never empty.
    pub problems: Vec<Problem>,
}

fn list(problems: &[Problem]) -> String {
    problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

/// Compares `dir` with the files `task.json` recorded. Returns every difference, sorted by file
/// (empty: as committed). Sizes come first; a file whose size differs is not hashed.
pub fn compare(dir: &Path, recorded: &FileDigests, check: Check) -> Vec<Problem> {
    let found = match scan(dir, false) {
        Ok(found) => found,
        Err(e) => return vec![Problem::Unreadable { file: ".".into(), error: e.to_string() }],
    };
    let mut problems = Vec::new();
    for (file, want) in recorded {
        match found.get(file) {
            None => problems.push(Problem::Missing { file: file.clone(), size: want.size }),
            Some(&(size, _)) if size != want.size => {
                problems.push(Problem::Size { file: file.clone(), expected: want.size, found: size })
            }
            Some(_) if check == Check::Full => match super::digest::sha256_file(&dir.join(file)) {
                Ok(sha) if sha != want.sha256 => {
                    problems.push(Problem::Digest { file: file.clone(), expected: want.sha256.clone(), found: sha })
                }
                Ok(_) => {}
                Err(e) => problems.push(Problem::Unreadable { file: file.clone(), error: e.to_string() }),
            },
            Some(_) => {}
        }
    }
    problems.extend(found.keys().filter(|f| !recorded.contains_key(*f)).map(|f| Problem::Extra { file: f.clone() }));
    problems.sort_by(|a, b| a.file().cmp(b.file()));
    problems
}
