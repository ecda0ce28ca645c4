//! Model throughput on any model SPEC, printed as one JSON line with the same fields and
//! shapes as scripts/bench_torch.py, so scripts/bench-vs-torch.sh can compare burn with
//! PyTorch eager on identical configurations (SmolLM2 included).
//!
//! `cargo bench --bench vs_torch -- --model smollm2 --batch 2 --prompt 32 --response 32 --new 32 --reps 3 --threads 1`
//!
//! - training step: forward + backward + RMSProp update of the summed response log-probs
//!   (prompt tokens masked), as preference training does;
//! - generation: greedy new tokens per second with the KV cache and with full recompute.
//!
//! The JSON line carries the model's config (Hugging Face field names): the PyTorch side builds
//! its model from exactly that, so the two sides cannot drift apart. `--config-only` prints just
//! the config. `--measure train` (or `gen`) times one part only, e.g. under a profiler.
//! `--threads N` runs everything in a rayon pool of N threads (flex's kernels use the current
//! pool; on `tch-cpu` libtorch's pool is given the same size); 0 keeps rayon's default of one
//! thread per core. `--device tch-cpu` (a build with `--features tch`) times libtorch's CPU
//! kernels under burn instead of flex's.

use std::time::Instant;

use apogrid::device::DeviceName;
use apogrid::model::Llama;
use apogrid::model::generate::{GenerateOptions, generate};
use apogrid::model::score::{ScoreBatch, Truncation, sequence_logps};
use apogrid::model::spec::{LoadedModel, ModelSpec, load_model};
use apogrid::train::optimizer::{self, OptimizerKind};
use burn::optim::GradientsParams;
use burn::tensor::Device;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

struct Args {
    model: String,
    batch: usize,
    prompt: usize,
    response: usize,
    new: usize,
    reps: usize,
    threads: usize,
    /// `train`, `gen` or `all`.
    measure: String,
    config_only: bool,
    /// `cpu` (flex) or `tch-cpu` (libtorch), as `apogrid run --devices` spells them.
    device: DeviceName,
    /// Rows of uneven length (burn only; the PyTorch side has no such option): prompts of
    /// `prompt/2..=prompt` and responses of `response/4..=response` tokens, like the tiny
    /// grid's preference pairs, to measure what padding costs.
    uneven: bool,
}

