//! The progress display: one bar for the whole run, one line per running task with its
//! elapsed time and whatever the task last reported (a training run: epoch/step, loss, time
//! left). When stderr is not a terminal (a log file, a batch job) bars would be noise: plain
//! lines are printed instead, for each finished task and each task's milestones (a training
//! run's saved epochs), so a log still shows how far a long run has come.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    multi: MultiProgress,
    overall: ProgressBar,
    /// Print plain log lines (stderr is not a terminal).
    plain: bool,
    silent: bool,
}

/// A running task's line.
#[derive(Clone)]
pub struct TaskProgress {
    bar: ProgressBar,
    /// The task's id, for plain lines.
    id: String,
    /// Print milestones as plain lines (stderr is not a terminal).
    plain: bool,
    /// The last [`Self::set`] status, which a milestone line repeats.
    status: Arc<Mutex<String>>,
}

impl TaskProgress {
    /// A progress line that goes nowhere (for tests and direct calls).
    pub fn hidden() -> TaskProgress {
        TaskProgress { bar: ProgressBar::hidden(), id: String::new(), plain: false, status: Arc::default() }
    }

    /// What the task is doing now, e.g. `epoch 3/18 step 40/120 loss 0.5120 margin 0.100 eta 2m 10s`.
    pub fn set(&self, message: impl Into<String>) {
        let message = message.into();
        if let Ok(mut status) = self.status.lock() {
            status.clone_from(&message);
        }
        self.bar.set_message(message);
    }

    /// A step worth a line in a log too (a training run's saved epoch): shown like [`Self::set`]
    /// on a terminal, followed by the task's last status, and printed as `  <id>: <message>
    /// (<last status>)` elsewhere.
    pub fn milestone(&self, message: impl Into<String>) {
        let message = message.into();
        let last = self.status.lock().map(|s| s.clone()).unwrap_or_default();
        let line = if last.is_empty() { message } else { format!("{message} ({last})") };
        if self.plain {
            eprintln!("  {}: {line}", self.id);
        }
        self.bar.set_message(line);
    }

    pub(crate) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Progress {
    /// `show = false`: nothing at all (tests). Otherwise bars on a terminal, lines elsewhere.
    pub fn new(total: usize, show: bool) -> Progress {
        let target = if show { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() };
        let multi = MultiProgress::with_draw_target(target);
        let overall = multi.add(ProgressBar::new(total as u64));
        overall.set_style(
            ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} tasks {msg}")
                .expect("static template")
                .progress_chars("=> "),
        );
        let plain = show && multi.is_hidden();
        Progress { multi, overall, plain, silent: !show }
    }

    pub fn start(&self, id: &str) -> TaskProgress {
        let bar = self.multi.add(ProgressBar::new_spinner());
        bar.set_style(
            ProgressStyle::with_template("  {spinner} {prefix} [{elapsed}] {wide_msg}").expect("static template"),
        );
        bar.set_prefix(id.to_string());
        bar.enable_steady_tick(Duration::from_millis(250));
        TaskProgress { bar, id: id.to_string(), plain: self.plain, status: Arc::default() }
    }

    pub fn log(&self, line: &str) {
        if self.silent {
            return;
        }
        if self.plain {
            eprintln!("{line}");
        } else {
            let _ = self.multi.println(line);
        }
    }

    pub fn tick(&self) {
        self.overall.inc(1);
    }

    pub fn skip(&self) {
        self.overall.inc(1);
    }

    pub fn close(&self) {
        self.overall.finish_and_clear();
    }
}
