//! The loop on a small model: the objectives move the rewards the way they are meant to
//! (paper, Figure 4), and a run killed mid-epoch resumes to the same numbers.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use burn::tensor::Device;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::run::{StepLog, epoch_dir, log_path};
use super::{OptimizerKind, Schedule, TokenPair, TrainEvent, TrainSpec, train};
use crate::model::checkpoint;
use crate::model::config::LlamaConfig;
use crate::model::llama::Llama;
use crate::model::precision::Precision;
use crate::model::score::{ScoreBatch, Truncation, summed_logps};
use crate::objective::Objective;

fn small_model() -> Llama {
    let config = LlamaConfig {
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
    };
    Llama::init_seeded(&config, 7, &Device::flex()).expect("model")
}

fn pairs(model: &Llama, n: usize) -> Vec<TokenPair> {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut tokens = |len: usize| (0..len).map(|_| rng.random_range(3..40u32)).collect::<Vec<u32>>();
    let raw: Vec<(Vec<u32>, Vec<u32>, Vec<u32>)> = (0..n).map(|_| (tokens(5), tokens(6), tokens(6))).collect();
    let rows: Vec<(Vec<u32>, Vec<u32>)> =
        raw.iter().flat_map(|(p, c, r)| [(p.clone(), c.clone()), (p.clone(), r.clone())]).collect();
    let logps = summed_logps(model, &ScoreBatch::from_ids(&rows, Truncation::default(), 0).expect("batch"));
    raw.into_iter()
        .enumerate()
        .map(|(i, (prompt, chosen, rejected))| TokenPair {
            prompt,
            chosen,
            rejected,
            reference_chosen: logps[2 * i],
            reference_rejected: logps[2 * i + 1],
            winner_beats_model: Some(i % 2 == 0),
        })
        .collect()
}

fn spec(objective: Objective, epochs: usize) -> TrainSpec {
    TrainSpec {
        objective,
        epochs,
        learning_rate: 3e-3,
        schedule: Schedule::Linear,
        warmup_ratio: 0.0,
        optimizer: OptimizerKind::RmsProp,
        batch_size: 8,
        micro_batch_size: 4,
        max_grad_norm: None,
        truncation: Truncation::default(),
        seed: 5,
        pad_id: 0,
        precision: Precision::F32,
        activation_checkpointing: false,
    }
}

fn read_log(state: &Path) -> Vec<StepLog> {
    let text = std::fs::read_to_string(log_path(state)).expect("log");
    text.lines().map(|l| serde_json::from_str(l).expect("log line")).collect()
}

fn last_epoch_mean(log: &[StepLog], f: impl Fn(&StepLog) -> f64) -> f64 {
    let last = log.last().expect("steps").epoch;
    let v: Vec<f64> = log.iter().filter(|s| s.epoch == last).map(f).collect();
    v.iter().sum::<f64>() / v.len() as f64
}

#[test]
fn objectives_move_rewards_as_intended() {
    let base = small_model();
    let data = pairs(&base, 16);
    let run = |objective: Objective| {
        let dir = tempfile::tempdir().expect("tempdir");
        train(base.clone(), &data, &spec(objective, 4), dir.path(), &|_| Ok(())).expect("train");
        read_log(dir.path())
    };
    let apo_zero = run(Objective::ApoZero { beta: 0.1 });
    assert!(last_epoch_mean(&apo_zero, |s| s.chosen_reward) > 0.0, "APO-zero raises the winners");
    let apo_down = run(Objective::ApoDown { beta: 0.1 });
    assert!(last_epoch_mean(&apo_down, |s| s.chosen_reward) < 0.0, "APO-down lowers the winners");
    let dpo = run(Objective::Dpo { beta: 0.1 });
    let first = dpo.first().expect("steps").margin;
    assert!(last_epoch_mean(&dpo, |s| s.margin) > first + 0.05, "DPO widens the margin");
    // The schedule decays linearly to zero over the run: 4 epochs x 2 updates.
    let lrs: Vec<f64> = dpo.iter().map(|s| s.lr).collect();
    assert_eq!(lrs.len(), 8);
    assert!((lrs[0] - 3e-3).abs() < 1e-12 && (lrs[7] - 3e-3 / 8.0).abs() < 1e-12, "{lrs:?}");
}

