//! `prompts`: the prompts every dataset builder uses, from the world or a JSONL file.

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::agents::file::completions_of;
use crate::artifacts::{Completions, JsonArtifact, Prompts};
use crate::exec::TaskContext;
use crate::plan::inputs::PromptsInput;
use crate::world::corpus::preference_prompts;

pub fn run(input: &PromptsInput, ctx: &TaskContext) -> anyhow::Result<Value> {
    let prompts = match input {
        PromptsInput::World { count, seed } => preference_prompts(*seed, *count),
        PromptsInput::File { path, count, field, completions_field, .. } => {
            let (prompts, completions) = read_file(path, *count, field, completions_field.as_deref())?;
            if let Some(c) = completions {
                Completions(c).write(&ctx.out)?;
            }
            prompts
        }
    };
    let n = prompts.len();
    Prompts(prompts).write(&ctx.out)?;
    Ok(json!({ "prompts": n }))
}

/// The first `count` prompts of a JSONL file, and the other models' completions stored with
/// them (which feed the off-policy judge) when `completions_field` names them.
fn read_file(
    path: &str,
    count: usize,
    field: &str,
    completions_field: Option<&str>,
) -> anyhow::Result<(Vec<String>, Option<Vec<Vec<String>>>)> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading the prompts file {path}"))?;
    let mut prompts = Vec::new();
    let mut completions = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).with_context(|| format!("{path}:{}: not JSON", i + 1))?;
        let Some(s) = v.get(field).and_then(Value::as_str) else {
            bail!("{path}:{}: expected a string field `{field}`", i + 1);
        };
        if let Some(f) = completions_field {
            let c = completions_of(&v[f]).map_err(|m| anyhow::anyhow!("{path}:{}: field `{f}`: {m}", i + 1))?;
            completions.push(c);
        }
        prompts.push(s.to_string());
        if prompts.len() == count {
            break;
        }
    }
    Ok((prompts, completions_field.map(|_| completions)))
}
