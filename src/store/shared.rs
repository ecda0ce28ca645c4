//! What a store shared between machines needs beyond the single-machine store: temp folders
//! named by host and pid, so a `run` clears only those whose writer is dead on its own host (a
//! job's folder on another node is left to the job), and failure records written by a cluster
//! backend for a job that died before it could write its own.

use super::claim::hostname;
use super::{Manifest, Store, StoreError, atomic};
use crate::atomic_file::pid_alive;

/// The suffix of this process's temp folders: `<host>.<pid>` (`.tmp/<key>.<host>.<pid>`).
pub fn writer_tag() -> String {
    format!("{}.{}", hostname(), std::process::id())
}

impl Store {
    /// Removes the temp folders that only a dead writer can have left: those of this host whose
    /// pid is gone, and those of other hosts whose task nobody claims (`.claims/<key>`).
    pub fn clear_dead_tmp(&self) {
        let tmp = self.root().join(".tmp");
        let Ok(entries) = std::fs::read_dir(&tmp) else { return };
        let here = hostname();
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            let dead = match parse_tmp_name(&name) {
                Some((_, None, pid)) => !pid_alive(pid),
                Some((_, Some(host), pid)) if host == here => pid == std::process::id() || !pid_alive(pid),
                Some((key, Some(_), _)) => !self.root().join(".claims").join(key).exists(),
                None => false,
            };
            if dead {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }

    /// Records a task's failure for `status` when the task could not record it itself (its
    /// job was cancelled, ran out of time, or lost its node).
    pub fn record_failure(&self, manifest: &Manifest) -> Result<(), StoreError> {
        super::failure::record(&self.failed_dir(), &manifest.key, manifest, &self.unrecorded, &atomic::write)
    }

    /// Whether a failure record was written after `since` (seconds since the Unix epoch).
    pub fn failed_since(&self, key: &str, since: u64) -> bool {
        let p = self.root().join(".failed").join(format!("{key}.json"));
        let modified = std::fs::metadata(&p).and_then(|m| m.modified()).ok();
        let secs = modified.and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map(|d| d.as_secs());
        secs.is_some_and(|s| s >= since)
    }
}

/// `<key>.<host>.<pid>` (or the older `<key>.<pid>`) into its parts.
fn parse_tmp_name(name: &str) -> Option<(&str, Option<&str>, u32)> {
    let (key, rest) = name.split_once('.')?;
    match rest.rsplit_once('.') {
        Some((host, pid)) => Some((key, Some(host), pid.parse().ok()?)),
        None => Some((key, None, rest.parse().ok()?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_parse_with_and_without_a_host() {
        assert_eq!(parse_tmp_name("abc.node-1.42"), Some(("abc", Some("node-1"), 42)));
        assert_eq!(parse_tmp_name("abc.42"), Some(("abc", None, 42)));
        assert_eq!(parse_tmp_name("abc"), None);
    }

    #[test]
    fn only_dead_writers_temp_folders_are_cleared() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("store");
        let tmp = dir.path().join(".tmp");
        let here = hostname();
        let names = [
            format!("a.{here}.{}", u32::MAX - 1),
            format!("b.{here}.1"),
            "c.othernode.7".to_string(),
            "d.othernode.7".to_string(),
        ];
        for n in &names {
            std::fs::create_dir_all(tmp.join(n)).expect("mkdir");
        }
        std::fs::create_dir_all(dir.path().join(".claims")).expect("claims");
        std::fs::write(dir.path().join(".claims").join("d"), "{}").expect("claim");
        store.clear_dead_tmp();
        let left: Vec<bool> = names.iter().map(|n| tmp.join(n).exists()).collect();
        assert_eq!(left, [false, true, false, true]);
    }
}
