//! The scheduler with test task kinds: order, concurrency cap, failure isolation, skipping of
//! cached tasks, resume after a failure, and the store's atomicity.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use super::slots::{DeviceName, slots};
use super::{ExecOptions, Runner, TaskContext, execute};
use crate::grid::schema::KeepCheckpoints;
use crate::plan::inputs::PruneInput;
use crate::plan::{Labels, Plan, Task, TaskInput, task_key};
use crate::store::Store;

/// A diamond-ish DAG: a -> (b, c) -> d, and an unrelated e -> f.
fn test_plan(salt: &str) -> Plan {
    let mut tasks: Vec<Task> = Vec::new();
    let mut add = |id: &str, deps: Vec<usize>| {
        let parent_keys: Vec<String> = deps.iter().map(|d: &usize| tasks[*d].key.clone()).collect();
        let refs: Vec<&str> = parent_keys.iter().map(String::as_str).collect();
        // Any input will do: the scheduler only reads ids, keys and parents.
        let input = TaskInput::Prune(PruneInput { keep: KeepCheckpoints::All });
        let key = task_key(&input, &refs);
        let key = crate::digest::sha256_bytes(format!("{key}/{id}/{salt}").as_bytes());
        tasks.push(Task { id: id.into(), input, labels: Labels::default(), deps, key });
        tasks.len() - 1
    };
    let a = add("a", vec![]);
    let b = add("b", vec![a]);
    let c = add("c", vec![a]);
    add("d", vec![b, c]);
    let e = add("e", vec![]);
    add("f", vec![e]);
    Plan::new(tasks)
}

#[derive(Default)]
struct Recorder {
    order: Mutex<Vec<String>>,
    running: AtomicUsize,
    max_running: AtomicUsize,
    fail: BTreeSet<String>,
    panic: BTreeSet<String>,
    devices: Mutex<Vec<String>>,
    sleep_ms: u64,
    /// `(id, done in the store then)` of each `after_commit` call.
    committed: Mutex<Vec<(String, bool)>>,
}

impl Runner for Recorder {
    fn run(&self, task: &Task, ctx: &TaskContext) -> anyhow::Result<Value> {
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_running.fetch_max(now, Ordering::SeqCst);
        self.devices.lock().expect("lock").push(ctx.slot.device.to_string());
        // Parents' artifacts must be readable.
        for (parent, dir) in ctx.parents() {
            let text = std::fs::read_to_string(dir.join("out.txt"))?;
            anyhow::ensure!(text == parent.id, "parent {} wrote {text}", parent.id);
        }
        std::thread::sleep(Duration::from_millis(self.sleep_ms));
        self.running.fetch_sub(1, Ordering::SeqCst);
        self.order.lock().expect("lock").push(task.id.clone());
        if self.panic.contains(&task.id) {
            panic!("boom in {}", task.id);
        }
        if self.fail.contains(&task.id) {
            anyhow::bail!("{} failed on purpose", task.id);
        }
        std::fs::write(ctx.out.join("out.txt"), &task.id)?;
        Ok(json!({ "id": task.id }))
    }

    fn after_commit(&self, plan: &Plan, store: &Store, index: usize) -> Vec<String> {
        let task = &plan.tasks[index];
        self.committed.lock().expect("lock").push((task.id.clone(), store.is_done(&task.key)));
        vec![format!("{} seen", task.id)]
    }
}

fn opts(jobs: usize) -> ExecOptions {
    ExecOptions { slots: slots(&[], jobs), targets: None, show_progress: false }
}

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("cache")).expect("store");
    (dir, store)
}

fn pos(order: &[String], id: &str) -> usize {
    order.iter().position(|x| x == id).unwrap_or_else(|| panic!("{id} did not run"))
}

#[test]
fn parents_run_before_children() {
    let (_d, store) = store();
    let plan = test_plan("order");
    let r = Recorder::default();
    let out = execute(&plan, &store, &r, &opts(3)).expect("run");
    assert!(out.success());
    assert_eq!(out.ran.len(), 6);
    let order = r.order.lock().expect("lock").clone();
    assert!(pos(&order, "a") < pos(&order, "b") && pos(&order, "a") < pos(&order, "c"));
    assert!(pos(&order, "b") < pos(&order, "d") && pos(&order, "c") < pos(&order, "d"));
    assert!(pos(&order, "e") < pos(&order, "f"));
    for t in &plan.tasks {
        assert!(store.is_done(&t.key));
        assert_eq!(store.manifest(&t.key).expect("manifest").summary["id"], json!(t.id));
    }
}

#[test]
fn concurrency_never_exceeds_the_slots() {
    for jobs in [1, 2] {
        let (_d, store) = store();
        let r = Recorder { sleep_ms: 40, ..Default::default() };
        execute(&test_plan("cap"), &store, &r, &opts(jobs)).expect("run");
        assert_eq!(r.max_running.load(Ordering::SeqCst), jobs, "jobs={jobs}");
    }
}

#[test]
fn a_failure_skips_only_its_descendants() {
    let (_d, store) = store();
    let plan = test_plan("fail");
    let r = Recorder { fail: ["b".to_string()].into(), ..Default::default() };
    let out = execute(&plan, &store, &r, &opts(2)).expect("run");
    let id = |i: &usize| plan.tasks[*i].id.clone();
    assert_eq!(out.failed.iter().map(|(i, _)| id(i)).collect::<Vec<_>>(), vec!["b"]);
    assert_eq!(out.skipped.iter().map(id).collect::<Vec<_>>(), vec!["d"]);
    let ran: BTreeSet<String> = out.ran.iter().map(id).collect();
    assert_eq!(ran, ["a", "c", "e", "f"].map(String::from).into());
    let failure = store.failure(&plan.tasks[1].key).expect("failure recorded");
    assert!(failure.error.expect("message").contains("failed on purpose"));
    assert!(!store.is_done(&plan.tasks[1].key));
}

