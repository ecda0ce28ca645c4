//! The evaluator seam: which benchmark scores a checkpoint, validated when the grid is read so
//! a bad setting fails at `plan`, never after a checkpoint has loaded. Each variant is scored
//! by its own module ([`super::world`], [`super::command`]) and returns a [`super::ScoreRecord`].

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::Serialize;

/// How checkpoints are scored. Serialized (tagged by `benchmark`) into the evaluation tasks'
/// keys; fields marked `skip` change no score.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "benchmark", rename_all = "snake_case")]
pub enum Evaluator {
    /// The embedded world's exact-match benchmark: greedy answers to `count` held-out prompts.
    World { count: usize, max_new_tokens: usize },
    /// A user's command run on the checkpoint exported as a Hugging Face folder.
    Command(CommandEvaluator),
    /// MMLU, 0-shot, by log-likelihood as lm-evaluation-harness scores it ([`super::mmlu`]);
    /// `count` draws a seeded subset (all questions when `None`).
    Mmlu { data: DataFile, count: Option<usize> },
    /// Anthropic's HHH alignment pairs by log-likelihood under the chat template ([`super::hhh`]).
    Hhh { data: DataFile },
}

/// A benchmark's data: where it is (not an input) and its content digest (the input).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataFile {
    #[serde(skip)]
    pub path: std::path::PathBuf,
    pub sha256: String,
}

impl DataFile {
    pub fn new(path: std::path::PathBuf) -> DataFile {
        let sha256 = crate::digest::path_key(&path);
        DataFile { path, sha256 }
    }
}

impl Evaluator {
    /// The name reports and `eval.json` use (`world`, `command`).
    pub fn name(&self) -> &'static str {
        match self {
            Evaluator::World { .. } => "world",
            Evaluator::Command(_) => "command",
            Evaluator::Mmlu { .. } => "mmlu",
            Evaluator::Hhh { .. } => "hhh",
        }
    }
}

/// The placeholders an evaluator command may use.
pub const PLACEHOLDERS: [&str; 4] = ["model_dir", "output", "epoch", "cell"];

/// An external evaluator: an argv (no shell) with [`PLACEHOLDERS`] substituted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CommandEvaluator {
    pub argv: Vec<String>,
    /// sha256 of every argument that names an existing file (the evaluator script, a config):
    /// editing the script re-scores every checkpoint.
    pub files: BTreeMap<String, String>,
    /// Environment variables the command needs; inherited by the child and checked present
    /// before it starts, never stored.
    #[serde(skip)]
    pub env: Vec<String>,
    #[serde(skip)]
    pub timeout: Duration,
}

/// Default time limit of one evaluation command.
pub const DEFAULT_COMMAND_TIMEOUT_S: u64 = 3600;

impl CommandEvaluator {
    /// Checks an argv and digests the files it names. `Err` says what is wrong, for the
    /// grid's positioned error.
    pub fn new(argv: Vec<String>, env: Vec<String>, timeout_s: u64) -> Result<Self, String> {
        let Some(program) = argv.first() else {
            return Err(
                "expected a non-empty argv, e.g. [\"scripts/eval-mixeval.sh\", \"{model_dir}\", \"{output}\"]".into()
            );
        };
        if program.trim().is_empty() {
            return Err("the command's program (its first element) is empty".into());
        }
        for arg in &argv {
            for name in placeholders(arg)? {
                if !PLACEHOLDERS.contains(&name) {
                    return Err(format!(
                        "unknown placeholder `{{{name}}}` in `{arg}`; expected one of {{{}}}",
                        PLACEHOLDERS.join("}, {")
                    ));
                }
            }
        }
        if !argv.iter().any(|a| a.contains("{output}")) {
            return Err("the command must receive `{output}`, the file it writes its JSON score to".into());
        }
        if (program.contains('/') || program.starts_with('.')) && !Path::new(program).is_file() {
            return Err(format!("the command's program `{program}` does not exist"));
        }
        if timeout_s == 0 {
            return Err("timeout_s must be at least 1".into());
        }
        if let Some(bad) =
            env.iter().find(|v| v.is_empty() || !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        {
            return Err(format!("`{bad}` is not an environment variable name"));
        }
        let files = argv
            .iter()
            .filter(|a| Path::new(a.as_str()).is_file())
            .map(|a| (a.clone(), crate::digest::file_key(Path::new(a))))
            .collect();
        Ok(CommandEvaluator { argv, files, env, timeout: Duration::from_secs(timeout_s) })
    }
}

/// The `{name}` placeholders of one argument: a brace, a lower-case identifier, a brace. Other
/// braces are literal text (JSON or code passed to the command).
fn placeholders(arg: &str) -> Result<Vec<&str>, String> {
    let mut out = Vec::new();
    let mut rest = arg;
    while let Some(open) = rest.find('{') {
        rest = &rest[open + 1..];
        let name_len = rest.find(|c: char| !(c.is_ascii_lowercase() || c == '_')).unwrap_or(rest.len());
        if name_len > 0 && rest[name_len..].starts_with('}') {
            out.push(&rest[..name_len]);
            rest = &rest[name_len + 1..];
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn commands_are_checked_before_anything_runs() {
        assert!(CommandEvaluator::new(argv(&["python3", "-c", "x", "{model_dir}", "{output}"]), vec![], 10).is_ok());
        let err = |a: &[&str]| CommandEvaluator::new(argv(a), vec![], 10).unwrap_err();
        assert!(err(&[]).contains("non-empty argv"));
        assert!(err(&["python3", "{model_dir}"]).contains("{output}"));
        assert!(err(&["python3", "{checkpoint}", "{output}"]).contains("unknown placeholder `{checkpoint}`"));
        assert!(err(&["scripts/no-such-eval.sh", "{output}"]).contains("does not exist"));
        assert!(CommandEvaluator::new(argv(&["python3", "{output}"]), vec!["A B".into()], 10).is_err());
        assert!(CommandEvaluator::new(argv(&["python3", "{output}"]), vec![], 0).is_err());
    }

    #[test]
    fn the_script_named_is_part_of_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("eval.sh");
        std::fs::write(&script, "echo 1").unwrap();
        let s = script.display().to_string();
        let a = CommandEvaluator::new(argv(&[&s, "{output}"]), vec![], 10).unwrap();
        std::fs::write(&script, "echo 2").unwrap();
        let b = CommandEvaluator::new(argv(&[&s, "{output}"]), vec![], 10).unwrap();
        assert_ne!(serde_json::to_string(&a).unwrap(), serde_json::to_string(&b).unwrap());
        let c = CommandEvaluator::new(argv(&[&s, "{output}"]), vec!["KEY".into()], 99).unwrap();
        assert_eq!(
            serde_json::to_string(&b).unwrap(),
            serde_json::to_string(&c).unwrap(),
            "env and timeout are not inputs"
        );
    }
}
