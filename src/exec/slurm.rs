//! The Slurm executor backend: each ready task is submitted as one batch job running
//! `apogrid task GRID ID --store STORE` against the shared store, and the queue is polled
//! (`squeue`) until every job has ended: Snakemake's design, not a whole DAG submitted up front
//! with `--dependency=afterok`. Why:
//!
//! - the queue holds only ready tasks (at most a few dozen for the paper's grid), never the
//!   grid's 430 jobs at once, so per-user job limits (`MaxSubmitJobs`) are not hit;
//! - the store, not Slurm's accounting (often absent; `sacct` needs slurmdbd), says what is
//!   done: a job's task is done when its artifact folder appears; a job that ended otherwise is
//!   a failure, with the state and reason `squeue --states=all` still shows;
//! - a failure skips its descendants before they are ever queued (nothing to cancel), and a
//!   rerun, or a second `run` while the first is active, adopts the jobs still queued (their
//!   ids are recorded in `<store>/.slurm/`) and submits only what is neither done nor queued.
//!
//! The cost is a `run` process that stays up while the grid runs (a login node, `tmux`), and a
//! poll interval between a job's end and its children's submission.

pub mod queue;
pub mod record;
pub mod sbatch;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::progress::TaskProgress;
use super::scheduler::Scheduler;
use super::{Executor, Runner};
use crate::grid::executor::SlurmSettings;
use crate::plan::Plan;
use crate::store::{Holder, Store, StoreError};
use queue::JobInfo;
use record::{SubmitGuard, SubmitRecord};
use sbatch::JobContext;

pub struct SlurmExecutor {
    pub settings: SlurmSettings,
    pub job: JobContext,
    /// Set by Ctrl-C: cancel this run's jobs and stop.
    pub interrupted: Arc<AtomicBool>,
}

/// A submitted (or adopted) job this run waits for.
struct Tracked {
    record: SubmitRecord,
    progress: TaskProgress,
    /// When the job was first seen ended without its task done (the store may lag on NFS).
    ended_at: Option<Instant>,
    /// When its task was first seen done while the job was still running (exiting).
    done_at: Option<Instant>,
}

/// How long a job may have ended before its task's artifacts must be visible.
const COMMIT_GRACE: Duration = Duration::from_secs(20);
/// How long a job must stay ended before it counts as failed (a requeue passes through an
/// ended state; measured well under a second on the test cluster).
const END_CONFIRM: Duration = Duration::from_secs(5);
/// How far apart the clocks of the machines that submit may be.
const CLOCK_SLACK_MS: u64 = 5_000;
/// Consecutive failed polls of the queue before the run gives up on its jobs (they keep
/// running; a rerun adopts them).
const MAX_POLL_FAILURES: u32 = 30;

enum Check {
    Waiting(String),
    Done(Value, f64),
    Failed(String),
}

impl Executor for SlurmExecutor {
    /// Submits ready tasks, polls, and reports each job's end to the scheduler. The runner is
    /// not used here: each job runs the task in its own `apogrid task` process.
    fn execute(&self, sched: &mut Scheduler, _runner: &dyn Runner) -> Result<(), StoreError> {
        let store = sched.store;
        let dir = record::dir(store);
        std::fs::create_dir_all(&dir).map_err(|e| StoreError::io(&dir, e))?;
        store.clear_dead_tmp();
        let mut tracked: BTreeMap<usize, Tracked> = BTreeMap::new();
        let mut poll_failures = 0;
        loop {
            if self.interrupted.load(Ordering::Relaxed) {
                self.cancel_all(sched, &mut tracked);
                return Ok(());
            }
            self.submit_ready(sched, &mut tracked)?;
            if sched.running() == 0 {
                return Ok(());
            }
            self.sleep();
            let jobs = match queue::poll() {
                Ok(jobs) => {
                    poll_failures = 0;
                    jobs
                }
                Err(e) => {
                    poll_failures += 1;
                    sched.progress.log(&format!("warning: {e}"));
                    if poll_failures >= MAX_POLL_FAILURES {
                        self.give_up(sched, &mut tracked, &e.to_string());
                        return Ok(());
                    }
                    continue;
                }
            };
            self.collect(sched, &mut tracked, &jobs);
        }
    }
}

