//! `apogrid eval`: score any model on a benchmark outside a grid, as lm-evaluation-harness's
//! command line does. `mmlu` and `hhh` are scored by log-likelihood (see `apogrid::eval::mmlu`
//! and `apogrid::eval::hhh` for exactly how), `world` by greedy generation and exact match.
//! Prints the score record; `--json` prints it with the per-item predictions as one JSON object.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use burn::tensor::Device;
use serde_json::json;

use apogrid::agents::model::ModelGenerator;
use apogrid::eval::command::{self, Invocation};
use apogrid::eval::{CommandEvaluator, Evaluation, ScoreRecord, hhh, mmlu, subset};
use apogrid::model::spec::{LoadedModel, ModelSpec, export_hf, load_model};
use apogrid::model::{Llama, TextTokenizer};
use apogrid::world::benchmark::{Benchmark, DEFAULT_PER_FAMILY};
use apogrid::world::families::Family;

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchmarkArg {
    /// MMLU test questions, 0-shot, lm-eval's prompt (data: scripts/get-eval-data.sh).
    Mmlu,
    /// Anthropic's HHH alignment pairs under the chat template (data: scripts/get-eval-data.sh).
    Hhh,
    /// The embedded world's held-out benchmark, greedy answers, exact match.
    World,
    /// An external evaluator: `--command PROGRAM ARG...` with `{model_dir}` and `{output}`.
    Command,
}

#[derive(clap::Args)]
pub struct Args {
    /// Model SPEC: hf:DIR, gguf:FILE, smollm2 (run scripts/get-smollm2.sh first), tiny[:SEED].
    #[arg(long, default_value = "smollm2")]
    pub model: String,
    #[arg(long, value_enum)]
    pub benchmark: BenchmarkArg,
    /// A data file in the benchmark's format instead of the fetched default (mmlu: JSONL;
    /// hhh: a BIG-bench hhh_alignment directory, one task.json, or JSONL).
    #[arg(long)]
    pub path: Option<PathBuf>,
    /// Evaluate a seeded uniform subset of this many items (world: this many prompts); default all
    /// (world: 280).
    #[arg(long)]
    pub count: Option<usize>,
    /// Seed of the subset (world: of the benchmark's prompts).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Contexts (mmlu), rows (hhh) or prompts (world) per forward pass.
    #[arg(long, default_value_t = 16)]
    pub batch: usize,
    /// World only: cap on generated tokens per answer.
    #[arg(long, default_value_t = 512)]
    pub max_new_tokens: usize,
    /// Print {"model", "benchmark", "seed", "seconds", "record", "items"} as JSON.
    #[arg(long)]
    pub json: bool,
    /// Command only: the argv (no shell), e.g. `--command scripts/eval-mixeval.sh {model_dir}
    /// {output}`; the model is exported as a Hugging Face folder for it. Must come last.
    #[arg(long, num_args = 1.., allow_hyphen_values = true)]
    pub command: Vec<String>,
    /// Command only: environment variables it needs (checked present, passed through).
    #[arg(long)]
    pub env: Vec<String>,
    /// Command only: its time limit in seconds.
    #[arg(long, default_value_t = apogrid::eval::evaluator::DEFAULT_COMMAND_TIMEOUT_S)]
    pub timeout_s: u64,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let spec: ModelSpec = args.model.parse()?;
    let m = load_model(&spec).with_context(|| format!("loading model {spec}"))?;
    let model = m.build(&Device::default()).with_context(|| format!("building model {spec}"))?;
    let t0 = Instant::now();
    let progress = |msg: String| eprint!("\r{msg}    ");
    let eval = match args.benchmark {
        BenchmarkArg::Mmlu => {
            let items = match &args.path {
                Some(p) => mmlu::load(p)?,
                None => mmlu::load_default()?,
            };
            let items = subset(&items, args.count.unwrap_or(usize::MAX), args.seed);
            mmlu::evaluate(
                &model,
                &m.tokenizer,
                mmlu::adds_bos(&m.tokenizer, &m.format),
                &items,
                args.batch,
                &progress,
            )?
        }
        BenchmarkArg::Hhh => {
            let items = match &args.path {
                Some(p) => hhh::load(p)?,
                None => hhh::load_default()?,
            };
            let items = subset(&items, args.count.unwrap_or(usize::MAX), args.seed);
            hhh::evaluate(&model, &m.encoder(), &items, args.batch, &progress)?
        }
        BenchmarkArg::World => world(&args, &m, &model)?,
        BenchmarkArg::Command => command(&args, &spec, &model)?,
    };
    eprintln!();
    let seconds = t0.elapsed().as_secs_f64();
    if args.json {
        let v = json!({
            "model": spec.to_string(),
            "benchmark": eval.record.benchmark,
            "seed": args.seed,
            "seconds": seconds,
            "record": eval.record,
            "items": eval.items,
        });
        println!("{v}");
    } else {
        print_record(&eval.record, &spec);
    }
    let n = eval.record.n.unwrap_or(0);
    eprintln!("[{spec}: {n} items in {seconds:.1}s = {:.2} items/s]", n as f64 / seconds.max(1e-9));
    Ok(())
}

/// Greedy answers to the embedded benchmark, scored by exact match (no per-item predictions).
fn world(args: &Args, m: &LoadedModel, model: &Llama) -> anyhow::Result<Evaluation> {
    let count = args.count.unwrap_or(DEFAULT_PER_FAMILY * Family::ALL.len());
    let bench = Benchmark::new(args.seed, count.div_ceil(Family::ALL.len()));
    eprint!("answering {} world prompts", bench.tasks.len());
    let mut generator = ModelGenerator {
        name: m.spec.clone(),
        model,
        tokenizer: &m.tokenizer as &dyn TextTokenizer,
        format: &m.format,
        max_new_tokens: args.max_new_tokens,
        top_p: 1.0,
        batch_size: args.batch,
    };
    let score = bench.evaluate(&mut generator)?;
    Ok(Evaluation { record: ScoreRecord::from(&score), items: Vec::new() })
}

/// The user's command on the model exported into a temporary folder (removed afterwards).
fn command(args: &Args, spec: &ModelSpec, model: &Llama) -> anyhow::Result<Evaluation> {
    let evaluator = CommandEvaluator::new(args.command.clone(), args.env.clone(), args.timeout_s)
        .map_err(|m| anyhow::anyhow!("--command: {m}"))?;
    let dir = std::env::temp_dir().join(format!("apogrid-eval-{}", std::process::id()));
    let model_dir = dir.join("model");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let result = (|| {
        export_hf(model, spec, &model_dir)?;
        let output = dir.join("score.json");
        let inv = Invocation { model_dir: &model_dir, output: &output, epoch: 0, cell: "eval" };
        Ok::<_, anyhow::Error>(command::run(&evaluator, &inv)?)
    })();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(Evaluation { record: result?, items: Vec::new() })
}

fn print_record(r: &ScoreRecord, spec: &ModelSpec) {
    let n = r.n.map(|n| format!(" of {n}")).unwrap_or_default();
    println!("{} {}: {:.2}%{n}", spec, r.benchmark, r.score);
    if let Some(len) = r.length {
        println!("mean response length: {len:.1} characters");
    }
    for c in &r.categories {
        let n = c.n.map(|n| n.to_string()).unwrap_or_default();
        println!("  {:<40} {:>7.2}%  {:>5}", c.name, c.score, n);
    }
}
