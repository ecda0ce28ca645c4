//! A task's exclusive claim on a store that several machines share (a cluster's shared
//! filesystem): `.claims/<key>` names the holder's host, pid and Slurm job, and is created
//! atomically (`create_new`, which NFSv3+ and Lustre honour). The store's `LOCK` is a local pid
//! and cannot tell a dead process on another node from a live one; a claim can:
//!
//! - a holder on this host is alive when its pid is;
//! - a holder with a Slurm job is alive while the caller's `job_alive` says so (the cluster
//!   backend asks `squeue`); a requeued job finds its own job id in the claim and takes it back;
//! - otherwise a claim not refreshed for `ttl` has expired: the holder keeps it fresh with a
//!   heartbeat thread, so only a holder that stopped (a dead node) lets it expire.
//!
//! A stale claim is taken over by renaming it aside and checking that what was renamed is the
//! claim judged stale (two takers cannot both win: the loser puts a fresh claim back).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use super::StoreError;
use crate::atomic_file::pid_alive;

/// Who holds a claim.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Holder {
    pub host: String,
    pub pid: u32,
    /// `SLURM_JOB_ID` of the holder, when it runs as a job.
    #[serde(default)]
    pub job_id: Option<String>,
}

impl Holder {
    /// This process.
    pub fn me() -> Holder {
        let job_id = std::env::var("SLURM_JOB_ID").ok().filter(|j| !j.is_empty());
        Holder { host: hostname(), pid: std::process::id(), job_id }
    }
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pid {} on {}", self.pid, self.host)?;
        if let Some(j) = &self.job_id {
            write!(f, " (Slurm job {j})")?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    /// A live holder has the task; wait for it or leave it.
    #[error("task {key} is being run by {holder}")]
    Held { key: String, holder: Holder },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Held while it lives: refreshed by a heartbeat, removed on drop.
#[derive(Debug)]
pub struct TaskClaim {
    path: PathBuf,
    me: Holder,
    stop: Arc<AtomicBool>,
    heartbeat: Option<std::thread::JoinHandle<()>>,
}

/// How long a claim lives without a heartbeat (the heartbeat refreshes it every quarter).
pub const CLAIM_TTL: Duration = Duration::from_secs(600);

impl TaskClaim {
    /// Claims `dir/<key>`. `job_alive(job_id)` says whether a holder's Slurm job still runs
    /// (`None`: cannot tell, e.g. no Slurm here; then only expiry frees the claim).
    pub fn acquire(
        dir: &Path,
        key: &str,
        ttl: Duration,
        job_alive: &dyn Fn(&str) -> Option<bool>,
    ) -> Result<TaskClaim, ClaimError> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
        let path = dir.join(key);
        let me = Holder::me();
        for _ in 0..3 {
            match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(mut f) => {
                    let text = serde_json::to_string(&me).unwrap_or_default();
                    f.write_all(text.as_bytes()).and_then(|_| f.sync_all()).map_err(|e| StoreError::io(&path, e))?;
                    return Ok(TaskClaim::started(path, me, ttl));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let Some((text, holder)) = read_claim(&path) else { continue };
                    if !stale(&path, holder.as_ref(), &me, ttl, job_alive) {
                        let holder = holder.unwrap_or(Holder { host: "?".into(), pid: 0, job_id: None });
                        return Err(ClaimError::Held { key: key.to_string(), holder });
                    }
                    take_over(&path, &text, &me)?;
                }
                Err(e) => return Err(StoreError::io(&path, e).into()),
            }
        }
        Err(StoreError::io(&path, std::io::Error::other("could not create the claim file")).into())
    }

    fn started(path: PathBuf, me: Holder, ttl: Duration) -> TaskClaim {
        let stop = Arc::new(AtomicBool::new(false));
        let (p, s) = (path.clone(), stop.clone());
        let beat = (ttl / 4).max(Duration::from_millis(100));
        let heartbeat = std::thread::spawn(move || {
            let tick = Duration::from_millis(100);
            let mut waited = Duration::ZERO;
            while !s.load(Ordering::Relaxed) {
                std::thread::sleep(tick);
                waited += tick;
                if waited >= beat {
                    waited = Duration::ZERO;
                    if let Ok(f) = std::fs::File::options().write(true).open(&p) {
                        let _ = f.set_modified(SystemTime::now());
                    }
                }
            }
        });
        TaskClaim { path, me, stop, heartbeat: Some(heartbeat) }
    }
}

