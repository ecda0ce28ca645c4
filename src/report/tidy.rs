//! Tidy (long) CSVs for one's own plots: one value per line.
//!
//! `epochs.csv` (`dataset,objective,seed,epoch,metric,value`): for every evaluated checkpoint,
//! `score`, `length`, `family/<name>` and, for training runs, `heldout/chosen_logps`,
//! `heldout/rejected_logps`, `heldout/chosen_reward`, `heldout/rejected_reward`,
//! `heldout/margin`. Each run's series starts at epoch 0 with the base model's evaluation and,
//! where the reference log-probs exist, the reference's held-out log-likelihoods and zero
//! rewards (at epoch 0 the policy is the reference). The base evaluation also appears once on
//! its own with dataset `base`, so a grid with no runs yet still has its base score.
//!
//! `steps.csv` (`dataset,objective,seed,epoch,step,metric,value`): every logged training
//! update (`loss`, rewards, margin, accuracy, log-likelihoods, `z0`, `lr`, `grad_norm`,
//! `tokens_per_s`; absent values are left out).

use super::collect::{Collected, EvalPoint, HeldoutPoint, RunData};
use super::render::{csv_text, raw};

pub const EPOCHS_COLUMNS: [&str; 6] = ["dataset", "objective", "seed", "epoch", "metric", "value"];
pub const STEPS_COLUMNS: [&str; 7] = ["dataset", "objective", "seed", "epoch", "step", "metric", "value"];

/// A checkpoint's benchmark metrics by name: `score`, `length`, `family/<name>` (also the
/// TensorBoard view's per-benchmark tags).
pub(crate) fn score_metrics(e: &EvalPoint) -> Vec<(String, f64)> {
    let mut m = vec![("score".to_string(), e.score), ("length".to_string(), e.mean_length)];
    m.extend(e.per_family.iter().map(|(f, a)| (format!("family/{f}"), *a)));
    m
}

/// Held-out means by name, `heldout/...` (also the TensorBoard view's tags).
pub(crate) fn heldout_metrics(h: &HeldoutPoint) -> Vec<(String, f64)> {
    vec![
        ("heldout/chosen_logps".to_string(), h.chosen_logps),
        ("heldout/rejected_logps".to_string(), h.rejected_logps),
        ("heldout/chosen_reward".to_string(), h.chosen_reward),
        ("heldout/rejected_reward".to_string(), h.rejected_reward),
        ("heldout/margin".to_string(), h.chosen_reward - h.rejected_reward),
    ]
}

/// The reference model's held-out point (epoch 0 of every run): its log-likelihoods, and zero
/// rewards (the policy is the reference there).
pub(crate) fn reference_point(chosen_logps: f64, rejected_logps: f64) -> HeldoutPoint {
    HeldoutPoint { pairs: 0, chosen_logps, rejected_logps, chosen_reward: 0.0, rejected_reward: 0.0 }
}

fn eval_metrics(e: &EvalPoint) -> Vec<(String, f64)> {
    let mut m = score_metrics(e);
    m.extend(e.heldout.as_ref().map(heldout_metrics).unwrap_or_default());
    m
}

/// The epoch-0 metrics of a run: the base evaluation plus the reference's held-out numbers.
fn epoch0(c: &Collected, run: &RunData) -> Vec<(String, f64)> {
    let mut m = c.base.as_ref().map(eval_metrics).unwrap_or_default();
    if let Some((chosen, rejected)) = run.reference_heldout {
        m.extend(heldout_metrics(&reference_point(chosen, rejected)));
    }
    m
}

