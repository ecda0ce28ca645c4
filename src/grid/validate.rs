//! From the parsed file to a [`Grid`]: checks that serde cannot express, each naming the line,
//! column and key it is about. Strings are parsed here, once, into the lower floors' types
//! (model specs, devices, objectives, evaluators), so nothing downstream parses them again.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use toml::Spanned;

use super::error::{GridError, Locator};
use super::resolved::{Cell, Dataset, DatasetSource, Devices, Grid, GridModel, Objective};
use super::schema::{
    AgentSpec, DatasetEntry, DatasetKind, GridFile, ModelSection, ObjectiveEntry, PromptSource, TrainSection,
};
use crate::data::builders::BuilderKind;
use crate::data::filters::FilterConfig;
use crate::device::DeviceName;
use crate::model::spec::ModelSpec;
use crate::objective::{DEFAULT_BETA, Objective as Loss};

/// Bounds on counts, so a typo (`epochs = 1e9`) is an error naming the key instead of a plan
/// that allocates without end. Each is far above any run this tool is for.
pub const MAX_EPOCHS: usize = 1000;
pub const MAX_SEEDS: usize = 1000;
pub const MAX_WORLD_PROMPTS: usize = 1_000_000;
pub const MAX_PRETRAIN_EXAMPLES: usize = 10_000_000;

/// Names become folder names: `[a-z0-9_-]`, so no name can escape the results folder.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("expected a non-empty name".into());
    }
    if name.len() > 64 {
        return Err(format!("name `{name}` is longer than 64 characters"));
    }
    match name.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-')) {
        Some(c) => Err(format!("name `{name}` contains `{c}`; expected only lower-case letters, digits, `_` and `-`")),
        None => Ok(()),
    }
}

pub fn validate(file: GridFile, path: &Path, source: &str) -> Result<Grid, GridError> {
    let loc = Locator { file: path, source };
    let name = file.grid.name.get_ref().clone();
    check_name(&name).map_err(|m| loc.at(file.grid.name.span(), "grid.name", m))?;
    let seeds = seeds(&file, &loc)?;
    let model = model(&file.model, &loc)?;
    check_prompts_and_agents(&file, &loc)?;
    check_train(&file.train, "train").map_err(|(k, m)| loc.key(k, m))?;
    let datasets = datasets(&file.datasets, &file.agents.off_policy, &loc)?;
    let objectives = objectives(&file.objectives, &loc)?;
    let cells = cells(&file, &datasets, &objectives, &seeds, &loc)?;
    let (eval, missing_data) = super::eval::eval(&file.eval, &loc)?;
    if file.prompts.source == PromptSource::World && eval.heldout_pairs >= file.prompts.count {
        let message = format!(
            "{} held-out pairs would take every one of the {} prompts' pairs; hold out fewer",
            eval.heldout_pairs, file.prompts.count
        );
        return Err(loc.key("eval.heldout_pairs", message));
    }
    let devices = devices(&file, &loc)?;
    let mut missing = missing_inputs(&file, &loc);
    missing.extend(missing_data);
    let executor = super::executor::validate(&file.executor, &loc)?;
    Ok(Grid {
        missing,
        name,
        path: path.to_path_buf(),
        seeds,
        store: PathBuf::from(file.grid.store.clone().unwrap_or_else(|| "results/.cache".into())),
        results: PathBuf::from(file.grid.results.clone().unwrap_or_else(|| "results".into())),
        model,
        prompts: file.prompts,
        agents: file.agents,
        train: file.train,
        eval,
        datasets,
        objectives,
        cells,
        devices,
        executor,
    })
}

fn seeds(file: &GridFile, loc: &Locator) -> Result<Vec<u64>, GridError> {
    match (file.grid.seed, &file.grid.seeds) {
        (Some(_), Some(s)) => Err(loc.at(s.span(), "grid.seeds", "give either `seed` or `seeds`, not both")),
        (None, Some(s)) if s.get_ref().is_empty() => Err(loc.at(s.span(), "grid.seeds", "expected at least one seed")),
        (None, Some(s)) if s.get_ref().len() > MAX_SEEDS => {
            Err(loc.at(s.span(), "grid.seeds", format!("expected at most {MAX_SEEDS} seeds")))
        }
        (None, Some(s)) => {
            let mut seen = BTreeSet::new();
            if let Some(d) = s.get_ref().iter().find(|x| !seen.insert(**x)) {
                return Err(loc.at(s.span(), "grid.seeds", format!("seed {d} is listed twice")));
            }
            Ok(s.get_ref().clone())
        }
        (Some(seed), None) => Ok(vec![seed]),
        (None, None) => Ok(vec![0]),
    }
}

