//! One task as one batch job: the job script (setup lines, then `apogrid task GRID ID --store
//! STORE`, wrapped in the grid's command prefix) and the sbatch flags from the grid's
//! resources for the task's kind.

use std::path::{Path, PathBuf};

use super::queue::{SlurmError, slurm_command};
use crate::grid::executor::{Resources, SlurmSettings};
use crate::plan::Task;

/// Everything a job needs to know about where it runs, all absolute.
#[derive(Debug, Clone)]
pub struct JobContext {
    pub grid_name: String,
    pub grid: PathBuf,
    pub store: PathBuf,
    pub binary: PathBuf,
    /// The submitting `run`'s working folder: the grid's relative paths resolve from it.
    pub workdir: PathBuf,
}

/// Single-quotes a word for bash.
pub fn quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// Whether a job of these resources has a GPU (then the task runs on `cuda:0`, the first GPU
/// of its allocation).
fn has_gpu(r: &Resources) -> bool {
    r.gpus.is_some_and(|g| g > 0) || r.gres.as_deref().is_some_and(|g| g.starts_with("gpu"))
}

/// The job script. Its start and end lines (with nanosecond times) make the log show what
/// Slurm did, and give `scripts/bench-slurm.sh` the queue latency.
pub fn script(settings: &SlurmSettings, ctx: &JobContext, task: &Task) -> String {
    let resources = settings.resources(task.kind().name());
    let device = if has_gpu(&resources) { "cuda:0" } else { "cpu" };
    let mut words: Vec<String> = settings.command_prefix.iter().map(|w| quote(w)).collect();
    words.push(quote(&ctx.binary.to_string_lossy()));
    words.extend(["task".to_string(), quote(&ctx.grid.to_string_lossy()), quote(&task.id)]);
    words.extend(["--store".to_string(), quote(&ctx.store.to_string_lossy()), "--device".into(), device.into()]);
    let mut s = String::from("#!/bin/bash\n");
    s += &format!("# apogrid task {} of grid {} (key {})\n", task.id, ctx.grid_name, task.key);
    s += "echo \"apogrid-job start $(date +%s.%N) host $(hostname) job ${SLURM_JOB_ID:-} restart ${SLURM_RESTART_COUNT:-0}\"\n";
    for line in &settings.setup {
        s += line;
        s += "\n";
    }
    s += &words.join(" ");
    s += "\nrc=$?\necho \"apogrid-job end $(date +%s.%N) rc $rc\"\nexit $rc\n";
    s
}

/// The sbatch flags of one task's job.
pub fn args(settings: &SlurmSettings, ctx: &JobContext, task: &Task, log: &Path, script: &Path) -> Vec<String> {
    let r = settings.resources(task.kind().name());
    let mut a = vec![
        "--parsable".to_string(),
        format!("--job-name=apogrid:{}:{}", ctx.grid_name, task.id),
        format!("--output={}", log.display()),
        "--open-mode=append".into(),
        format!("--chdir={}", ctx.workdir.display()),
        // Preemption or a lost node puts the job back in the queue; the task resumes from its
        // partial state (training from its last epoch).
        "--requeue".into(),
    ];
    let optional = [
        settings.partition.as_ref().map(|p| format!("--partition={p}")),
        settings.account.as_ref().map(|p| format!("--account={p}")),
        settings.qos.as_ref().map(|p| format!("--qos={p}")),
        r.cpus.map(|c| format!("--cpus-per-task={c}")),
        r.mem.as_ref().map(|m| format!("--mem={m}")),
        r.time.as_ref().map(|t| format!("--time={t}")),
        r.gpus.filter(|g| *g > 0).map(|g| format!("--gpus={g}")),
        r.gres.as_ref().map(|g| format!("--gres={g}")),
    ];
    a.extend(optional.into_iter().flatten());
    a.extend(settings.sbatch_args.iter().cloned());
    a.push(script.display().to_string());
    a
}

/// Messages of a busy or restarting controller, after which a submission is tried again.
const TRANSIENT: [&str; 4] = ["timed out", "Temporarily unavailable", "temporarily unavailable", "Unable to contact"];

/// Submits and returns the job id (`sbatch --parsable` prints `ID` or `ID;CLUSTER`). A busy
/// controller is given three more tries, 2, 4 and 8 s apart; other refusals are final.
pub fn submit(args: &[String]) -> Result<String, SlurmError> {
    let mut wait = std::time::Duration::from_secs(2);
    let mut result = slurm_command("sbatch", args);
    for _ in 0..3 {
        match &result {
            Err(SlurmError::Failed { stderr, .. }) if TRANSIENT.iter().any(|t| stderr.contains(t)) => {
                std::thread::sleep(wait);
                wait *= 2;
                result = slurm_command("sbatch", args);
            }
            _ => break,
        }
    }
    let out = result?;
    let id = out.trim().split(';').next().unwrap_or_default().to_string();
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SlurmError::Parse { command: "sbatch".into(), output: out });
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::executor::Resources;

    #[test]
    fn words_are_quoted_for_bash() {
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), r"'it'\''s'");
    }

    #[test]
    fn gpus_mean_the_first_cuda_device() {
        assert!(has_gpu(&Resources { gpus: Some(1), ..Default::default() }));
        assert!(has_gpu(&Resources { gres: Some("gpu:a100:1".into()), ..Default::default() }));
        assert!(!has_gpu(&Resources { gpus: Some(0), cpus: Some(4), ..Default::default() }));
    }
}
