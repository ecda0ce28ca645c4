//! Every objective against values computed by hand in plain f64 from SPEC.md's formulas, the
//! autodiff gradients against central finite differences, and the error cases.

use burn::tensor::{DType, Device, Tensor, TensorData};

use super::*;

// ---------- plain-f64 reference implementations (written from SPEC.md, not from the code) ----

fn sig(x: f64) -> f64 {
    if x >= 0.0 { 1.0 / (1.0 + (-x).exp()) } else { x.exp() / (1.0 + x.exp()) }
}

/// `-log σ(x)` = softplus(-x), stable both ways.
fn nls(x: f64) -> f64 {
    if x >= 0.0 { (-x).exp().ln_1p() } else { -x + x.exp().ln_1p() }
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

#[derive(Clone)]
struct Pairs {
    pc: Vec<f64>,
    pr: Vec<f64>,
    rc: Vec<f64>,
    rr: Vec<f64>,
}

impl Pairs {
    fn lw(&self) -> Vec<f64> {
        self.pc.iter().zip(&self.rc).map(|(p, r)| p - r).collect()
    }
    fn ll(&self) -> Vec<f64> {
        self.pr.iter().zip(&self.rr).map(|(p, r)| p - r).collect()
    }
    /// Hand-computed per-example losses for a paired objective (SPEC.md table 1).
    fn hand(&self, name: &str, beta: f64) -> Vec<f64> {
        let (lw, ll) = (self.lw(), self.ll());
        let z = lw.iter().zip(&ll);
        match name {
            "dpo" => z.map(|(w, l)| nls(beta * (w - l))).collect(),
            "apo_zero" => z.map(|(w, l)| (1.0 - sig(beta * w)) + sig(beta * l)).collect(),
            "apo_down" => z.map(|(w, l)| sig(beta * w) + (1.0 - sig(beta * (w - l)))).collect(),
            "kto_pair" => {
                let kl_w = mean(&lw).max(0.0);
                let kl_l = mean(&ll).max(0.0);
                let chosen = lw.iter().map(|w| 1.0 - sig(beta * (w - kl_l)));
                let rejected = ll.iter().map(|l| 1.0 - sig(beta * (kl_w - l)));
                chosen.chain(rejected).collect()
            }
            other => panic!("no hand formula for {other}"),
        }
    }
}

/// Four typical pairs (log-probs of a few dozen tokens), reward margins of mixed sign.
fn typical() -> Pairs {
    Pairs {
        pc: vec![-12.5, -30.25, -8.0, -45.0],
        pr: vec![-14.0, -28.0, -9.5, -60.0],
        rc: vec![-13.0, -29.0, -8.25, -47.5],
        rr: vec![-13.5, -29.5, -9.0, -58.0],
    }
}

fn dev() -> Device {
    Device::flex().autodiff()
}

fn t64(v: &[f64]) -> Tensor<1> {
    Tensor::from_data(TensorData::new(v.to_vec(), [v.len()]), (&dev(), DType::F64))
}

fn t32(v: &[f64]) -> Tensor<1> {
    Tensor::from_data(TensorData::new(v.to_vec(), [v.len()]), (&dev(), DType::F32))
}

fn host(t: Tensor<1>) -> Vec<f64> {
    to_host(t).unwrap()
}

fn paired_batch(p: &Pairs, make: fn(&[f64]) -> Tensor<1>) -> PairedBatch {
    PairedBatch::new(make(&p.pc).require_grad(), make(&p.pr).require_grad(), make(&p.rc), make(&p.rr))
}

/// Evaluates `objective` in f64 and returns (loss, per-example, grad chosen, grad rejected).
fn eval_paired(objective: Objective, p: &Pairs) -> (f64, Vec<f64>, Vec<f64>, Vec<f64>) {
    let batch = paired_batch(p, t64);
    let out = objective.loss(&Batch::Paired(batch.clone())).unwrap();
    let grads = out.loss.backward();
    let grad = |t: &Tensor<1>| match t.grad(&grads) {
        Some(g) => host(g),
        None => vec![0.0; p.pc.len()],
    };
    let (gc, gr) = (grad(&batch.policy_chosen), grad(&batch.policy_rejected));
    (host(out.loss)[0], host(out.per_example), gc, gr)
}

fn loss_only(objective: Objective, p: &Pairs) -> f64 {
    let batch = paired_batch(p, t64);
    host(objective.loss(&Batch::Paired(batch)).unwrap().loss)[0]
}

fn assert_close(got: &[f64], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(g.is_finite(), "{what}[{i}] is {g}");
        let scale = 1.0_f64.max(w.abs());
        assert!((g - w).abs() <= tol * scale, "{what}[{i}]: got {g}, want {w}");
    }
}

