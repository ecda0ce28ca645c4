//! With `--features tch`: libtorch's CPU kernels under burn (device `tch-cpu`) compute what flex
//! computes, so choosing `tch-cpu` for speed (README "Speed on the CPU") does not change a
//! result beyond f32 rounding. Both devices get the same seeded weights (drawn on the host) and
//! the same pairs; the tests print the numbers they compare.
//!
//! `LIBTORCH_USE_PYTORCH=1 cargo test --release --features tch --test tch_backend -- --nocapture`
//! (libtorch must also be found at run time: README "Backends, precision and device memory").
#![cfg(feature = "tch")]

use std::path::Path;

use apogrid::device::DeviceName;
use apogrid::model::config::LlamaConfig;
use apogrid::model::llama::Llama;
use apogrid::model::precision::Precision;
use apogrid::model::score::Truncation;
use apogrid::model::tiny::tiny_config;
use apogrid::objective::Objective;
use apogrid::train::optimizer::{OptimizerKind, build};
use apogrid::train::pairs::{TokenPair, micro_batch};
use apogrid::train::run::log_path;
use apogrid::train::{Schedule, StepLog, TrainSpec, train};
use burn::optim::GradientsParams;
use burn::tensor::Device;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn device(name: &str) -> Device {
    DeviceName::parse(name).expect("device name").burn().expect("device")
}

/// `n` pairs of random tokens below `vocab`, `len` tokens per prompt and per response.
fn random_pairs(vocab: u32, n: usize, len: usize, reference: f32) -> Vec<TokenPair> {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut ids = |n: usize| (0..n).map(|_| rng.random_range(3..vocab)).collect::<Vec<u32>>();
    (0..n)
        .map(|i| TokenPair {
            prompt: ids(len),
            chosen: ids(len),
            rejected: ids(len),
            reference_chosen: reference,
            reference_rejected: reference,
            winner_beats_model: Some(i % 2 == 0),
        })
        .collect()
}

/// `|a - b|` relative to `max(1, |a|)`.
fn relative(a: f64, b: f64) -> f64 {
    (a - b).abs() / a.abs().max(1.0)
}

/// The DPO loss before and after one RMSProp update on the embedded tiny model's config, as
/// `apogrid bench-step` takes it.
fn dpo_step(device: &Device) -> (f32, f32) {
    let config = tiny_config();
    let mut policy = Llama::init_seeded(&config, 7, &device.clone().autodiff()).expect("model");
    let pairs = random_pairs(config.vocab_size as u32, 2, 32, 0.0);
    let chunk: Vec<&TokenPair> = pairs.iter().collect();
    let objective = Objective::Dpo { beta: 0.1 };
    let mut optimizer = build(OptimizerKind::RmsProp);
    let mut losses = Vec::new();
    for _ in 0..2 {
        let mb = micro_batch(&policy, None, &objective, &chunk, Truncation::default(), 0).expect("micro-batch");
        let out = objective.loss(&mb.batch).expect("loss");
        losses.push(out.loss.clone().into_scalar::<f32>());
        let grads = GradientsParams::from_grads(out.loss.backward(), &policy);
        policy = optimizer.step(1e-3, policy, grads);
    }
    (losses[0], losses[1])
}

#[test]
fn one_dpo_step_gives_the_same_loss_on_flex_and_libtorch() {
    let flex = dpo_step(&device("cpu"));
    let tch = dpo_step(&device("tch-cpu"));
    eprintln!("DPO loss before / after one update: flex {flex:?}, tch-cpu {tch:?}");
    for (a, b) in [(flex.0, tch.0), (flex.1, tch.1)] {
        assert!(relative(a.into(), b.into()) < 1e-5, "flex {a} vs tch-cpu {b}");
    }
    assert!(flex.1 != flex.0, "the update changed nothing, so the second comparison proves nothing");
}

fn small_config() -> LlamaConfig {
    LlamaConfig {
        vocab_size: 40,
        hidden_size: 32,
        intermediate_size: 64,
        num_hidden_layers: 2,
        num_attention_heads: 4,
        num_key_value_heads: Some(2),
        head_dim: None,
        rms_norm_eps: 1e-5,
        rope_theta: 10_000.0,
        rope_scaling: None,
        max_position_embeddings: 64,
        tie_word_embeddings: true,
        bos_token_id: Some(1),
        eos_token_id: Some(serde_json::json!(2)),
    }
}

