//! From a [`Grid`] to a [`Plan`]: one task per unit of work, each with its typed input
//! (`super::inputs`) and keyed by it.
//!
//! What is shared is planned once: one base model, one prompt set, one sampling task, one
//! dataset build and one reference log-prob task per dataset (shared by every objective on it),
//! one evaluation of the base model. The first seed also seeds the base model and the data; the
//! other seeds replicate training (and so evaluation) only.

use std::collections::BTreeMap;
use std::path::Path;

use super::Plan;
use super::agent_input::{AgentInput, TargetInput};
use super::inputs::*;
use super::task::{Labels, Task, task_key};
use crate::data::builders::BuilderKind;
use crate::data::template::Role;
use crate::grid::schema::{AgentSpec, KeepCheckpoints, PromptSource};
use crate::grid::{Cell, DatasetSource, Grid};

/// Pretraining the tiny model keeps this many prompt and response tokens: the world's corpus
/// is short by construction (prompts under 80 characters, responses under 100), so nothing is
/// ever cut and the base model does not depend on `[train]`'s truncation.
pub const PRETRAIN_TOKENS: usize = 128;

pub fn build(grid: &Grid) -> Plan {
    let mut b = PlanBuilder::default();
    let data_seed = grid.seeds[0];
    let base_input =
        BaseModelInput { spec: grid.model.spec.clone(), pretrain: grid.model.pretrain.clone(), seed: data_seed };
    let base = b.add("base_model", TaskInput::BaseModel(base_input), Labels::default(), vec![]);
    let mut shared = Shared { base, sampling: None };
    let mut datasets = Vec::new();
    for d in &grid.datasets {
        datasets.push(plan_dataset(&mut b, grid, &mut shared, d));
    }
    let eval_base = EvalInput {
        epoch: 0,
        evaluators: grid.eval.evaluators.clone(),
        seed: data_seed,
        model: grid.model.spec.clone(),
        heldout: None,
        precision: grid.train.precision,
        cell: "base".into(),
    };
    b.add("eval/base", TaskInput::Eval(eval_base), Labels { epoch: Some(0), ..Labels::default() }, vec![base]);
    let several_seeds = grid.seeds.len() > 1;
    for cell in &grid.cells {
        plan_cell(&mut b, grid, cell, several_seeds, base, datasets[cell.dataset]);
    }
    b.finish()
}

/// The parents every built dataset shares.
struct Shared {
    base: usize,
    /// The prompts and sample tasks, planned for the first built dataset.
    sampling: Option<(usize, usize)>,
}

impl Shared {
    /// The prompts and sample tasks, planned on first use (a grid of imported datasets has none).
    fn sampling(&mut self, b: &mut PlanBuilder, grid: &Grid) -> (usize, usize) {
        *self.sampling.get_or_insert_with(|| plan_sampling(b, grid, self.base))
    }
}

/// Prompts and the target's samples. A target served by an API needs no local base model to
/// sample; its identity (endpoint, model) is then an input.
fn plan_sampling(b: &mut PlanBuilder, grid: &Grid, base: usize) -> (usize, usize) {
    let data_seed = grid.seeds[0];
    let p = &grid.prompts;
    let input = match p.source {
        PromptSource::World => PromptsInput::World { count: p.count, seed: data_seed },
        PromptSource::File => {
            let path = p.path.clone().unwrap_or_default();
            let completions_field = match &grid.agents.off_policy {
                AgentSpec::File { field } => Some(field.clone()),
                _ => None,
            };
            let sha256 = crate::digest::file_key(Path::new(&path));
            let ratings = grid.datasets.iter().any(|d| d.rating().is_some());
            let (count, field, seed) = (p.count, p.field.clone(), data_seed);
            PromptsInput::File { path, sha256, count, seed, field, completions_field, ratings }
        }
    };
    let prompts = b.add("prompts", TaskInput::Prompts(input), Labels::default(), vec![]);
    let s = &grid.agents.sampling;
    let input = SampleInput {
        samples: 2,
        greedy: true,
        temperature: s.temperature,
        top_p: s.top_p,
        max_new_tokens: s.max_new_tokens,
        seed: data_seed,
        target: grid.agents.target.clone().map(TargetInput),
        model: grid.model.spec.clone(),
    };
    let deps = if input.target.is_some() { vec![prompts] } else { vec![base, prompts] };
    let sample = b.add("sample", TaskInput::Sample(input), Labels::default(), deps);
    (prompts, sample)
}

