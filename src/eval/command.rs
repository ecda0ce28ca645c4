//! Runs a user's evaluator command on one checkpoint (the paper's MixEval-Hard is one such):
//! argv with `{model_dir}`, `{output}`, `{epoch}` and `{cell}` substituted, no shell, a time
//! limit, stdout and stderr kept in files beside the output. The command writes
//! `{"score": f, "categories": {..}?, "length": f?, "metrics": {..}?}` to `{output}`.
//!
//! Every bad outcome is its own error carrying the command's last stderr lines: it could not
//! start, exited non-zero, ran past its limit, wrote no JSON, wrote malformed JSON, or wrote
//! a missing or non-finite score.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::evaluator::CommandEvaluator;
use super::record::{CategoryScore, ScoreRecord};

/// Lines of stderr quoted in errors.
const TAIL_LINES: usize = 12;

/// One evaluation: where the checkpoint is and where the score goes.
pub struct Invocation<'a> {
    pub model_dir: &'a Path,
    /// Where the command writes its JSON; its folder also receives `stdout.txt`, `stderr.txt`.
    pub output: &'a Path,
    pub epoch: usize,
    /// The grid cell, e.g. `clair/apo_zero` (`base` for the base model).
    pub cell: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("environment variable `{0}` (listed in `[eval] env`) is not set")]
    MissingEnv(String),
    #[error("could not start `{program}`: {source}")]
    Spawn { program: String, source: std::io::Error },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("the evaluator exited with {status}; last stderr lines:\n{tail}")]
    Exit { status: String, tail: String },
    #[error("the evaluator ran past its limit of {seconds} s and was killed; last stderr lines:\n{tail}")]
    Timeout { seconds: u64, tail: String },
    #[error("the evaluator exited 0 but wrote no score file {path}; last stderr lines:\n{tail}")]
    NoOutput { path: PathBuf, tail: String },
    #[error("the evaluator's score file {path} is not the expected JSON ({message}); last stderr lines:\n{tail}")]
    Malformed { path: PathBuf, message: String, tail: String },
    #[error("the evaluator's score file {path} has {what}; last stderr lines:\n{tail}")]
    BadScore { path: PathBuf, what: String, tail: String },
}

/// What the command writes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Written {
    score: Option<serde_json::Value>,
    #[serde(default)]
    categories: BTreeMap<String, f64>,
    length: Option<f64>,
    #[serde(default)]
    metrics: BTreeMap<String, f64>,
}

/// Runs the command and reads its score.
pub fn run(c: &CommandEvaluator, inv: &Invocation) -> Result<ScoreRecord, CommandError> {
    if let Some(missing) = c.env.iter().find(|v| std::env::var_os(v).is_none()) {
        return Err(CommandError::MissingEnv(missing.clone()));
    }
    let folder = inv.output.parent().unwrap_or(Path::new("."));
    let (stdout, stderr) = (folder.join("stdout.txt"), folder.join("stderr.txt"));
    let file = |p: &Path| std::fs::File::create(p).map_err(|source| CommandError::Io { path: p.to_path_buf(), source });
    let argv: Vec<String> = c.argv.iter().map(|a| substitute(a, inv)).collect();
    let mut child = Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(file(&stdout)?)
        .stderr(file(&stderr)?)
        .spawn()
        .map_err(|source| CommandError::Spawn { program: argv[0].clone(), source })?;
    let started = Instant::now();
    let status = loop {
        match child.try_wait().map_err(|source| CommandError::Io { path: PathBuf::from(&argv[0]), source })? {
            Some(status) => break status,
            None if started.elapsed() > c.timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(CommandError::Timeout { seconds: c.timeout.as_secs(), tail: tail(&stderr) });
            }
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    if !status.success() {
        return Err(CommandError::Exit { status: status.to_string(), tail: tail(&stderr) });
    }
    read_score(inv.output, &stderr)
}

fn substitute(arg: &str, inv: &Invocation) -> String {
    arg.replace("{model_dir}", &inv.model_dir.display().to_string())
        .replace("{output}", &inv.output.display().to_string())
        .replace("{epoch}", &inv.epoch.to_string())
        .replace("{cell}", inv.cell)
}

fn read_score(path: &Path, stderr: &Path) -> Result<ScoreRecord, CommandError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(CommandError::NoOutput { path: path.to_path_buf(), tail: tail(stderr) });
        }
        Err(source) => return Err(CommandError::Io { path: path.to_path_buf(), source }),
    };
    let malformed = |message: String| CommandError::Malformed { path: path.to_path_buf(), message, tail: tail(stderr) };
    let written: Written = serde_json::from_str(&text).map_err(|e| malformed(e.to_string()))?;
    let bad = |what: String| CommandError::BadScore { path: path.to_path_buf(), what, tail: tail(stderr) };
    let score = match written.score {
        None | Some(serde_json::Value::Null) => return Err(bad("no `score`".into())),
        Some(v) => v.as_f64().ok_or_else(|| bad(format!("a `score` that is not a number: {v}")))?,
    };
    let numbers = written.categories.values().chain(written.metrics.values()).chain(written.length.iter());
    if !score.is_finite() || numbers.into_iter().any(|x| !x.is_finite()) {
        return Err(bad(format!("a non-finite number (score {score})")));
    }
    Ok(ScoreRecord {
        benchmark: "command".into(),
        n: None,
        score,
        categories: written
            .categories
            .into_iter()
            .map(|(name, score)| CategoryScore { name, n: None, score })
            .collect(),
        length: written.length,
        metrics: written.metrics,
    })
}

