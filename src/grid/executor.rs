//! `[executor]`: where a grid's tasks run. `local` (the default) runs them on threads of the
//! `apogrid run` process; `slurm` submits each ready task as a Slurm job running
//! `apogrid task GRID ID` against the shared store (see `crate::exec::slurm`).
//!
//! Nothing here enters a task's key: the same grid gives the same artifacts wherever it runs.
//! Every value sbatch would only reject at submission time (a malformed time limit or memory
//! size, a flag apogrid sets itself) fails at `plan` with the file, line and column.
//!
//! ```toml
//! [executor]
//! kind = "slurm"
//! partition = "gpu"
//! account = "my-project"
//! qos = "normal"
//! sbatch_args = ["--constraint=a100"]
//! setup = ["module load cuda/12.4"]           # shell lines before the task
//! command_prefix = ["apptainer", "exec", "--nv", "apogrid.sif"]   # wraps the apogrid command
//! [executor.resources.default]
//! cpus = 4
//! mem = "16G"
//! time = "01:00:00"
//! [executor.resources.train]
//! gpus = 1
//! time = "1-00:00:00"
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;
use toml::Spanned;

use super::error::{GridError, Locator};

/// Which backend runs the ready tasks.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum ExecutorKind {
    #[default]
    Local,
    Slurm,
}

impl ExecutorKind {
    pub fn parse(name: &str) -> Option<ExecutorKind> {
        match name {
            "local" => Some(ExecutorKind::Local),
            "slurm" => Some(ExecutorKind::Slurm),
            _ => None,
        }
    }
}

/// `[executor]` as written.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ExecutorSection {
    #[serde(default)]
    pub kind: ExecutorKind,
    pub partition: Option<Spanned<String>>,
    pub account: Option<Spanned<String>>,
    pub qos: Option<Spanned<String>>,
    /// Further sbatch flags, one per element (`"--constraint=a100"`).
    #[serde(default)]
    pub sbatch_args: Vec<Spanned<String>>,
    /// Shell lines each job runs before apogrid (`module load ...`, `source venv/bin/activate`).
    #[serde(default)]
    pub setup: Vec<String>,
    /// Words put before the apogrid command, e.g. a container runner.
    #[serde(default)]
    pub command_prefix: Vec<String>,
    /// The apogrid binary jobs run (default: the binary that submits them).
    pub binary: Option<String>,
    /// Seconds between two looks at the queue (default 2).
    pub poll_s: Option<Spanned<f64>>,
    #[serde(default)]
    pub resources: ResourcesSection,
}

/// `[executor.resources.<kind>]`: one table per task kind, over `default`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ResourcesSection {
    pub default: Option<ResourceEntry>,
    pub base_model: Option<ResourceEntry>,
    pub prompts: Option<ResourceEntry>,
    pub sample: Option<ResourceEntry>,
    pub dataset: Option<ResourceEntry>,
    pub reference_logps: Option<ResourceEntry>,
    pub train: Option<ResourceEntry>,
    pub eval: Option<ResourceEntry>,
    pub prune: Option<ResourceEntry>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ResourceEntry {
    /// GPUs per job (`--gpus`); the task then runs on `cuda:0` of its allocation.
    pub gpus: Option<Spanned<u32>>,
    /// A generic resource instead of `gpus`, e.g. `gpu:a100:1` (`--gres`).
    pub gres: Option<Spanned<String>>,
    pub cpus: Option<Spanned<u32>>,
    /// `--mem`, e.g. `16G` or `500M`.
    pub mem: Option<Spanned<String>>,
    /// `--time` in one of Slurm's formats: `MM`, `MM:SS`, `HH:MM:SS`, `D-HH`, `D-HH:MM`, `D-HH:MM:SS`.
    pub time: Option<Spanned<String>>,
}

/// `[executor]`, validated.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Executor {
    pub kind: ExecutorKind,
    pub slurm: SlurmSettings,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SlurmSettings {
    pub partition: Option<String>,
    pub account: Option<String>,
    pub qos: Option<String>,
    pub sbatch_args: Vec<String>,
    pub setup: Vec<String>,
    pub command_prefix: Vec<String>,
    pub binary: Option<PathBuf>,
    pub poll_s: f64,
    /// By task kind name, and `default`.
    pub resources: BTreeMap<String, Resources>,
}

