//! The content-addressed artifact store.
//!
//! Layout under the root (default `results/.cache/`):
//! - `<key>/`: a finished task's artifacts plus `task.json`. It appears by one rename of a
//!   finished temp folder, so its presence means the task is done; nothing else is consulted.
//! - `.tmp/<key>.<host>.<pid>/`: a task being written. Left-overs of dead writers are removed
//!   when the next run takes the lock (`shared.rs`: only this host's dead pids, and other hosts'
//!   folders of tasks nobody claims).
//! - `.partial/<key>/`: state a long task keeps across kills to resume (e.g. per-epoch
//!   checkpoints of a training run); moved into the artifact when the task finishes.
//! - `.failed/<key>.json`: the manifest of the last failure of a task, for `status`.
//! - `LOCK`: the pid of the `run` using the store.
//! - `.claims/<key>`: the host, pid and Slurm job running a task (`claim.rs`), across machines.

/// Atomic writes live below every floor (the data floor writes datasets with them too).
pub use crate::atomic_file as atomic;
pub mod claim;
pub mod lock;
pub mod manifest;
pub mod shared;

use std::path::{Path, PathBuf};

pub use claim::{ClaimError, Holder, TaskClaim};
pub use lock::StoreLock;
pub use manifest::{Manifest, ParentRef, Status};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("another apogrid run (pid {pid}) is using this store; lock file {path}. Wait for it, or stop it.")]
    Locked { path: PathBuf, pid: u32 },
    #[error("{path}: malformed manifest: {message}")]
    Manifest { path: PathBuf, message: String },
}

impl StoreError {
    pub fn io(path: &Path, source: std::io::Error) -> StoreError {
        StoreError::Io { path: path.to_path_buf(), source }
    }
}

#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

/// A task's output folder while it is being written.
#[derive(Debug)]
pub struct Pending {
    pub key: String,
    pub dir: PathBuf,
}

impl Store {
    pub fn open(root: &Path) -> Result<Store, StoreError> {
        for sub in [".tmp", ".partial", ".failed"] {
            let p = root.join(sub);
            std::fs::create_dir_all(&p).map_err(|e| StoreError::io(&p, e))?;
        }
        Ok(Store { root: root.to_path_buf() })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Takes the store's lock and clears temp folders that only a dead run can have left.
    pub fn lock(&self) -> Result<StoreLock, StoreError> {
        let lock = StoreLock::acquire(&self.root.join("LOCK"))?;
        self.clear_dead_tmp();
        Ok(lock)
    }

    pub fn artifact_dir(&self, key: &str) -> PathBuf {
        self.root.join(key)
    }

    pub fn partial_dir(&self, key: &str) -> PathBuf {
        self.root.join(".partial").join(key)
    }

    /// Done means: the artifact folder exists with its manifest (renamed in as one step).
    pub fn is_done(&self, key: &str) -> bool {
        self.artifact_dir(key).join("task.json").is_file()
    }

    pub fn manifest(&self, key: &str) -> Result<Manifest, StoreError> {
        read_manifest(&self.artifact_dir(key).join("task.json"))
    }

    pub fn failure(&self, key: &str) -> Option<Manifest> {
        read_manifest(&self.root.join(".failed").join(format!("{key}.json"))).ok()
    }

    /// A fresh, empty folder to write a task's artifacts into.
    pub fn begin(&self, key: &str) -> Result<Pending, StoreError> {
        let dir = self.root.join(".tmp").join(format!("{key}.{}", shared::writer_tag()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| StoreError::io(&dir, e))?;
        }
        std::fs::create_dir_all(&dir).map_err(|e| StoreError::io(&dir, e))?;
        Ok(Pending { key: key.to_string(), dir })
    }

    /// Writes the manifest into the pending folder and renames it into place: from here on the
    /// task is done. Its partial state and any failure record are removed.
    pub fn commit(&self, pending: Pending, manifest: &Manifest) -> Result<PathBuf, StoreError> {
        let m = pending.dir.join("task.json");
        atomic::write_json(&m, manifest).map_err(|e| StoreError::io(&m, e))?;
        let target = self.artifact_dir(&pending.key);
        if target.exists() {
            // Another run finished it first; equal keys mean equal content.
            let _ = std::fs::remove_dir_all(&pending.dir);
        } else {
            std::fs::rename(&pending.dir, &target).map_err(|e| StoreError::io(&target, e))?;
        }
        let _ = std::fs::remove_dir_all(self.partial_dir(&pending.key));
        let _ = std::fs::remove_file(self.root.join(".failed").join(format!("{}.json", pending.key)));
        Ok(target)
    }

    /// Records a failure (kept for `status`) and throws the pending folder away. Partial
    /// state is kept, so a retry resumes.
    pub fn fail(&self, pending: Pending, manifest: &Manifest) -> Result<(), StoreError> {
        let _ = std::fs::remove_dir_all(&pending.dir);
        let p = self.root.join(".failed").join(format!("{}.json", pending.key));
        atomic::write_json(&p, manifest).map_err(|e| StoreError::io(&p, e))
    }
}

fn read_manifest(path: &Path) -> Result<Manifest, StoreError> {
    let text = std::fs::read_to_string(path).map_err(|e| StoreError::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| StoreError::Manifest { path: path.to_path_buf(), message: e.to_string() })
}