fn model(m: &ModelSection, loc: &Locator) -> Result<GridModel, GridError> {
    let text = m.spec.get_ref().trim();
    let at = |message: String| loc.at(m.spec.span(), "model.spec", message);
    let spec: ModelSpec = text.parse().map_err(|e: crate::model::spec::SpecError| at(e.to_string()))?;
    let tiny = match spec {
        ModelSpec::Tiny(0) => true,
        ModelSpec::Tiny(_) => {
            return Err(at(format!("`{text}`: a grid's tiny model is trained from the grid's seed; write `tiny`")));
        }
        _ => false,
    };
    if m.pretrain.is_some() && !tiny {
        let message = format!("`[model.pretrain]` trains the embedded tiny model only; spec is `{text}`");
        return Err(loc.at(m.spec.span(), "model.pretrain", message));
    }
    let pretrain = tiny.then(|| m.pretrain.clone().unwrap_or_default());
    if let Some(p) = &pretrain {
        check_pretrain(p).map_err(|(k, message)| loc.key(format!("model.pretrain.{k}"), message))?;
    }
    Ok(GridModel { spec, pretrain })
}

/// Input files the grid names that do not exist (yet): `plan` shows them, `run` refuses to
/// start until they do, so no task runs only to fail on them later.
fn missing_inputs(file: &GridFile, loc: &Locator) -> Vec<GridError> {
    let mut missing = Vec::new();
    if let (PromptSource::File, Some(path)) = (&file.prompts.source, &file.prompts.path)
        && !Path::new(path).is_file()
    {
        missing.push(loc.key("prompts.path", format!("no such file `{path}`")));
    }
    for (i, d) in file.datasets.iter().enumerate() {
        if let Some(p) = d.path.as_ref().filter(|p| !Path::new(p.get_ref()).is_file()) {
            missing.push(loc.at(p.span(), format!("dataset[{i}].path"), format!("no such file `{}`", p.get_ref())));
        }
    }
    missing
}

fn check_pretrain(p: &crate::grid::schema::PretrainSection) -> Result<(), (&'static str, String)> {
    if p.examples == 0 || p.examples > MAX_PRETRAIN_EXAMPLES {
        return Err(("examples", format!("expected 1 to {MAX_PRETRAIN_EXAMPLES} examples, got {}", p.examples)));
    }
    if p.epochs == 0 || p.epochs > MAX_EPOCHS {
        return Err(("epochs", format!("expected 1 to {MAX_EPOCHS} epochs, got {}", p.epochs)));
    }
    if p.batch_size == 0 {
        return Err(("batch_size", "expected a batch of at least 1 example".into()));
    }
    if !(p.learning_rate.is_finite() && p.learning_rate > 0.0) {
        return Err(("learning_rate", format!("expected a positive number, got {}", p.learning_rate)));
    }
    Ok(())
}

fn check_prompts_and_agents(file: &GridFile, loc: &Locator) -> Result<(), GridError> {
    let p = &file.prompts;
    if let (PromptSource::File, None) = (&p.source, &p.path) {
        return Err(loc.key("prompts.path", "`[prompts]` has `source = \"file\"` but no `path`"));
    }
    if matches!(file.agents.off_policy, AgentSpec::File { .. }) && p.source != PromptSource::File {
        let message = "`kind = \"file\"` reads other models' completions from the prompts file; it needs `[prompts] source = \"file\"`";
        return Err(loc.key("agents.off_policy.kind", message));
    }
    if p.count == 0 {
        return Err(loc.key("prompts.count", "expected at least one prompt"));
    }
    if p.source == PromptSource::World && p.count > MAX_WORLD_PROMPTS {
        return Err(
            loc.key("prompts.count", format!("expected at most {MAX_WORLD_PROMPTS} world prompts, got {}", p.count))
        );
    }
    let s = &file.agents.sampling;
    if !(s.temperature.is_finite() && s.temperature >= 0.0) {
        return Err(
            loc.key("agents.sampling.temperature", format!("expected a temperature >= 0, got {}", s.temperature))
        );
    }
    if !(s.top_p > 0.0 && s.top_p <= 1.0) {
        return Err(loc.key("agents.sampling.top_p", format!("expected 0 < top_p <= 1, got {}", s.top_p)));
    }
    if s.max_new_tokens == 0 {
        return Err(loc.key("agents.sampling.max_new_tokens", "expected at least 1 token"));
    }
    super::agents::check_agents(&file.agents).map_err(|(k, m)| loc.key(k, m))
}

