//! From the parsed file to a [`Grid`]: checks that serde cannot express, each naming the line,
//! column and key it is about.

use std::collections::BTreeSet;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;

use super::error::{GridError, Locator};
use super::resolved::{Cell, Dataset, Grid, ModelSpec, Objective};
use super::schema::{AgentSpec, Builder, GridFile, PromptSource, TrainSection};

/// Default length-ratio filter of SPEC.md section 1.
pub const DEFAULT_MIN_LENGTH_RATIO: f64 = 0.5;
pub const DEFAULT_MAX_LENGTH_RATIO: f64 = 2.0;
/// The paper's reward scale.
pub const DEFAULT_BETA: f64 = 0.1;

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
    let span_of = |s: &Spanned<String>| -> Range<usize> { s.span() };

    let name = file.grid.name.get_ref().clone();
    check_name(&name).map_err(|m| loc.at(span_of(&file.grid.name), "grid.name", m))?;

    let seeds = match (file.grid.seed, &file.grid.seeds) {
        (Some(_), Some(s)) => return Err(loc.at(s.span(), "grid.seeds", "give either `seed` or `seeds`, not both")),
        (None, Some(s)) if s.get_ref().is_empty() => {
            return Err(loc.at(s.span(), "grid.seeds", "expected at least one seed"));
        }
        (None, Some(s)) => {
            let mut seen = BTreeSet::new();
            if let Some(d) = s.get_ref().iter().find(|x| !seen.insert(**x)) {
                return Err(loc.at(s.span(), "grid.seeds", format!("seed {d} is listed twice")));
            }
            s.get_ref().clone()
        }
        (Some(seed), None) => vec![seed],
        (None, None) => vec![0],
    };

    let spec = file.model.spec.get_ref().trim().to_string();
    check_model_spec(&spec).map_err(|m| loc.at(file.model.spec.span(), "model.spec", m))?;
    if file.model.pretrain.is_some() && spec != "tiny" {
        return Err(loc.at(
            file.model.spec.span(),
            "model.pretrain",
            format!("`[model.pretrain]` trains the embedded tiny model only; spec is `{spec}`"),
        ));
    }
    let pretrain = (spec == "tiny").then(|| file.model.pretrain.clone().unwrap_or_default());

    if file.prompts.source == PromptSource::File && file.prompts.path.is_none() {
        return Err(loc.whole_file("`[prompts]` has `source = \"file\"` but no `path`").with_key("prompts.path"));
    }
    if matches!(file.agents.off_policy, AgentSpec::File { .. }) && file.prompts.source != PromptSource::File {
        return Err(loc
            .whole_file("`kind = \"file\"` reads other models' completions from the prompts file; it needs `[prompts] source = \"file\"`")
            .with_key("agents.off_policy.kind"));
    }
    if file.prompts.count == 0 {
        return Err(loc.whole_file("expected at least one prompt").with_key("prompts.count"));
    }
    check_train(&file.train, "train").map_err(|(k, m)| loc.whole_file(m).with_key(k))?;
    super::agents::check_agents(&file.agents).map_err(|(k, m)| loc.whole_file(m).with_key(k))?;

    let mut datasets = Vec::new();
    let mut names = BTreeSet::new();
    for (i, d) in file.datasets.iter().enumerate() {
        let key = |k: &str| format!("dataset[{i}].{k}");
        let n = d.name.get_ref();
        check_name(n).map_err(|m| loc.at(d.name.span(), key("name"), m))?;
        if !names.insert(n.clone()) {
            return Err(loc.at(d.name.span(), key("name"), format!("dataset `{n}` is declared twice")));
        }
        let path = match (d.builder, &d.path) {
            (Builder::File, None) => {
                return Err(loc.at(d.name.span(), key("path"), "builder `file` needs `path` to a JSONL file"));
            }
            (Builder::File, Some(p)) => Some(PathBuf::from(p.get_ref())),
            (b, Some(p)) => {
                return Err(loc.at(
                    p.span(),
                    key("path"),
                    format!("`path` is only for builder `file`, not `{}`", b.name()),
                ));
            }
            (_, None) => None,
        };
        let ratio = |r: &Option<Spanned<f64>>, k: &str, default: f64| -> Result<f64, GridError> {
            match r {
                None => Ok(default),
                Some(v) if v.get_ref().is_finite() && *v.get_ref() > 0.0 => Ok(*v.get_ref()),
                Some(v) => Err(loc.at(v.span(), key(k), format!("expected a positive number, got {}", v.get_ref()))),
            }
        };
        let min = ratio(&d.min_length_ratio, "min_length_ratio", DEFAULT_MIN_LENGTH_RATIO)?;
        let max = ratio(&d.max_length_ratio, "max_length_ratio", DEFAULT_MAX_LENGTH_RATIO)?;
        if min > max {
            let span = d.min_length_ratio.as_ref().map(|s| s.span()).unwrap_or(d.name.span());
            return Err(loc.at(span, key("min_length_ratio"), format!("{min} is larger than max_length_ratio {max}")));
        }
        datasets.push(Dataset {
            name: n.clone(),
            builder: d.builder,
            path,
            min_length_ratio: min,
            max_length_ratio: max,
        });
    }
    if datasets.is_empty() {
        return Err(loc.whole_file("expected at least one `[[dataset]]` entry").with_key("dataset"));
    }

    let mut objectives = Vec::new();
    let mut names = BTreeSet::new();
    for (i, o) in file.objectives.iter().enumerate() {
        let key = |k: &str| format!("objective[{i}].{k}");
        let n = o.name.get_ref();
        check_name(n).map_err(|m| loc.at(o.name.span(), key("name"), m))?;
        if !names.insert(n.clone()) {
            return Err(loc.at(o.name.span(), key("name"), format!("objective `{n}` is declared twice")));
        }
        let positive = |v: &Spanned<f64>, k: &str| -> Result<f64, GridError> {
            let x = *v.get_ref();
            if x.is_finite() && x > 0.0 {
                Ok(x)
            } else {
                Err(loc.at(v.span(), key(k), format!("expected a positive number, got {x}")))
            }
        };
        let beta = match (&o.beta, o.kind.uses_beta()) {
            (Some(b), false) => return Err(loc.at(b.span(), key("beta"), "`sft` has no reward scale; remove `beta`")),
            (Some(b), true) => Some(positive(b, "beta")?),
            (None, true) => Some(DEFAULT_BETA),
            (None, false) => None,
        };
        let weight = |w: &Option<Spanned<f64>>, k: &str| -> Result<Option<f64>, GridError> {
            match (w, o.kind.is_unpaired()) {
                (Some(v), false) => Err(loc.at(
                    v.span(),
                    key(k),
                    format!("`{k}` applies to unpaired objectives only, not `{}`", o.kind.name()),
                )),
                (Some(v), true) => positive(v, k).map(Some),
                (None, true) => Ok(Some(1.0)),
                (None, false) => Ok(None),
            }
        };
        let desirable_weight = weight(&o.desirable_weight, "desirable_weight")?;
        let undesirable_weight = weight(&o.undesirable_weight, "undesirable_weight")?;
        if o.enabled {
            objectives.push(Objective { name: n.clone(), kind: o.kind, beta, desirable_weight, undesirable_weight });
        }
    }
    if objectives.is_empty() {
        return Err(loc.whole_file("expected at least one enabled `[[objective]]` entry").with_key("objective"));
    }

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
    let mut overrides = std::collections::BTreeMap::new();
    for (i, ov) in file.overrides.iter().enumerate() {
        let (di, oi) = find_cell(&ov.dataset, &ov.objective, "override")?;
        let mut train = file.train.clone();
        if let Some(lr) = ov.learning_rate {
            train.learning_rate = lr;
        }
        if let Some(e) = ov.epochs {
            train.epochs = e;
        }
        if let Some(b) = ov.batch_size {
            train.batch_size = b;
        }
        check_train(&train, &format!("override[{i}]")).map_err(|(k, m)| loc.at(ov.dataset.span(), k, m))?;
        if let Some(oi) = oi {
            overrides.insert((di, oi), train);
        }
    }

    let mut cells = Vec::new();
    for seed in &seeds {
        for di in 0..datasets.len() {
            for oi in 0..objectives.len() {
                if excluded.contains(&(di, oi)) {
                    continue;
                }
                let train = overrides.get(&(di, oi)).cloned().unwrap_or_else(|| file.train.clone());
                cells.push(Cell { dataset: di, objective: oi, seed: *seed, train });
            }
        }
    }

    for (i, d) in file.devices.list.iter().enumerate() {
        check_device(d).map_err(|m| loc.whole_file(m).with_key(format!("devices.list[{i}]")))?;
    }
    if file.devices.jobs == Some(0) {
        return Err(loc.whole_file("expected at least 1").with_key("devices.jobs"));
    }

    Ok(Grid {
        name,
        path: path.to_path_buf(),
        seeds,
        store: PathBuf::from(file.grid.store.clone().unwrap_or_else(|| "results/.cache".into())),
        results: PathBuf::from(file.grid.results.clone().unwrap_or_else(|| "results".into())),
        model: ModelSpec { spec, pretrain },
        prompts: file.prompts,
        agents: file.agents,
        train: file.train,
        eval: file.eval,
        datasets,
        objectives,
        cells,
        devices: file.devices,
    })
}

