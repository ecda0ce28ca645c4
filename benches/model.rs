//! Tiny-model throughput on the CPU (`flex`) backend: a training step (forward + backward +
//! RMSProp update on summed response log-probs) and batched generation with and without the
//! key/value cache. A plain timing loop that prints a table; run through
//! `scripts/bench-model.sh` or `cargo bench --bench model -- [--batch N] [--prompt N]
//! [--response N] [--new N] [--reps N]`.

use std::time::Instant;

use apogrid::model::generate::{GenerateOptions, generate};
use apogrid::model::score::{ScoreBatch, Truncation, sequence_logps};
use apogrid::model::tiny::{VOCAB_SIZE, tiny_model};
use burn::optim::{GradientsParams, RmsPropConfig};
use burn::tensor::Device;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

struct Args {
    batch: usize,
    prompt: usize,
    response: usize,
    new: usize,
    reps: usize,
}

fn args() -> Args {
    let mut a = Args { batch: 16, prompt: 64, response: 64, new: 64, reps: 3 };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < argv.len() {
        let value = || argv.get(i + 1).and_then(|v| v.parse::<usize>().ok());
        let slot = match argv[i].as_str() {
            "--batch" => &mut a.batch,
            "--prompt" => &mut a.prompt,
            "--response" => &mut a.response,
            "--new" => &mut a.new,
            "--reps" => &mut a.reps,
            _ => {
                i += 1; // cargo passes `--bench`; ignore what we do not know
                continue;
            }
        };
        match value() {
            Some(v) => *slot = v,
            None => {
                eprintln!("{} needs a number", argv[i]);
                std::process::exit(2);
            }
        }
        i += 2;
    }
    a
}

fn random_ids(rng: &mut ChaCha8Rng, n: usize) -> Vec<u32> {
    (0..n).map(|_| rng.random_range(3..VOCAB_SIZE as u32)).collect()
}

/// Median of `reps` timings of `f`, in seconds, after one warm-up call.
fn time(reps: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut t: Vec<f64> = (0..reps.max(1))
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

fn main() {
    let a = args();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let pairs: Vec<(Vec<u32>, Vec<u32>)> =
        (0..a.batch).map(|_| (random_ids(&mut rng, a.prompt), random_ids(&mut rng, a.response))).collect();
    let batch = ScoreBatch::from_ids(&pairs, Truncation::default(), 0).expect("batch");
    let tokens = a.batch * (a.prompt + a.response);

    // Training step.
    let device = Device::flex().autodiff();
    let mut model = Some(tiny_model(0, &device).expect("tiny model"));
    let mut optim = RmsPropConfig::new().with_alpha(0.99).with_epsilon(1e-8).with_momentum(0.0).init();
    let train = time(a.reps, || {
        let m = model.take().expect("model");
        let loss = sequence_logps(&m, &batch).sum.neg().mean();
        let grads = GradientsParams::from_grads(loss.backward(), &m);
        model = Some(optim.step(1e-6, m, grads));
    });

    // Generation (plain device).
    let model = tiny_model(0, &Device::flex()).expect("tiny model");
    let prompts: Vec<Vec<u32>> = (0..a.batch).map(|_| random_ids(&mut rng, a.prompt)).collect();
    let gen_time = |use_cache: bool| {
        let opts = GenerateOptions { max_new_tokens: a.new, use_cache, ..Default::default() };
        time(a.reps, || {
            let out = generate(&model, &prompts, 0, &opts).expect("generate");
            assert!(out.iter().all(|g| g.tokens.len() == a.new));
        })
    };
    let cached = gen_time(true);
    let full = gen_time(false);
    let new_tokens = (a.batch * a.new) as f64;

    println!("tiny model (d=64, 4 layers, vocab {VOCAB_SIZE}), flex CPU backend, median of {} runs", a.reps);
    println!("| measurement | shape | seconds | tokens/s |");
    println!("|---|---|---:|---:|");
    println!(
        "| training step (fwd+bwd+RMSProp) | {} x ({}+{}) tokens | {:.3} | {:.0} |",
        a.batch,
        a.prompt,
        a.response,
        train,
        tokens as f64 / train
    );
    println!(
        "| generation, KV cache | {} x {} prompt, {} new | {:.3} | {:.0} |",
        a.batch,
        a.prompt,
        a.new,
        cached,
        new_tokens / cached
    );
    println!(
        "| generation, full recompute | {} x {} prompt, {} new | {:.3} | {:.0} |",
        a.batch,
        a.prompt,
        a.new,
        full,
        new_tokens / full
    );
    println!("cache speed-up: {:.1}x", full / cached);
}
