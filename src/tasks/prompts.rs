//! `prompts`: the prompts every dataset builder uses, from the world or a JSONL file.

use anyhow::{Context, bail};
use serde_json::{Value, json};

use super::io::write_json;
use crate::agents::file::completions_of;
use crate::exec::TaskContext;
use crate::grid::Grid;
use crate::grid::schema::PromptSource;
use crate::plan::Task;
use crate::world::corpus::preference_prompts;

/// The other models' completions per prompt (`Vec<Vec<String>>`), written when
/// `[agents.off_policy]` has `kind = "file"`.
pub const COMPLETIONS: &str = "completions.json";

pub fn run(grid: &Grid, task: &Task, ctx: &TaskContext) -> anyhow::Result<Value> {
    let p = &grid.prompts;
    let prompts = match p.source {
        PromptSource::World => preference_prompts(task.params["seed"].as_u64().unwrap_or(0), p.count),
        PromptSource::File => {
            let path = p.path.as_deref().unwrap_or_default();
            let text = std::fs::read_to_string(path).with_context(|| format!("reading the prompts file {path}"))?;
            let mut prompts = Vec::new();
            // Other models' outputs stored with the prompts feed the off-policy judge.
            let completions_field = task.params["completions_field"].as_str();
            let mut completions = Vec::new();
            for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
                let v: Value = serde_json::from_str(line).with_context(|| format!("{path}:{}: not JSON", i + 1))?;
                let Some(s) = v.get(&p.field).and_then(Value::as_str) else {
                    bail!("{path}:{}: expected a string field `{}`", i + 1, p.field);
                };
                if let Some(field) = completions_field {
                    let c = completions_of(&v[field])
                        .map_err(|m| anyhow::anyhow!("{path}:{}: field `{field}`: {m}", i + 1))?;
                    completions.push(c);
                }
                prompts.push(s.to_string());
                if prompts.len() == p.count {
                    break;
                }
            }
            if completions_field.is_some() {
                write_json(&ctx.out.join(COMPLETIONS), &completions)?;
            }
            prompts
        }
    };
    write_json(&ctx.out.join("prompts.json"), &prompts)?;
    Ok(json!({ "prompts": prompts.len() }))
}