impl Default for SlurmSettings {
    fn default() -> Self {
        SlurmSettings {
            partition: None,
            account: None,
            qos: None,
            sbatch_args: Vec::new(),
            setup: Vec::new(),
            command_prefix: Vec::new(),
            binary: None,
            poll_s: DEFAULT_POLL_S,
            resources: BTreeMap::new(),
        }
    }
}

pub const DEFAULT_POLL_S: f64 = 2.0;

/// One job's request; `None` leaves the cluster's default.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Resources {
    pub gpus: Option<u32>,
    pub gres: Option<String>,
    pub cpus: Option<u32>,
    pub mem: Option<String>,
    pub time: Option<String>,
}

impl SlurmSettings {
    /// What a job of this task kind asks for: the kind's table over `default`, key by key.
    pub fn resources(&self, kind: &str) -> Resources {
        let base = self.resources.get("default").cloned().unwrap_or_default();
        let Some(own) = self.resources.get(kind) else { return base };
        // A kind that names its GPUs one way replaces the default's other way.
        let gpu_given = own.gpus.is_some() || own.gres.is_some();
        Resources {
            gpus: if gpu_given { own.gpus } else { base.gpus },
            gres: if gpu_given { own.gres.clone() } else { base.gres },
            cpus: own.cpus.or(base.cpus),
            mem: own.mem.clone().or(base.mem),
            time: own.time.clone().or(base.time),
        }
    }
}

/// Flags apogrid sets on every job itself; a grid setting them would break the bookkeeping.
const RESERVED_FLAGS: [&str; 14] = [
    "--output",
    "-o",
    "--error",
    "-e",
    "--job-name",
    "-J",
    "--chdir",
    "-D",
    "--parsable",
    "--wrap",
    "--array",
    "-a",
    "--dependency",
    "-d",
];

pub fn validate(e: &ExecutorSection, loc: &Locator) -> Result<Executor, GridError> {
    let name = |v: &Option<Spanned<String>>, key: &str| -> Result<Option<String>, GridError> {
        match v {
            Some(s) if s.get_ref().is_empty() || s.get_ref().contains(char::is_whitespace) => {
                Err(loc.at(s.span(), format!("executor.{key}"), "expected a name without spaces"))
            }
            other => Ok(other.as_ref().map(|s| s.get_ref().clone())),
        }
    };
    let mut sbatch_args = Vec::new();
    for (i, a) in e.sbatch_args.iter().enumerate() {
        check_flag(a.get_ref()).map_err(|m| loc.at(a.span(), format!("executor.sbatch_args[{i}]"), m))?;
        sbatch_args.push(a.get_ref().clone());
    }
    let poll_s = match &e.poll_s {
        Some(p) if !(p.get_ref().is_finite() && (0.05..=600.0).contains(p.get_ref())) => {
            let message = format!("expected seconds between 0.05 and 600, got {}", p.get_ref());
            return Err(loc.at(p.span(), "executor.poll_s", message));
        }
        Some(p) => *p.get_ref(),
        None => DEFAULT_POLL_S,
    };
    let slurm = SlurmSettings {
        partition: name(&e.partition, "partition")?,
        account: name(&e.account, "account")?,
        qos: name(&e.qos, "qos")?,
        sbatch_args,
        setup: e.setup.clone(),
        command_prefix: e.command_prefix.clone(),
        binary: e.binary.as_ref().map(PathBuf::from),
        poll_s,
        resources: resources(&e.resources, loc)?,
    };
    Ok(Executor { kind: e.kind, slurm })
}

fn resources(r: &ResourcesSection, loc: &Locator) -> Result<BTreeMap<String, Resources>, GridError> {
    let tables = [
        ("default", &r.default),
        ("base_model", &r.base_model),
        ("prompts", &r.prompts),
        ("sample", &r.sample),
        ("dataset", &r.dataset),
        ("reference_logps", &r.reference_logps),
        ("train", &r.train),
        ("eval", &r.eval),
        ("prune", &r.prune),
    ];
    let mut out = BTreeMap::new();
    for (kind, entry) in tables {
        if let Some(entry) = entry {
            out.insert(kind.to_string(), resource(entry, &format!("executor.resources.{kind}"), loc)?);
        }
    }
    Ok(out)
}