const PAIRED: [&str; 4] = ["dpo", "apo_zero", "apo_down", "kto_pair"];

// ---------- values -----------------------------------------------------------------------------

#[test]
fn paired_objectives_match_hand_computation() {
    let p = typical();
    for beta in [0.1, 0.5] {
        for name in PAIRED {
            let objective = Objective::new(name, beta, 1.0, 1.0).unwrap();
            let (loss, per, _, _) = eval_paired(objective, &p);
            let want = p.hand(name, beta);
            assert_close(&per, &want, 1e-14, name);
            assert_close(&[loss], &[mean(&want)], 1e-14, name);
        }
    }
}

#[test]
fn kto_pair_clamps_negative_batch_kl_to_zero() {
    // mean lw > 0 and mean ll < 0 here, so exactly one of the two KL terms is clamped.
    let p = typical();
    assert!(mean(&p.lw()) > 0.0 && mean(&p.ll()) < 0.0);
    let (_, per, _, _) = eval_paired(Objective::KtoPair { beta: 0.1 }, &p);
    let lw = p.lw();
    // KL_l = 0: the chosen terms reduce to 1 - σ(β·lw).
    let chosen: Vec<f64> = lw.iter().map(|w| 1.0 - sig(0.1 * w)).collect();
    assert_close(&per[..4], &chosen, 1e-14, "kto_pair chosen");
    assert_eq!(per.len(), 8);
}

#[test]
fn all_equal_policy_and_reference_gives_the_textbook_values() {
    // Policy == reference: every log-ratio is 0, σ(0) = 1/2.
    let v = vec![-20.0, -35.5, -7.25];
    let p = Pairs { pc: v.clone(), pr: v.clone(), rc: v.clone(), rr: v };
    let beta = 0.1;
    let cases = [("dpo", 2f64.ln()), ("apo_zero", 1.0), ("apo_down", 1.0), ("kto_pair", 0.5)];
    for (name, want) in cases {
        let (loss, per, gc, gr) = eval_paired(Objective::new(name, beta, 1.0, 1.0).unwrap(), &p);
        assert_close(&[loss], &[want], 1e-15, name);
        assert!(per.iter().all(|x| (x - want).abs() < 1e-15), "{name}: {per:?}");
        let b = 3.0;
        // d/dpc and d/dpr at h = lw = ll = 0, by hand (σ'(0) = 1/4):
        let (want_c, want_r) = match name {
            "dpo" => (-beta / 2.0 / b, beta / 2.0 / b),
            "apo_zero" => (-beta / 4.0 / b, beta / 4.0 / b),
            "apo_down" => (beta / 4.0 / b - beta / 4.0 / b, beta / 4.0 / b),
            // kto_pair at KL = 0 exactly: the clamp passes the gradient (PyTorch convention).
            // Chosen term j gives -β/4 to lw_j; the B rejected terms 1-σ(β(mean lw - ll_i))
            // give -β/4 · (1/B) each to lw_j: -β/2 in all, over 2B terms (mirror for ll).
            "kto_pair" => (-beta / 2.0 / (2.0 * b), beta / 2.0 / (2.0 * b)),
            _ => unreachable!(),
        };
        assert_close(&gc, &[want_c; 3], 1e-15, &format!("{name} grad chosen"));
        assert_close(&gr, &[want_r; 3], 1e-15, &format!("{name} grad rejected"));
    }
}