/// A dataset and its reference log-probs; returns both indices.
fn plan_dataset(b: &mut PlanBuilder, grid: &Grid, shared: &mut Shared, d: &crate::grid::Dataset) -> (usize, usize) {
    let labels = Labels { dataset: Some(d.name.clone()), ..Labels::default() };
    let split = |ratio: Option<(f64, f64)>| SplitInput {
        heldout: grid.eval.heldout_pairs,
        seed: grid.seeds[0],
        min_length_ratio: ratio.map(|r| r.0),
        max_length_ratio: ratio.map(|r| r.1),
        min_pairs: d.min_pairs,
    };
    let (input, deps) = match &d.source {
        DatasetSource::File { path } => {
            let input = FileDatasetInput {
                builder: (),
                path: path.display().to_string(),
                sha256: crate::digest::file_key(path),
                common: split(None),
            };
            (DatasetInput::File(input), vec![])
        }
        DatasetSource::Build { kind, length_ratio, rating } => {
            let (prompts, sample) = shared.sampling(b, grid);
            let input = BuiltDatasetInput {
                builder: *kind,
                rating: *rating,
                agents: builder_agents(grid, *kind),
                comparison_judge: judge(grid),
                compare_all: grid.cells.iter().any(|c| {
                    grid.datasets[c.dataset].name == d.name
                        && grid.objectives[c.objective].loss.kind().needs_comparisons()
                }),
                common: split(Some(*length_ratio)),
                sampling: grid.agents.sampling.clone(),
                model: grid.model.spec.clone(),
            };
            // The base model is a parent only where it is sampled locally (its earlier
            // checkpoint feeds the oracle's off-policy pool).
            let deps =
                if grid.agents.target.is_some() { vec![prompts, sample] } else { vec![shared.base, prompts, sample] };
            (DatasetInput::Built(input), deps)
        }
    };
    let ds = b.add(&format!("dataset/{}", d.name), TaskInput::Dataset(input), labels.clone(), deps);
    let reference = ReferenceInput {
        truncation: grid_truncation(grid),
        precision: grid.train.precision,
        model: grid.model.spec.clone(),
    };
    let reference =
        b.add(&format!("reference/{}", d.name), TaskInput::ReferenceLogps(reference), labels, vec![shared.base, ds]);
    (ds, reference)
}

fn grid_truncation(grid: &Grid) -> crate::model::score::Truncation {
    crate::model::score::Truncation {
        max_prompt_tokens: grid.train.max_prompt_tokens,
        max_response_tokens: grid.train.max_response_tokens,
    }
}

fn judge(grid: &Grid) -> AgentInput {
    AgentInput::prompted(&grid.agents.judge, Role::Judge, grid.agents.judge_template.as_deref())
}