fn check_model_spec(spec: &str) -> Result<(), String> {
    match spec {
        "tiny" | "smollm2" => Ok(()),
        s if s.strip_prefix("hf:").is_some_and(|p| !p.is_empty()) => Ok(()),
        s if s.strip_prefix("gguf:").is_some_and(|p| !p.is_empty()) => Ok(()),
        s => Err(format!("unknown model spec `{s}`; expected `tiny`, `smollm2`, `hf:DIR` or `gguf:FILE`")),
    }
}

fn check_train(t: &TrainSection, table: &str) -> Result<(), (String, String)> {
    let err = |k: &str, m: String| Err((format!("{table}.{k}"), m));
    if t.epochs == 0 {
        return err("epochs", "expected at least 1 epoch".into());
    }
    if !(t.learning_rate.is_finite() && t.learning_rate > 0.0) {
        return err("learning_rate", format!("expected a positive number, got {}", t.learning_rate));
    }
    if t.batch_size == 0 || t.micro_batch_size == 0 {
        return err("batch_size", "batch sizes must be at least 1".into());
    }
    if t.batch_size % t.micro_batch_size != 0 {
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

fn check_device(d: &str) -> Result<(), String> {
    if d == "cpu" {
        return Ok(());
    }
    match d.strip_prefix("cuda:").map(str::parse::<usize>) {
        Some(Ok(_)) => Ok(()),
        _ => Err(format!("unknown device `{d}`; expected `cpu` or `cuda:N`")),
    }
}

impl GridError {
    fn with_key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }
}