#[test]
fn margins_of_a_thousand_nats_stay_finite_and_exact() {
    // β·h = ±100 and log-ratios of ±1000: σ saturates, softplus is linear.
    let p = Pairs {
        // (lw, ll) = (0, -1000), (-1000, 1000), (1000, -1000), (500, 500)
        pc: vec![-1.0, -2001.0, -5.0, -505.0],
        pr: vec![-1001.0, -1.0, -1005.0, -5.0],
        rc: vec![-1.0, -1001.0, -1005.0, -1005.0],
        rr: vec![-1.0, -1001.0, -5.0, -505.0],
    };
    for beta in [0.1, 1.0] {
        for name in PAIRED {
            let objective = Objective::new(name, beta, 1.0, 1.0).unwrap();
            let (loss, per, gc, gr) = eval_paired(objective, &p);
            assert_close(&per, &p.hand(name, beta), 1e-14, name);
            assert!(loss.is_finite());
            assert!(gc.iter().chain(&gr).all(|g| g.is_finite()), "{name}: {gc:?} {gr:?}");
            // f32, as training runs it: finite too, and equal within f32 precision.
            let batch = paired_batch(&p, t32);
            let out = objective.loss(&Batch::Paired(batch.clone())).unwrap();
            let grads = out.loss.backward();
            let g32 = host(batch.policy_chosen.grad(&grads).unwrap());
            assert_close(&host(out.loss), &[loss], 1e-6, &format!("{name} f32"));
            assert!(g32.iter().all(|g| g.is_finite()), "{name} f32 grads {g32:?}");
        }
    }
    // DPO on a pair losing by 2000 nats at β = 1 costs exactly 2000 (softplus is linear there).
    let (_, per, _, _) = eval_paired(Objective::Dpo { beta: 1.0 }, &p);
    assert_eq!(per[1], 2000.0);
    assert_eq!(per[0], nls(1000.0));
    assert_eq!(per[3], 2f64.ln());
}

#[test]
fn sft_is_the_token_weighted_mean_not_the_mean_of_means() {
    // Sequence 0: NLL 10 over 10 tokens (1/token); sequence 1: NLL 40 over 20 tokens (2/token).
    let p = Pairs { pc: vec![-10.0, -40.0], pr: vec![-3.0, -4.0], rc: vec![-11.0, -40.0], rr: vec![-3.0, -4.0] };
    let batch = paired_batch(&p, t64).with_chosen_tokens(vec![10, 20]);
    let out = Objective::Sft { beta: 0.1 }.loss(&Batch::Paired(batch.clone())).unwrap();
    let grads = out.loss.backward();
    let loss = host(out.loss.clone())[0];
    assert!((loss - 50.0 / 30.0).abs() < 1e-15, "{loss}");
    assert!((loss - 1.5).abs() > 0.1, "must not be the mean of per-sequence means");
    assert_close(&host(out.per_example), &[1.0, 2.0], 1e-15, "sft per-example");
    let gc = host(batch.policy_chosen.grad(&grads).unwrap());
    assert_close(&gc, &[-1.0 / 30.0; 2], 1e-15, "sft grad");
    assert!(batch.policy_rejected.grad(&grads).is_none(), "sft ignores y_l");
    // Rewards still logged with β when the reference is there.
    assert_close(&[out.metrics.chosen_reward], &[0.1 * (1.0 + 0.0) / 2.0], 1e-15, "sft reward");

    // Without reference log-probs: loss unchanged, rewards empty, reward metrics NaN.
    let mut no_ref = paired_batch(&p, t64).with_chosen_tokens(vec![10, 20]);
    no_ref.reference_chosen = None;
    no_ref.reference_rejected = None;
    let out = Objective::Sft { beta: 0.1 }.loss(&Batch::Paired(no_ref)).unwrap();
    assert!((host(out.loss)[0] - 50.0 / 30.0).abs() < 1e-15);
    assert!(out.metrics.chosen_reward.is_nan() && out.metrics.accuracy.is_none());
    assert_eq!(out.metrics.chosen_logps, -25.0);
}