/// The agents a builder uses, and only those: a change to another role's agent leaves this
/// dataset's key alone.
fn builder_agents(grid: &Grid, kind: BuilderKind) -> BuilderAgents {
    let a = &grid.agents;
    let none = BuilderAgents { reviser: None, judge: None, off_policy: None, stronger: None };
    match kind {
        BuilderKind::Clair => {
            let reviser = AgentInput::prompted(&a.reviser, Role::Reviser, a.reviser_template.as_deref());
            BuilderAgents { reviser: Some(reviser), ..none }
        }
        BuilderKind::JudgeOnPolicy => BuilderAgents { judge: Some(judge(grid)), ..none },
        BuilderKind::JudgeOffPolicy => {
            BuilderAgents { judge: Some(judge(grid)), off_policy: Some(AgentInput::plain(&a.off_policy)), ..none }
        }
        BuilderKind::StrongerPreferred => BuilderAgents { stronger: Some(AgentInput::plain(&a.stronger)), ..none },
        BuilderKind::OffPolicyRatings => BuilderAgents { off_policy: Some(AgentInput::plain(&a.off_policy)), ..none },
    }
}

/// One cell's training run, an evaluation per epoch and, with `keep_checkpoints =
/// "best_last"`, the prune step after them.
fn plan_cell(b: &mut PlanBuilder, grid: &Grid, cell: &Cell, several_seeds: bool, base: usize, data: (usize, usize)) {
    let (ds, reference) = data;
    let dataset = &grid.datasets[cell.dataset];
    let objective = &grid.objectives[cell.objective];
    let seed_suffix = if several_seeds { format!("/s{}", cell.seed) } else { String::new() };
    let id = format!("{}/{}{seed_suffix}", dataset.name, objective.name);
    let t = &cell.train;
    let settings = TrainSettings::from(t);
    let truncation = settings.truncation();
    let mut tensorboard = grid.results_dir().join("tensorboard").join(&dataset.name).join(&objective.name);
    if several_seeds {
        tensorboard.push(format!("s{}", cell.seed));
    }
    let input = TrainInput {
        objective: objective.loss,
        train: settings,
        seed: cell.seed,
        model: grid.model.spec.clone(),
        tensorboard,
    };
    let labels = Labels {
        dataset: Some(dataset.name.clone()),
        objective: Some(objective.name.clone()),
        seed: Some(cell.seed),
        epoch: None,
    };
    // SFT needs no reference model: its key must not depend on the reference log-probs.
    let deps = if objective.loss.needs_reference() { vec![base, ds, reference] } else { vec![base, ds] };
    let train = b.add(&format!("train/{id}"), TaskInput::Train(input), labels.clone(), deps);
    let mut evals = Vec::new();
    for epoch in 1..=t.epochs {
        let input = EvalInput {
            epoch,
            evaluators: grid.eval.evaluators.clone(),
            seed: grid.seeds[0],
            model: grid.model.spec.clone(),
            heldout: Some(HeldoutInput { beta: objective.loss.beta(), truncation }),
            precision: t.precision,
            cell: id.clone(),
        };
        let labels = Labels { epoch: Some(epoch), ..labels.clone() };
        evals.push(b.add(
            &format!("eval/{id}/e{epoch:02}"),
            TaskInput::Eval(input),
            labels,
            vec![train, ds, reference],
        ));
    }
    if grid.train.keep_checkpoints == KeepCheckpoints::BestLast {
        let input = PruneInput { keep: KeepCheckpoints::BestLast };
        b.add(&format!("prune/{id}"), TaskInput::Prune(input), labels, std::iter::once(train).chain(evals).collect());
    }
}

#[derive(Default)]
struct PlanBuilder {
    tasks: Vec<Task>,
    ids: BTreeMap<String, usize>,
}

impl PlanBuilder {
    fn add(&mut self, id: &str, input: TaskInput, labels: Labels, deps: Vec<usize>) -> usize {
        let parent_keys: Vec<&str> = deps.iter().map(|d| self.tasks[*d].key.as_str()).collect();
        let key = task_key(&input, &parent_keys);
        let index = self.tasks.len();
        assert!(self.ids.insert(id.to_string(), index).is_none(), "task id `{id}` planned twice");
        self.tasks.push(Task { id: id.to_string(), input, labels, deps, key });
        index
    }

    fn finish(self) -> Plan {
        Plan::new(self.tasks)
    }
}
