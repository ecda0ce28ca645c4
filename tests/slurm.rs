//! The Slurm executor against a real Slurm: `scripts/slurm-local.sh start` (CI runs it first)
//! brings up a single-node cluster; without one every test here prints why it skipped and
//! passes. The tests share the cluster's CPUs, so they run one at a time.
//!
//! - a micro grid (2 datasets x 2 objectives, 2 epochs) gives byte-identical tables through
//!   Slurm and through the local executor;
//! - a training job cancelled with `apogrid cancel` mid-training is resubmitted by the next
//!   `run` and resumes from its last epoch;
//! - a failing task's job stops only its descendants, and a rerun resubmits only it;
//! - a second `run` while the first is active adopts its jobs and submits nothing twice;
//! - a training job requeued by Slurm (as preemption does) takes its claim back and resumes;
//! - Ctrl-C in `run` cancels the grid's jobs and keeps every finished task.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

mod common;

use common::{BIN, WORLD_EVAL, micro_grid};

static CLUSTER: Mutex<()> = Mutex::new(());

/// A Slurm client command's stdout; `Err` if it cannot run or takes over 10 s (a client whose
/// controller is down retries for minutes).
fn slurm_output(program: &str, args: &[&str]) -> Result<String, String> {
    let mut child = Command::new(program)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("`{program}` not runnable ({e})"))?;
    let clock = Instant::now();
    while child.try_wait().map_err(|e| e.to_string())?.is_none() {
        if clock.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("`{program} {}` did not answer within 10 s", args.join(" ")));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut text = String::new();
    use std::io::Read;
    child.stdout.take().map(|mut o| o.read_to_string(&mut text));
    Ok(text)
}

/// `Err(reason)` when there is no Slurm to test against; asked once per test binary.
fn slurm_ready() -> Result<(), String> {
    static READY: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    READY
        .get_or_init(|| {
            slurm_output("sbatch", &["--version"])?;
            if !slurm_output("scontrol", &["ping"])?.contains("UP") {
                return Err("slurmctld does not answer `scontrol ping`; run scripts/slurm-local.sh start".into());
            }
            let states = slurm_output("sinfo", &["-h", "-o", "%t"])?;
            if !states.lines().any(|s| ["idle", "mix", "alloc"].contains(&s.trim())) {
                return Err(format!("no usable node (sinfo: {})", states.trim()));
            }
            Ok(())
        })
        .clone()
}

/// Takes the cluster for one test, or says why the test skips.
fn cluster(test: &str) -> Option<std::sync::MutexGuard<'static, ()>> {
    match slurm_ready() {
        Ok(()) => Some(CLUSTER.lock().unwrap_or_else(|e| e.into_inner())),
        Err(reason) => {
            eprintln!("skipping {test}: no Slurm cluster: {reason}");
            None
        }
    }
}

/// The Slurm settings of the test grids: fast polling, small jobs.
const EXECUTOR: &str = "[executor]\nkind = \"slurm\"\npoll_s = 0.3\n[executor.resources.default]\ncpus = 1\nmem = \"1G\"\ntime = \"10:00\"\n";

/// The integration tests' micro grid (`tests/common`) with `epochs` epochs, on Slurm; `extra`
/// adds rows and settings.
fn grid(dir: &Path, epochs: usize, extra: &str) -> PathBuf {
    micro_grid(dir, "micro", epochs, WORLD_EVAL, &format!("{EXECUTOR}{extra}"))
}

fn apogrid(args: &[&str], grid: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.arg(args[0]).arg(grid).args(&args[1..]);
    c
}

fn run(grid: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["run"];
    args.extend_from_slice(extra);
    apogrid(&args, grid).output().expect("run apogrid")
}