#[test]
fn paired_metrics_match_trl_definitions() {
    let mut p = typical();
    // Make pair 2 a reward tie: lw = ll = 0.25, which must not count as accurate (strict >).
    p.pc[2] = -8.0;
    p.rc[2] = -8.25;
    p.pr[2] = -9.25;
    p.rr[2] = -9.5;
    let beta = 0.1;
    let out = Objective::Dpo { beta }.loss(&Batch::Paired(paired_batch(&p, t64))).unwrap();
    let rc: Vec<f64> = p.lw().iter().map(|w| beta * w).collect();
    let rr: Vec<f64> = p.ll().iter().map(|l| beta * l).collect();
    let wins = rc.iter().zip(&rr).filter(|(c, r)| c > r).count() as f64;
    assert_eq!(wins, 2.0, "fixture: two strict wins, one tie, one loss");
    let m = out.metrics;
    assert_close(&[m.chosen_reward, m.rejected_reward], &[mean(&rc), mean(&rr)], 1e-15, "rewards");
    assert_close(&[m.margin], &[mean(&rc) - mean(&rr)], 1e-14, "margin");
    assert_eq!(m.accuracy, Some(wins / 4.0));
    assert_close(&[m.chosen_logps, m.rejected_logps], &[mean(&p.pc), mean(&p.pr)], 1e-15, "logps");
    assert_eq!(m.z0, None);
    match out.rewards {
        Rewards::Paired { chosen, rejected } => {
            assert_close(&chosen, &rc, 1e-15, "chosen rewards");
            assert_close(&rejected, &rr, 1e-15, "rejected rewards");
        }
        other => panic!("{other:?}"),
    }
}

// ---------- unpaired ---------------------------------------------------------------------------

struct Examples {
    p: Vec<f64>,
    r: Vec<f64>,
    d: Vec<bool>,
    pkl: Vec<f64>,
    rkl: Vec<f64>,
}

fn unpaired_fixture() -> Examples {
    Examples {
        p: vec![-12.0, -20.0, -7.0, -33.0, -15.0],
        r: vec![-14.0, -18.5, -7.5, -30.0, -15.5],
        d: vec![true, false, true, false, false],
        // Mismatched pairs (rotate by one): their mean policy-minus-reference is +2.6.
        pkl: vec![-40.0, -22.0, -25.0, -31.0, -38.0],
        rkl: vec![-43.0, -25.0, -26.0, -33.0, -42.0],
    }
}

fn hand_unpaired(name: &str, e: &Examples, beta: f64, wd: f64, wu: f64) -> (Vec<f64>, f64) {
    let z0 = if name == "kto" {
        mean(&e.pkl.iter().zip(&e.rkl).map(|(p, r)| p - r).collect::<Vec<_>>()).max(0.0)
    } else {
        0.0
    };
    let per = e.p.iter().zip(&e.r).zip(&e.d).map(|((p, r), &good)| {
        let l = p - r;
        match (name, good) {
            ("kto", true) => wd * (1.0 - sig(beta * (l - z0))),
            ("kto", false) => wu * (1.0 - sig(beta * (z0 - l))),
            (_, true) => wd * (1.0 - sig(beta * l)),
            (_, false) => wu * sig(beta * l),
        }
    });
    (per.collect(), z0)
}

fn unpaired_batch(e: &Examples) -> UnpairedBatch {
    UnpairedBatch::new(t64(&e.p).require_grad(), t64(&e.r), e.d.clone())
        .with_kl(t64(&e.pkl).require_grad(), t64(&e.rkl))
}

fn eval_unpaired(objective: Objective, e: &Examples) -> (LossOutput, Vec<f64>, bool) {
    let batch = unpaired_batch(e);
    let out = objective.loss(&Batch::Unpaired(batch.clone())).unwrap();
    let grads = out.loss.backward();
    let g = host(batch.policy.grad(&grads).unwrap());
    let kl_has_grad = batch.policy_kl.as_ref().unwrap().grad(&grads).is_some();
    (out, g, kl_has_grad)
}

