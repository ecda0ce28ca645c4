//! The scheduler: which tasks are ready, what a finished or failed task unlocks or skips, and
//! the run's outcome. It runs nothing itself; an [`super::Executor`] backend asks it for ready
//! tasks and reports back when they finish.

use std::collections::BTreeSet;

use serde_json::Value;

use super::Runner;
use super::progress::Progress;
use crate::plan::Plan;
use crate::store::{Check, Store, TaskState};

/// What happened to each task of a run.
#[derive(Debug, Default, Clone)]
pub struct Outcome {
    pub cached: Vec<usize>,
    pub ran: Vec<usize>,
    pub failed: Vec<(usize, String)>,
    /// Not run because an ancestor failed.
    pub skipped: Vec<usize>,
    /// Found corrupt in the store, moved aside, and run again: what was wrong.
    pub quarantined: Vec<(usize, String)>,
}

impl Outcome {
    pub fn success(&self) -> bool {
        self.failed.is_empty() && self.skipped.is_empty()
    }
}

enum State {
    /// Waiting for this many parents.
    Waiting(usize),
    Running,
    Done,
    Failed,
}

/// Whether a task's artifact is done and intact (file sizes: a cheap check, run on every task
/// of every run). A corrupt one is quarantined (never deleted) and counts as not done.
fn usable(store: &Store, i: usize, key: &str, outcome: &mut Outcome) -> bool {
    match store.state(key, Check::Sizes) {
        TaskState::Done => true,
        TaskState::Missing => false,
        TaskState::Corrupt(c) => {
            let moved = match store.quarantine(key) {
                Ok(to) => format!("{c} (now in {})", to.display()),
                Err(e) => format!("{c} (could not move it aside: {e})"),
            };
            outcome.quarantined.push((i, moved));
            false
        }
    }
}

pub struct Scheduler<'a> {
    pub plan: &'a Plan,
    pub store: &'a Store,
    pub progress: Progress,
    state: Vec<State>,
    ready: BTreeSet<usize>,
    running: usize,
    outcome: Outcome,
    /// Told of each task that finished well ([`Runner::after_commit`]).
    watcher: Option<&'a dyn Runner>,
}

impl<'a> Scheduler<'a> {
    /// The tasks `targets` need (all of them for `None`); those already in the store are
    /// cached and never run.
    pub fn new(plan: &'a Plan, store: &'a Store, targets: Option<&[usize]>, show_progress: bool) -> Self {
        let wanted = match targets {
            Some(t) => plan.ancestors_of(t),
            None => vec![true; plan.tasks.len()],
        };
        let mut outcome = Outcome::default();
        let mut state: Vec<State> = Vec::with_capacity(plan.tasks.len());
        for (i, t) in plan.tasks.iter().enumerate() {
            let done = wanted[i] && usable(store, i, &t.key, &mut outcome);
            if !wanted[i] || done {
                if wanted[i] {
                    outcome.cached.push(i);
                }
                state.push(State::Done);
            } else {
                let waiting = t.deps.iter().filter(|d| !matches!(state[**d], State::Done)).count();
                state.push(State::Waiting(waiting));
            }
        }
        let ready = state.iter().enumerate().filter(|(_, s)| matches!(s, State::Waiting(0))).map(|(i, _)| i).collect();
        let to_run = state.iter().filter(|s| matches!(s, State::Waiting(_))).count();
        let progress = Progress::new(to_run, show_progress);
        for (i, problem) in &outcome.quarantined {
            progress.log(&format!("CORRUPT {}: {problem}; moved aside, running it again", plan.tasks[*i].id));
        }
        Scheduler { plan, store, progress, state, ready, running: 0, outcome, watcher: None }
    }

    /// Tells `runner` of each task that finishes well, after its commit.
    pub fn watched_by(mut self, runner: &'a dyn Runner) -> Self {
        self.watcher = Some(runner);
        self
    }

    /// The next ready task, now marked running (lowest index first: plan order).
    pub fn next_ready(&mut self) -> Option<usize> {
        let i = self.ready.pop_first()?;
        self.state[i] = State::Running;
        self.running += 1;
        Some(i)
    }

    /// Tasks started and not yet reported.
    pub fn running(&self) -> usize {
        self.running
    }

    /// Records a finished task: its children may become ready; a failure skips its descendants.
    pub fn finished(&mut self, i: usize, result: Result<Value, String>, seconds: f64) {
        self.running -= 1;
        let id = &self.plan.tasks[i].id;
        match result {
            Ok(summary) => {
                self.state[i] = State::Done;
                self.outcome.ran.push(i);
                self.progress.log(&format!("done    {id} ({seconds:.1}s)"));
                // A task's `notes` (e.g. an API build's costs) are shown under its line.
                let notes = summary.get("notes").and_then(Value::as_array).into_iter().flatten();
                for note in notes.filter_map(Value::as_str) {
                    self.progress.log(&format!("        {note}"));
                }
                for w in self.watcher.map(|r| r.after_commit(self.plan, self.store, i)).unwrap_or_default() {
                    self.progress.log(&format!("        warning: {w}"));
                }
                for c in self.plan.children(i) {
                    if let State::Waiting(n) = &mut self.state[c] {
                        *n -= 1;
                        if *n == 0 {
                            self.ready.insert(c);
                        }
                    }
                }
            }
            Err(message) => {
                self.state[i] = State::Failed;
                self.progress.log(&format!("FAILED  {id}: {message}"));
                self.outcome.failed.push((i, message));
                self.skip_descendants(i);
            }
        }
        self.progress.tick();
    }

    fn skip_descendants(&mut self, i: usize) {
        for d in self.plan.descendants_of(i) {
            if matches!(self.state[d], State::Waiting(_)) {
                self.state[d] = State::Failed;
                self.ready.remove(&d);
                self.outcome.skipped.push(d);
                self.progress.skip();
            }
        }
    }

    /// Stops scheduling: every task not started yet is skipped (e.g. after Ctrl-C).
    pub fn stop(&mut self) {
        for (i, s) in self.state.iter_mut().enumerate() {
            if matches!(s, State::Waiting(_)) {
                *s = State::Failed;
                self.outcome.skipped.push(i);
            }
        }
        self.ready.clear();
    }

    pub fn into_outcome(self) -> Outcome {
        self.progress.close();
        let mut outcome = self.outcome;
        outcome.skipped.sort_unstable();
        outcome
    }
}
