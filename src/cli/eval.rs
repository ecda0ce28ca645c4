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
use apogrid::eval::{Evaluation, ScoreRecord, hhh, mmlu, subset};
use apogrid::model::spec::{LoadedModel, ModelSpec, load_model};
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
            mmlu::evaluate(&model, &m.tokenizer, mmlu::adds_bos(&m), &items, args.batch, &progress)?
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
