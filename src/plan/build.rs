//! From a [`Grid`] to a [`Plan`]: one task per unit of work, keyed by its inputs.
//!
//! What is shared is planned once: one base model, one prompt set, one sampling task, one
//! dataset build and one reference log-prob task per dataset (shared by every objective on it),
//! one evaluation of the base model. The first seed also seeds the base model and the data; the
//! other seeds replicate training (and so evaluation) only.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};

use super::Plan;
use super::task::{Task, TaskKind, task_key};
use crate::grid::schema::{AgentSpec, Builder, PromptSource};
use crate::grid::{Cell, Grid};

pub fn build(grid: &Grid) -> Plan {
    let mut b = PlanBuilder::default();
    let data_seed = grid.seeds[0];
    let several_seeds = grid.seeds.len() > 1;

    let base = b.add(
        "base_model",
        TaskKind::BaseModel,
        json!({ "spec": grid.model.spec, "pretrain": grid.model.pretrain, "seed": data_seed }),
        json!({}),
        vec![],
    );

    let needs_prompts = grid.datasets.iter().any(|d| d.builder != Builder::File);
    let prompts = needs_prompts.then(|| {
        let p = &grid.prompts;
        let params = match p.source {
            PromptSource::World => json!({ "source": "world", "count": p.count, "seed": data_seed }),
            PromptSource::File => {
                let path = p.path.clone().unwrap_or_default();
                let mut params = json!({ "source": "file", "path": path, "sha256": file_digest(Path::new(&path)),
                                         "count": p.count, "field": p.field });
                if let AgentSpec::File { field } = &grid.agents.off_policy {
                    params["completions_field"] = json!(field);
                }
                params
            }
        };
        b.add("prompts", TaskKind::Prompts, params, json!({}), vec![])
    });

    // A target served by an API needs no local base model to sample; its identity (endpoint
    // and model) is then an input instead. Grids without `[agents.target]` keep their keys.
    let api_target = grid.agents.target.as_ref().map(target_identity);
    let sample = prompts.map(|prompts| {
        let s = &grid.agents.sampling;
        let mut params = json!({ "samples": 2, "greedy": true, "temperature": s.temperature, "top_p": s.top_p,
                                 "max_new_tokens": s.max_new_tokens, "seed": data_seed });
        let deps = match &api_target {
            Some(target) => {
                params["target"] = target.clone();
                vec![prompts]
            }
            None => vec![base, prompts],
        };
        b.add("sample", TaskKind::Sample, params, json!({}), deps)
    });

    let truncation = json!({
        "max_prompt_tokens": grid.train.max_prompt_tokens,
        "max_response_tokens": grid.train.max_response_tokens,
    });
    let mut datasets = Vec::new();
    for d in &grid.datasets {
        let labels = json!({ "dataset": d.name });
        let common = json!({ "heldout": grid.eval.heldout_pairs, "seed": data_seed,
                             "min_length_ratio": d.min_length_ratio, "max_length_ratio": d.max_length_ratio });
        let (params, deps) = match (d.builder, prompts, sample) {
            (Builder::File, _, _) => {
                let path = d.path.clone().unwrap_or_default();
                let params = json!({ "builder": "file", "path": path, "sha256": file_digest(&path), "common": common });
                (params, vec![])
            }
            (builder, Some(prompts), Some(sample)) => {
                let agents = &grid.agents;
                let agent = |a: &AgentSpec| agent_identity(a);
                let reviser = with_template(agent(&agents.reviser), agents.reviser_template.as_deref());
                let judge = with_template(agent(&agents.judge), agents.judge_template.as_deref());
                let who = match builder {
                    Builder::Clair => json!({ "reviser": reviser }),
                    Builder::JudgeOnPolicy => json!({ "judge": judge }),
                    Builder::JudgeOffPolicy => json!({ "judge": judge, "off_policy": agent(&agents.off_policy) }),
                    Builder::StrongerPreferred => json!({ "stronger": agent(&agents.stronger) }),
                    Builder::File => unreachable!("handled above"),
                };
                // The judge also decides whether winners beat the model's own answers (SPEC.md 5).
                let params = json!({ "builder": builder.name(), "agents": who,
                                     "comparison_judge": judge, "common": common });
                // The base model is a parent only where it is sampled locally (its earlier
                // checkpoint feeds the oracle's off-policy pool).
                let deps = if api_target.is_some() { vec![prompts, sample] } else { vec![base, prompts, sample] };
                (params, deps)
            }
            _ => unreachable!("prompts and sampling are planned whenever a builder needs them"),
        };
        let ds = b.add(&format!("dataset/{}", d.name), TaskKind::Dataset, params, labels.clone(), deps);
        let reference = b.add(
            &format!("reference/{}", d.name),
            TaskKind::ReferenceLogps,
            truncation.clone(),
            labels,
            vec![base, ds],
        );
        datasets.push((ds, reference));
    }

    let benchmark = json!({ "benchmark": grid.eval.benchmark, "count": grid.eval.count,
                            "max_new_tokens": grid.eval.max_new_tokens, "command": grid.eval.command,
                            "seed": data_seed });
    let eval_base = b.add(
        "eval/base",
        TaskKind::Eval,
        json!({ "epoch": 0, "benchmark": benchmark }),
        json!({ "epoch": 0 }),
        vec![base],
    );

    let mut sinks = vec![eval_base];
    sinks.extend(datasets.iter().map(|(ds, _)| *ds));
    for cell in &grid.cells {
        let (ds, reference) = datasets[cell.dataset];
        let (train, evals) = plan_cell(&mut b, grid, cell, several_seeds, base, ds, reference, &benchmark);
        sinks.push(train);
        sinks.extend(evals);
    }
    b.add("tables", TaskKind::Tables, json!({}), json!({ "grid": grid.name }), sinks);
    b.finish()
}

