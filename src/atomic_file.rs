//! Atomic file writes: write a sibling temp file, flush it to disk, rename over the target.
//! A killed process leaves at worst a `*.tmp` file, never a half-written target. Temp names
//! carry the process id and a per-process counter, so threads writing the same path at once
//! (the API response cache) never share a temp file:
//!
//! ```text
//! .<file name>.<pid>.<counter>.tmp      (older versions wrote .<file name>.<pid>.tmp)
//! ```
//!
//! A write that fails (a full disk, a rename onto a folder) removes its temp file before it
//! returns, and every error names the file it was writing. What a killed writer leaves behind
//! is removed by [`remove_dead_temp_files`], which reads the pid back out of the name.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

static NEXT_TMP: AtomicU64 = AtomicU64::new(0);

pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_via(path, bytes, true, open)
}

/// Like [`write`] without the `fsync`: the rename is still atomic against a killed process, but
/// a power loss may leave an empty file. For caches whose readers treat an unreadable entry as
/// a miss, where an `fsync` per entry would cost more than the entry.
pub fn write_unsynced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_via(path, bytes, false, open)
}

pub fn write_json(path: &Path, value: &impl serde::Serialize) -> std::io::Result<()> {
    let mut text = serde_json::to_vec_pretty(value).map_err(|e| named(path, "serializing", e.into()))?;
    text.push(b'\n');
    write(path, &text)
}

/// A temp file being written: what [`write_via`] needs from a file, so tests can inject a
/// failing one (a full disk) without a full disk.
pub(crate) trait TempFile: Write {
    fn sync_all(&self) -> std::io::Result<()>;
}

impl TempFile for std::fs::File {
    fn sync_all(&self) -> std::io::Result<()> {
        std::fs::File::sync_all(self)
    }
}

fn open(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::create(path)
}

/// The writer behind [`write`], with the temp file's opener as a parameter (tests inject one
/// whose writes fail). Whatever fails, the temp file is gone when this returns an error.
pub(crate) fn write_via<F: TempFile>(
    path: &Path,
    bytes: &[u8],
    sync: bool,
    open: impl FnOnce(&Path) -> std::io::Result<F>,
) -> std::io::Result<()> {
    let tmp = temp_path(path)?;
    let written = (|| {
        {
            // Closed before the rename (which some platforms refuse on an open file).
            let mut f = open(&tmp).map_err(|e| named(&tmp, "creating", e))?;
            f.write_all(bytes).map_err(|e| named(&tmp, "writing", e))?;
            f.flush().map_err(|e| named(&tmp, "writing", e))?;
            if sync {
                f.sync_all().map_err(|e| named(&tmp, "syncing", e))?;
            }
        }
        std::fs::rename(&tmp, path).map_err(|e| {
            std::io::Error::new(e.kind(), format!("renaming {} to {}: {e}", tmp.display(), path.display()))
        })
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// `.<name>.<pid>.<counter>.tmp` next to `path`.
fn temp_path(path: &Path) -> std::io::Result<PathBuf> {
    let file_name = path.file_name().ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{} has no file name", path.display()))
    })?;
    let n = NEXT_TMP.fetch_add(1, Ordering::Relaxed);
    Ok(path.with_file_name(format!(".{}.{}.{n}.tmp", file_name.to_string_lossy(), std::process::id())))
}

/// The same error kind (callers test for `NotFound`, a full disk...) with the path in its text.
fn named(path: &Path, doing: &str, e: std::io::Error) -> std::io::Error {
    std::io::Error::new(e.kind(), format!("{doing} {}: {e}", path.display()))
}

/// The pid a temp file name of this module carries, if `name` is one.
fn temp_owner(name: &str) -> Option<u32> {
    let inner = name.strip_prefix('.')?.strip_suffix(".tmp")?;
    let mut parts = inner.rsplit('.');
    let last: u32 = parts.next()?.parse().ok()?;
    let before = parts.next()?;
    // `.<name>.<pid>.<n>.tmp` (both numeric) or the older `.<name>.<pid>.tmp`; a name part
    // must remain either way.
    match before.parse::<u32>() {
        Ok(pid) if parts.next().is_some() => Some(pid),
        _ => Some(last),
    }
}

/// Removes the temp files of writers that are no longer running from `dir` and its
/// subfolders, skipping hidden subfolders (a store under `results/.cache` manages its own).
/// A writer counts as dead when no process has its pid; temp files of live processes (this
/// one included) are kept. Returns the files removed. For a results folder after a kill while
/// a report was written (issue 18: `.table2.tex.<pid>.tmp` left for good).
pub fn remove_dead_temp_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(removed),
        Err(e) => return Err(named(dir, "reading", e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| named(dir, "reading", e))?;
        let (path, name) = (entry.path(), entry.file_name().to_string_lossy().into_owned());
        let kind = entry.file_type().map_err(|e| named(&path, "reading", e))?;
        if kind.is_dir() && !name.starts_with('.') {
            removed.extend(remove_dead_temp_files(&path)?);
        } else if kind.is_file()
            && let Some(pid) = temp_owner(&name)
            && !pid_alive(pid)
        {
            match std::fs::remove_file(&path) {
                Ok(()) => removed.push(path),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(named(&path, "removing", e)),
            }
        }
    }
    removed.sort();
    Ok(removed)
}

