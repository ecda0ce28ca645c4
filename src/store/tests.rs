//! The store on edited, truncated, half-present and full-disk folders.

use std::io::{Seek, SeekFrom, Write};
use std::path::Path;

use super::*;

const KEY: &str = "0123abcd";

fn manifest(key: &str, status: Status) -> Manifest {
    let failed = status == Status::Failed;
    Manifest {
        id: "train/clair/dpo".into(),
        kind: "train".into(),
        key: key.into(),
        params: serde_json::json!({}),
        labels: serde_json::json!({}),
        parents: vec![],
        tool_version: "test".into(),
        started: "2026-11-30T00:00:00Z".into(),
        finished: "2026-11-30T00:00:01Z".into(),
        seconds: 1.0,
        status,
        error: failed.then(|| "boom".to_string()),
        summary: serde_json::json!({}),
    }
}

/// A store with one done task: a 1 MB checkpoint-like file, a JSON file, a dataset.
fn done_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("cache")).unwrap();
    let pending = store.begin(KEY).unwrap();
    std::fs::create_dir_all(pending.dir.join("epochs/e01")).unwrap();
    let weights: Vec<u8> = (0..1_000_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    std::fs::write(pending.dir.join("epochs/e01/model.safetensors"), weights).unwrap();
    std::fs::write(pending.dir.join("eval.json"), "{\"overall\": 41.0}\n").unwrap();
    std::fs::write(pending.dir.join("train.jsonl"), "{\"chosen\":\"a\",\"rejected\":\"b\"}\n").unwrap();
    store.commit(pending, &manifest(KEY, Status::Done)).unwrap();
    (dir, store)
}

/// Asserts `key` is corrupt at `check` with one problem naming `file`, and that the message
/// names the file and the task.
fn corrupt_at(store: &Store, check: Check, file: &str) -> Problem {
    let c = store.verify(KEY, check).expect_err("corrupt");
    assert_eq!(c.problems.len(), 1, "{c}");
    assert_eq!(c.problems[0].file(), file, "{c}");
    let text = c.to_string();
    assert!(text.contains(file) && text.contains(KEY) && text.contains("train/clair/dpo"), "{text}");
    assert_eq!(store.state(KEY, check), TaskState::Corrupt(c.clone()));
    c.problems[0].clone()
}

#[test]
fn a_commit_records_every_file_and_verifies() {
    let (_dir, store) = done_store();
    let v = store.verify(KEY, Check::Full).unwrap();
    assert_eq!(v.files, Some(3));
    assert_eq!(store.state(KEY, Check::Full), TaskState::Done);
    let text = std::fs::read_to_string(store.artifact_dir(KEY).join("task.json")).unwrap();
    let recorded: Recorded = serde_json::from_str(&text).unwrap();
    let ckpt = &recorded.files.unwrap()["epochs/e01/model.safetensors"];
    assert_eq!((ckpt.size, ckpt.sha256.len()), (1_000_000, 64));
    // Readers of the plain manifest are unaffected.
    assert_eq!(store.manifest(KEY).unwrap(), manifest(KEY, Status::Done));
}

#[test]
fn overwritten_checkpoint_bytes_are_found_by_a_full_check_only() {
    let (_dir, store) = done_store();
    let path = store.artifact_dir(KEY).join("epochs/e01/model.safetensors");
    let mut f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.seek(SeekFrom::Start(400_000)).unwrap();
    f.write_all(&[0xAB; 4096]).unwrap();
    drop(f);
    assert_eq!(store.state(KEY, Check::Sizes), TaskState::Done, "sizes cannot see it");
    let p = corrupt_at(&store, Check::Full, "epochs/e01/model.safetensors");
    assert!(matches!(p, Problem::Digest { .. }), "{p}");
}

#[test]
fn an_edited_json_value_of_the_same_length_is_found() {
    let (_dir, store) = done_store();
    std::fs::write(store.artifact_dir(KEY).join("eval.json"), "{\"overall\": 49.0}\n").unwrap();
    assert!(matches!(corrupt_at(&store, Check::Full, "eval.json"), Problem::Digest { .. }));
}

#[test]
fn truncated_deleted_and_added_files_are_found_by_sizes() {
    let (_dir, store) = done_store();
    let dir = store.artifact_dir(KEY);
    std::fs::write(dir.join("eval.json"), "{\"overall\": 4").unwrap();
    let p = corrupt_at(&store, Check::Sizes, "eval.json");
    assert_eq!(p, Problem::Size { file: "eval.json".into(), expected: 18, found: 13 });
    std::fs::write(dir.join("eval.json"), "{\"overall\": 41.0}\n").unwrap();

    std::fs::remove_file(dir.join("train.jsonl")).unwrap();
    assert!(matches!(corrupt_at(&store, Check::Sizes, "train.jsonl"), Problem::Missing { .. }));
    std::fs::write(dir.join("train.jsonl"), "{\"chosen\":\"a\",\"rejected\":\"b\"}\n").unwrap();

    std::fs::write(dir.join("epochs/notes.txt"), "x").unwrap();
    assert!(matches!(corrupt_at(&store, Check::Sizes, "epochs/notes.txt"), Problem::Extra { .. }));
    std::fs::remove_file(dir.join("epochs/notes.txt")).unwrap();
    assert_eq!(store.state(KEY, Check::Full), TaskState::Done);
}