fn resource(r: &ResourceEntry, table: &str, loc: &Locator) -> Result<Resources, GridError> {
    if let (Some(_), Some(g)) = (&r.gpus, &r.gres) {
        return Err(loc.at(g.span(), format!("{table}.gres"), "give either `gpus` or `gres`, not both"));
    }
    if let Some(c) = r.cpus.as_ref().filter(|c| *c.get_ref() == 0) {
        return Err(loc.at(c.span(), format!("{table}.cpus"), "expected at least 1 CPU"));
    }
    if let Some(g) = r.gres.as_ref().filter(|g| g.get_ref().is_empty() || g.get_ref().contains(char::is_whitespace)) {
        return Err(loc.at(g.span(), format!("{table}.gres"), "expected a gres like `gpu:a100:1`"));
    }
    if let Some(m) = &r.mem {
        check_mem(m.get_ref()).map_err(|msg| loc.at(m.span(), format!("{table}.mem"), msg))?;
    }
    if let Some(t) = &r.time {
        check_time(t.get_ref()).map_err(|msg| loc.at(t.span(), format!("{table}.time"), msg))?;
    }
    Ok(Resources {
        gpus: r.gpus.as_ref().map(|g| *g.get_ref()),
        gres: r.gres.as_ref().map(|g| g.get_ref().clone()),
        cpus: r.cpus.as_ref().map(|c| *c.get_ref()),
        mem: r.mem.as_ref().map(|m| m.get_ref().clone()),
        time: r.time.as_ref().map(|t| t.get_ref().clone()),
    })
}

fn check_flag(arg: &str) -> Result<(), String> {
    if !arg.starts_with('-') {
        return Err(format!("`{arg}` is not an sbatch flag (expected `--name=value`)"));
    }
    let flag = arg.split_once('=').map(|(f, _)| f).unwrap_or(arg);
    // Short flags may carry their value attached (`-o/x`).
    let reserved =
        RESERVED_FLAGS.iter().any(|r| flag == *r || (r.len() == 2 && !flag.starts_with("--") && flag.starts_with(r)));
    if reserved {
        return Err(format!("`{flag}` is set by apogrid on every job (logs, name, working folder)"));
    }
    Ok(())
}

/// Slurm's `--mem`: a whole number with an optional unit K, M, G or T.
pub fn check_mem(mem: &str) -> Result<(), String> {
    let digits = mem.trim_end_matches(['K', 'M', 'G', 'T', 'k', 'm', 'g', 't']);
    let unit_len = mem.len() - digits.len();
    if digits.is_empty() || unit_len > 1 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("`{mem}` is not a memory size; expected e.g. `16G`, `500M` or `4000` (MB)"));
    }
    Ok(())
}

