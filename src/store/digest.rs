//! What an artifact folder holds, file by file: relative path, size and sha256. Recorded in
//! `task.json` at commit, compared by [`super::verify`].

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The manifest's own file: never listed (it cannot hold its own digest).
pub const MANIFEST: &str = "task.json";

/// One artifact file as committed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileDigest {
    pub size: u64,
    /// Lower-case hex.
    pub sha256: String,
}

/// Artifact files by path relative to the artifact folder, `/`-separated.
pub type FileDigests = BTreeMap<String, FileDigest>;

/// Every file under `dir` but the top-level `task.json`, with its size (from the metadata,
/// cheap) and, when `hash`, its sha256 (reads the file).
pub fn scan(dir: &Path, hash: bool) -> std::io::Result<BTreeMap<String, (u64, Option<String>)>> {
    let mut out = BTreeMap::new();
    walk(dir, "", hash, &mut out)?;
    Ok(out)
}

/// [`scan`] with digests, in the form `task.json` records.
pub fn digest_dir(dir: &Path) -> std::io::Result<FileDigests> {
    Ok(scan(dir, true)?
        .into_iter()
        .map(|(name, (size, sha))| (name, FileDigest { size, sha256: sha.unwrap_or_default() }))
        .collect())
}

fn walk(
    dir: &Path,
    prefix: &str,
    hash: bool,
    out: &mut BTreeMap<String, (u64, Option<String>)>,
) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir).map_err(|e| named(dir, e))? {
        let entry = entry.map_err(|e| named(dir, e))?;
        let path = entry.path();
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        // Follows symlinks: what a reader would get is what is checked.
        let meta = std::fs::metadata(&path).map_err(|e| named(&path, e))?;
        if meta.is_dir() {
            walk(&path, &format!("{name}/"), hash, out)?;
        } else if name != MANIFEST {
            let sha = if hash { Some(sha256_file(&path)?) } else { None };
            out.insert(name, (meta.len(), sha));
        }
    }
    Ok(())
}

/// The sha256 of a file's bytes, lower-case hex, read in 1 MiB chunks.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path).map_err(|e| named(path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(|e| named(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

fn named(path: &Path, e: std::io::Error) -> std::io::Error {
    std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}