impl Drop for TaskClaim {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.heartbeat.take() {
            let _ = h.join();
        }
        // Only our own claim: a holder that took it over after we were presumed dead keeps it.
        if read_claim(&self.path).and_then(|(_, h)| h).as_ref() == Some(&self.me) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// The claim's text and holder; `None` when the file vanished meanwhile. An unreadable holder
/// (a half-written file) reads as `Some((text, None))`.
fn read_claim(path: &Path) -> Option<(String, Option<Holder>)> {
    let text = std::fs::read_to_string(path).ok()?;
    let holder = serde_json::from_str(&text).ok();
    Some((text, holder))
}

fn stale(
    path: &Path,
    holder: Option<&Holder>,
    me: &Holder,
    ttl: Duration,
    job_alive: &dyn Fn(&str) -> Option<bool>,
) -> bool {
    let expired = || {
        let age = std::fs::metadata(path).and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok());
        age.is_some_and(|a| a > ttl)
    };
    let Some(h) = holder else { return expired() };
    if h.host == me.host && h.pid == me.pid {
        return true;
    }
    if h.job_id.is_some() && h.job_id == me.job_id {
        // Our own job, requeued (preemption, node failure): its previous run is gone.
        return true;
    }
    if h.host == me.host {
        return !pid_alive(h.pid);
    }
    match h.job_id.as_deref().and_then(job_alive) {
        Some(alive) => !alive,
        None => expired(),
    }
}

/// Moves the stale claim aside; if what moved is not the claim judged stale (another taker
/// replaced it meanwhile), puts it back so its new holder keeps it.
fn take_over(path: &Path, judged: &str, me: &Holder) -> Result<(), StoreError> {
    let aside = path.with_extension(format!("stale.{}.{}", me.host, me.pid));
    match std::fs::rename(path, &aside) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(StoreError::io(path, e)),
    }
    let moved = std::fs::read_to_string(&aside).unwrap_or_default();
    if moved != judged {
        // Fails if yet another claim appeared; then that one stands and ours is dropped.
        let _ = std::fs::hard_link(&aside, path);
    }
    let _ = std::fs::remove_file(&aside);
    Ok(())
}

/// This machine's name, as claims and temp folders record it (`[A-Za-z0-9_-]` only, so it
/// can sit between dots in a file name).
pub fn hostname() -> String {
    let raw = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into());
    let name: String =
        raw.trim().chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
    if name.is_empty() { "localhost".into() } else { name }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_claim_is_held_and_a_dead_ones_taken_over() {
        let dir = tempfile::tempdir().expect("tempdir");
        let never = |_: &str| None;
        let first = TaskClaim::acquire(dir.path(), "k", CLAIM_TTL, &never).expect("first");
        drop(first);
        assert!(!dir.path().join("k").exists(), "released on drop");

        // Another live process on this host holds it.
        let other = Holder { host: hostname(), pid: 1, job_id: None };
        std::fs::write(dir.path().join("k"), serde_json::to_string(&other).expect("json")).expect("write");
        match TaskClaim::acquire(dir.path(), "k", CLAIM_TTL, &never) {
            Err(ClaimError::Held { holder, .. }) => assert_eq!(holder, other),
            other => panic!("expected held, got {other:?}"),
        }
        // A dead pid on this host, or a remote holder whose job Slurm reports gone.
        let dead = Holder { host: hostname(), pid: u32::MAX - 1, job_id: None };
        std::fs::write(dir.path().join("k"), serde_json::to_string(&dead).expect("json")).expect("write");
        drop(TaskClaim::acquire(dir.path(), "k", CLAIM_TTL, &never).expect("dead pid"));
        let remote = Holder { host: "elsewhere".into(), pid: 7, job_id: Some("42".into()) };
        std::fs::write(dir.path().join("k"), serde_json::to_string(&remote).expect("json")).expect("write");
        let held = TaskClaim::acquire(dir.path(), "k", CLAIM_TTL, &|_| Some(true));
        assert!(matches!(held, Err(ClaimError::Held { .. })));
        assert!(matches!(TaskClaim::acquire(dir.path(), "k", CLAIM_TTL, &never), Err(ClaimError::Held { .. })));
        drop(TaskClaim::acquire(dir.path(), "k", CLAIM_TTL, &|j| Some(j != "42")).expect("dead job"));
        // A remote holder nobody can ask about expires.
        std::fs::write(dir.path().join("k"), serde_json::to_string(&remote).expect("json")).expect("write");
        std::thread::sleep(Duration::from_millis(50));
        drop(TaskClaim::acquire(dir.path(), "k", Duration::from_millis(10), &never).expect("expired"));
    }
}
