//! The progress display: one bar for the whole run, one line per running task with whatever
//! the task last reported (epoch/step, loss, ETA). Quiet when stderr is not a terminal, where
//! plain log lines are printed instead.

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
}

impl TaskProgress {
    /// A progress line that goes nowhere (for tests and direct calls).
    pub fn hidden() -> TaskProgress {
        TaskProgress { bar: ProgressBar::hidden() }
    }

    /// What the task is doing now, e.g. `epoch 3/18 step 40/120 loss 0.512 eta 2m`.
    pub fn set(&self, message: impl Into<String>) {
        self.bar.set_message(message.into());
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
        bar.set_style(ProgressStyle::with_template("  {spinner} {prefix} {wide_msg}").expect("static template"));
        bar.set_prefix(id.to_string());
        bar.enable_steady_tick(Duration::from_millis(250));
        TaskProgress { bar }
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