#[test]
fn unpaired_objectives_train_too() {
    let base = small_model();
    let data = pairs(&base, 8);
    for objective in [
        Objective::Kto { beta: 0.1, desirable_weight: 1.0, undesirable_weight: 1.0 },
        Objective::ApoZeroUnpaired { beta: 0.1, desirable_weight: 1.0, undesirable_weight: 1.0 },
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        train(base.clone(), &data, &spec(objective, 2), dir.path(), &|_| Ok(())).expect("train");
        let log = read_log(dir.path());
        assert_eq!(log.len(), 2);
        assert_eq!(log[0].z0.is_some(), objective.needs_kl(), "{}", objective.name());
    }
}

#[test]
fn a_killed_run_resumes_to_the_same_numbers() {
    let base = small_model();
    let data = pairs(&base, 16);
    let s = spec(Objective::ApoZero { beta: 0.1 }, 3);
    let whole = tempfile::tempdir().expect("tempdir");
    train(base.clone(), &data, &s, whole.path(), &|_| Ok(())).expect("train");

    let killed = tempfile::tempdir().expect("tempdir");
    // Die in the middle of epoch 2, after its first update was logged.
    let died = catch_unwind(AssertUnwindSafe(|| {
        train(base.clone(), &data, &s, killed.path(), &|event| {
            if let TrainEvent::Step(status) = event
                && (status.log.epoch, status.step_in_epoch) == (2, 1)
            {
                panic!("killed");
            }
            Ok(())
        })
    }));
    assert!(died.is_err());
    assert!(epoch_dir(killed.path(), 1).exists() && !epoch_dir(killed.path(), 2).exists());
    let summary = train(base.clone(), &data, &s, killed.path(), &|_| Ok(())).expect("resume");
    assert_eq!(summary.resumed_from_epoch, 1);

    assert_eq!(
        read_log(whole.path()).iter().map(|l| (l.step, l.loss)).collect::<Vec<_>>(),
        read_log(killed.path()).iter().map(|l| (l.step, l.loss)).collect::<Vec<_>>()
    );
    let weights = |dir: &Path| {
        let m = checkpoint::load(&epoch_dir(dir, 3), &Device::flex()).expect("checkpoint").model;
        m.to_tensors()
    };
    assert_eq!(weights(whole.path()), weights(killed.path()));
}

/// Activation checkpointing recomputes what it drops: the same losses and weights, bit for bit,
/// which is why it is not part of a run's key.
#[test]
fn activation_checkpointing_changes_no_number() {
    let base = small_model();
    let data = pairs(&base, 16);
    let plain = spec(Objective::Dpo { beta: 0.1 }, 2);
    let checkpointed = TrainSpec { activation_checkpointing: true, ..plain.clone() };
    let (a, b) = (tempfile::tempdir().expect("tempdir"), tempfile::tempdir().expect("tempdir"));
    train(base.clone(), &data, &plain, a.path(), &|_| Ok(())).expect("train");
    train(base.clone(), &data, &checkpointed, b.path(), &|_| Ok(())).expect("train checkpointed");
    let losses = |dir: &Path| read_log(dir).iter().map(|l| l.loss).collect::<Vec<_>>();
    assert_eq!(losses(a.path()), losses(b.path()));
    let weights =
        |dir: &Path| checkpoint::load(&epoch_dir(dir, 2), &Device::flex()).expect("checkpoint").model.to_tensors();
    assert!(weights(a.path()) == weights(b.path()), "checkpointed training ended with other weights");
}

#[test]
fn a_non_finite_loss_stops_the_run_naming_the_step() {
    let base = small_model();
    let mut data = pairs(&base, 8);
    data[0].reference_chosen = f32::NAN;
    let dir = tempfile::tempdir().expect("tempdir");
    let err =
        train(base.clone(), &data, &spec(Objective::Dpo { beta: 0.1 }, 1), dir.path(), &|_| Ok(())).expect_err("NaN");
    assert!(err.to_string().contains("non-finite loss") && err.to_string().contains("step 1"), "{err}");
}