fn datasets(entries: &[DatasetEntry], off_policy: &AgentSpec, loc: &Locator) -> Result<Vec<Dataset>, GridError> {
    let mut datasets = Vec::new();
    let mut names = BTreeSet::new();
    for (i, d) in entries.iter().enumerate() {
        let key = |k: &str| format!("dataset[{i}].{k}");
        let n = d.name.get_ref();
        check_name(n).map_err(|m| loc.at(d.name.span(), key("name"), m))?;
        if !names.insert(n.clone()) {
            return Err(loc.at(d.name.span(), key("name"), format!("dataset `{n}` is declared twice")));
        }
        let source = match (d.builder, &d.path) {
            (DatasetKind::File, None) => {
                return Err(loc.at(d.name.span(), key("path"), "builder `file` needs `path` to a JSONL file"));
            }
            (DatasetKind::File, Some(p)) => DatasetSource::File { path: PathBuf::from(p.get_ref()) },
            (b, Some(p)) => {
                let message = format!("`path` is only for builder `file`, not `{}`", b.as_str());
                return Err(loc.at(p.span(), key("path"), message));
            }
            (DatasetKind::Build(kind), None) => {
                let rating = match (kind, &d.rating) {
                    (BuilderKind::OffPolicyRatings, r) => Some(r.as_ref().map(|r| *r.get_ref()).unwrap_or_default()),
                    (_, None) => None,
                    (_, Some(r)) => {
                        let message =
                            format!("`rating` is only for builder `off_policy_ratings`, not `{}`", kind.as_str());
                        return Err(loc.at(r.span(), key("rating"), message));
                    }
                };
                if kind == BuilderKind::OffPolicyRatings && !matches!(off_policy, AgentSpec::File { .. }) {
                    let message = "builder `off_policy_ratings` ranks the completions stored with the prompts; it needs `[agents.off_policy] kind = \"file\"` naming their field";
                    return Err(loc.at(d.name.span(), key("builder"), message));
                }
                DatasetSource::Build { kind, length_ratio: length_ratio(d, &key, loc)?, rating }
            }
        };
        let min_pairs = match &d.min_pairs {
            Some(m) if *m.get_ref() == 0 => return Err(loc.at(m.span(), key("min_pairs"), "expected at least 1")),
            Some(m) => *m.get_ref(),
            None => 1,
        };
        datasets.push(Dataset { name: n.clone(), source, min_pairs });
    }
    if datasets.is_empty() {
        return Err(loc.key("dataset", "expected at least one `[[dataset]]` entry"));
    }
    Ok(datasets)
}

/// The revision length-ratio filter's bounds; the defaults are the data floor's (SPEC.md 1).
fn length_ratio(d: &DatasetEntry, key: &dyn Fn(&str) -> String, loc: &Locator) -> Result<(f64, f64), GridError> {
    let (default_min, default_max) = FilterConfig::REVISION.length_ratio.unwrap_or((0.0, f64::INFINITY));
    let ratio = |r: &Option<Spanned<f64>>, k: &str, default: f64| -> Result<f64, GridError> {
        match r {
            None => Ok(default),
            Some(v) if v.get_ref().is_finite() && *v.get_ref() > 0.0 => Ok(*v.get_ref()),
            Some(v) => Err(loc.at(v.span(), key(k), format!("expected a positive number, got {}", v.get_ref()))),
        }
    };
    let min = ratio(&d.min_length_ratio, "min_length_ratio", default_min)?;
    let max = ratio(&d.max_length_ratio, "max_length_ratio", default_max)?;
    if min > max {
        let span = d.min_length_ratio.as_ref().map(|s| s.span()).unwrap_or(d.name.span());
        return Err(loc.at(span, key("min_length_ratio"), format!("{min} is larger than max_length_ratio {max}")));
    }
    Ok((min, max))
}

fn objectives(entries: &[ObjectiveEntry], loc: &Locator) -> Result<Vec<Objective>, GridError> {
    let mut objectives = Vec::new();
    let mut names = BTreeSet::new();
    for (i, o) in entries.iter().enumerate() {
        let key = |k: &str| format!("objective[{i}].{k}");
        let n = o.name.get_ref();
        check_name(n).map_err(|m| loc.at(o.name.span(), key("name"), m))?;
        if !names.insert(n.clone()) {
            return Err(loc.at(o.name.span(), key("name"), format!("objective `{n}` is declared twice")));
        }
        let loss = objective_loss(o, &key, loc)?;
        if o.enabled {
            objectives.push(Objective { name: n.clone(), loss });
        }
    }
    if objectives.is_empty() {
        return Err(loc.key("objective", "expected at least one enabled `[[objective]]` entry"));
    }
    Ok(objectives)
}