#[allow(clippy::too_many_arguments)]
fn plan_cell(
    b: &mut PlanBuilder,
    grid: &Grid,
    cell: &Cell,
    several_seeds: bool,
    base: usize,
    ds: usize,
    reference: usize,
    benchmark: &Value,
) -> (usize, Vec<usize>) {
    let dataset = &grid.datasets[cell.dataset];
    let objective = &grid.objectives[cell.objective];
    let seed_suffix = if several_seeds { format!("/s{}", cell.seed) } else { String::new() };
    let id = format!("{}/{}{seed_suffix}", dataset.name, objective.name);
    let t = &cell.train;
    // keep_checkpoints decides what is deleted afterwards, not what is computed: not an input.
    let params = json!({
        "objective": { "kind": objective.kind, "beta": objective.beta,
                       "desirable_weight": objective.desirable_weight,
                       "undesirable_weight": objective.undesirable_weight },
        "train": { "epochs": t.epochs, "learning_rate": t.learning_rate, "schedule": t.schedule,
                   "optimizer": t.optimizer, "batch_size": t.batch_size,
                   "micro_batch_size": t.micro_batch_size, "max_prompt_tokens": t.max_prompt_tokens,
                   "max_response_tokens": t.max_response_tokens },
        "seed": cell.seed,
    });
    let labels = json!({ "dataset": dataset.name, "objective": objective.name, "seed": cell.seed });
    // SFT needs no reference model: its key must not depend on the reference log-probs.
    let deps = if objective.kind.uses_beta() { vec![base, ds, reference] } else { vec![base, ds] };
    let train = b.add(&format!("train/{id}"), TaskKind::Train, params, labels.clone(), deps);
    let evals = (1..=t.epochs)
        .map(|epoch| {
            let mut labels = labels.clone();
            labels["epoch"] = json!(epoch);
            b.add(
                &format!("eval/{id}/e{epoch:02}"),
                TaskKind::Eval,
                json!({ "epoch": epoch, "benchmark": benchmark, "heldout": grid.eval.heldout_pairs }),
                labels,
                vec![train, ds, reference],
            )
        })
        .collect();
    (train, evals)
}

/// What identifies an agent's outputs: for an API, the endpoint, model and sampling settings
/// (not the key's variable, timeouts or concurrency, which change no reply).
fn agent_identity(a: &AgentSpec) -> Value {
    match a {
        AgentSpec::Oracle => json!({ "kind": "oracle" }),
        AgentSpec::Api { base_url, model, temperature, max_tokens, .. } => {
            json!({ "kind": "api", "base_url": base_url, "model": model, "temperature": temperature, "max_tokens": max_tokens })
        }
        AgentSpec::Model { spec } => json!({ "kind": "model", "spec": spec }),
        AgentSpec::File { field } => json!({ "kind": "file", "field": field }),
    }
}

/// A served target's identity: endpoint and model. How it is sampled (temperature, top_p,
/// length) is the `[agents.sampling]` section's, already in the `sample` task's parameters.
fn target_identity(a: &AgentSpec) -> Value {
    match a {
        AgentSpec::Api { base_url, model, .. } => json!({ "kind": "api", "base_url": base_url, "model": model }),
        other => agent_identity(other),
    }
}

/// A prompt template changes every reply: its content enters the agent's identity.
fn with_template(mut identity: Value, template: Option<&str>) -> Value {
    if let Some(path) = template {
        identity["template"] = json!(file_digest(Path::new(path)));
    }
    identity
}

/// A user file's content is an input: its sha256, or `missing` (the task then fails, naming it).
fn file_digest(path: &Path) -> String {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let Ok(mut f) = std::fs::File::open(path) else { return "missing".into() };
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match f.read(&mut buf) {
            Ok(0) => return hex::encode(hasher.finalize()),
            Ok(n) => hasher.update(&buf[..n]),
            Err(_) => return "unreadable".into(),
        }
    }
}

#[derive(Default)]
struct PlanBuilder {
    tasks: Vec<Task>,
    ids: BTreeMap<String, usize>,
}

impl PlanBuilder {
    fn add(&mut self, id: &str, kind: TaskKind, params: Value, labels: Value, deps: Vec<usize>) -> usize {
        let parent_keys: Vec<&str> = deps.iter().map(|d| self.tasks[*d].key.as_str()).collect();
        let key = task_key(kind, &params, &parent_keys);
        let index = self.tasks.len();
        assert!(self.ids.insert(id.to_string(), index).is_none(), "task id `{id}` planned twice");
        self.tasks.push(Task { id: id.to_string(), kind, params, labels, deps, key });
        index
    }

    fn finish(self) -> Plan {
        Plan::new(self.tasks)
    }
}