/// Slurm's `--time` formats: `M`, `M:S`, `H:M:S`, `D-H`, `D-H:M`, `D-H:M:S`, or `UNLIMITED`.
pub fn check_time(time: &str) -> Result<(), String> {
    let bad = || {
        Err(format!(
            "`{time}` is not a Slurm time limit; expected `MM`, `MM:SS`, `HH:MM:SS`, `D-HH`, `D-HH:MM` or `D-HH:MM:SS`"
        ))
    };
    if time == "UNLIMITED" || time == "INFINITE" {
        return Ok(());
    }
    let number = |s: &str| !s.is_empty() && s.len() <= 6 && s.bytes().all(|b| b.is_ascii_digit());
    let (days, rest) = match time.split_once('-') {
        Some((d, r)) => (Some(d), r),
        None => (None, time),
    };
    let parts: Vec<&str> = rest.split(':').collect();
    let fits = match days {
        Some(d) => number(d) && (1..=3).contains(&parts.len()),
        None => (1..=3).contains(&parts.len()),
    };
    if !fits || !parts.iter().all(|p| number(p)) {
        return bad();
    }
    if time.chars().all(|c| c == '0' || c == ':' || c == '-') {
        return Err(format!("`{time}` is a zero time limit"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_limits_follow_slurms_formats() {
        for ok in ["30", "30:00", "01:00:00", "1-0", "2-12:00", "1-00:00:00", "UNLIMITED"] {
            assert!(check_time(ok).is_ok(), "{ok}");
        }
        for bad in ["", "1h", "1:2:3:4", "-1", "a-1", "0", "00:00:00", "1-", "1-2:3:4:5"] {
            assert!(check_time(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn memory_sizes_are_a_number_and_a_unit() {
        for ok in ["16G", "500M", "4000", "1T"] {
            assert!(check_mem(ok).is_ok(), "{ok}");
        }
        for bad in ["", "G", "16GB", "1.5G", "-1G"] {
            assert!(check_mem(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn reserved_flags_are_refused() {
        assert!(check_flag("--constraint=a100").is_ok());
        assert!(check_flag("--exclusive").is_ok());
        for bad in ["--output=x", "-o/x", "--job-name=a", "-J", "--array=0-3", "nodash"] {
            assert!(check_flag(bad).is_err(), "{bad}");
        }
    }

    const GRID: &str = "[grid]\nname = \"t\"\n[model]\nspec = \"tiny\"\n[[dataset]]\nname = \"c\"\nbuilder = \"clair\"\n[[objective]]\nname = \"dpo\"\nkind = \"dpo\"\n";

    fn parse(executor: &str) -> Result<crate::grid::Grid, crate::grid::GridError> {
        crate::grid::parse(&format!("{GRID}{executor}"), std::path::Path::new("g.toml"))
    }

    #[test]
    fn a_grid_without_the_section_runs_locally() {
        assert_eq!(parse("").expect("grid").executor, Executor::default());
    }

    #[test]
    fn the_section_resolves_and_bad_values_name_their_line() {
        let ok = "[executor]\nkind = \"slurm\"\npartition = \"gpu\"\nsbatch_args = [\"--exclusive\"]\n[executor.resources.train]\ngpus = 1\ntime = \"1-00:00:00\"\n";
        let g = parse(ok).expect("grid");
        assert_eq!(g.executor.kind, ExecutorKind::Slurm);
        assert_eq!(g.executor.slurm.partition.as_deref(), Some("gpu"));
        assert_eq!(g.executor.slurm.resources("train").gpus, Some(1));
        let line = GRID.lines().count() + 4;
        let cases = [
            (
                "[executor]\nkind = \"slurm\"\n[executor.resources.eval]\n\ntime = \"2h\"\n",
                "executor.resources.eval.time",
                "time limit",
            ),
            (
                "[executor]\nkind = \"slurm\"\n\n\nsbatch_args = [\"--output=x\"]\n",
                "executor.sbatch_args[0]",
                "set by apogrid",
            ),
            (
                "[executor]\nkind = \"slurm\"\n[executor.resources.default]\n\nmem = \"16GB\"\n",
                "executor.resources.default.mem",
                "memory size",
            ),
        ];
        for (text, key, message) in cases {
            let e = parse(text).expect_err(text);
            assert_eq!((e.line, e.key.as_deref()), (line + 1, Some(key)), "{e}");
            assert!(e.to_string().contains(message), "{e}");
        }
        let e = parse("[executor]\nkind = \"pbs\"\n").expect_err("unknown kind");
        assert_eq!(e.line, line - 2, "{e}");
    }

    #[test]
    fn a_kinds_table_overrides_the_default_key_by_key() {
        let mut s = SlurmSettings::default();
        let default =
            Resources { cpus: Some(2), mem: Some("8G".into()), gres: Some("gpu:1".into()), ..Default::default() };
        s.resources.insert("default".into(), default);
        s.resources
            .insert("train".into(), Resources { gpus: Some(2), time: Some("10:00".into()), ..Default::default() });
        let t = s.resources("train");
        assert_eq!((t.gpus, t.gres.as_deref(), t.cpus, t.mem.as_deref()), (Some(2), None, Some(2), Some("8G")));
        assert_eq!(s.resources("eval").gres.as_deref(), Some("gpu:1"));
    }
}