/// The row's loss with β (the objective floor's default where omitted; none may be given for
/// `sft`) and the unpaired objectives' weights (1 where omitted; none for paired ones).
fn objective_loss(o: &ObjectiveEntry, key: &dyn Fn(&str) -> String, loc: &Locator) -> Result<Loss, GridError> {
    let positive = |v: &Spanned<f64>, k: &str| -> Result<f64, GridError> {
        let x = *v.get_ref();
        if x.is_finite() && x > 0.0 {
            Ok(x)
        } else {
            Err(loc.at(v.span(), key(k), format!("expected a positive number, got {x}")))
        }
    };
    let beta = match (&o.beta, o.kind.needs_reference()) {
        (Some(b), false) => return Err(loc.at(b.span(), key("beta"), "`sft` has no reward scale; remove `beta`")),
        (Some(b), true) => positive(b, "beta")?,
        (None, _) => DEFAULT_BETA,
    };
    let weight = |w: &Option<Spanned<f64>>, k: &str| -> Result<f64, GridError> {
        match (w, o.kind.is_paired()) {
            (Some(v), true) => {
                let message = format!("`{k}` applies to unpaired objectives only, not `{}`", o.kind.name());
                Err(loc.at(v.span(), key(k), message))
            }
            (Some(v), false) => positive(v, k),
            (None, _) => Ok(1.0),
        }
    };
    let desirable = weight(&o.desirable_weight, "desirable_weight")?;
    let undesirable = weight(&o.undesirable_weight, "undesirable_weight")?;
    Loss::from_kind(o.kind, beta, desirable, undesirable).map_err(|e| loc.at(o.name.span(), key("kind"), e.to_string()))
}

/// The dataset x objective x seed cells, minus exclusions, with overrides applied. Every cell's
/// settings are checked against its objective (e.g. KTO needs micro-batches of two).
fn cells(
    file: &GridFile,
    datasets: &[Dataset],
    objectives: &[Objective],
    seeds: &[u64],
    loc: &Locator,
) -> Result<Vec<Cell>, GridError> {
    let all_objectives: BTreeSet<&str> = file.objectives.iter().map(|o| o.name.get_ref().as_str()).collect();
    let find_cell =
        |d: &Spanned<String>, o: &Spanned<String>, what: &str| -> Result<(usize, Option<usize>), GridError> {
            let di = datasets.iter().position(|x| &x.name == d.get_ref()).ok_or_else(|| {
                loc.at(d.span(), format!("{what}.dataset"), format!("no dataset is named `{}`", d.get_ref()))
            })?;
            if !all_objectives.contains(o.get_ref().as_str()) {
                return Err(loc.at(
                    o.span(),
                    format!("{what}.objective"),
                    format!("no objective is named `{}`", o.get_ref()),
                ));
            }
            Ok((di, objectives.iter().position(|x| &x.name == o.get_ref())))
        };
    let mut excluded = BTreeSet::new();
    for e in &file.excludes {
        if let (di, Some(oi)) = find_cell(&e.dataset, &e.objective, "exclude")? {
            excluded.insert((di, oi));
        }
    }
    let mut overrides = BTreeMap::new();
    for (i, ov) in file.overrides.iter().enumerate() {
        let (di, oi) = find_cell(&ov.dataset, &ov.objective, "override")?;
        let mut train = file.train.clone();
        train.learning_rate = ov.learning_rate.unwrap_or(train.learning_rate);
        train.epochs = ov.epochs.unwrap_or(train.epochs);
        train.batch_size = ov.batch_size.unwrap_or(train.batch_size);
        check_train(&train, &format!("override[{i}]")).map_err(|(k, m)| loc.at(ov.dataset.span(), k, m))?;
        if let Some(oi) = oi {
            overrides.insert((di, oi), (i, train));
        }
    }
    let mut cells = Vec::new();
    for seed in seeds {
        for (di, dataset) in datasets.iter().enumerate() {
            for (oi, objective) in objectives.iter().enumerate().filter(|(oi, _)| !excluded.contains(&(di, *oi))) {
                let (table, train) = match overrides.get(&(di, oi)) {
                    Some((i, t)) => (format!("override[{i}]"), t.clone()),
                    None => ("train".to_string(), file.train.clone()),
                };
                check_cell(objective, &train, &table, file, loc)?;
                check_comparisons(dataset, objective, file, loc)?;
                cells.push(Cell { dataset: di, objective: oi, seed: *seed, train });
            }
        }
    }
    if cells.is_empty() {
        let span = file.excludes.first().map(|e| e.dataset.span()).unwrap_or(0..0);
        return Err(loc.at(span, "exclude", "every dataset x objective cell is excluded: nothing would be trained"));
    }
    Ok(cells)
}