#[test]
fn absurd_learning_rates_are_warned_about_in_the_summary() {
    let base = small_model();
    let data = pairs(&base, 16);
    let run = |lr: f64| {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = TrainSpec { learning_rate: lr, ..spec(Objective::Dpo { beta: 0.1 }, 3) };
        let seen = std::cell::RefCell::new(Vec::new());
        let summary = train(base.clone(), &data, &s, dir.path(), &|event| {
            if let TrainEvent::Warning(w) = event {
                seen.borrow_mut().push(w.to_string());
            }
            Ok(())
        })
        .expect("train");
        assert_eq!(seen.into_inner().len(), summary.warnings.len(), "each warning is also logged");
        summary.warnings
    };
    assert!(run(3e-3).is_empty(), "the ordinary rate of these tests");
    // 1: the loss climbs from 0.69 to hundreds and the likelihoods from -22 to -20,000.
    let w = run(1.0);
    assert!(w.iter().any(|w| w.contains("training loss diverged")), "{w:?}");
    assert!(w.iter().any(|w| w.contains("likelihood collapsed")), "{w:?}");
    // 1e4 (issue 18's): the model degenerates to a uniform distribution at once; the loss sits
    // at ln 2 and the gradient at 0.
    let w = run(1e4);
    assert!(w.len() == 1 && w[0].contains("training collapsed"), "{w:?}");
}

/// What a watcher hears: every update with its place in the epoch and a time left that falls
/// to zero at the last update, each saved epoch after its updates, and a resumed run's updates
/// only; an error from the watcher stops the run.
#[test]
fn the_loop_reports_steps_epochs_and_time_left() {
    let base = small_model();
    let data = pairs(&base, 12); // batches of 8: 2 updates an epoch, the second of 4 pairs
    let s = spec(Objective::Dpo { beta: 0.1 }, 2);
    let dir = tempfile::tempdir().expect("tempdir");
    let heard = std::cell::RefCell::new(Vec::new());
    train(base.clone(), &data, &s, dir.path(), &|event| {
        heard.borrow_mut().push(match event {
            TrainEvent::Step(st) => {
                assert_eq!((st.epochs, st.steps_per_epoch), (2, 2));
                assert!(
                    st.to_string().starts_with(&format!("epoch {}/2 step {}/2 loss ", st.log.epoch, st.step_in_epoch))
                );
                assert!(st.log.time.is_some(), "each line records its wall time");
                format!("step {} {} eta0={}", st.log.step, st.step_in_epoch, st.eta.is_zero())
            }
            TrainEvent::EpochSaved(e) => {
                assert!(epoch_dir(dir.path(), e).exists(), "the checkpoint is saved before it is reported");
                format!("epoch {e}")
            }
            TrainEvent::Warning(w) => format!("warning {w}"),
        });
        Ok(())
    })
    .expect("train");
    let want = [
        "step 1 1 eta0=false",
        "step 2 2 eta0=false",
        "epoch 1",
        "step 3 1 eta0=false",
        "step 4 2 eta0=true",
        "epoch 2",
    ];
    assert_eq!(heard.into_inner(), want);
    // A watcher's error stops the run, naming its cause.
    let dir = tempfile::tempdir().expect("tempdir");
    let err = train(base.clone(), &data, &s, dir.path(), &|event| match event {
        TrainEvent::EpochSaved(1) => anyhow::bail!("the view could not be written"),
        _ => Ok(()),
    })
    .expect_err("stopped");
    assert!(err.to_string().contains("the view could not be written"), "{err}");
}

#[test]
fn clipping_logs_the_norm_before_it_and_shrinks_the_update() {
    let base = small_model();
    let data = pairs(&base, 16);
    let run = |max_grad_norm: Option<f64>| {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = TrainSpec { max_grad_norm, ..spec(Objective::ApoZero { beta: 0.1 }, 1) };
        train(base.clone(), &data, &s, dir.path(), &|_| Ok(())).expect("train");
        read_log(dir.path())
    };
    // A bound so small that the clipped gradients (about 1e-15 per weight) vanish against
    // RMSProp's eps (1e-8): the first update leaves the policy at the reference.
    let (free, clipped) = (run(None), run(Some(1e-12)));
    assert_eq!(free.len(), 2);
    // Step 1 starts from the same weights: the same norm, logged before clipping.
    assert_eq!(free[0].grad_norm, clipped[0].grad_norm);
    assert!(free[0].grad_norm > 1e-3, "{}", free[0].grad_norm);
    // Step 2's rewards measure how far the first update moved the policy from the reference.
    assert!(clipped[1].chosen_reward.abs() < 1e-5, "{}", clipped[1].chosen_reward);
    assert!(free[1].chosen_reward.abs() > 1e-3, "{}", free[1].chosen_reward);
}
