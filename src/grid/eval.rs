//! `[eval]` into the evaluator seam (`crate::eval::Evaluator`): one benchmark or several (the
//! first is the headline), each checked here so a bad setting fails at `plan`, never after a
//! checkpoint has loaded. A built-in benchmark's data that is not there yet is listed as a
//! missing input (`plan` shows it, `run` refuses to start) with the script that fetches it.

use std::path::{Path, PathBuf};

use super::error::{GridError, Locator};
use super::resolved::Eval;
use super::schema::{BenchmarkName, EvalSection};
use crate::eval::evaluator::{DEFAULT_COMMAND_TIMEOUT_S, DataFile};
use crate::eval::{CommandEvaluator, Evaluator, hhh, mmlu};

/// Bound on benchmark prompts, so a typo is an error, not an endless draw.
pub const MAX_BENCHMARK_PROMPTS: usize = 100_000;

/// The validated evaluators, and the missing data files they name.
pub fn eval(e: &EvalSection, loc: &Locator) -> Result<(Eval, Vec<GridError>), GridError> {
    if e.heldout_pairs == 0 {
        return Err(loc.key("eval.heldout_pairs", "expected at least 1 held-out pair"));
    }
    if e.count == 0 || e.count > MAX_BENCHMARK_PROMPTS {
        let message = format!("expected 1 to {MAX_BENCHMARK_PROMPTS} benchmark prompts, got {}", e.count);
        return Err(loc.key("eval.count", message));
    }
    if e.max_new_tokens == 0 {
        return Err(loc.key("eval.max_new_tokens", "expected at least 1 token: an empty answer scores nothing"));
    }
    let names = names(e, loc)?;
    if let Some(c) = e.command.as_ref().filter(|_| !names.contains(&BenchmarkName::Command)) {
        return Err(loc.at(c.span(), "eval.command", "`command` is for `benchmark = \"command\"` only"));
    }
    let mut missing = Vec::new();
    let mut evaluators = Vec::new();
    for name in names {
        evaluators.push(match name {
            BenchmarkName::World => Evaluator::World { count: e.count, max_new_tokens: e.max_new_tokens },
            BenchmarkName::Command => command(e, loc)?,
            BenchmarkName::Mmlu => {
                let data = data(e.mmlu.path.as_deref(), mmlu::MMLU_PATH, "eval.mmlu.path", loc, &mut missing);
                let count = match &e.mmlu.count {
                    Some(c) if *c.get_ref() == 0 => {
                        return Err(loc.at(c.span(), "eval.mmlu.count", "expected at least 1"));
                    }
                    c => c.as_ref().map(|c| *c.get_ref()),
                };
                Evaluator::Mmlu { data, count }
            }
            BenchmarkName::Hhh => {
                Evaluator::Hhh { data: data(e.hhh.path.as_deref(), hhh::HHH_PATH, "eval.hhh.path", loc, &mut missing) }
            }
        });
    }
    Ok((Eval { evaluators, heldout_pairs: e.heldout_pairs }, missing))
}

/// `benchmark = ".."` or `benchmarks = [..]`, not both; no benchmark twice.
fn names(e: &EvalSection, loc: &Locator) -> Result<Vec<BenchmarkName>, GridError> {
    match (&e.benchmark, &e.benchmarks) {
        (Some(_), Some(list)) => {
            Err(loc.at(list.span(), "eval.benchmarks", "give either `benchmark` or `benchmarks`, not both"))
        }
        (_, Some(list)) if list.get_ref().is_empty() => {
            Err(loc.at(list.span(), "eval.benchmarks", "expected at least one benchmark"))
        }
        (_, Some(list)) => {
            let names = list.get_ref();
            if let Some((i, n)) = names.iter().enumerate().find(|(i, n)| names[..*i].contains(n)) {
                return Err(loc.at(
                    list.span(),
                    "eval.benchmarks",
                    format!("benchmark {} is listed twice ({:?})", i + 1, n),
                ));
            }
            Ok(names.clone())
        }
        (Some(b), None) => Ok(vec![*b.get_ref()]),
        (None, None) => Ok(vec![BenchmarkName::World]),
    }
}

fn command(e: &EvalSection, loc: &Locator) -> Result<Evaluator, GridError> {
    let Some(argv) = &e.command else {
        let span = e.benchmark.as_ref().map(|b| b.span()).or(e.benchmarks.as_ref().map(|b| b.span())).unwrap_or(0..0);
        let message = "`benchmark = \"command\"` needs `command = [\"PROGRAM\", ..., \"{model_dir}\", \"{output}\"]`";
        return Err(loc.at(span, "eval.command", message));
    };
    let timeout = e.timeout_s.as_ref().map(|t| *t.get_ref()).unwrap_or(DEFAULT_COMMAND_TIMEOUT_S);
    let command = CommandEvaluator::new(argv.get_ref().clone(), e.env.clone(), timeout)
        .map_err(|m| loc.at(argv.span(), "eval.command", m))?;
    Ok(Evaluator::Command(command))
}

/// A built-in benchmark's data: the grid's path, else the fetched default (found from the
/// working directory or the crate root, as the model files are).
fn data(path: Option<&str>, default: &str, key: &str, loc: &Locator, missing: &mut Vec<GridError>) -> DataFile {
    let path = match path {
        Some(p) => PathBuf::from(p),
        None => {
            let here = PathBuf::from(default);
            let crate_root = Path::new(env!("CARGO_MANIFEST_DIR")).join(default);
            if here.exists() || !crate_root.exists() { here } else { crate_root }
        }
    };
    if !path.exists() {
        let message =
            format!("no benchmark data at `{}` (scripts/get-eval-data.sh fetches MMLU and HHH)", path.display());
        missing.push(loc.key(key, message));
    }
    DataFile::new(path)
}