#[test]
fn unpaired_objectives_match_hand_computation() {
    let e = unpaired_fixture();
    for (wd, wu) in [(1.0, 1.0), (1.5, 0.5)] {
        for name in ["apo_zero_unpaired", "kto"] {
            let objective = Objective::new(name, 0.1, wd, wu).unwrap();
            let (out, _, kl_has_grad) = eval_unpaired(objective, &e);
            let (want, z0) = hand_unpaired(name, &e, 0.1, wd, wu);
            assert_close(&host(out.per_example.clone()), &want, 1e-14, name);
            // Sum of the weighted terms over N.
            assert_close(&host(out.loss.clone()), &[want.iter().sum::<f64>() / 5.0], 1e-14, name);
            assert!(!kl_has_grad, "{name}: z0 must be detached");
            let m = out.metrics;
            if name == "kto" {
                assert_close(&[m.z0.unwrap()], &[z0], 1e-14, "z0");
                assert!((z0 - 2.6).abs() < 1e-12, "fixture z0 {z0}");
            } else {
                assert_eq!(m.z0, None);
            }
            let rewards: Vec<f64> = e.p.iter().zip(&e.r).map(|(p, r)| 0.1 * (p - r)).collect();
            match &out.rewards {
                Rewards::Unpaired(got) => assert_close(got, &rewards, 1e-15, "rewards"),
                other => panic!("{other:?}"),
            }
            let good = mean(&[rewards[0], rewards[2]]);
            let bad = mean(&[rewards[1], rewards[3], rewards[4]]);
            assert_close(&[m.chosen_reward, m.rejected_reward, m.margin], &[good, bad, good - bad], 1e-14, "m");
            assert_close(&[m.chosen_logps, m.rejected_logps], &[-9.5, -68.0 / 3.0], 1e-14, "logps");
            assert_eq!((m.n_chosen, m.n_rejected, m.accuracy), (2, 3, None));
        }
    }
}

#[test]
fn kto_z0_is_clamped_at_zero_and_handles_huge_log_ratios() {
    let mut e = unpaired_fixture();
    e.pkl = e.rkl.iter().map(|r| r - 5.0).collect(); // mean KL -5 -> z0 = 0
    let (out, g, _) = eval_unpaired(Objective::Kto { beta: 0.1, desirable_weight: 1.0, undesirable_weight: 1.0 }, &e);
    assert_eq!(out.metrics.z0, Some(0.0));
    assert_close(&host(out.per_example), &hand_unpaired("kto", &e, 0.1, 1.0, 1.0).0, 1e-14, "kto z0=0");
    assert!(g.iter().all(|x| x.is_finite()));
    // Log-ratios of ±1000 nats.
    e.p = vec![-1.0, -2000.0, -3000.0, -1.0, -500.0];
    e.r = vec![-1001.0, -1000.0, -2000.0, -1001.0, -500.0];
    for name in ["kto", "apo_zero_unpaired"] {
        let (out, g, _) = eval_unpaired(Objective::new(name, 1.0, 1.0, 1.0).unwrap(), &e);
        assert_close(&host(out.per_example), &hand_unpaired(name, &e, 1.0, 1.0, 1.0).0, 1e-14, name);
        assert!(g.iter().all(|x| x.is_finite()), "{name}: {g:?}");
    }
}

// ---------- gradients vs central finite differences -------------------------------------------

