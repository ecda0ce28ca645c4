//! Reading Slurm's queue with `squeue`. Accounting (`sacct`) may be absent on a cluster (it is
//! on the test cluster), so job states come from `squeue --states=all`, which also lists jobs
//! that ended less than `MinJobAge` seconds ago (300 by default): long enough for a poll every
//! few seconds to see every job's end state. A job that has left the queue is judged by the
//! store alone: its task is done, or it failed.

use std::collections::HashMap;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What `squeue` knows about one job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobInfo {
    /// `PENDING`, `RUNNING`, `COMPLETED`, `FAILED`, `CANCELLED`, `TIMEOUT`, ...
    pub state: String,
    /// Slurm's reason (`Resources`, `NonZeroExitCode`, `TimeLimit`, ...).
    pub reason: String,
}

/// States in which a job will not run again by itself.
const TERMINAL: [&str; 9] =
    ["COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "BOOT_FAIL", "DEADLINE", "PREEMPTED"];

impl JobInfo {
    pub fn is_terminal(&self) -> bool {
        TERMINAL.contains(&self.state.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SlurmError {
    #[error("cannot run `{command}`: {source} (is Slurm's client installed and on PATH?)")]
    Spawn { command: String, source: std::io::Error },
    #[error("`{command}` failed ({status}): {stderr}")]
    Failed { command: String, status: String, stderr: String },
    #[error("`{command}` printed something unexpected: {output}")]
    Parse { command: String, output: String },
}

/// How long a Slurm client command may take: a controller that is down makes them retry for
/// a minute or more, and a `run` must not hang on that.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs a Slurm client command and returns its stdout.
pub fn slurm_command(program: &str, args: &[String]) -> Result<String, SlurmError> {
    slurm_command_within(program, args, COMMAND_TIMEOUT)
}

/// Runs a Slurm client command, killed after `limit`.
pub fn slurm_command_within(program: &str, args: &[String], limit: Duration) -> Result<String, SlurmError> {
    let command = format!("{program} {}", args.join(" "));
    let spawn_err = |source| SlurmError::Spawn { command: command.clone(), source };
    let mut child =
        Command::new(program).args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().map_err(spawn_err)?;
    // Read both pipes on threads so a long listing cannot fill a pipe and stall the child.
    let read = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_string(&mut text);
            }
            text
        })
    };
    let out = read(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let err = read(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait().map_err(spawn_err)? {
            Some(status) => break status,
            None if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                let stderr = format!("no answer within {} s", limit.as_secs());
                return Err(SlurmError::Failed { command, status: "killed".into(), stderr });
            }
            None => std::thread::sleep(Duration::from_millis(10)),
        }
    };
    let (stdout, stderr) = (out.join().unwrap_or_default(), err.join().unwrap_or_default());
    if !status.success() {
        return Err(SlurmError::Failed { command, status: status.to_string(), stderr: stderr.trim().to_string() });
    }
    Ok(stdout)
}

/// Every job of this user that Slurm still knows, by job id.
pub fn poll() -> Result<HashMap<String, JobInfo>, SlurmError> {
    poll_within(COMMAND_TIMEOUT)
}

/// [`poll`], giving up after `limit`.
pub fn poll_within(limit: Duration) -> Result<HashMap<String, JobInfo>, SlurmError> {
    let args = ["--me", "--states=all", "--noheader", "--array", "--format=%i|%T|%r"].map(String::from);
    let text = slurm_command_within("squeue", &args, limit)?;
    parse(&text).ok_or_else(|| SlurmError::Parse { command: "squeue".into(), output: text.chars().take(200).collect() })
}

fn parse(text: &str) -> Option<HashMap<String, JobInfo>> {
    let mut jobs = HashMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut parts = line.trim().splitn(3, '|');
        let (id, state, reason) = (parts.next()?, parts.next()?, parts.next()?);
        jobs.insert(id.to_string(), JobInfo { state: state.to_string(), reason: reason.to_string() });
    }
    Some(jobs)
}

/// Whether one job is still queued or running: `Some(false)` when Slurm reports it ended or
/// no longer knows it, `None` when Slurm cannot be asked (no client here).
pub fn job_alive(job_id: &str) -> Option<bool> {
    let args = ["--noheader", "--states=all", "--format=%T", "--jobs", job_id].map(String::from);
    match slurm_command_within("squeue", &args, Duration::from_secs(20)) {
        Ok(text) => {
            let state = text.trim();
            Some(!state.is_empty() && !TERMINAL.contains(&state))
        }
        Err(SlurmError::Failed { stderr, .. }) if stderr.contains("Invalid job id") => Some(false),
        Err(_) => None,
    }
}

/// Cancels jobs (`scancel`); already ended ones are ignored by Slurm.
pub fn cancel(job_ids: &[String]) -> Result<(), SlurmError> {
    if job_ids.is_empty() {
        return Ok(());
    }
    slurm_command("scancel", job_ids).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn squeue_lines_parse_into_states() {
        let jobs = parse("12|RUNNING|None\n13|FAILED|NonZeroExitCode\n\n").expect("parse");
        assert_eq!(jobs["12"], JobInfo { state: "RUNNING".into(), reason: "None".into() });
        assert!(!jobs["12"].is_terminal());
        assert!(jobs["13"].is_terminal());
        assert!(parse("garbage").is_none());
    }
}
