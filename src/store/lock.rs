//! One `run` per store at a time: a lock file holding the owner's pid, created exclusively.
//! A lock left by a dead process (a SIGKILL) is taken over; a live holder is named in the error.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::StoreError;
use crate::atomic_file::pid_alive;

/// Held while it lives; removes the lock file on drop.
#[derive(Debug)]
pub struct StoreLock {
    path: PathBuf,
}

impl StoreLock {
    pub fn acquire(path: &Path) -> Result<StoreLock, StoreError> {
        for _ in 0..3 {
            match std::fs::OpenOptions::new().write(true).create_new(true).open(path) {
                Ok(mut f) => {
                    writeln!(f, "{}", std::process::id()).map_err(|e| StoreError::io(path, e))?;
                    return Ok(StoreLock { path: path.to_path_buf() });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let text = std::fs::read_to_string(path).unwrap_or_default();
                    match text.trim().parse::<u32>() {
                        Ok(pid) if pid_alive(pid) && pid != std::process::id() => {
                            return Err(StoreError::Locked { path: path.to_path_buf(), pid });
                        }
                        // Dead holder or unreadable lock: take it over.
                        _ => {
                            let _ = std::fs::remove_file(path);
                        }
                    }
                }
                Err(e) => return Err(StoreError::io(path, e)),
            }
        }
        Err(StoreError::io(path, std::io::Error::other("could not create the lock file")))
    }
}

impl Drop for StoreLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
