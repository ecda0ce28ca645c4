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
//! - `.failed/<key>.json`: the manifest of the last failure of a task, for `status`;
//!   `.failed/<key>.unrecorded`, an empty marker, where a full disk left no room for it (see
//!   [`failure`]); `.failed/.reserve`, the room kept for those records.
//! - `.corrupt/<key>.<unix time>/`: artifact folders found corrupt and moved aside
//!   ([`Store::quarantine`]); never deleted by the tool.
//! - `LOCK`: the pid of the `run` using the store.
//! - `.claims/<key>`: the host, pid and Slurm job running a task (`claim.rs`), across machines.
//!
//! Integrity: `task.json` records the size and sha256 of every other file of the folder
//! ([`manifest::Recorded`]); [`Store::state`] and [`Store::verify`] compare the folder with
//! it (sizes only, or every byte: see [`verify`] for which to use where). A corrupt folder is
//! not done: it is never read, and a commit of the same key moves it to `.corrupt/`.

/// Atomic writes live below every floor (the data floor writes datasets with them too).
pub use crate::atomic_file as atomic;
pub mod claim;
pub mod digest;
pub mod failure;
pub mod lock;
pub mod manifest;
pub mod shared;
pub mod verify;

use std::path::{Path, PathBuf};

pub use claim::{ClaimError, Holder, TaskClaim};
pub use lock::StoreLock;
pub use manifest::{Manifest, ParentRef, Recorded, Status};
pub use verify::{Check, Corruption, Problem, TaskState};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("another apogrid run (pid {pid}) is using this store; lock file {path}. Wait for it, or stop it.")]
    Locked { path: PathBuf, pid: u32 },
    #[error("{path}: malformed manifest: {message}")]
    Manifest { path: PathBuf, message: String },
    #[error("the failure of task {id} could not be recorded in {path} ({source}); {kept}")]
    FailureNotRecorded { id: String, path: PathBuf, source: std::io::Error, kept: &'static str },
}

impl StoreError {
    pub fn io(path: &Path, source: std::io::Error) -> StoreError {
        StoreError::Io { path: path.to_path_buf(), source }
    }
}

#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
    /// Failures whose records a full disk refused, kept for this process ([`Store::failure`],
    /// [`Store::unrecorded_failures`]).
    unrecorded: failure::Unrecorded,
}

/// A task's output folder while it is being written.
#[derive(Debug)]
pub struct Pending {
    pub key: String,
    pub dir: PathBuf,
}

/// What a successful [`Store::verify`] checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    /// Files compared with `task.json`; `None` for a task committed before digests were
    /// recorded (nothing to compare with: taken as done, unchecked).
    pub files: Option<usize>,
    /// Their total size, bytes.
    pub bytes: u64,
}

