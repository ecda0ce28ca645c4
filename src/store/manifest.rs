//! What the store records about each finished or failed task.

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Done,
    Failed,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ParentRef {
    pub id: String,
    pub key: String,
}

/// `task.json` of a finished task (in its artifact folder), or the record of a failed one.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub id: String,
    pub kind: String,
    pub key: String,
    pub params: Value,
    pub labels: Value,
    pub parents: Vec<ParentRef>,
    pub tool_version: String,
    /// RFC 3339.
    pub started: String,
    pub finished: String,
    pub seconds: f64,
    pub status: Status,
    /// The failure's message, for failed tasks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What the task reported about its output (counts, metrics), for status and reports.
    #[serde(default)]
    pub summary: Value,
}

/// What `task.json` holds: the [`Manifest`] and, since issue 18, the size and sha256 of every
/// other file of the artifact folder, recorded by [`super::Store::commit`]. A wrapper rather
/// than a `Manifest` field so that code building a `Manifest` stays as it is; readers of
/// `Manifest` ignore the extra key, and manifests written before it read with `files: None`
/// (nothing to check them against).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Recorded {
    #[serde(flatten)]
    pub manifest: Manifest,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<super::digest::FileDigests>,
}