/// Central differences of the loss (evaluated by the same burn code, in f64) with respect to
/// each policy log-prob, compared with the autodiff gradient.
#[test]
fn paired_gradients_match_central_finite_differences() {
    let mut shifted = typical(); // mean ll > 0 as well: kto_pair's other clamp branch
    shifted.pr = shifted.pr.iter().map(|x| x + 3.0).collect();
    for p in [typical(), shifted] {
        for beta in [0.1, 0.7] {
            for name in PAIRED {
                let objective = Objective::new(name, beta, 1.0, 1.0).unwrap();
                let (_, _, gc, gr) = eval_paired(objective, &p);
                let eps = 1e-5;
                for side in 0..2 {
                    for i in 0..p.pc.len() {
                        let (mut plus, mut minus) = (p.clone(), p.clone());
                        let (a, b) =
                            if side == 0 { (&mut plus.pc, &mut minus.pc) } else { (&mut plus.pr, &mut minus.pr) };
                        a[i] += eps;
                        b[i] -= eps;
                        let fd = (loss_only(objective, &plus) - loss_only(objective, &minus)) / (2.0 * eps);
                        let ad = if side == 0 { gc[i] } else { gr[i] };
                        assert!((fd - ad).abs() < 1e-8, "{name} β={beta} side {side} [{i}]: fd {fd} vs autodiff {ad}");
                    }
                }
            }
        }
    }
}

#[test]
fn unpaired_and_sft_gradients_match_central_finite_differences() {
    let e = unpaired_fixture();
    let eps = 1e-5;
    for name in ["apo_zero_unpaired", "kto"] {
        let objective = Objective::new(name, 0.3, 1.5, 0.5).unwrap();
        let (_, g, _) = eval_unpaired(objective, &e);
        for i in 0..e.p.len() {
            let at = |delta: f64| {
                let mut p = e.p.clone();
                p[i] += delta;
                let batch = UnpairedBatch::new(t64(&p), t64(&e.r), e.d.clone()).with_kl(t64(&e.pkl), t64(&e.rkl));
                host(objective.loss(&Batch::Unpaired(batch)).unwrap().loss)[0]
            };
            let fd = (at(eps) - at(-eps)) / (2.0 * eps);
            assert!((fd - g[i]).abs() < 1e-8, "{name} [{i}]: fd {fd} vs autodiff {}", g[i]);
        }
    }
    let p = typical();
    let tokens = vec![7, 19, 3, 40];
    let sft_loss = |pc: &[f64]| {
        let batch = PairedBatch::new(t64(pc), t64(&p.pr), t64(&p.rc), t64(&p.rr)).with_chosen_tokens(tokens.clone());
        host(Objective::Sft { beta: 0.1 }.loss(&Batch::Paired(batch)).unwrap().loss)[0]
    };
    let batch = paired_batch(&p, t64).with_chosen_tokens(tokens.clone());
    let out = Objective::Sft { beta: 0.1 }.loss(&Batch::Paired(batch.clone())).unwrap();
    let g = host(batch.policy_chosen.grad(&out.loss.backward()).unwrap());
    for i in 0..4 {
        let (mut plus, mut minus) = (p.pc.clone(), p.pc.clone());
        plus[i] += eps;
        minus[i] -= eps;
        let fd = (sft_loss(&plus) - sft_loss(&minus)) / (2.0 * eps);
        assert!((fd - g[i]).abs() < 1e-8, "sft [{i}]: fd {fd} vs autodiff {}", g[i]);
    }
}