#[test]
fn a_malformed_or_foreign_manifest_is_corruption_and_a_deleted_one_is_missing() {
    let (_dir, store) = done_store();
    let m = store.artifact_dir(KEY).join("task.json");
    let text = std::fs::read_to_string(&m).unwrap();
    std::fs::write(&m, &text[..text.len() / 2]).unwrap();
    let c = store.verify(KEY, Check::Sizes).expect_err("truncated manifest");
    assert!(c.to_string().contains("task.json: malformed") && c.to_string().contains(KEY), "{c}");
    std::fs::write(&m, text.replace(KEY, "ffff")).unwrap();
    let c = store.verify(KEY, Check::Sizes).expect_err("foreign manifest");
    assert!(c.to_string().contains("records key ffff"), "{c}");
    std::fs::remove_file(&m).unwrap();
    assert_eq!(store.state(KEY, Check::Full), TaskState::Missing);
}

#[test]
fn manifests_written_before_digests_read_as_done_and_unchecked() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    std::fs::create_dir_all(store.artifact_dir(KEY)).unwrap();
    std::fs::write(store.artifact_dir(KEY).join("eval.json"), "{}").unwrap();
    let old = serde_json::to_string(&manifest(KEY, Status::Done)).unwrap();
    std::fs::write(store.artifact_dir(KEY).join("task.json"), old).unwrap();
    assert_eq!(store.verify(KEY, Check::Full), Ok(Verified { files: None, bytes: 0 }));
    assert_eq!(store.state(KEY, Check::Full), TaskState::Done);
}

#[test]
fn a_half_present_folder_is_replaced_by_the_commit() {
    let (_dir, store) = done_store();
    let target = store.artifact_dir(KEY);
    std::fs::remove_file(target.join("task.json")).unwrap();
    assert_eq!(store.state(KEY, Check::Sizes), TaskState::Missing);
    let pending = store.begin(KEY).unwrap();
    std::fs::write(pending.dir.join("eval.json"), "{\"overall\": 50.0}\n").unwrap();
    store.commit(pending, &manifest(KEY, Status::Done)).unwrap();
    assert_eq!(store.state(KEY, Check::Full), TaskState::Done);
    assert_eq!(std::fs::read_to_string(target.join("eval.json")).unwrap(), "{\"overall\": 50.0}\n");
    assert!(!target.join("train.jsonl").exists(), "the stale folder's files are gone");
    assert_eq!(std::fs::read_dir(store.root().join(".tmp")).unwrap().count(), 0);
}

#[test]
fn a_commit_over_a_corrupt_folder_keeps_the_old_one_in_quarantine() {
    let (_dir, store) = done_store();
    std::fs::write(store.artifact_dir(KEY).join("eval.json"), "{}").unwrap();
    let pending = store.begin(KEY).unwrap();
    std::fs::write(pending.dir.join("eval.json"), "{\"overall\": 41.0}\n").unwrap();
    store.commit(pending, &manifest(KEY, Status::Done)).unwrap();
    assert_eq!(store.state(KEY, Check::Full), TaskState::Done);
    let kept: Vec<_> = std::fs::read_dir(store.root().join(".corrupt")).unwrap().flatten().collect();
    assert_eq!(kept.len(), 1);
    assert_eq!(std::fs::read_to_string(kept[0].path().join("eval.json")).unwrap(), "{}");
}

#[test]
fn quarantine_moves_the_folder_aside_and_the_task_is_not_done() {
    let (_dir, store) = done_store();
    let first = store.quarantine(KEY).unwrap();
    assert!(first.starts_with(store.root().join(".corrupt")) && first.join("eval.json").is_file());
    assert_eq!(store.state(KEY, Check::Sizes), TaskState::Missing);
    std::fs::create_dir_all(store.artifact_dir(KEY)).unwrap();
    let second = store.quarantine(KEY).unwrap();
    assert_ne!(first, second, "a second quarantine in the same second gets its own name");
    let err = store.quarantine(KEY).expect_err("nothing to move");
    assert!(err.to_string().contains(KEY), "{err}");
}

fn full_disk(_: &Path, _: &[u8]) -> std::io::Result<()> {
    Err(std::io::Error::from(std::io::ErrorKind::StorageFull))
}

