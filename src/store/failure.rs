//! Failure records that survive a full disk.
//!
//! When the disk is full, the task failed *because* it could not write, and its failure record
//! cannot be written either (issue 18: `status` then said "0 failed"). What is still possible:
//! - Free room the store kept for this: `.failed/.reserve`, [`RESERVE_BYTES`] of zeros written
//!   when a run takes the lock. Released, it holds dozens of records (one is about 1 KB).
//! - An empty file: `.failed/<key>.unrecorded` needs an inode and a directory entry but no data
//!   block, so it is often created where a file with content is refused. It says "this task
//!   failed; its error is lost", which is what `status` needs to count it.
//! - Memory: the failure is kept in this process, for the run's own summary.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use super::{Manifest, Status, StoreError};

/// The room kept for failure records, bytes.
pub const RESERVE_BYTES: usize = 256 * 1024;
const RESERVE: &str = ".reserve";
const MARKER: &str = "unrecorded";

/// Failures this process could not write anywhere on disk.
#[derive(Debug, Clone, Default)]
pub struct Unrecorded(Arc<Mutex<BTreeMap<String, Manifest>>>);

impl Unrecorded {
    pub fn get(&self, key: &str) -> Option<Manifest> {
        self.0.lock().ok()?.get(key).cloned()
    }

    pub fn all(&self) -> Vec<Manifest> {
        self.0.lock().map(|m| m.values().cloned().collect()).unwrap_or_default()
    }

    fn put(&self, key: &str, manifest: &Manifest) {
        if let Ok(mut m) = self.0.lock() {
            m.insert(key.to_string(), manifest.clone());
        }
    }

    fn remove(&self, key: &str) {
        if let Ok(mut m) = self.0.lock() {
            m.remove(key);
        }
    }
}

/// Writes the reserve if it is not there (best effort: on a disk already full there is
/// nothing to keep). Not atomic on purpose: a partial reserve is still room.
pub fn keep_reserve(failed: &Path) {
    let path = failed.join(RESERVE);
    if std::fs::metadata(&path).is_ok_and(|m| m.len() >= RESERVE_BYTES as u64) {
        return;
    }
    if std::fs::write(&path, vec![0u8; RESERVE_BYTES]).and_then(|()| sync(&path)).is_err() {
        let _ = std::fs::remove_file(&path);
    }
}

fn sync(path: &Path) -> std::io::Result<()> {
    std::fs::File::open(path)?.sync_all()
}

/// Records `manifest` as the failure of `key` in `failed`, falling back as the module doc
/// says. `Ok` when the whole record is on disk.
pub fn record(
    failed: &Path,
    key: &str,
    manifest: &Manifest,
    memory: &Unrecorded,
    write: &dyn Fn(&Path, &[u8]) -> std::io::Result<()>,
) -> Result<(), StoreError> {
    let path = failed.join(format!("{key}.json"));
    let marker = failed.join(format!("{key}.{MARKER}"));
    let mut text = serde_json::to_vec_pretty(manifest).map_err(|e| StoreError::io(&path, e.into()))?;
    text.push(b'\n');
    let mut result = write(&path, &text);
    if result.is_err() && std::fs::remove_file(failed.join(RESERVE)).is_ok() {
        result = write(&path, &text);
    }
    let source = match result {
        Ok(()) => {
            let _ = std::fs::remove_file(&marker);
            memory.remove(key);
            return Ok(());
        }
        Err(e) => e,
    };
    memory.put(key, manifest);
    let kept = match write(&marker, b"") {
        Ok(()) => "it is kept in memory for this run's summary, and the empty marker file next to it tells `status`",
        Err(_) => "it is kept in memory for this run's summary only",
    };
    Err(StoreError::FailureNotRecorded { id: manifest.id.clone(), path, source, kept })
}

/// A failure known only from its marker: the error itself was lost with the disk space.
pub fn from_marker(failed: &Path, key: &str) -> Option<Manifest> {
    let meta = std::fs::metadata(failed.join(format!("{key}.{MARKER}"))).ok()?;
    let when = meta.modified().map(|t| humantime::format_rfc3339_seconds(t).to_string()).unwrap_or_default();
    Some(Manifest {
        id: String::new(),
        kind: String::new(),
        key: key.to_string(),
        params: serde_json::Value::Null,
        labels: serde_json::Value::Null,
        parents: Vec::new(),
        tool_version: String::new(),
        started: when.clone(),
        finished: when,
        seconds: 0.0,
        status: Status::Failed,
        error: Some(
            "failed, and its failure record could not be written (disk full?), so its error is lost; \
             free some space and run it again to see it"
                .to_string(),
        ),
        summary: serde_json::Value::Null,
    })
}

/// Drops every failure record of `key` (it is done now).
pub fn forget(failed: &Path, key: &str, memory: &Unrecorded) {
    let _ = std::fs::remove_file(failed.join(format!("{key}.json")));
    let _ = std::fs::remove_file(failed.join(format!("{key}.{MARKER}")));
    memory.remove(key);
}