/// Whether a process with this pid exists. Linux: `/proc/<pid>`. Elsewhere it answers yes
/// (keep a file, refuse a lock) rather than risk removing a live writer's work.
pub(crate) fn pid_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") { Path::new(&format!("/proc/{pid}")).exists() } else { true }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A temp file whose writes fail as on a full disk.
    struct FullDisk;

    impl Write for FullDisk {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::from(std::io::ErrorKind::StorageFull))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl TempFile for FullDisk {
        fn sync_all(&self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    }

    #[test]
    fn a_failed_write_removes_its_temp_file_and_names_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("eval.json");
        let err = write_via(&target, b"{}", true, |p| open(p).map(|_| FullDisk)).expect_err("disk full");
        assert_eq!(err.kind(), std::io::ErrorKind::StorageFull);
        assert!(err.to_string().contains("writing") && err.to_string().contains(".eval.json."), "{err}");
        assert!(names(dir.path()).is_empty(), "{:?}", names(dir.path()));
    }

    #[test]
    fn a_failed_rename_removes_its_temp_file_and_names_both_paths() {
        let dir = tempfile::tempdir().unwrap();
        // A non-empty folder where the file should go: the rename fails.
        let target = dir.path().join("table2.tex");
        std::fs::create_dir_all(target.join("x")).unwrap();
        let err = write(&target, b"x").expect_err("rename onto a folder");
        assert!(err.to_string().contains("renaming") && err.to_string().contains("table2.tex"), "{err}");
        assert_eq!(names(dir.path()), ["table2.tex"]);
        // A path without a file name names itself.
        let err = write(Path::new("/"), b"x").expect_err("no file name");
        assert!(err.to_string().contains('/'), "{err}");
    }

    #[test]
    fn temp_owners_are_read_from_both_name_forms() {
        assert_eq!(temp_owner(".table2.tex.4242.7.tmp"), Some(4242));
        assert_eq!(temp_owner(".table2.tex.4242.tmp"), Some(4242));
        assert_eq!(temp_owner(".e12.4242.0.tmp"), Some(4242));
        assert_eq!(temp_owner("table2.tex"), None);
        assert_eq!(temp_owner(".x.tmp"), None);
        assert_eq!(temp_owner(".notes.tmp"), None);
    }

    #[test]
    fn dead_writers_temp_files_are_removed_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("figures")).unwrap();
        std::fs::create_dir_all(dir.path().join(".cache")).unwrap();
        let dead = 999_999_999u32; // above Linux's pid_max
        let me = std::process::id();
        for name in [
            format!("figures/.fig4.png.{dead}.3.tmp"),
            format!(".table2.tex.{dead}.tmp"),
            format!(".table1.md.{me}.0.tmp"),
            format!(".cache/.task.json.{dead}.0.tmp"),
            "table2.tex".to_string(),
        ] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        let removed = remove_dead_temp_files(dir.path()).unwrap();
        let rel: Vec<_> = removed.iter().map(|p| p.strip_prefix(dir.path()).unwrap().to_path_buf()).collect();
        assert_eq!(
            rel,
            [PathBuf::from(format!(".table2.tex.{dead}.tmp")), format!("figures/.fig4.png.{dead}.3.tmp").into()]
        );
        assert_eq!(names(dir.path()), [".cache", &format!(".table1.md.{me}.0.tmp"), "figures", "table2.tex"]);
        assert!(remove_dead_temp_files(&dir.path().join("absent")).unwrap().is_empty());
    }
}