impl SlurmExecutor {
    /// Sleeps one poll interval, waking early on Ctrl-C.
    fn sleep(&self) {
        let end = Instant::now() + Duration::from_secs_f64(self.settings.poll_s);
        while Instant::now() < end && !self.interrupted.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(50).min(end.saturating_duration_since(Instant::now())));
        }
    }

    fn submit_ready(&self, sched: &mut Scheduler, tracked: &mut BTreeMap<usize, Tracked>) -> Result<(), StoreError> {
        let (plan, store) = (sched.plan, sched.store);
        let mut queue_now = None;
        while let Some(i) = sched.next_ready() {
            let task = &plan.tasks[i];
            let _guard = SubmitGuard::acquire(store, &task.key)?;
            // A job submitted (by another run) after the last look at the queue needs a new look.
            // When the queue cannot be read, a recorded job is adopted rather than doubled.
            let alive = |r: &SubmitRecord, q: &mut Option<(u64, Option<HashMap<String, JobInfo>>)>| {
                if q.as_ref().is_none_or(|(at, _)| r.submitted_ms + CLOCK_SLACK_MS >= *at) {
                    *q = Some((record::now_ms(), queue::poll().ok()));
                }
                let jobs = q.as_ref().and_then(|(_, jobs)| jobs.as_ref());
                jobs.is_none_or(|jobs| jobs.get(&r.job_id).is_some_and(|j| !j.is_terminal()))
            };
            // The job's state first, then the store: a job that ended did so after its commit.
            let live = record::read(store, &task.key).filter(|r| alive(r, &mut queue_now));
            if live.is_none() && store.is_done(&task.key) {
                // Finished meanwhile by another run's job.
                let summary = store.manifest(&task.key).map(|m| m.summary).unwrap_or(Value::Null);
                sched.finished(i, Ok(summary), 0.0);
                continue;
            }
            let record = match live {
                Some(r) => {
                    sched.progress.log(&format!("adopt   {} (job {} already queued)", task.id, r.job_id));
                    r
                }
                None => match self.submit(plan, store, i) {
                    Ok(r) => {
                        sched.progress.log(&format!("submit  {} -> job {}", task.id, r.job_id));
                        r
                    }
                    Err(message) => {
                        let message = record::record_failure(plan, store, i, record::now_ms(), &message);
                        sched.finished(i, Err(message), 0.0);
                        continue;
                    }
                },
            };
            let progress = sched.progress.start(&task.id);
            progress.set(format!("job {} submitted", record.job_id));
            tracked.insert(i, Tracked { record, progress, ended_at: None, done_at: None });
        }
        Ok(())
    }

    /// Writes the job script and submits it; records the submission.
    fn submit(&self, plan: &Plan, store: &Store, i: usize) -> Result<SubmitRecord, String> {
        let task = &plan.tasks[i];
        let script_path = record::script_path(store, &task.key);
        let log = record::log_path(store, &task.key);
        let script = sbatch::script(&self.settings, &self.job, task);
        crate::store::atomic::write(&script_path, script.as_bytes())
            .map_err(|e| format!("cannot write the job script {}: {e}", script_path.display()))?;
        let args = sbatch::args(&self.settings, &self.job, task, &log, &script_path);
        let submitted_ms = record::now_ms();
        let job_id = sbatch::submit(&args).map_err(|e| format!("sbatch refused the job: {e}"))?;
        let record = SubmitRecord {
            id: task.id.clone(),
            key: task.key.clone(),
            job_id,
            submitted_ms,
            submitted: humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string(),
            by: Holder::me(),
            log,
        };
        if let Err(e) = record::write(store, &record) {
            // The job runs either way; only `status`, `cancel` and adoption by a later run miss it.
            eprintln!("warning: job {} submitted, but its record was not written: {e}", record.job_id);
        }
        Ok(record)
    }

    /// Reports every tracked job that has ended.
    fn collect(&self, sched: &mut Scheduler, tracked: &mut BTreeMap<usize, Tracked>, jobs: &HashMap<String, JobInfo>) {
        let indices: Vec<usize> = tracked.keys().copied().collect();
        for i in indices {
            let Some(t) = tracked.get_mut(&i) else { continue };
            match check(sched.plan, sched.store, i, t, jobs.get(&t.record.job_id)) {
                Check::Waiting(state) => t.progress.set(format!("job {} {state}", t.record.job_id)),
                Check::Done(summary, seconds) => {
                    t.progress.finish();
                    tracked.remove(&i);
                    sched.finished(i, Ok(summary), seconds);
                }
                Check::Failed(message) => {
                    t.progress.finish();
                    let submitted = t.record.submitted_ms;
                    tracked.remove(&i);
                    let message = record::record_failure(sched.plan, sched.store, i, submitted, &message);
                    sched.finished(i, Err(message), 0.0);
                }
            }
        }
    }

    /// Ctrl-C: cancels this run's jobs; finished tasks stay in the store, partial state too.
    fn cancel_all(&self, sched: &mut Scheduler, tracked: &mut BTreeMap<usize, Tracked>) {
        let ids: Vec<String> = tracked.values().map(|t| t.record.job_id.clone()).collect();
        sched.progress.log(&format!("interrupted: cancelling {} job(s) {}", ids.len(), ids.join(" ")));
        if let Err(e) = queue::cancel(&ids) {
            sched.progress.log(&format!("warning: {e}"));
        }
        sched.stop();
        for (i, t) in std::mem::take(tracked) {
            t.progress.finish();
            let done = sched.store.is_done(&sched.plan.tasks[i].key);
            let result = if done { Ok(Value::Null) } else { Err(format!("cancelled (job {})", t.record.job_id)) };
            sched.finished(i, result, 0.0);
        }
    }

    /// Slurm cannot be asked any more: this run stops waiting; the jobs go on.
    fn give_up(&self, sched: &mut Scheduler, tracked: &mut BTreeMap<usize, Tracked>, why: &str) {
        sched.stop();
        for (i, t) in std::mem::take(tracked) {
            t.progress.finish();
            let message = format!("lost track of job {} ({why}); rerun to adopt it", t.record.job_id);
            sched.finished(i, Err(message), 0.0);
        }
    }
}

