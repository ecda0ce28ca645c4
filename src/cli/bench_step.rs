//! `apogrid bench-step`: timed DPO training steps of a randomly initialised model at a published
//! config (or the tiny one), on any device and precision, through the same code the grid trains
//! with (`train::pairs::micro_batch`, the objective, burn's autodiff, RMSProp). What
//! `scripts/gpu-check.sh` runs on a GPU machine, which has no model weights; `--print-config`
//! gives the config as JSON so PyTorch's side of the comparison builds the same model.
//!
//! Prints one JSON object: step times, tokens/s, model FLOPs and (with `--peak-tflops`) model
//! FLOPs utilisation, the memory estimate, and measured memory (the device allocator's reserved
//! bytes where the backend reports them, else the process's peak resident set).

use std::time::Instant;

use anyhow::Context;
use burn::optim::GradientsParams;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;

use apogrid::device::DeviceName;
use apogrid::model::config::LlamaConfig;
use apogrid::model::known::KnownModel;
use apogrid::model::llama::Llama;
use apogrid::model::precision::Precision;
use apogrid::model::score::Truncation;
use apogrid::model::tiny::tiny_config;
use apogrid::objective::Objective;
use apogrid::train::memory::{MemoryEstimate, RunShape, parameter_count};
use apogrid::train::optimizer::{OptimizerKind, build};
use apogrid::train::pairs::{TokenPair, micro_batch};

#[derive(clap::Args)]
pub struct Args {
    /// smollm2-135m, llama3.2-1b, llama3-8b, or tiny (the embedded model's config).
    #[arg(long)]
    model: String,
    /// f32, or bf16 (bf16 compute, f32 master weights).
    #[arg(long, default_value = "f32")]
    precision: String,
    /// cpu, tch-cpu (a build with `--features tch`) or cuda:N.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Preference pairs per step (each is two rows: chosen and rejected).
    #[arg(long, default_value_t = 1)]
    pairs: usize,
    #[arg(long, default_value_t = 512)]
    prompt_tokens: usize,
    #[arg(long, default_value_t = 512)]
    response_tokens: usize,
    /// Timed steps, after `--warmup` untimed ones.
    #[arg(long, default_value_t = 3)]
    steps: usize,
    #[arg(long, default_value_t = 1)]
    warmup: usize,
    /// The device's peak dense TFLOP/s in this precision, to report model FLOPs utilisation.
    #[arg(long)]
    peak_tflops: Option<f64>,
    /// burn's balanced gradient checkpointing (`[train] activation_checkpointing`).
    #[arg(long)]
    checkpointing: bool,
    /// Print the model's config (Hugging Face `config.json` fields) and exit.
    #[arg(long)]
    print_config: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let config = config(&args.model)?;
    if args.print_config {
        println!("{}", serde_json::to_string_pretty(&config)?);
        return Ok(());
    }
    // Inside a pool, as a grid's tasks run (tasks/mod.rs): called from outside one, every
    // parallel op of flex would hand its jobs to rayon's global pool and put this thread to
    // sleep until they finish (12% of a tiny step's samples on two threads went to that).
    // `RAYON_NUM_THREADS` still sizes it.
    let pool = rayon::ThreadPoolBuilder::new().num_threads(rayon::current_num_threads()).build()?;
    pool.install(|| measure(args, config))
}