fn spawn_run(grid: &Path) -> Child {
    apogrid(&["run"], grid).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("spawn apogrid run")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

/// Task ids a run's log says it submitted.
fn submitted(log: &str) -> Vec<String> {
    log.lines()
        .filter_map(|l| l.strip_prefix("submit  "))
        .map(|l| l.split(" -> ").next().unwrap_or(l).to_string())
        .collect()
}

fn tables(results: &Path) -> BTreeMap<String, String> {
    ["table1.csv", "table2.csv", "epochs.csv", "table4.csv"]
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(results.join("micro").join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
            (f.to_string(), text)
        })
        .collect()
}

/// `task.json` of the finished task with this id.
fn manifest(store: &Path, id: &str) -> Option<serde_json::Value> {
    std::fs::read_dir(store).ok()?.flatten().find_map(|e| {
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(e.path().join("task.json")).ok()?).ok()?;
        (v["id"] == id).then_some(v)
    })
}

fn wait_for(what: &str, limit: Duration, mut ready: impl FnMut() -> bool) {
    let clock = Instant::now();
    while !ready() {
        assert!(clock.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn slurm_gives_byte_identical_tables_to_the_local_executor() {
    let Some(_cluster) = cluster("slurm_gives_byte_identical_tables_to_the_local_executor") else { return };
    let rows = "[[dataset]]\nname = \"offp\"\nbuilder = \"judge_off_policy\"\n[[objective]]\nname = \"apo_zero\"\nkind = \"apo_zero\"\n";
    let local = tempfile::tempdir().expect("tempdir");
    let out = run(&grid(local.path(), 2, rows), &["--executor", "local", "--quiet"]);
    assert!(out.status.success(), "{}", stderr(&out));

    let cluster = tempfile::tempdir().expect("tempdir");
    let g = grid(cluster.path(), 2, rows);
    let out = run(&g, &[]);
    let log = stderr(&out);
    assert!(out.status.success(), "{log}");
    assert_eq!(submitted(&log).len(), 20, "one job per task: {log}");
    assert_eq!(tables(&cluster.path().join("results")), tables(&local.path().join("results")));

    let status = apogrid(&["status"], &g).output().expect("status");
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(text.contains("20 done") && text.contains("slurm jobs (20 task(s) submitted)"), "{text}");
    assert!(text.contains("train/offp/apo_zero"), "{text}");
    // Nothing left behind: no claims, no temp folders.
    let store = cluster.path().join("store");
    let left: Vec<_> = std::fs::read_dir(store.join(".tmp")).expect("tmp").flatten().map(|e| e.file_name()).collect();
    assert!(left.is_empty(), "temp folders left behind: {left:?}");
    assert_eq!(std::fs::read_dir(store.join(".claims")).map(|d| d.count()).unwrap_or(0), 0);
}

#[test]
fn a_cancelled_training_job_is_resubmitted_and_resumes() {
    let Some(_cluster) = cluster("a_cancelled_training_job_is_resubmitted_and_resumes") else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    // Enough epochs that the job is still training well after its first epoch's checkpoint.
    let g = grid(dir.path(), 12, "");
    let first = spawn_run(&g);
    let partial = dir.path().join("store").join(".partial");
    let resumable = || {
        std::fs::read_dir(&partial)
            .map(|d| d.flatten().any(|e| e.path().join("resume").join("meta.json").exists()))
            .unwrap_or(false)
    };
    wait_for("the first epoch's checkpoint", Duration::from_secs(120), resumable);
    let cancel = apogrid(&["cancel"], &g).output().expect("cancel");
    let said = String::from_utf8_lossy(&cancel.stdout).to_string();
    assert!(cancel.status.success() && said.contains("(train/clair/dpo)"), "{said}{}", stderr(&cancel));
    let out = first.wait_with_output().expect("first run");
    let log = stderr(&out);
    assert!(!out.status.success(), "{log}");
    assert!(log.contains("FAILED  train/clair/dpo") && log.contains("CANCELLED"), "{log}");
    assert!(!log.contains("submit  eval/clair/dpo"), "descendants were not submitted: {log}");

    let again = run(&g, &[]);
    let log = stderr(&again);
    assert!(again.status.success(), "{log}");
    // Only what was not done: the training run and its evaluations.
    let mut resubmitted = submitted(&log);
    resubmitted.sort();
    assert_eq!(resubmitted[0], "eval/clair/dpo/e01");
    assert_eq!(resubmitted.last().map(String::as_str), Some("train/clair/dpo"));
    assert_eq!(resubmitted.len(), 13, "{log}");
    let train = manifest(&dir.path().join("store"), "train/clair/dpo").expect("train done");
    let resumed = train["summary"]["resumed_from_epoch"].as_u64().expect("resumed_from_epoch");
    assert!(resumed >= 1, "the resubmitted job resumed from its partial state: {train}");
}

#[test]
fn a_failing_job_stops_only_its_descendants() {
    let Some(_cluster) = cluster("a_failing_job_stops_only_its_descendants") else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    // An absurd learning rate makes this cell's loss non-finite: its training job exits 1.
    let extra = "[[objective]]\nname = \"apo_zero\"\nkind = \"apo_zero\"\n[[override]]\ndataset = \"clair\"\nobjective = \"apo_zero\"\nlearning_rate = 1e30\n";
    let g = grid(dir.path(), 2, extra);
    let out = run(&g, &[]);
    let log = stderr(&out);
    assert!(!out.status.success());
    assert!(log.contains("FAILED  train/clair/apo_zero") && log.contains("non-finite loss"), "{log}");
    assert!(log.contains("NonZeroExitCode") && log.contains(".slurm/"), "Slurm's reason and the log: {log}");
    assert!(!log.contains("submit  eval/clair/apo_zero"), "{log}");
    assert!(manifest(&dir.path().join("store"), "eval/clair/dpo/e02").is_some(), "the other cell finished");
    let status = apogrid(&["status"], &g).output().expect("status");
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(text.contains("FAILED train/clair/apo_zero") && text.contains("Slurm job"), "{text}");

    let again = run(&g, &[]);
    assert!(!again.status.success());
    assert_eq!(submitted(&stderr(&again)), ["train/clair/apo_zero"], "{}", stderr(&again));
}

#[test]
fn a_second_run_while_the_first_is_active_submits_nothing_twice() {
    let Some(_cluster) = cluster("a_second_run_while_the_first_is_active_submits_nothing_twice") else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let g = grid(dir.path(), 2, "");
    let first = spawn_run(&g);
    let records = dir.path().join("store").join(".slurm");
    let submitted_any = || {
        std::fs::read_dir(&records)
            .map(|d| d.flatten().any(|e| e.path().extension().is_some_and(|x| x == "json")))
            .unwrap_or(false)
    };
    wait_for("the first submission", Duration::from_secs(60), submitted_any);
    let second = spawn_run(&g);
    let (a, b) = (first.wait_with_output().expect("first"), second.wait_with_output().expect("second"));
    let (la, lb) = (stderr(&a), stderr(&b));
    assert!(a.status.success() && b.status.success(), "{la}\n---\n{lb}");
    let mut all = submitted(&la);
    all.extend(submitted(&lb));
    let total = all.len();
    all.sort();
    all.dedup();
    assert_eq!((all.len(), total), (9, 9), "every task submitted exactly once:\n{la}\n---\n{lb}");
    assert!(lb.contains("adopt   "), "the second run adopted the first one's jobs: {lb}");
    // And each task ran in one job only (the log of a task's jobs is appended to).
    for e in std::fs::read_dir(&records).expect("records").flatten() {
        if e.path().extension().is_some_and(|x| x == "out") {
            let text = std::fs::read_to_string(e.path()).expect("job log");
            assert_eq!(text.matches("apogrid-job start").count(), 1, "{}: {text}", e.path().display());
        }
    }
}

#[test]
fn a_requeued_training_job_takes_its_claim_back_and_resumes() {
    let Some(_cluster) = cluster("a_requeued_training_job_takes_its_claim_back_and_resumes") else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let g = grid(dir.path(), 12, "");
    let first = spawn_run(&g);
    let store = dir.path().join("store");
    let mut key = String::new();
    wait_for("the first epoch's checkpoint", Duration::from_secs(120), || {
        let found = std::fs::read_dir(store.join(".partial")).ok().and_then(|d| {
            d.flatten().find(|e| e.path().join("resume").join("meta.json").exists()).map(|e| e.file_name())
        });
        found.map(|k| key = k.to_string_lossy().to_string()).is_some()
    });
    let record: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(store.join(".slurm").join(format!("{key}.json"))).expect("record"),
    )
    .expect("json");
    let job = record["job_id"].as_str().expect("job id").to_string();
    // What preemption does: the job is killed and queued again under the same id. Slurm holds
    // a requeued job back for two minutes; it may start once its first run has been cleaned
    // up (started before that, Slurm kills it: "Job credential revoked").
    let requeue = Command::new("scontrol").args(["requeue", &job]).output().expect("scontrol requeue");
    assert!(requeue.status.success(), "{}", String::from_utf8_lossy(&requeue.stderr));
    wait_for("the first run's clean-up", Duration::from_secs(60), || {
        let state = slurm_output("squeue", &["-h", "-j", &job, "-o", "%T"]).unwrap_or_default();
        let node = slurm_output("sinfo", &["-h", "-o", "%t"]).unwrap_or_default();
        state.trim() == "PENDING" && !node.contains("comp")
    });
    std::thread::sleep(Duration::from_secs(1));
    let _ = Command::new("scontrol").args(["update", &format!("JobId={job}"), "StartTime=now"]).output();
    let out = first.wait_with_output().expect("run");
    let log = stderr(&out);
    assert!(out.status.success(), "{log}");
    assert_eq!(submitted(&log).len(), 19, "one job per task, none resubmitted: {log}");
    let job_log = std::fs::read_to_string(store.join(".slurm").join(format!("{key}.out"))).expect("job log");
    assert!(job_log.contains(&format!("job {job} restart 1")), "the same job ran again: {job_log}");
    let train = manifest(&store, "train/clair/dpo").expect("train done");
    assert!(train["summary"]["resumed_from_epoch"].as_u64().is_some_and(|e| e >= 1), "{train}");
}

#[test]
fn ctrl_c_in_run_cancels_the_grids_jobs_and_keeps_what_finished() {
    let Some(_cluster) = cluster("ctrl_c_in_run_cancels_the_grids_jobs_and_keeps_what_finished") else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let g = grid(dir.path(), 12, "");
    let run = spawn_run(&g);
    let partial = dir.path().join("store").join(".partial");
    wait_for("the first epoch's checkpoint", Duration::from_secs(120), || {
        std::fs::read_dir(&partial)
            .map(|d| d.flatten().any(|e| e.path().join("resume").join("meta.json").exists()))
            .unwrap_or(false)
    });
    let sent = Command::new("kill").args(["-INT", &run.id().to_string()]).status().expect("kill -INT");
    assert!(sent.success());
    let out = run.wait_with_output().expect("run");
    let log = stderr(&out);
    assert!(!out.status.success(), "{log}");
    assert!(log.contains("interrupted: cancelling 1 job(s)"), "{log}");
    // The six tasks before training stay done; a cancellation is not a task's failure. The
    // job is CANCELLED once Slurm has cleaned it up (COMPLETING until then).
    let mut text = String::new();
    wait_for("the cancelled job's end", Duration::from_secs(30), || {
        let status = apogrid(&["status"], &g).output().expect("status");
        text = String::from_utf8_lossy(&status.stdout).to_string();
        text.lines().any(|l| l.contains(" train/clair/dpo ") && l.contains("CANCELLED"))
    });
    assert!(text.contains("6 done") && text.contains("0 failed"), "{text}");
}