/// The per-update losses of the training loop (`train::train`, as src/train/tests.rs runs it:
/// 16 pairs, micro-batches of 4, 3 epochs of 2 updates) on `device`.
fn trained_losses(device: &Device, objective: Objective) -> Vec<f64> {
    let base = Llama::init_seeded(&small_config(), 7, device).expect("model");
    let data = random_pairs(40, 16, 6, -20.0);
    let spec = TrainSpec {
        objective,
        epochs: 3,
        learning_rate: 3e-3,
        schedule: Schedule::Linear,
        warmup_ratio: 0.0,
        optimizer: OptimizerKind::RmsProp,
        batch_size: 8,
        micro_batch_size: 4,
        max_grad_norm: Some(1.0),
        truncation: Truncation::default(),
        seed: 5,
        pad_id: 0,
        precision: Precision::F32,
        activation_checkpointing: false,
    };
    let dir = tempfile::tempdir().expect("tempdir");
    train(base, &data, &spec, dir.path(), &|_| Ok(())).expect("train");
    read_losses(dir.path())
}

fn read_losses(state: &Path) -> Vec<f64> {
    let text = std::fs::read_to_string(log_path(state)).expect("log");
    text.lines().map(|l| serde_json::from_str::<StepLog>(l).expect("log line").loss).collect()
}

#[test]
fn training_runs_log_the_same_losses_on_flex_and_libtorch() {
    for objective in [Objective::Dpo { beta: 0.1 }, Objective::ApoZero { beta: 0.1 }] {
        let flex = trained_losses(&device("cpu"), objective);
        let tch = trained_losses(&device("tch-cpu"), objective);
        let worst = flex.iter().zip(&tch).map(|(a, b)| relative(*a, *b)).fold(0.0, f64::max);
        eprintln!("{}: flex {flex:?}\n  tch-cpu {tch:?}\n  largest relative difference {worst:.2e}", objective.name());
        assert_eq!(flex.len(), 6);
        assert_eq!(flex.len(), tch.len());
        // Six updates of f32 rounding differences, each update normalised by RMSProp.
        assert!(worst < 1e-4, "{}: flex {flex:?} vs tch-cpu {tch:?}", objective.name());
    }
}

/// Rows of uneven length: padding, the attention mask and the length-sorted passes
/// (`model::bucket`) that training and the reference log-probs both go through.
#[test]
fn uneven_rows_score_the_same_on_flex_and_libtorch() {
    use apogrid::model::score::{ScoreBatch, summed_logps};
    let config = tiny_config();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let vocab = config.vocab_size as u32;
    let rows: Vec<(Vec<u32>, Vec<u32>)> = (0..12)
        .map(|_| {
            let (p, r) = (rng.random_range(4..40), rng.random_range(2..60));
            ((0..p).map(|_| rng.random_range(3..vocab)).collect(), (0..r).map(|_| rng.random_range(3..vocab)).collect())
        })
        .collect();
    let batch = ScoreBatch::from_ids(&rows, Truncation::default(), 0).expect("batch");
    let score = |name: &str| {
        let model = Llama::init_seeded(&config, 7, &device(name)).expect("model");
        let together = summed_logps(&model, &batch);
        let alone: Vec<f32> = (0..rows.len()).map(|r| summed_logps(&model, &batch.rows(&[r]))[0]).collect();
        (together, alone)
    };
    let (flex, flex_alone) = score("cpu");
    let (tch, tch_alone) = score("tch-cpu");
    eprintln!(
        "flex together {flex:?}\nflex alone    {flex_alone:?}\ntch together  {tch:?}\ntch alone     {tch_alone:?}"
    );
    for (what, a, b) in [("together", &flex, &tch), ("alone", &flex_alone, &tch_alone), ("flex", &flex, &flex_alone)] {
        for (x, y) in a.iter().zip(b) {
            assert!(relative((*x).into(), (*y).into()) < 1e-5, "{what}: {a:?} vs {b:?}");
        }
    }
}

/// Greedy generation with the key/value cache (masks over cached positions, prompts of uneven
/// length) picks the same tokens.
#[test]
fn greedy_generation_is_the_same_on_flex_and_libtorch() {
    use apogrid::model::generate::{GenerateOptions, generate};
    let config = tiny_config();
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let vocab = config.vocab_size as u32;
    let prompts: Vec<Vec<u32>> =
        (0..6).map(|_| (0..rng.random_range(3..30)).map(|_| rng.random_range(3..vocab)).collect()).collect();
    let opts = GenerateOptions { max_new_tokens: 24, ..Default::default() };
    let tokens = |name: &str| {
        // Wider weights than the default init, whose greedy rows repeat one token.
        let model = Llama::init_seeded_std(&config, 7, 0.3, &device(name)).expect("model");
        let out = generate(&model, &prompts, 0, &opts).expect("generate");
        out.into_iter().map(|g| g.tokens).collect::<Vec<_>>()
    };
    let (flex, tch) = (tokens("cpu"), tokens("tch-cpu"));
    eprintln!("greedy tokens, first row: flex {:?}, tch-cpu {:?}", flex[0], tch[0]);
    assert_eq!(flex, tch);
}
