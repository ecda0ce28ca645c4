//! Reading Slurm's queue with `squeue`. Accounting (`sacct`) may be absent on a cluster (it is
//! on the test cluster), so job states come from `squeue --states=all`, which also lists jobs
//! that ended less than `MinJobAge` seconds ago (300 by default): long enough for a poll every
//! few seconds to see every job's end state. A job that has left the queue is judged by the
//! store alone: its task is done, or it failed.

use std::collections::HashMap;
use std::process::Command;

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

/// Runs a Slurm client command and returns its stdout.
pub fn slurm_command(program: &str, args: &[String]) -> Result<String, SlurmError> {
    let command = format!("{program} {}", args.join(" "));
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|source| SlurmError::Spawn { command: command.clone(), source })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
        return Err(SlurmError::Failed { command, status: out.status.to_string(), stderr });
    }
    Ok(String::from_utf8_lossy(&out.stdout).to_string())
}

/// Every job of this user that Slurm still knows, by job id.
pub fn poll() -> Result<HashMap<String, JobInfo>, SlurmError> {
    let args = ["--me", "--states=all", "--noheader", "--array", "--format=%i|%T|%r"].map(String::from);
    let text = slurm_command("squeue", &args)?;
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
    match slurm_command("squeue", &args) {
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
