//! What the Slurm backend keeps in the store, under `<store>/.slurm/`:
//! - `<key>.json`: the task's last submission (job id, submit time, log path), so `status`
//!   shows job ids and states, `cancel` finds the grid's jobs, and a second `run` (or a rerun
//!   after the first `run` died) adopts a job that is still queued instead of submitting again;
//! - `<key>.sh` and `<key>.out`: the job script and its log (appended to across requeues);
//! - `<key>.submit`: held (created exclusively) while one `run` submits the task, so two
//!   concurrent runs cannot both submit it.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::plan::Plan;
use crate::store::{Holder, Manifest, Store, StoreError, atomic};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SubmitRecord {
    pub id: String,
    pub key: String,
    pub job_id: String,
    /// Milliseconds since the Unix epoch.
    pub submitted_ms: u64,
    pub submitted: String,
    /// The `run` that submitted it.
    pub by: Holder,
    pub log: PathBuf,
}

/// The backend's folder in a store.
pub fn dir(store: &Store) -> PathBuf {
    store.root().join(".slurm")
}

pub fn log_path(store: &Store, key: &str) -> PathBuf {
    dir(store).join(format!("{key}.out"))
}

pub fn script_path(store: &Store, key: &str) -> PathBuf {
    dir(store).join(format!("{key}.sh"))
}

pub fn read(store: &Store, key: &str) -> Option<SubmitRecord> {
    let text = std::fs::read_to_string(dir(store).join(format!("{key}.json"))).ok()?;
    serde_json::from_str(&text).ok()
}

pub fn write(store: &Store, record: &SubmitRecord) -> Result<(), StoreError> {
    let p = dir(store).join(format!("{}.json", record.key));
    atomic::write_json(&p, record).map_err(|e| StoreError::io(&p, e))
}

pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// Held while this process submits a task; removed on drop.
pub struct SubmitGuard {
    path: PathBuf,
}

/// A submit guard older than this belongs to a `run` that died while submitting.
const GUARD_STALE: Duration = Duration::from_secs(60);

impl SubmitGuard {
    /// Waits while another run holds the task's guard (a submission takes a second); takes
    /// over one left by a run killed while submitting once it is stale.
    pub fn acquire(store: &Store, key: &str) -> Result<SubmitGuard, StoreError> {
        let path = dir(store).join(format!("{key}.submit"));
        let tries = 2 * GUARD_STALE.as_millis() / 200;
        for _ in 0..tries {
            match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(_) => return Ok(SubmitGuard { path }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let age = std::fs::metadata(&path).and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok());
                    if age.is_some_and(|a| a > GUARD_STALE) {
                        let _ = std::fs::remove_file(&path);
                    } else {
                        std::thread::sleep(Duration::from_millis(200));
                    }
                }
                Err(e) => return Err(StoreError::io(&path, e)),
            }
        }
        Err(StoreError::io(
            &path,
            std::io::Error::other("another apogrid run kept submitting this task for two minutes"),
        ))
    }
}

impl Drop for SubmitGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Records a failure the job could not record itself (cancelled, timed out, node lost), or
/// adds Slurm's side (state, reason, log) to the record the task wrote before exiting.
pub fn record_failure(plan: &Plan, store: &Store, i: usize, submitted_ms: u64, slurm: &str) -> String {
    let task = &plan.tasks[i];
    let own = store.failed_since(&task.key, submitted_ms / 1000).then(|| store.failure(&task.key)).flatten();
    let (mut manifest, message) = match own {
        Some(m) => {
            let message = format!("{} [{slurm}]", m.error.clone().unwrap_or_default());
            (m, message)
        }
        None => (failure_manifest(plan, i, submitted_ms), slurm.to_string()),
    };
    manifest.error = Some(message.clone());
    if let Err(e) = store.record_failure(&manifest) {
        return format!("{message} (and the failure could not be recorded: {e})");
    }
    message
}

fn failure_manifest(plan: &Plan, i: usize, submitted_ms: u64) -> Manifest {
    let started = UNIX_EPOCH + Duration::from_millis(submitted_ms);
    let seconds = (now_ms().saturating_sub(submitted_ms)) as f64 / 1000.0;
    // The caller fills in the error.
    crate::exec::run_one::manifest(plan, &plan.tasks[i], started, seconds, &Err(String::new()))
}

/// Submission records of a plan's tasks, in plan order.
pub fn of_plan(plan: &Plan, store: &Store) -> Vec<(usize, SubmitRecord)> {
    plan.tasks.iter().enumerate().filter_map(|(i, t)| read(store, &t.key).map(|r| (i, r))).collect()
}