#[test]
fn a_panic_is_a_failure_of_that_task() {
    let (_d, store) = store();
    let plan = test_plan("panic");
    let r = Recorder { panic: ["e".to_string()].into(), ..Default::default() };
    let out = execute(&plan, &store, &r, &opts(2)).expect("run");
    assert_eq!(out.failed.len(), 1);
    assert!(out.failed[0].1.contains("boom in e"), "{}", out.failed[0].1);
    assert_eq!(out.ran.len(), 4);
}

#[test]
fn cached_tasks_are_skipped_and_a_failed_run_resumes() {
    let (_d, store) = store();
    let plan = test_plan("resume");
    let r1 = Recorder { fail: ["c".to_string()].into(), ..Default::default() };
    let out1 = execute(&plan, &store, &r1, &opts(1)).expect("run");
    assert_eq!(out1.failed.len(), 1);
    // Second run: only the failed task and what it blocked run.
    let r2 = Recorder::default();
    let out2 = execute(&plan, &store, &r2, &opts(1)).expect("run");
    assert!(out2.success());
    let ran: Vec<String> = r2.order.lock().expect("lock").clone();
    assert_eq!(ran, vec!["c", "d"]);
    assert_eq!(out2.cached.len(), 4);
    assert!(store.failure(&plan.tasks[2].key).is_none(), "success clears the failure record");
    // Third run: nothing to do.
    let r3 = Recorder::default();
    let out3 = execute(&plan, &store, &r3, &opts(2)).expect("run");
    assert!(out3.ran.is_empty());
    assert_eq!(out3.cached.len(), 6);
}

#[test]
fn targets_limit_the_run_to_their_ancestors() {
    let (_d, store) = store();
    let plan = test_plan("targets");
    let r = Recorder::default();
    let mut o = opts(2);
    o.targets = Some(vec![plan.index_of("b").expect("b")]);
    let out = execute(&plan, &store, &r, &o).expect("run");
    let ran: BTreeSet<String> = out.ran.iter().map(|i| plan.tasks[*i].id.clone()).collect();
    assert_eq!(ran, ["a", "b"].map(String::from).into());
}

#[test]
fn each_device_runs_one_task_at_a_time() {
    let (_d, store) = store();
    let devices = [DeviceName::Fake("0".into()), DeviceName::Fake("1".into())];
    let r = Recorder { sleep_ms: 30, ..Default::default() };
    let o = ExecOptions { slots: slots(&devices, 8), targets: None, show_progress: false };
    assert_eq!(o.slots.len(), 2, "one slot per listed GPU, whatever --jobs says");
    execute(&test_plan("devices"), &store, &r, &o).expect("run");
    assert_eq!(r.max_running.load(Ordering::SeqCst), 2);
    let used: BTreeSet<String> = r.devices.lock().expect("lock").iter().cloned().collect();
    assert_eq!(used, ["fake:0", "fake:1"].map(String::from).into());
}

#[test]
fn an_unfinished_task_leaves_nothing_that_looks_done() {
    let (_d, store) = store();
    let key = "k".repeat(64);
    let pending = store.begin(&key).expect("begin");
    std::fs::write(pending.dir.join("half.bin"), b"partial").expect("write");
    // The process "dies" here: the artifact folder must not exist, and the next lock clears temp.
    assert!(!store.is_done(&key));
    assert!(!store.artifact_dir(&key).exists());
    drop(pending);
    let _lock = store.lock().expect("lock");
    assert_eq!(std::fs::read_dir(store.root().join(".tmp")).expect("tmp").count(), 0);
}

#[test]
fn a_second_run_on_the_same_store_is_refused_with_the_holders_pid() {
    let (_d, store) = store();
    let _held = store.lock().expect("first lock");
    // Simulate a live holder other than us: pid 1 always exists on Linux.
    std::fs::write(store.root().join("LOCK"), "1\n").expect("write");
    let err = store.lock().expect_err("second lock must fail");
    assert!(err.to_string().contains("pid 1"), "{err}");
}

#[test]
fn a_stale_lock_from_a_dead_process_is_taken_over() {
    let (_d, store) = store();
    // A pid far above pid_max cannot be alive.
    std::fs::write(store.root().join("LOCK"), "999999999\n").expect("write");
    store.lock().expect("stale lock taken over");
}

#[test]
fn atomic_writes_replace_whole_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("f.json");
    crate::store::atomic::write(&p, b"first").expect("write");
    crate::store::atomic::write(&p, b"second").expect("write");
    assert_eq!(std::fs::read(&p).expect("read"), b"second");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).expect("dir").flatten().map(|e| e.file_name()).collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
}

/// `after_commit` hears of every task that finished well, once, after its commit, and of no
/// failed or skipped one; a task whose parent failed is never run, so never heard of.
#[test]
fn after_commit_follows_each_successful_commit() {
    let (_d, store) = store();
    let plan = test_plan("watch");
    let r = Recorder { fail: ["b".to_string()].into(), ..Recorder::default() };
    let out = execute(&plan, &store, &r, &opts(2)).expect("run");
    assert_eq!(out.failed.len(), 1);
    let mut heard = r.committed.lock().expect("lock").clone();
    heard.sort();
    let want: Vec<(String, bool)> = ["a", "c", "e", "f"].iter().map(|id| (id.to_string(), true)).collect();
    assert_eq!(heard, want);
}