#[test]
fn apo_auto_uses_apo_zero_where_the_winner_beats_the_model_and_apo_down_elsewhere() {
    let p = typical();
    let flags = vec![true, false, false, true];
    for beta in [0.1, 0.5] {
        let batch = paired_batch(&p, t64).with_winner_beats_model(flags.clone());
        let out = Objective::ApoAuto { beta }.loss(&Batch::Paired(batch.clone())).unwrap();
        let (zero, down) = (p.hand("apo_zero", beta), p.hand("apo_down", beta));
        let want: Vec<f64> = (0..4).map(|i| if flags[i] { zero[i] } else { down[i] }).collect();
        assert_close(&host(out.per_example), &want, 1e-14, "apo_auto per-pair");
        assert_close(&host(out.loss.clone()), &[mean(&want)], 1e-14, "apo_auto loss");
        // Each pair's gradient is its variant's, by hand: with s = σ'(x) = σ(x)(1 - σ(x)),
        // APO-zero: d/dlw = -β·s(β·lw), d/dll = β·s(β·ll);
        // APO-down: d/dlw = β·s(β·lw) - β·s(β·h), d/dll = β·s(β·h); all over B = 4.
        let ds = |x: f64| sig(x) * (1.0 - sig(x));
        let (lw, ll) = (p.lw(), p.ll());
        let grads = out.loss.backward();
        let gc = host(batch.policy_chosen.grad(&grads).unwrap());
        let gr = host(batch.policy_rejected.grad(&grads).unwrap());
        for i in 0..4 {
            let (w, l) = (beta * lw[i], beta * ll[i]);
            let (want_c, want_r) = if flags[i] {
                (-beta * ds(w), beta * ds(l))
            } else {
                (beta * ds(w) - beta * ds(w - l), beta * ds(w - l))
            };
            assert_close(&[gc[i], gr[i]], &[want_c / 4.0, want_r / 4.0], 1e-14, &format!("apo_auto grad [{i}]"));
        }
    }
    // All flags set is APO-zero, none is APO-down.
    let all = |f: bool| {
        let batch = paired_batch(&p, t64).with_winner_beats_model(vec![f; 4]);
        host(Objective::ApoAuto { beta: 0.1 }.loss(&Batch::Paired(batch)).unwrap().loss)[0]
    };
    assert_close(&[all(true)], &[loss_only(Objective::ApoZero { beta: 0.1 }, &p)], 1e-15, "all zero");
    assert_close(&[all(false)], &[loss_only(Objective::ApoDown { beta: 0.1 }, &p)], 1e-15, "all down");
    // Without the flags, or with the wrong number, it is an error naming the field.
    let err = Objective::ApoAuto { beta: 0.1 }.loss(&Batch::Paired(paired_batch(&p, t64))).unwrap_err();
    assert_eq!(err, ObjectiveError::Missing { objective: "apo_auto", field: "winner_beats_model" });
    let short = paired_batch(&p, t64).with_winner_beats_model(vec![true]);
    let err = Objective::ApoAuto { beta: 0.1 }.loss(&Batch::Paired(short)).unwrap_err();
    assert!(matches!(err, ObjectiveError::LengthMismatch { field: "winner_beats_model", got: 1, .. }), "{err}");
}

// ---------- names, parameters, errors ----------------------------------------------------------