#[test]
fn a_full_disk_releases_the_reserve_for_the_failure_record() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let _lock = store.lock().unwrap();
    let reserve = store.root().join(".failed/.reserve");
    assert_eq!(std::fs::metadata(&reserve).unwrap().len(), failure::RESERVE_BYTES as u64);
    // A record's temp file left by a killed run goes when the next run takes the lock.
    let dead = store.root().join(".failed/.k.json.999999999.0.tmp");
    std::fs::write(&dead, b"{").unwrap();
    drop(_lock);
    let _lock = store.lock().unwrap();
    assert!(!dead.exists());
    // Full while the reserve takes the room; releasing it makes room.
    let write = |p: &Path, b: &[u8]| if reserve.exists() { full_disk(p, b) } else { atomic::write(p, b) };
    store.fail_with(store.begin(KEY).unwrap(), &manifest(KEY, Status::Failed), &write).unwrap();
    let fresh = Store::open(dir.path()).unwrap();
    assert_eq!(fresh.failure(KEY).unwrap().error.as_deref(), Some("boom"));
}

#[test]
fn with_no_room_at_all_an_empty_marker_or_memory_keeps_the_failure() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    // Content refused, an empty file still possible (an inode, no data block).
    let only_empty = |p: &Path, b: &[u8]| if b.is_empty() { atomic::write(p, b) } else { full_disk(p, b) };
    let err = store.fail_with(store.begin(KEY).unwrap(), &manifest(KEY, Status::Failed), &only_empty).unwrap_err();
    assert!(err.to_string().contains("train/clair/dpo") && err.to_string().contains("marker"), "{err}");
    assert_eq!(store.failure(KEY).unwrap().error.as_deref(), Some("boom"), "this run still has the error");
    let fresh = Store::open(dir.path()).unwrap();
    let f = fresh.failure(KEY).expect("the marker counts it as failed for `status`");
    assert!(f.error.unwrap().contains("could not be written"));

    // Nothing at all: memory only, for the run's summary.
    let other = "99ff";
    let err = store.fail_with(store.begin(other).unwrap(), &manifest(other, Status::Failed), &full_disk).unwrap_err();
    assert!(err.to_string().contains("memory"), "{err}");
    assert_eq!(store.unrecorded_failures().len(), 2);
    assert!(Store::open(dir.path()).unwrap().failure(other).is_none());

    // Success clears every trace.
    let pending = store.begin(KEY).unwrap();
    store.commit(pending, &manifest(KEY, Status::Done)).unwrap();
    assert!(store.failure(KEY).is_none() && fresh.failure(KEY).is_none());
    assert_eq!(store.unrecorded_failures().len(), 1);
}

/// The same on a real full filesystem. Needs an empty small one (root: `mount -t tmpfs -o
/// size=1m tmpfs DIR`), named by `APOGRID_TEST_FULL_FS=DIR`; `.ci/run` mounts one. Skipped,
/// saying so, without it.
#[test]
fn a_real_full_disk_still_records_failures() {
    let Some(fs) = std::env::var_os("APOGRID_TEST_FULL_FS") else {
        eprintln!("skipped: APOGRID_TEST_FULL_FS names no small empty filesystem (.ci/run mounts one)");
        return;
    };
    let root = Path::new(&fs).join("store");
    let store = Store::open(&root).unwrap();
    let _lock = store.lock().unwrap();
    assert!(root.join(".failed/.reserve").is_file(), "the filesystem must hold the reserve");
    // Fill what is left.
    let filler = Path::new(&fs).join("filler");
    let mut f = std::fs::File::create(&filler).unwrap();
    while f.write_all(&[7u8; 4096]).is_ok() {}
    drop(f);
    let target = root.join("eval.json");
    let err = atomic::write(&target, &[1u8; 8192]).expect_err("full");
    assert!(err.to_string().contains(".eval.json."), "{err}");
    assert_eq!(
        std::fs::read_dir(&root)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(".eval.json."))
            .count(),
        0
    );
    // The first failure takes the reserve; later ones leave an empty marker.
    store.fail(store.begin(KEY).unwrap(), &manifest(KEY, Status::Failed)).unwrap();
    let mut markers = 0;
    for i in 0..200 {
        let key = format!("k{i:03}");
        if store.fail(store.begin(&key).unwrap(), &manifest(&key, Status::Failed)).is_err() {
            markers += 1;
            assert!(Store::open(&root).unwrap().failure(&key).is_some(), "{key} counts as failed");
        }
    }
    eprintln!("records after the reserve ran out: {markers} of 200 kept as markers or in memory");
    assert_eq!(Store::open(&root).unwrap().failure(KEY).unwrap().error.as_deref(), Some("boom"));
    std::fs::remove_file(&filler).unwrap();
    std::fs::remove_dir_all(&root).unwrap();
}