/// What would only fail once training starts: a micro-batch smaller than the loss needs.
fn check_cell(o: &Objective, t: &TrainSection, table: &str, file: &GridFile, loc: &Locator) -> Result<(), GridError> {
    let kind = o.loss.kind();
    if t.micro_batch_size < kind.min_batch() {
        let message = format!(
            "objective `{}` ({}) needs micro-batches of at least {}, got micro_batch_size = {}",
            o.name,
            kind.name(),
            kind.min_batch(),
            t.micro_batch_size
        );
        let span = file.objectives.iter().find(|e| e.name.get_ref() == &o.name).map(|e| e.name.span());
        let key = format!("{table}.micro_batch_size");
        return Err(match span {
            Some(span) => loc.at(span, key, message),
            None => loc.key(key, message),
        });
    }
    Ok(())
}

/// `apo_auto` reads each pair's winner-vs-model comparison, which only a built dataset makes
/// (its judge compares every winner with the target's greedy answer).
fn check_comparisons(d: &Dataset, o: &Objective, file: &GridFile, loc: &Locator) -> Result<(), GridError> {
    if !(o.loss.kind().needs_comparisons() && matches!(d.source, DatasetSource::File { .. })) {
        return Ok(());
    }
    let message = format!(
        "objective `{}` (apo_auto) needs each pair's winner-vs-model comparison, which a built dataset makes; dataset `{}` is imported from a file (exclude the cell with `[[exclude]]`)",
        o.name, d.name
    );
    let i = file.objectives.iter().position(|e| e.name.get_ref() == &o.name).unwrap_or(0);
    let span = file.objectives.get(i).map(|e| e.name.span()).unwrap_or(0..0);
    Err(loc.at(span, format!("objective[{i}].kind"), message))
}

fn devices(file: &GridFile, loc: &Locator) -> Result<Devices, GridError> {
    let mut list = Vec::new();
    for (i, d) in file.devices.list.iter().enumerate() {
        let name = DeviceName::parse(d).map_err(|e| loc.key(format!("devices.list[{i}]"), e.to_string()))?;
        list.push(name);
    }
    if file.devices.jobs == Some(0) {
        return Err(loc.key("devices.jobs", "expected at least 1"));
    }
    let memory = match file.devices.memory_gib {
        None => None,
        Some(g) if g.is_finite() && g > 0.0 && g < 1e6 => Some((g * (1u64 << 30) as f64) as u64),
        Some(g) => return Err(loc.key("devices.memory_gib", format!("expected a positive size in GiB, got {g}"))),
    };
    Ok(Devices { list, jobs: file.devices.jobs, memory })
}

fn check_train(t: &TrainSection, table: &str) -> Result<(), (String, String)> {
    let err = |k: &str, m: String| Err((format!("{table}.{k}"), m));
    if t.epochs == 0 || t.epochs > MAX_EPOCHS {
        return err(
            "epochs",
            format!("expected 1 to {MAX_EPOCHS} epochs (one evaluation task each), got {}", t.epochs),
        );
    }
    if !(t.learning_rate.is_finite() && t.learning_rate > 0.0) {
        return err("learning_rate", format!("expected a positive number, got {}", t.learning_rate));
    }
    if t.batch_size == 0 {
        return err("batch_size", "batch sizes must be at least 1".into());
    }
    if !(0.0..1.0).contains(&t.warmup_ratio) {
        return err("warmup_ratio", format!("expected a share of the updates in [0, 1), got {}", t.warmup_ratio));
    }
    if let Some(m) = t.max_grad_norm.filter(|m| !(m.is_finite() && *m > 0.0)) {
        return err("max_grad_norm", format!("expected a positive norm (e.g. 1.0, Hugging Face's default), got {m}"));
    }
    if t.micro_batch_size == 0 {
        return err("micro_batch_size", "batch sizes must be at least 1".into());
    }
    if !t.batch_size.is_multiple_of(t.micro_batch_size) {
        return err(
            "micro_batch_size",
            format!("batch_size {} is not a multiple of micro_batch_size {}", t.batch_size, t.micro_batch_size),
        );
    }
    if t.max_prompt_tokens == 0 || t.max_response_tokens == 0 {
        return err("max_response_tokens", "truncation lengths must be at least 1".into());
    }
    Ok(())
}