impl Store {
    pub fn open(root: &Path) -> Result<Store, StoreError> {
        for sub in [".tmp", ".partial", ".failed"] {
            let p = root.join(sub);
            std::fs::create_dir_all(&p).map_err(|e| StoreError::io(&p, e))?;
        }
        Ok(Store { root: root.to_path_buf(), unrecorded: failure::Unrecorded::default() })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Takes the store's lock, clears temp folders (and the temp files of failure records)
    /// that only a dead run can have left, and makes sure the room for failure records on a
    /// full disk is there.
    pub fn lock(&self) -> Result<StoreLock, StoreError> {
        let lock = StoreLock::acquire(&self.root.join("LOCK"))?;
        self.clear_dead_tmp();
        let _ = atomic::remove_dead_temp_files(&self.failed_dir());
        failure::keep_reserve(&self.failed_dir());
        Ok(lock)
    }

    pub fn artifact_dir(&self, key: &str) -> PathBuf {
        self.root.join(key)
    }

    pub fn partial_dir(&self, key: &str) -> PathBuf {
        self.root.join(".partial").join(key)
    }

    fn failed_dir(&self) -> PathBuf {
        self.root.join(".failed")
    }

    /// Done means: the artifact folder exists with its manifest (renamed in as one step).
    /// Checks nothing else: callers that read the artifact use [`Store::state`], which also
    /// compares the folder with what was committed.
    pub fn is_done(&self, key: &str) -> bool {
        self.artifact_dir(key).join("task.json").is_file()
    }

    /// Whether `key` is done, corrupt or missing, comparing its folder with its `task.json`
    /// at the given depth. A corrupt task is not done: run it again (after
    /// [`Store::quarantine`], or let [`Store::commit`] move it aside).
    pub fn state(&self, key: &str, check: Check) -> TaskState {
        if !self.is_done(key) {
            return TaskState::Missing;
        }
        match self.verify(key, check) {
            Ok(_) => TaskState::Done,
            Err(c) => TaskState::Corrupt(c),
        }
    }

    /// Compares the artifact folder of `key` with the files its `task.json` recorded at
    /// commit. Every difference is listed, each naming its file; a missing or malformed
    /// `task.json` is one too.
    pub fn verify(&self, key: &str, check: Check) -> Result<Verified, Corruption> {
        let dir = self.artifact_dir(key);
        let corrupt =
            |task: &str, problems| Corruption { task: task.into(), key: key.into(), dir: dir.clone(), problems };
        let recorded = match read_recorded(&dir.join(digest::MANIFEST)) {
            Ok(r) => r,
            Err(e) => return Err(corrupt("?", vec![Problem::Manifest { message: manifest_message(e) }])),
        };
        let task = recorded.manifest.id.as_str();
        if recorded.manifest.key != key {
            let message = format!("records key {}, not the folder's", recorded.manifest.key);
            return Err(corrupt(task, vec![Problem::Manifest { message }]));
        }
        let Some(files) = &recorded.files else { return Ok(Verified { files: None, bytes: 0 }) };
        let problems = verify::compare(&dir, files, check);
        if !problems.is_empty() {
            return Err(corrupt(task, problems));
        }
        Ok(Verified { files: Some(files.len()), bytes: files.values().map(|f| f.size).sum() })
    }

    /// Moves the artifact folder of `key` to `.corrupt/<key>.<unix time>/` (never deletes
    /// it), so the task is not done and the next run computes it again. Returns the new place.
    pub fn quarantine(&self, key: &str) -> Result<PathBuf, StoreError> {
        let from = self.artifact_dir(key);
        let into = self.root.join(".corrupt");
        std::fs::create_dir_all(&into).map_err(|e| StoreError::io(&into, e))?;
        let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let mut to = into.join(format!("{key}.{secs}"));
        for n in 1.. {
            if !to.exists() {
                break;
            }
            to = into.join(format!("{key}.{secs}.{n}"));
        }
        std::fs::rename(&from, &to).map_err(|e| {
            StoreError::io(&from, std::io::Error::new(e.kind(), format!("moving to {}: {e}", to.display())))
        })?;
        Ok(to)
    }

    pub fn manifest(&self, key: &str) -> Result<Manifest, StoreError> {
        read_manifest(&self.artifact_dir(key).join("task.json"))
    }

    /// The last failure of `key`: its record, or, where a full disk refused it, what this
    /// process kept or the empty marker says.
    pub fn failure(&self, key: &str) -> Option<Manifest> {
        read_manifest(&self.failed_dir().join(format!("{key}.json")))
            .ok()
            .or_else(|| self.unrecorded.get(key))
            .or_else(|| failure::from_marker(&self.failed_dir(), key))
    }

    /// Failures of this process whose records could not be written at all (a full disk),
    /// for the run's summary: print them, since nothing on disk holds them.
    pub fn unrecorded_failures(&self) -> Vec<Manifest> {
        self.unrecorded.all()
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

    /// Records the size and sha256 of every file of the pending folder with the manifest in
    /// its `task.json` and renames the folder into place: from here on the task is done. Its
    /// partial state and any failure record are removed.
    ///
    /// Where the artifact folder is already there: a done one (same key, same content) is kept
    /// and the new one dropped; a half-present one (no valid `task.json`) is replaced, and a
    /// corrupt one (sizes differ from its record) is replaced and kept in `.corrupt/`.
    pub fn commit(&self, pending: Pending, manifest: &Manifest) -> Result<PathBuf, StoreError> {
        let files = digest::digest_dir(&pending.dir).map_err(|e| StoreError::io(&pending.dir, e))?;
        let m = pending.dir.join(digest::MANIFEST);
        let recorded = Recorded { manifest: manifest.clone(), files: Some(files) };
        atomic::write_json(&m, &recorded).map_err(|e| StoreError::io(&m, e))?;
        let target = self.artifact_dir(&pending.key);
        match self.state(&pending.key, Check::Sizes) {
            // Another run finished it first; equal keys mean equal content.
            TaskState::Done => {
                let _ = std::fs::remove_dir_all(&pending.dir);
            }
            TaskState::Missing if !target.exists() => {
                std::fs::rename(&pending.dir, &target).map_err(|e| StoreError::io(&target, e))?;
            }
            TaskState::Missing => self.replace_stale(&pending)?,
            TaskState::Corrupt(_) => {
                self.quarantine(&pending.key)?;
                std::fs::rename(&pending.dir, &target).map_err(|e| StoreError::io(&target, e))?;
            }
        }
        let _ = std::fs::remove_dir_all(self.partial_dir(&pending.key));
        failure::forget(&self.failed_dir(), &pending.key, &self.unrecorded);
        Ok(target)
    }

    /// Deletes a subfolder of a finished artifact on purpose (pruned checkpoints) and records
    /// that in its `task.json`: the removed files leave the digest list, so the artifact stays
    /// intact in [`Store::verify`]'s eyes. The manifest is rewritten first (atomically), then
    /// the folder removed; a kill in between leaves an extra folder, which a later prune
    /// removes again.
    pub fn remove_from_artifact(&self, key: &str, subfolder: &str) -> Result<(), StoreError> {
        let dir = self.artifact_dir(key);
        let path = dir.join(digest::MANIFEST);
        let text = std::fs::read_to_string(&path).map_err(|e| StoreError::io(&path, e))?;
        let mut recorded: Recorded = serde_json::from_str(&text)
            .map_err(|e| StoreError::Manifest { path: path.clone(), message: e.to_string() })?;
        if let Some(files) = &mut recorded.files {
            let prefix = format!("{}/", subfolder.trim_end_matches('/'));
            files.retain(|name, _| !name.starts_with(&prefix));
        }
        atomic::write_json(&path, &recorded).map_err(|e| StoreError::io(&path, e))?;
        let folder = dir.join(subfolder);
        if folder.exists() {
            std::fs::remove_dir_all(&folder).map_err(|e| StoreError::io(&folder, e))?;
        }
        Ok(())
    }

    /// Replaces a half-present artifact folder (no `task.json`) by the pending one: the stale
    /// folder is renamed aside into `.tmp/` (which the next lock clears if a kill comes
    /// first), the new one renamed in, then the stale one removed. At no point is a folder
    /// with a `task.json` anything but the new result.
    fn replace_stale(&self, pending: &Pending) -> Result<(), StoreError> {
        let target = self.artifact_dir(&pending.key);
        let aside = self.root.join(".tmp").join(format!("{}.stale.{}", pending.key, std::process::id()));
        let _ = std::fs::remove_dir_all(&aside);
        std::fs::rename(&target, &aside).map_err(|e| StoreError::io(&target, e))?;
        std::fs::rename(&pending.dir, &target).map_err(|e| StoreError::io(&target, e))?;
        let _ = std::fs::remove_dir_all(&aside);
        Ok(())
    }

    /// Records a failure (kept for `status`) and throws the pending folder away. Partial
    /// state is kept, so a retry resumes.
    ///
    /// On a full disk the record falls back, in order, to the room kept in `.failed/.reserve`
    /// (released for it), an empty marker `.failed/<key>.unrecorded` (an inode, no data
    /// block), and this process's memory; the last two return
    /// [`StoreError::FailureNotRecorded`], and [`Store::failure`] still answers from them.
    pub fn fail(&self, pending: Pending, manifest: &Manifest) -> Result<(), StoreError> {
        self.fail_with(pending, manifest, &atomic::write)
    }

    /// [`Store::fail`] with the file writer as a parameter (tests inject a full disk).
    fn fail_with(
        &self,
        pending: Pending,
        manifest: &Manifest,
        write: &dyn Fn(&Path, &[u8]) -> std::io::Result<()>,
    ) -> Result<(), StoreError> {
        let _ = std::fs::remove_dir_all(&pending.dir);
        failure::record(&self.failed_dir(), &pending.key, manifest, &self.unrecorded, write)
    }
}

fn read_manifest(path: &Path) -> Result<Manifest, StoreError> {
    read_json(path)
}

fn read_recorded(path: &Path) -> Result<Recorded, StoreError> {
    read_json(path)
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, StoreError> {
    let text = std::fs::read_to_string(path).map_err(|e| StoreError::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| StoreError::Manifest { path: path.to_path_buf(), message: e.to_string() })
}

/// A manifest error without the path (the corruption names the folder and the file).
fn manifest_message(e: StoreError) -> String {
    match e {
        StoreError::Io { source, .. } => format!("unreadable: {source}"),
        StoreError::Manifest { message, .. } => format!("malformed: {message}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests;
