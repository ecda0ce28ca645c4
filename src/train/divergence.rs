//! Warnings for a run whose training diverged (issue 18: a learning rate of 1e4 took the
//! loss from 0.69 to 5.45 and the cell was "done" with nothing said).
//!
//! The rules, over the run's per-update log. The baseline is the first update, whose numbers
//! are those of the starting weights (a resumed run keeps it in its log); the windows are the
//! epochs (the thirds of the updates when the run has one epoch). The worst window is named.
//! - **Loss**: a window's mean loss above [`LOSS_FACTOR`] times the first update's **and** above
//!   it by at least [`LOSS_MIN_RISE`]. Every objective's loss is non-negative and falls while
//!   training works (the sigmoid losses start near 0.69-1.0, sft at the base model's per-token
//!   NLL), so doubling is far outside a healthy run's noise; the absolute floor keeps a run
//!   that starts near 0 from warning on noise.
//! - **Likelihood**: the mean summed log-probability of the chosen outputs (policy) in a window
//!   below [`LOGP_FACTOR`] times the first update's **and** lower by at least
//!   [`LOGP_MIN_DROP`] nats. DPO and APO-down lower it on purpose, by tens of percent in the
//!   paper; ten times is a wrecked model.
//! - **Collapse**: every update of the last window with a gradient norm below
//!   [`COLLAPSE_RATIO`] times the first update's (a learning rate of 1e4 drives the model to a
//!   uniform distribution: the loss sits at ln 2 and the gradient is exactly 0).
//! - **Overflow**: a non-finite gradient norm at any update (a non-finite loss already stops the
//!   run with an error).

use serde::Deserialize;

/// How many times the first update's loss a window's mean loss must exceed.
pub const LOSS_FACTOR: f64 = 2.0;
/// How far above the first update's loss, in loss units, it must also be.
pub const LOSS_MIN_RISE: f64 = 0.1;
/// How many times the first update's chosen log-probability (a negative number) a window's
/// mean must be below.
pub const LOGP_FACTOR: f64 = 10.0;
/// How many nats below it the window's mean must also be.
pub const LOGP_MIN_DROP: f64 = 100.0;
/// The gradient norm, relative to the first update's, below which a window counts as
/// collapsed.
pub const COLLAPSE_RATIO: f64 = 1e-6;

/// What the rules read of one line of `log.jsonl`. Lenient where [`super::StepLog`] is not:
/// a non-finite number is written to JSON as `null`, read back here as NaN.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct StepLoss {
    pub epoch: usize,
    pub step: usize,
    #[serde(deserialize_with = "nan_for_null")]
    pub loss: f64,
    #[serde(deserialize_with = "nan_for_null")]
    pub grad_norm: f64,
    #[serde(deserialize_with = "nan_for_null")]
    pub chosen_logps: f64,
}

fn nan_for_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// The readable lines of a run's `log.jsonl` (others are skipped: a warning is no reason to
/// fail a run).
pub fn read_log(text: &str) -> Vec<StepLoss> {
    text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
}

/// The warnings for one run's log (empty for a healthy run), each a full sentence.
pub fn warnings(log: &[StepLoss]) -> Vec<String> {
    let Some(first) = log.first() else { return Vec::new() };
    let windows = windows(log);
    let mut out = Vec::new();
    if let Some(s) = log.iter().find(|s| !s.grad_norm.is_finite()) {
        out.push(format!(
            "training diverged: the gradient norm is {} at update {} (epoch {}); the learning rate is probably too high",
            s.grad_norm, s.step, s.epoch
        ));
    }
    let worst_loss = windows.iter().filter(|w| w.loss.is_finite()).max_by(|a, b| a.loss.total_cmp(&b.loss));
    if let Some(w) = worst_loss
        && w.loss > LOSS_FACTOR * first.loss
        && w.loss > first.loss + LOSS_MIN_RISE
    {
        out.push(format!(
            "training loss diverged: {}'s mean loss {:.4} is {:.1}x the first update's {:.4} (warned above \
             {LOSS_FACTOR}x and +{LOSS_MIN_RISE}); the learning rate is probably too high and the checkpoints unusable",
            w.name,
            w.loss,
            w.loss / first.loss.max(f64::MIN_POSITIVE),
            first.loss
        ));
    }
    let lowest = windows.iter().filter(|w| w.logp.is_finite()).min_by(|a, b| a.logp.total_cmp(&b.logp));
    if let Some(w) = lowest
        && first.chosen_logps < 0.0
        && w.logp < LOGP_FACTOR * first.chosen_logps
        && w.logp < first.chosen_logps - LOGP_MIN_DROP
    {
        out.push(format!(
            "the chosen outputs' likelihood collapsed: {}'s mean log-probability {:.1} against the first update's {:.1} \
             (warned below {LOGP_FACTOR}x and -{LOGP_MIN_DROP} nats); the learning rate is probably too high",
            w.name, w.logp, first.chosen_logps
        ));
    }
    if let Some(last) = windows.last()
        && windows.len() > 1
        && first.grad_norm > 0.0
        && last.max_grad_norm < COLLAPSE_RATIO * first.grad_norm
    {
        out.push(format!(
            "training collapsed: the gradient norm is at most {:.3e} in {} against {:.3e} at the first update; \
             the model has probably degenerated (e.g. to a uniform distribution) under a too-high learning rate",
            last.max_grad_norm, last.name, first.grad_norm
        ));
    }
    out
}