/// The timed steps and the JSON report.
fn measure(args: Args, config: LlamaConfig) -> anyhow::Result<()> {
    let precision: Precision = serde_json::from_value(json!(args.precision))
        .map_err(|_| anyhow::anyhow!("--precision: expected `f32` or `bf16`, got `{}`", args.precision))?;
    anyhow::ensure!(args.pairs > 0 && args.steps > 0, "--pairs and --steps must be at least 1");
    anyhow::ensure!(args.prompt_tokens > 0 && args.response_tokens > 0, "token counts must be at least 1");
    let name: DeviceName = args.device.parse()?;
    let device = name.burn()?;
    let truncation = Truncation { max_prompt_tokens: args.prompt_tokens, max_response_tokens: args.response_tokens };
    let estimate = MemoryEstimate::new(
        &config,
        &RunShape { precision, optimizer: OptimizerKind::RmsProp, micro_batch_size: args.pairs, truncation },
    );

    let clock = Instant::now();
    // The same random weights on every run of a backend.
    device.seed(7);
    let autodiff = device.autodiff();
    let autodiff = if args.checkpointing { autodiff.gradient_checkpointing() } else { autodiff };
    let mut policy = precision.apply(Llama::init(&config, &autodiff).context("initialising the model")?);
    let init_s = clock.elapsed().as_secs_f64();
    let pairs = random_pairs(&config, &args);
    let chunk: Vec<&TokenPair> = pairs.iter().collect();
    let objective = Objective::Dpo { beta: 0.1 };
    let mut optimizer = build(OptimizerKind::RmsProp);
    let (mut seconds, mut losses, mut phases) = (Vec::new(), Vec::new(), Vec::new());
    for step in 0..args.warmup + args.steps {
        let clock = Instant::now();
        let mb = micro_batch(&policy, None, &objective, &chunk, truncation, 0)?;
        let out = objective.loss(&mb.batch)?;
        let loss: f32 = out.loss.clone().into_scalar();
        let forward = clock.elapsed().as_secs_f64();
        let grads = GradientsParams::from_grads(out.loss.backward(), &policy);
        autodiff.sync().map_err(|e| anyhow::anyhow!("device sync: {e:?}"))?;
        let backward = clock.elapsed().as_secs_f64() - forward;
        policy = optimizer.step(1e-6, policy, grads);
        autodiff.sync().map_err(|e| anyhow::anyhow!("device sync: {e:?}"))?;
        if step >= args.warmup {
            let total = clock.elapsed().as_secs_f64();
            seconds.push(total);
            phases.push([forward, backward, total - forward - backward]);
            losses.push(loss);
        }
    }
    let mut sorted = seconds.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    let tokens = 2 * args.pairs * (args.prompt_tokens + args.response_tokens);
    let flops = step_flops(&config, tokens, args.prompt_tokens + args.response_tokens);
    let achieved = flops / median / 1e12;
    let usage = autodiff.memory_pool_usage();
    let report = json!({
        "model": args.model,
        "params": parameter_count(&config),
        "precision": precision.to_string(),
        "activation_checkpointing": args.checkpointing,
        "device": name.to_string(),
        "rows": 2 * args.pairs,
        "tokens_per_row": args.prompt_tokens + args.response_tokens,
        "init_seconds": init_s,
        "step_seconds": seconds,
        "median_step_seconds": median,
        // Forward (to the loss on the host), backward (with the parameters' gradients), update.
        "phase_seconds": phases,
        "tokens_per_second": tokens as f64 / median,
        "model_tflop_per_step": flops / 1e12,
        "achieved_tflops": achieved,
        "mfu": args.peak_tflops.map(|p| achieved / p),
        "losses": losses,
        "memory": {
            "estimate_bytes": estimate.total(),
            "estimate": estimate.to_string(),
            "device_reserved_bytes": usage.as_ref().map(|u| u.bytes_reserved),
            "device_in_use_bytes": usage.as_ref().map(|u| u.bytes_in_use),
            "host_peak_rss_bytes": peak_rss(),
        },
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

fn config(name: &str) -> anyhow::Result<LlamaConfig> {
    if name == "tiny" {
        return Ok(tiny_config());
    }
    name.parse::<KnownModel>().map(KnownModel::config).map_err(|e| anyhow::anyhow!("--model: {e} or tiny"))
}

/// `pairs` random pairs with full-length prompts and responses (no padding), reference
/// log-probs zero (they change no compute).
fn random_pairs(config: &LlamaConfig, args: &Args) -> Vec<TokenPair> {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let vocab = config.vocab_size as u32;
    let mut ids = |n: usize| (0..n).map(|_| rng.random_range(0..vocab)).collect::<Vec<u32>>();
    (0..args.pairs)
        .map(|_| TokenPair {
            prompt: ids(args.prompt_tokens),
            chosen: ids(args.response_tokens),
            rejected: ids(args.response_tokens),
            reference_chosen: 0.0,
            reference_rejected: 0.0,
            winner_beats_model: None,
        })
        .collect()
}

/// Model FLOPs of one training step (forward + backward = 3x forward), as in the PaLM paper's
/// appendix B: 6 per matmul parameter per token, plus attention's `12 * layers * width * T`
/// per token (scores and the weighted sum, forward and backward). The head's matmul counts even
/// when tied to the embedding; the embedding lookup does not.
pub fn step_flops(c: &LlamaConfig, tokens: usize, row_len: usize) -> f64 {
    let embedding = (c.vocab_size * c.hidden_size) as f64;
    let head = embedding;
    let norms = ((2 * c.num_hidden_layers + 1) * c.hidden_size) as f64;
    let tied_extra = if c.tie_word_embeddings { head } else { 0.0 };
    let matmul_params = parameter_count(c) as f64 - embedding - norms + tied_extra;
    let attention = 12.0 * (c.num_hidden_layers * c.num_attention_heads * c.head_dim() * row_len) as f64;
    tokens as f64 * (6.0 * matmul_params + attention)
}

/// The process's peak resident set (`VmHWM` in /proc/self/status), in bytes.
fn peak_rss() -> Option<u64> {
    apogrid::device::proc_kib_field(&std::fs::read_to_string("/proc/self/status").ok()?, "VmHWM:")
}