/// The last [`TAIL_LINES`] lines of a file (empty when unreadable).
fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evaluator(script: &str, timeout_s: u64) -> CommandEvaluator {
        let argv = ["sh", "-c", script, "sh", "{output}", "{model_dir}", "{epoch}", "{cell}"];
        CommandEvaluator::new(argv.iter().map(|s| s.to_string()).collect(), vec![], timeout_s).unwrap()
    }

    fn run_script(script: &str, timeout_s: u64) -> (Result<ScoreRecord, CommandError>, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("score.json");
        let inv = Invocation { model_dir: dir.path(), output: &output, epoch: 3, cell: "clair/dpo" };
        (run(&evaluator(script, timeout_s), &inv), dir)
    }

    #[test]
    fn a_score_with_categories_is_read_and_placeholders_are_substituted() {
        let script =
            r#"echo "$2 $3 $4" >&2; echo '{"score": 41.5, "categories": {"b": 1, "a": 2}, "length": 9}' > "$1""#;
        let (r, dir) = run_script(script, 10);
        let r = r.unwrap();
        assert_eq!((r.score, r.length), (41.5, Some(9.0)));
        assert_eq!(r.categories.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        let stderr = std::fs::read_to_string(dir.path().join("stderr.txt")).unwrap();
        assert_eq!(stderr.trim(), format!("{} 3 clair/dpo", dir.path().display()));
    }

    #[test]
    fn each_bad_outcome_is_its_own_error_with_the_stderr_tail() {
        let msg = |script: &str, t: u64| run_script(script, t).0.unwrap_err().to_string();
        let e = msg("echo boom >&2; exit 3", 10);
        assert!(e.contains("exited with exit status: 3") && e.contains("boom"), "{e}");
        let e = msg("echo slow >&2; sleep 5", 1);
        assert!(e.contains("past its limit of 1 s") && e.contains("slow"), "{e}");
        assert!(msg("true", 10).contains("wrote no score file"));
        assert!(msg(r#"echo '{"score": ' > "$1""#, 10).contains("not the expected JSON"));
        assert!(msg(r#"echo '{"length": 3}' > "$1""#, 10).contains("no `score`"));
        assert!(msg(r#"echo '{"score": "high"}' > "$1""#, 10).contains("not a number"));
        let e = msg(r#"echo '{"score": 1e999}' > "$1""#, 10);
        assert!(e.contains("non-finite") || e.contains("not the expected JSON"), "{e}");
    }
}