/// One tracked job against the store and the queue.
fn check(plan: &Plan, store: &Store, i: usize, t: &mut Tracked, job: Option<&JobInfo>) -> Check {
    let key = &plan.tasks[i].key;
    if store.is_done(key) {
        // The job commits, then releases its claim and exits: wait for that (bounded), so a
        // `run` does not return while its last job still holds a claim in the store.
        if let Some(j) = job.filter(|j| !j.is_terminal())
            && t.done_at.get_or_insert_with(Instant::now).elapsed() < COMMIT_GRACE
        {
            return Check::Waiting(format!("done, job {}", j.state.to_lowercase()));
        }
        return match store.manifest(key) {
            Ok(m) => Check::Done(m.summary, m.seconds),
            Err(e) => Check::Failed(format!("the task's manifest is unreadable: {e}")),
        };
    }
    let log = t.record.log.display();
    let id = &t.record.job_id;
    match job {
        Some(j) if !j.is_terminal() => {
            t.ended_at = None;
            Check::Waiting(j.state.to_lowercase())
        }
        // Completed: the rename into the store may not be visible here yet (NFS caches).
        Some(j) if j.state == "COMPLETED" && t.ended_at.get_or_insert_with(Instant::now).elapsed() < COMMIT_GRACE => {
            Check::Waiting("completed, waiting for its artifacts".into())
        }
        // A job being requeued (preemption, `scontrol requeue`) shows its kill as FAILED for a
        // moment before it is pending again.
        Some(j) if j.state != "COMPLETED" && t.ended_at.get_or_insert_with(Instant::now).elapsed() < END_CONFIRM => {
            Check::Waiting(format!("{}, checking it is not requeued", j.state.to_lowercase()))
        }
        Some(j) => Check::Failed(format!("Slurm job {id} {} (reason {}); log {log}", j.state, j.reason)),
        None if t.ended_at.get_or_insert_with(Instant::now).elapsed() < COMMIT_GRACE => {
            Check::Waiting("left the queue".into())
        }
        None => Check::Failed(format!("Slurm job {id} left the queue without finishing the task; log {log}")),
    }
}
