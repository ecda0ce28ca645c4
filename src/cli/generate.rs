//! `apogrid generate`: load a model by SPEC and continue one prompt (through the model's chat
//! template unless `--raw`). The answer goes to stdout; timing and the stop reason to stderr.

use std::time::Instant;

use anyhow::Context;
use burn::tensor::Device;

use apogrid::model::generate::{Finish, GenerateOptions, generate};
use apogrid::model::spec::{ModelSpec, load_model};
use apogrid::model::tokenizer::{ChatFormat, TextTokenizer};

#[derive(clap::Args)]
pub struct Args {
    /// Model SPEC: hf:DIR, gguf:FILE, smollm2 (run scripts/get-smollm2.sh first), tiny[:SEED].
    #[arg(long, default_value = "smollm2")]
    pub model: String,
    /// The user message.
    #[arg(long)]
    pub prompt: String,
    /// Cap on new tokens.
    #[arg(long, default_value_t = 256)]
    pub max_new_tokens: usize,
    /// 0 = greedy; otherwise logits are divided by it before sampling.
    #[arg(long, default_value_t = 0.0)]
    pub temperature: f32,
    /// Nucleus sampling: keep the most likely tokens whose probabilities sum to P.
    #[arg(long, default_value_t = 1.0)]
    pub top_p: f32,
    /// Seed of the sampling stream (the same seed gives the same text).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Use the prompt as it is: no chat template, no special tokens added.
    #[arg(long)]
    pub raw: bool,
    /// Recompute the whole sequence every step instead of using the key/value cache (slower;
    /// for checking and benchmarking the cache).
    #[arg(long)]
    pub no_cache: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let spec: ModelSpec = args.model.parse()?;
    let t0 = Instant::now();
    let m = load_model(&spec).with_context(|| format!("loading model {spec}"))?;
    let device = Device::default();
    let model = m.build(&device).with_context(|| format!("building model {spec}"))?;
    let load_s = t0.elapsed().as_secs_f64();

    let (prompt_ids, stop_ids) = if args.raw {
        (m.tokenizer.encode(&args.prompt), m.tokenizer.eos_ids())
    } else {
        // Surface a template's refusal (`raise_exception`) as an error rather than a fallback.
        m.prompt_text(&args.prompt)?;
        (m.encoder().prompt(&args.prompt), m.format.stop_ids(&m.tokenizer))
    };
    if prompt_ids.is_empty() {
        anyhow::bail!(
            "the prompt encodes to no tokens; give some text (or drop --raw so the model's framing is added)"
        );
    }
    let opts = GenerateOptions {
        max_new_tokens: args.max_new_tokens,
        temperature: args.temperature,
        top_p: args.top_p,
        seed: args.seed,
        stop_ids,
        use_cache: !args.no_cache,
    };
    let t1 = Instant::now();
    let out = generate(&model, std::slice::from_ref(&prompt_ids), m.tokenizer.pad_id(), &opts)?.remove(0);
    let gen_s = t1.elapsed().as_secs_f64();
    println!("{}", m.tokenizer.decode(&out.tokens));
    let finish = match out.finish {
        Finish::Stop(id) => format!("stop token {id}"),
        Finish::Length => format!("--max-new-tokens {}", args.max_new_tokens),
    };
    eprintln!(
        "[{spec}: {} prompt + {} new tokens, ended by {finish}; load {load_s:.1}s, generate {gen_s:.2}s = {:.1} tokens/s]",
        prompt_ids.len(),
        out.tokens.len(),
        out.tokens.len() as f64 / gen_s.max(1e-9)
    );
    Ok(())
}