pub fn epochs_csv(c: &Collected) -> Result<String, csv::Error> {
    let mut rows = Vec::new();
    let push = |rows: &mut Vec<Vec<String>>, ds: &str, obj: &str, seed: String, epoch: usize, m: Vec<(String, f64)>| {
        for (name, v) in m {
            rows.push(vec![ds.to_string(), obj.to_string(), seed.clone(), epoch.to_string(), name, raw(v)]);
        }
    };
    if let Some(b) = &c.base {
        push(&mut rows, "base", "", String::new(), 0, eval_metrics(b));
    }
    for run in &c.runs {
        if run.evals.is_empty() {
            continue;
        }
        push(&mut rows, &run.dataset, &run.objective, run.seed.to_string(), 0, epoch0(c, run));
        for e in run.evals.iter().filter(|e| e.epoch >= 1) {
            push(&mut rows, &run.dataset, &run.objective, run.seed.to_string(), e.epoch, eval_metrics(e));
        }
    }
    csv_text(&EPOCHS_COLUMNS.map(String::from), &rows)
}

pub fn steps_csv(c: &Collected) -> Result<String, csv::Error> {
    let mut rows = Vec::new();
    for run in &c.runs {
        let Some(t) = &run.train else { continue };
        for s in &t.steps {
            for (name, v) in s.metrics() {
                rows.push(vec![
                    run.dataset.clone(),
                    run.objective.clone(),
                    run.seed.to_string(),
                    s.epoch.to_string(),
                    s.step.to_string(),
                    name.to_string(),
                    raw(v),
                ]);
            }
        }
    }
    csv_text(&STEPS_COLUMNS.map(String::from), &rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::collect::{HeldoutPoint, TrainInfo};
    use crate::report::table2::tests::{collected, run};
    use crate::train::StepLog;

    #[test]
    fn epochs_csv_is_tidy_and_starts_each_run_at_the_base_model() {
        let mut r = run("clair", "apo_zero", 0, &[41.0]);
        r.reference_heldout = Some((-150.0, -100.0));
        r.evals[0].heldout = Some(HeldoutPoint {
            pairs: 20,
            chosen_logps: -140.0,
            rejected_logps: -120.0,
            chosen_reward: 1.0,
            rejected_reward: -2.0,
        });
        let text = epochs_csv(&collected(vec![0], vec![r, run("clair", "dpo", 0, &[])])).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "dataset,objective,seed,epoch,metric,value");
        assert!(lines.contains(&"base,,,0,score,40"));
        assert!(lines.contains(&"clair,apo_zero,0,0,score,40"));
        assert!(lines.contains(&"clair,apo_zero,0,0,heldout/chosen_logps,-150"));
        assert!(lines.contains(&"clair,apo_zero,0,0,heldout/chosen_reward,0"));
        assert!(lines.contains(&"clair,apo_zero,0,1,score,41"));
        assert!(lines.contains(&"clair,apo_zero,0,1,family/arithmetic,41"));
        assert!(lines.contains(&"clair,apo_zero,0,1,heldout/margin,3"));
        assert!(!text.contains("dpo"), "a run without evaluations has no lines");
        assert!(lines.iter().all(|l| l.split(',').count() == 6));
    }

    #[test]
    fn steps_csv_lists_every_logged_value() {
        let mut r = run("clair", "kto", 0, &[]);
        let step = StepLog {
            epoch: 1,
            step: 1,
            loss: 0.5,
            chosen_reward: 0.1,
            rejected_reward: -0.1,
            margin: 0.2,
            accuracy: None,
            chosen_logps: -10.0,
            rejected_logps: -12.0,
            z0: Some(0.25),
            lr: 1e-4,
            grad_norm: 2.0,
            tokens_per_s: 800.0,
            time: Some(1.7e9),
        };
        r.train = Some(TrainInfo { seconds: 1.0, updates: 1, steps: vec![step], warnings: vec![] });
        let text = steps_csv(&collected(vec![0], vec![r])).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "dataset,objective,seed,epoch,step,metric,value");
        assert_eq!(lines.len(), 1 + 10, "accuracy is absent");
        assert!(lines.contains(&"clair,kto,0,1,1,z0,0.25"));
        assert!(lines.contains(&"clair,kto,0,1,1,lr,0.0001"));
    }
}