#[test]
fn names_round_trip_and_classify() {
    for name in super::ObjectiveKind::ALL.map(super::ObjectiveKind::name) {
        let o: Objective = name.parse().unwrap();
        assert_eq!(o.name(), name);
        assert_eq!(o.beta(), DEFAULT_BETA);
        let json = serde_json::to_string(&o).unwrap();
        assert_eq!(serde_json::from_str::<Objective>(&json).unwrap(), o, "{json}");
        assert_eq!(o.is_paired(), !["apo_zero_unpaired", "kto"].contains(&name));
        assert_eq!(o.needs_reference(), name != "sft");
    }
    let o: Objective = serde_json::from_str(r#"{"name":"kto","desirable_weight":1.33}"#).unwrap();
    assert_eq!(o, Objective::Kto { beta: 0.1, desirable_weight: 1.33, undesirable_weight: 1.0 });
    assert!(matches!("ipo".parse::<Objective>(), Err(ObjectiveError::UnknownName(_))));
    assert!(Objective::new("dpo", 0.0, 1.0, 1.0).is_err());
    assert!(Objective::new("dpo", f64::NAN, 1.0, 1.0).is_err());
    assert!(Objective::new("kto", 0.1, -1.0, 1.0).is_err());
}

#[test]
fn bad_batches_are_errors_not_panics() {
    let dpo = Objective::Dpo { beta: 0.1 };
    let empty = PairedBatch::new(t64(&[]), t64(&[]), t64(&[]), t64(&[]));
    assert_eq!(dpo.loss(&Batch::Paired(empty)).unwrap_err(), ObjectiveError::EmptyBatch { objective: "dpo" });
    let short = PairedBatch::new(t64(&[1.0, 2.0]), t64(&[1.0]), t64(&[1.0, 2.0]), t64(&[1.0, 2.0]));
    assert!(matches!(
        dpo.loss(&Batch::Paired(short)),
        Err(ObjectiveError::LengthMismatch { field: "policy_rejected", .. })
    ));
    let mut no_ref = paired_batch(&typical(), t64);
    no_ref.reference_rejected = None;
    assert!(matches!(dpo.loss(&Batch::Paired(no_ref.clone())), Err(ObjectiveError::Missing { .. })));
    let sft = Objective::Sft { beta: 0.1 };
    assert!(matches!(
        sft.loss(&Batch::Paired(no_ref.clone())),
        Err(ObjectiveError::Missing { field: "chosen_tokens", .. })
    ));
    let zero = no_ref.with_chosen_tokens(vec![1, 0, 2, 3]);
    assert!(matches!(sft.loss(&Batch::Paired(zero)), Err(ObjectiveError::ZeroTokens { index: 1, .. })));

    let kto = Objective::Kto { beta: 0.1, desirable_weight: 1.0, undesirable_weight: 1.0 };
    let one = UnpairedBatch::new(t64(&[-1.0]), t64(&[-1.0]), vec![true]).with_kl(t64(&[-1.0]), t64(&[-1.0]));
    assert_eq!(kto.loss(&Batch::Unpaired(one.clone())).unwrap_err(), ObjectiveError::KtoBatchTooSmall { got: 1 });
    let no_kl = UnpairedBatch::new(t64(&[-1.0, -2.0]), t64(&[-1.0, -2.0]), vec![true, false]);
    assert!(matches!(
        kto.loss(&Batch::Unpaired(no_kl.clone())),
        Err(ObjectiveError::Missing { field: "policy_kl", .. })
    ));
    // apo_zero_unpaired needs neither the KL pairs nor two examples.
    let azu = Objective::ApoZeroUnpaired { beta: 0.1, desirable_weight: 1.0, undesirable_weight: 1.0 };
    assert!(azu.loss(&Batch::Unpaired(one)).is_ok());
    assert!(matches!(dpo.loss(&Batch::Unpaired(no_kl)), Err(ObjectiveError::WrongBatchKind { .. })));
}

#[test]
fn reference_log_probs_get_no_gradient_and_f32_unpaired_stays_finite() {
    let p = typical();
    let batch = PairedBatch::new(
        t64(&p.pc).require_grad(),
        t64(&p.pr).require_grad(),
        t64(&p.rc).require_grad(),
        t64(&p.rr).require_grad(),
    );
    for name in PAIRED {
        let objective = Objective::new(name, 0.1, 1.0, 1.0).unwrap();
        let out = objective.loss(&Batch::Paired(batch.clone())).unwrap();
        let grads = out.loss.backward();
        assert!(batch.policy_chosen.grad(&grads).is_some(), "{name}");
        let rc = batch.reference_chosen.as_ref().unwrap();
        assert!(rc.grad(&grads).is_none(), "{name}: the reference is frozen");
    }
    // Training runs in f32: ±1000-nat log-ratios must not produce NaN there either.
    let e = Examples {
        p: vec![-1.0, -2000.0, -3000.0, -1.0],
        r: vec![-1001.0, -1000.0, -2000.0, -1001.0],
        d: vec![true, false, true, false],
        pkl: vec![-5000.0, -1.0, -7.0, -9.0],
        rkl: vec![-1.0, -3000.0, -7.0, -9.0],
    };
    for name in ["kto", "apo_zero_unpaired"] {
        let batch =
            UnpairedBatch::new(t32(&e.p).require_grad(), t32(&e.r), e.d.clone()).with_kl(t32(&e.pkl), t32(&e.rkl));
        let out = Objective::new(name, 1.0, 1.0, 1.0).unwrap().loss(&Batch::Unpaired(batch.clone())).unwrap();
        let g = host(batch.policy.grad(&out.loss.backward()).unwrap());
        let want = hand_unpaired(name, &e, 1.0, 1.0, 1.0).0;
        assert_close(&host(out.per_example), &want, 1e-6, name);
        assert!(g.iter().all(|x| x.is_finite()), "{name}: {g:?}");
    }
}
