//! Content digests of files: user files whose content is a task input (a prompts file, a
//! template, an evaluator script) enter task keys through these.

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

/// Hex sha256 of a file's bytes, read in 64 KiB blocks.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match f.read(&mut buf)? {
            0 => return Ok(hex::encode(hasher.finalize())),
            n => hasher.update(&buf[..n]),
        }
    }
}

/// A user file's digest for a task key: its sha256, or `missing` / `unreadable` (the task that
/// reads it then fails, naming it; validation refuses most such grids before that).
pub fn file_key(path: &Path) -> String {
    match sha256_file(path) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => "missing".into(),
        Err(_) => "unreadable".into(),
    }
}

/// A data file's or folder's digest for a task key: a file's [`file_key`]; for a folder, the
/// sha256 of every file's relative path and digest, in path order.
pub fn path_key(path: &Path) -> String {
    if !path.is_dir() {
        return file_key(path);
    }
    let mut files = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.is_dir() { stack.push(p) } else { files.push(p) }
        }
    }
    files.sort();
    let listing: String =
        files.iter().map(|f| format!("{}\t{}\n", f.strip_prefix(path).unwrap_or(f).display(), file_key(f))).collect();
    sha256_bytes(listing.as_bytes())
}

/// Hex sha256 of bytes.
pub fn sha256_bytes(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