/// Means over one epoch (or third) of the log.
struct Window {
    name: String,
    loss: f64,
    logp: f64,
    max_grad_norm: f64,
}

/// The windows of the rules: the epochs, or the thirds of a one-epoch run.
fn windows(log: &[StepLoss]) -> Vec<Window> {
    let window = |name: String, steps: &[StepLoss]| {
        let n = steps.len() as f64;
        Window {
            name,
            loss: steps.iter().map(|s| s.loss).sum::<f64>() / n,
            logp: steps.iter().map(|s| s.chosen_logps).sum::<f64>() / n,
            max_grad_norm: steps.iter().map(|s| s.grad_norm).fold(0.0, f64::max),
        }
    };
    let first_epoch = log.first().map_or(0, |s| s.epoch);
    if log.iter().all(|s| s.epoch == first_epoch) {
        let names = ["the first third of the updates", "the second third", "the last third"];
        let third = log.len().div_ceil(3).max(1);
        return log.chunks(third).zip(names).map(|(c, n)| window(n.to_string(), c)).collect();
    }
    let mut out = Vec::new();
    let mut start = 0;
    while start < log.len() {
        let epoch = log[start].epoch;
        let end = start + log[start..].iter().take_while(|s| s.epoch == epoch).count();
        out.push(window(format!("epoch {epoch}"), &log[start..end]));
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(losses: &[(usize, f64)]) -> Vec<StepLoss> {
        losses
            .iter()
            .enumerate()
            .map(|(i, &(epoch, loss))| StepLoss { epoch, step: i + 1, loss, grad_norm: 1.0, chosen_logps: -30.0 })
            .collect()
    }

    #[test]
    fn healthy_and_noisy_runs_are_quiet() {
        assert!(warnings(&log(&[(1, 0.69), (1, 0.68), (2, 0.60), (2, 0.55), (3, 0.50)])).is_empty());
        // Noise near zero: 3x, but by less than LOSS_MIN_RISE.
        assert!(warnings(&log(&[(1, 0.01), (2, 0.03)])).is_empty());
        assert!(warnings(&[]).is_empty());
        // Likelihood lowered on purpose (APO-down): 3x, not 10x.
        let mut l = log(&[(1, 1.0), (2, 0.9), (3, 0.8)]);
        l[2].chosen_logps = -90.0;
        assert!(warnings(&l).is_empty());
    }

    #[test]
    fn a_diverged_run_names_its_worst_epoch() {
        let w = warnings(&log(&[(1, 0.69), (1, 0.70), (2, 3.0), (3, 5.45), (4, 4.0)]));
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("epoch 3's mean loss 5.4500") && w[0].contains("first update's 0.6900"), "{}", w[0]);
    }

    #[test]
    fn a_one_epoch_run_compares_thirds_and_a_bad_gradient_is_named() {
        let mut l = log(&[(1, 0.69), (1, 0.7), (1, 2.0), (1, 3.0), (1, 4.0), (1, 5.0)]);
        let w = warnings(&l);
        assert!(w.len() == 1 && w[0].contains("the last third"), "{w:?}");
        l[4].grad_norm = f64::INFINITY;
        assert!(warnings(&l)[0].contains("gradient norm is inf at update 5"));
        // As the log carries it: JSON has no infinity, serde_json writes `null`.
        let line = r#"{"epoch":1,"step":5,"loss":0.7,"grad_norm":null,"chosen_logps":-3.0,"lr":1.0}"#;
        assert!(read_log(line)[0].grad_norm.is_nan());
    }

    #[test]
    fn collapsed_likelihoods_and_vanished_gradients_are_named() {
        let mut l = log(&[(1, 0.69), (1, 0.69), (2, 0.69), (2, 0.69)]);
        for s in &mut l[1..] {
            s.grad_norm = 0.0;
        }
        let w = warnings(&l);
        assert!(w.len() == 1 && w[0].contains("training collapsed") && w[0].contains("epoch 2"), "{w:?}");
        let mut l = log(&[(1, 0.69), (1, 0.6), (2, 0.5)]);
        l[2].chosen_logps = -20_000.0;
        let w = warnings(&l);
        assert!(w.len() == 1 && w[0].contains("likelihood collapsed") && w[0].contains("-20000.0"), "{w:?}");
    }
}