fn args() -> Args {
    let mut a = Args {
        model: "tiny".into(),
        batch: 16,
        prompt: 64,
        response: 64,
        new: 64,
        reps: 3,
        threads: 0,
        measure: "all".into(),
        config_only: false,
        device: DeviceName::Cpu,
        uneven: false,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < argv.len() {
        if argv[i] == "--config-only" || argv[i] == "--uneven" {
            a.config_only |= argv[i] == "--config-only";
            a.uneven |= argv[i] == "--uneven";
            i += 1;
            continue;
        }
        let Some(v) = argv.get(i + 1) else { break };
        let num = || {
            v.parse::<usize>().unwrap_or_else(|_| {
                eprintln!("{} needs a number, got {v}", argv[i]);
                std::process::exit(2)
            })
        };
        match argv[i].as_str() {
            "--model" => a.model = v.clone(),
            "--batch" => a.batch = num(),
            "--prompt" => a.prompt = num(),
            "--response" => a.response = num(),
            "--new" => a.new = num(),
            "--reps" => a.reps = num(),
            "--threads" => a.threads = num(),
            "--measure" => a.measure = v.clone(),
            "--device" => {
                a.device = v.parse().unwrap_or_else(|e| {
                    eprintln!("--device: {e}");
                    std::process::exit(2)
                })
            }
            _ => {
                i += 1; // cargo passes `--bench`
                continue;
            }
        }
        i += 2;
    }
    a
}

/// Median of `reps` timings after one warm-up call, in seconds.
fn time(reps: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut t: Vec<f64> = (0..reps.max(1))
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64()
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

/// A training step's seconds, whole and by phase (medians over the timed steps).
struct StepTimes {
    step: f64,
    forward: f64,
    backward: f64,
    update: f64,
}

/// Seconds per training step: forward, backward and an RMSProp update (PyTorch's defaults for
/// alpha and epsilon, no momentum) of the mean negative summed response log-prob. The phases
/// are timed too (the backward includes collecting the parameters' gradients), for the
/// profile in README "Speed on the CPU".
fn train_step_seconds(a: &Args, loaded: &LoadedModel, pairs: &[(Vec<u32>, Vec<u32>)]) -> StepTimes {
    let batch = ScoreBatch::from_ids(pairs, Truncation::default(), 0).expect("batch");
    let mut model: Option<Llama> = Some(loaded.build(&device(a).autodiff()).expect("model"));
    // The grid's own optimizer (PyTorch's RMSProp defaults, one fused pass per parameter on flex).
    let mut optim = optimizer::build(OptimizerKind::RmsProp);
    let mut phases: Vec<[f64; 3]> = Vec::new();
    let step = time(a.reps, || {
        let m = model.take().expect("model");
        let t0 = Instant::now();
        let loss = sequence_logps(&m, &batch).sum.neg().mean();
        let t1 = Instant::now();
        let grads = GradientsParams::from_grads(loss.backward(), &m);
        let t2 = Instant::now();
        model = Some(optim.step(1e-6, m, grads));
        phases.push([(t1 - t0).as_secs_f64(), (t2 - t1).as_secs_f64(), t2.elapsed().as_secs_f64()]);
    });
    let median = |i: usize| {
        let mut v: Vec<f64> = phases.iter().skip(1).map(|p| p[i]).collect();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    };
    StepTimes { step, forward: median(0), backward: median(1), update: median(2) }
}

/// Seconds for `a.new` greedy tokens on every prompt, with the KV cache and with full
/// recompute.
fn generation_seconds(a: &Args, loaded: &LoadedModel, prompts: &[Vec<u32>]) -> (f64, f64) {
    let model = loaded.build(&device(a)).expect("model");
    let gen_time = |use_cache: bool, reps: usize| {
        let opts = GenerateOptions { max_new_tokens: a.new, use_cache, ..Default::default() };
        time(reps, || {
            let out = generate(&model, prompts, 0, &opts).expect("generate");
            assert!(out.iter().all(|g| g.tokens.len() == a.new));
        })
    };
    let cached = gen_time(true, a.reps);
    let full = if a.measure == "all" { gen_time(false, a.reps.saturating_sub(1).max(1)) } else { f64::NAN };
    (cached, full)
}

/// The burn device `--device` names; a build that cannot run it says so and exits.
fn device(a: &Args) -> Device {
    a.device.burn().unwrap_or_else(|e| {
        eprintln!("--device {}: {e}", a.device);
        std::process::exit(2)
    })
}

/// The `impl` field: which kernels ran, as the comparison table names them.
fn implementation(name: &DeviceName) -> &'static str {
    match name {
        DeviceName::Cpu => "burn-flex",
        DeviceName::TchCpu => "burn-tch",
        DeviceName::Cuda(_) => "burn-cuda",
        DeviceName::Fake(_) => "fake",
    }
}

fn measure(a: &Args) -> Value {
    let spec: ModelSpec = a.model.parse().unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    });
    let loaded = load_model(&spec).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(1)
    });
    let config = serde_json::to_value(&loaded.config).expect("config serializes");
    if a.config_only {
        return config;
    }
    let vocab = loaded.config.vocab_size as u32;
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut ids = |n: usize| -> Vec<u32> { (0..n).map(|_| rng.random_range(3..vocab)).collect() };
    let mut lengths = ChaCha8Rng::seed_from_u64(1);
    let mut len = |full: usize, min: usize| if a.uneven { lengths.random_range(min.max(1)..=full) } else { full };
    let shapes: Vec<(usize, usize)> =
        (0..a.batch).map(|_| (len(a.prompt, a.prompt / 2), len(a.response, a.response / 4))).collect();
    let pairs: Vec<(Vec<u32>, Vec<u32>)> = shapes.iter().map(|&(p, r)| (ids(p), ids(r))).collect();
    let prompts: Vec<Vec<u32>> = (0..a.batch).map(|_| ids(a.prompt)).collect();
    let params: usize = loaded.tensors.values().map(|t| t.data.len()).sum();
    let times = (a.measure != "gen").then(|| train_step_seconds(a, &loaded, &pairs));
    let train = times.as_ref().map_or(f64::NAN, |t| t.step);
    let (cached, full) =
        if a.measure == "train" { (f64::NAN, f64::NAN) } else { generation_seconds(a, &loaded, &prompts) };
    let new_tokens = (a.batch * a.new) as f64;
    let tokens = shapes.iter().map(|(p, r)| p + r).sum::<usize>() as f64;
    // NaN (a part not measured) becomes JSON null.
    let finite = |v: f64| if v.is_finite() { json!(v) } else { Value::Null };
    json!({
        "impl": implementation(&a.device), "device": a.device.to_string(), "threads": rayon::current_num_threads(), "model": a.model, "params": params,
        "batch": a.batch, "seq": a.prompt + a.response, "prompt": a.prompt, "uneven": a.uneven,
        "train_step_s": finite(train), "train_tokens_per_s": finite(tokens / train),
        "train_forward_s": times.as_ref().map(|t| t.forward), "train_backward_s": times.as_ref().map(|t| t.backward),
        "train_update_s": times.as_ref().map(|t| t.update),
        "gen_new_tokens": new_tokens, "gen_tokens_per_s_cache": finite(new_tokens / cached),
        "gen_tokens_per_s_nocache": finite(new_tokens / full), "config": config,
    })
}

fn main() {
    let a = args();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(a.threads).build().expect("rayon pool");
    let line = pool.install(|| measure(&a));
    println!("{line}");
}
