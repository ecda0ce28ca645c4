//! The reward regime of a cell (issue 13): Table 2's `Abs. reward` column.
//!
//! Every loss of SPEC.md section 2 passes rewards `r = β·(log-ratio)` (or their difference)
//! through a sigmoid. While they stay small, below about 0.3, each sigmoid is in its linear
//! region (`σ(x) ≈ 1/2 + x/4`): there DPO's gradient is `-β/2·(∇lw - ∇ll)` and APO-zero's
//! `-β/4·(∇lw - ∇ll)`, the same direction at half the size, and RMSProp divides a constant
//! factor out, so the two take the same steps. Cells whose rewards stay that small cannot
//! separate those objectives, whatever Table 2 says; this column shows which cells are there.
//!
//! The number is the mean of `|chosen reward|` and `|rejected reward|` on the held-out pairs at
//! the last evaluated epoch. The evaluation stores the rewards' means over pairs, not the mean
//! of their magnitudes, so this is `(|mean chosen| + |mean rejected|) / 2`: a lower bound of
//! the per-pair mean `|reward|` (pairs moving in opposite directions cancel).

use super::collect::{HeldoutPoint, RunData};
use super::stats::Spread;

/// Below this held-out `|reward|` the losses' sigmoids are in their linear region.
pub const LINEAR_BELOW: f64 = 0.3;

/// A run's held-out means at its last evaluated epoch that has them (epochs >= 1).
pub fn final_heldout(run: &RunData) -> Option<HeldoutPoint> {
    let points = run.evals.iter().filter(|e| e.epoch >= 1).filter_map(|e| e.heldout.map(|h| (e.epoch, h)));
    points.max_by_key(|(epoch, _)| *epoch).map(|(_, h)| h)
}

/// A run's `|reward|` at its last evaluated epoch that has held-out numbers (epochs >= 1);
/// `None` when it has none.
pub fn final_abs_reward(run: &RunData) -> Option<f64> {
    final_heldout(run).map(|h| (h.chosen_reward.abs() + h.rejected_reward.abs()) / 2.0)
}

/// The `|reward|` of a cell's runs, over the seeds that have one.
pub fn abs_reward(runs: &[RunData]) -> Option<Spread> {
    let xs: Vec<f64> = runs.iter().filter_map(final_abs_reward).collect();
    (!xs.is_empty()).then(|| Spread::of(&xs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::table2::tests::run;

    fn with_rewards(seed: u64, rewards: &[(f64, f64)]) -> RunData {
        let mut r = run("clair", "dpo", seed, &vec![41.0; rewards.len()]);
        for (e, (c, rj)) in r.evals.iter_mut().zip(rewards) {
            e.heldout = Some(HeldoutPoint {
                pairs: 4,
                chosen_logps: -10.0,
                rejected_logps: -12.0,
                chosen_reward: *c,
                rejected_reward: *rj,
            });
        }
        r
    }

    #[test]
    fn the_last_epoch_counts_and_signs_are_dropped() {
        // Last epoch: chosen -0.2, rejected -0.6 -> (0.2 + 0.6) / 2 = 0.4.
        let r = with_rewards(0, &[(0.05, -0.05), (-0.2, -0.6)]);
        assert!((final_abs_reward(&r).unwrap() - 0.4).abs() < 1e-12);
        // An epoch without held-out numbers is skipped, not read as 0.
        let mut late = r.clone();
        late.evals.push(crate::report::table2::tests::point(3, 40.0, 100.0));
        assert_eq!(final_abs_reward(&late), final_abs_reward(&r));
        assert_eq!(final_abs_reward(&run("clair", "dpo", 0, &[41.0])), None);
    }

    #[test]
    fn seeds_are_averaged() {
        let s = abs_reward(&[with_rewards(1, &[(0.1, -0.3)]), with_rewards(2, &[(0.3, 0.5)])]).unwrap();
        assert!((s.mean - 0.3).abs() < 1e-12, "{s:?}");
        assert_eq!(s.n, 2);
        assert_eq!(abs_reward(&[run("clair", "dpo", 0, &[41.0])]), None);
    }
}
