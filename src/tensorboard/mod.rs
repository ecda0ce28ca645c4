//! TensorBoard event files, written as *views*: each write replaces a folder's event file with
//! one holding everything it should hold now, so whoever writes (a training run at each epoch,
//! an evaluation when it ends, the report after a run) never appends twice what a resumed run
//! logged again, and nothing written before a kill is lost: the view is made from the store.
//!
//! Why a new file per write, not one file rewritten in place: TensorBoard keeps each event
//! file it has seen open and reads on from where it stopped, so a file replaced under the same
//! name would never be read again. Each view is therefore a new *generation*
//! (`events.out.tfevents.<generation>.apogrid`, zero-padded so names sort by age), and the
//! older generations are deleted once it is in place. TensorBoard reads the new file from its
//! start; a step it has already seen for a tag makes it drop that tag's points from that step
//! on ("out-of-order steps" purge), so what it shows is exactly the newest view. A view equal
//! to the newest file is not written again.
//!
//! - [`record`]: TFRecord framing with masked CRC-32C;
//! - [`event`]: the protobuf messages;
//! - [`write_view`] / [`read_view`]: a folder's newest generation.

pub mod event;
pub mod record;

use std::path::{Path, PathBuf};

use prost::Message;

pub use event::Event;

/// Event files this module writes start with this; TensorBoard reads any file whose name
/// contains `tfevents`.
const PREFIX: &str = "events.out.tfevents.";
const SUFFIX: &str = ".apogrid";
/// Where a view is written before it is renamed to its generation's name: a name without
/// `tfevents`, so TensorBoard never reads a half-written view.
const STAGED: &str = ".view.staged";
/// Held (`flock`) while a view is made, so two writers of one folder (threads or processes)
/// never interleave their generations.
const LOCK: &str = ".lock";

#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {source}")]
    Record { path: PathBuf, source: record::RecordError },
    #[error("{path}: record {index} is no event: {source}")]
    Decode { path: PathBuf, index: usize, source: prost::DecodeError },
    #[error("{0}: no event file")]
    Missing(PathBuf),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ViewError + '_ {
    move |source| ViewError::Io { path: path.to_path_buf(), source }
}

/// The bytes of an event file: the version record (at the earliest wall time, so the same
/// events always give the same bytes), then `events`.
pub fn encode(events: &[Event]) -> Vec<u8> {
    let start = events.iter().map(|e| e.wall_time).fold(f64::INFINITY, f64::min);
    let start = if start.is_finite() { start } else { 0.0 };
    let mut bytes = Vec::new();
    for e in std::iter::once(&Event::version_record(start)).chain(events) {
        record::append(&mut bytes, &e.encode_to_vec());
    }
    bytes
}

/// Makes `events` the view of `dir` (created if missing). Returns the new file, or `None`
/// when the newest file already holds exactly these events.
pub fn write_view(dir: &Path, events: &[Event]) -> Result<Option<PathBuf>, ViewError> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let lock_path = dir.join(LOCK);
    let lock = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path);
    let lock = lock.map_err(io(&lock_path))?;
    lock.lock().map_err(io(&lock_path))?;
    let bytes = encode(events);
    let older = generations(dir)?;
    if let Some((_, newest)) = older.last()
        && std::fs::read(newest).is_ok_and(|b| b == bytes)
    {
        return Ok(None);
    }
    let next = older.last().map_or(1, |(g, _)| g + 1);
    let staged = dir.join(STAGED);
    crate::atomic_file::write(&staged, &bytes).map_err(io(&staged))?;
    let path = dir.join(format!("{PREFIX}{next:010}{SUFFIX}"));
    std::fs::rename(&staged, &path).map_err(io(&path))?;
    for (_, old) in older {
        match std::fs::remove_file(&old) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(&old)(e)),
            _ => {}
        }
    }
    Ok(Some(path))
}

/// The events of `dir`'s newest view (its version record left out), every record's checksums
/// checked.
pub fn read_view(dir: &Path) -> Result<Vec<Event>, ViewError> {
    let (_, path) = generations(dir)?.pop().ok_or_else(|| ViewError::Missing(dir.to_path_buf()))?;
    read_file(&path)
}

/// Every event of an event file, the version record included.
pub fn read_file(path: &Path) -> Result<Vec<Event>, ViewError> {
    let bytes = std::fs::read(path).map_err(io(path))?;
    let records = record::split(&bytes).map_err(|source| ViewError::Record { path: path.to_path_buf(), source })?;
    let mut events = Vec::with_capacity(records.len());
    for (index, r) in records.into_iter().enumerate() {
        let e = Event::decode(r).map_err(|source| ViewError::Decode { path: path.to_path_buf(), index, source })?;
        events.push(e);
    }
    if events.first().and_then(|e| e.file_version.as_deref()) == Some(event::FILE_VERSION) {
        events.remove(0);
    }
    Ok(events)
}

/// The event files of this module in `dir`, oldest first, with their generation numbers.
pub fn generations(dir: &Path) -> Result<Vec<(u64, PathBuf)>, ViewError> {
    let mut found = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(e) => return Err(io(dir)(e)),
    };
    for entry in entries {
        let entry = entry.map_err(io(dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(g) = name.strip_prefix(PREFIX).and_then(|r| r.strip_suffix(SUFFIX)).and_then(|g| g.parse().ok()) {
            found.push((g, entry.path()));
        }
    }
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(steps: i64) -> Vec<Event> {
        (1..=steps).map(|s| Event::scalars(100.0 + s as f64, s, &[("train/loss".into(), 1.0 / s as f64)])).collect()
    }

    #[test]
    fn each_view_is_a_new_generation_that_replaces_the_old_one() {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("clair/dpo");
        let first = write_view(&run, &events(2)).unwrap().expect("written");
        assert!(first.ends_with("events.out.tfevents.0000000001.apogrid"), "{}", first.display());
        assert_eq!(read_view(&run).unwrap(), events(2));
        // The same events again: nothing written.
        assert_eq!(write_view(&run, &events(2)).unwrap(), None);
        // A longer view replaces the file: one event file, the new generation.
        let second = write_view(&run, &events(3)).unwrap().expect("written");
        assert!(second.ends_with("events.out.tfevents.0000000002.apogrid"));
        assert_eq!(generations(&run).unwrap().len(), 1);
        assert_eq!(read_view(&run).unwrap(), events(3));
        // Only the lock is left beside it: no staged or temp file that TensorBoard could read.
        let mut names: Vec<String> =
            std::fs::read_dir(&run).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        assert_eq!(names, vec![".lock".to_string(), "events.out.tfevents.0000000002.apogrid".to_string()]);
    }

    #[test]
    fn the_file_starts_with_its_version_and_damage_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_view(dir.path(), &events(1)).unwrap().unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let records = record::split(&bytes).unwrap();
        let version = Event::decode(records[0]).unwrap();
        assert_eq!((version.file_version.as_deref(), version.wall_time), (Some("brain.Event:2"), 101.0));
        let mut broken = bytes.clone();
        let last = broken.len() - 6;
        broken[last] ^= 0xff;
        std::fs::write(&path, broken).unwrap();
        let err = read_view(dir.path()).unwrap_err().to_string();
        assert!(err.contains("events.out.tfevents.") && err.contains("record 1") && err.contains("checksum"), "{err}");
    }
}
