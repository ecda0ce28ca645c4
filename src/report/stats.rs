//! The numbers of Tables 2, 4 and 5, as pure functions of per-epoch scores (SPEC.md section 4).
//!
//! Conventions (stated in every table's caption as well):
//! - The standard deviation over epochs is the **population** standard deviation (divide by the
//!   number of epochs): epochs 1..E are the whole set being described, not a sample.
//! - Across seeds, each number is the mean over seeds, with the **sample** standard deviation
//!   (divide by seeds - 1) as its spread: seeds are a sample of the runs one could have made.
//!   The tables show the 95% t-interval built from it ([`Spread::ci95`], [`super::interval`]).

use super::collect::EvalPoint;

/// Table 2's numbers for one run (one seed), in points and characters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CellStats {
    /// Largest improvement (score - base score) over the evaluated epochs >= 1.
    pub max: f64,
    /// Mean improvement over those epochs.
    pub mean: f64,
    /// Population standard deviation of the improvement over those epochs.
    pub std: f64,
    /// Mean response length of the best checkpoint minus the base model's, characters.
    pub length: f64,
    /// The best checkpoint (highest score; the earliest on ties).
    pub best_epoch: usize,
    /// How many epochs were evaluated.
    pub epochs: usize,
}

/// Table 2's numbers for a run's evaluations against the base model's; `None` when no epoch
/// >= 1 has been evaluated.
pub fn cell_stats(base: &EvalPoint, evals: &[EvalPoint]) -> Option<CellStats> {
    let evals: Vec<&EvalPoint> = evals.iter().filter(|e| e.epoch >= 1).collect();
    let best = best_checkpoint(&evals)?;
    let improvements: Vec<f64> = evals.iter().map(|e| e.score - base.score).collect();
    let (mean, std) = mean_std(&improvements, 0);
    Some(CellStats {
        max: best.score - base.score,
        mean,
        std,
        length: best.mean_length - base.mean_length,
        best_epoch: best.epoch,
        epochs: evals.len(),
    })
}

/// The checkpoint with the highest score, the earliest on ties.
pub fn best_checkpoint<'a>(evals: &[&'a EvalPoint]) -> Option<&'a EvalPoint> {
    let mut best: Option<&EvalPoint> = None;
    for e in evals {
        if best.is_none_or(|b| e.score > b.score || (e.score == b.score && e.epoch < b.epoch)) {
            best = Some(e);
        }
    }
    best
}

/// Mean and standard deviation with `ddof` subtracted from the count (0: population,
/// 1: sample). The deviation is 0 where the count is too small to define it.
pub fn mean_std(xs: &[f64], ddof: usize) -> (f64, f64) {
    if xs.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    if xs.len() <= ddof {
        return (mean, 0.0);
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - ddof as f64);
    (mean, var.sqrt())
}

/// A mean over seeds and its sample standard deviation (0 for a single seed).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    pub mean: f64,
    pub sd: f64,
    /// How many seeds: the 95% interval ([`Spread::ci95`]) needs two.
    pub n: usize,
}

impl Spread {
    pub fn of(xs: &[f64]) -> Spread {
        let (mean, sd) = mean_std(xs, 1);
        Spread { mean, sd, n: xs.len() }
    }

    /// The mean with its 95% t-interval across seeds (none for one seed).
    pub fn ci95(self) -> super::interval::Estimate {
        super::interval::Estimate::of_spread(self)
    }
}

/// [`CellStats`] averaged over seeds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeedAggregate {
    pub seeds: usize,
    pub max: Spread,
    pub mean: Spread,
    pub std: Spread,
    pub length: Spread,
    pub best_epoch: Spread,
    /// The fewest epochs evaluated in any seed.
    pub epochs: usize,
}

/// Averages per-seed statistics; `None` for no seeds.
pub fn aggregate(per_seed: &[CellStats]) -> Option<SeedAggregate> {
    if per_seed.is_empty() {
        return None;
    }
    let of = |f: &dyn Fn(&CellStats) -> f64| Spread::of(&per_seed.iter().map(f).collect::<Vec<_>>());
    Some(SeedAggregate {
        seeds: per_seed.len(),
        max: of(&|s| s.max),
        mean: of(&|s| s.mean),
        std: of(&|s| s.std),
        length: of(&|s| s.length),
        best_epoch: of(&|s| s.best_epoch as f64),
        epochs: per_seed.iter().map(|s| s.epochs).min().unwrap_or(0),
    })
}

/// `1h 02m 03s`, `4m 05s`, `6s` (Table 5's training time).
pub fn hms(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    let (h, m, s) = (s / 3600, s / 60 % 60, s % 60);
    if h > 0 {
        format!("{h}h {m:02}m {s:02}s")
    } else if m > 0 {
        format!("{m}m {s:02}s")
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(epoch: usize, score: f64, length: f64) -> EvalPoint {
        EvalPoint { epoch, score, mean_length: length, per_family: vec![], heldout: None }
    }

    #[test]
    fn max_mean_and_population_std_match_a_hand_computation() {
        // Base 40; epochs 41, 43, 39 -> improvements +1, +3, -1.
        // max 3 (epoch 2); mean (1 + 3 - 1) / 3 = 1; population variance ((0)^2 + 2^2 + (-2)^2) / 3
        // = 8/3, std = sqrt(8/3) = 1.6330; length of epoch 2 (130) - base (100) = 30.
        let base = point(0, 40.0, 100.0);
        let evals = [point(1, 41.0, 110.0), point(2, 43.0, 130.0), point(3, 39.0, 90.0)];
        let s = cell_stats(&base, &evals).unwrap();
        assert_eq!(s.max, 3.0);
        assert_eq!(s.mean, 1.0);
        assert!((s.std - (8.0f64 / 3.0).sqrt()).abs() < 1e-12, "{}", s.std);
        assert!((s.std - 1.632993).abs() < 1e-6);
        assert_eq!((s.length, s.best_epoch, s.epochs), (30.0, 2, 3));
    }

    #[test]
    fn order_of_evals_and_a_base_entry_do_not_matter_and_ties_pick_the_earliest() {
        let base = point(0, 50.0, 10.0);
        let evals = [point(3, 52.0, 14.0), point(0, 50.0, 10.0), point(1, 52.0, 12.0), point(2, 45.0, 9.0)];
        let s = cell_stats(&base, &evals).unwrap();
        assert_eq!((s.max, s.best_epoch, s.length, s.epochs), (2.0, 1, 2.0, 3));
        // Improvements 2, -5, 2: mean -1/3.
        assert!((s.mean + 1.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn a_single_epoch_has_zero_std_and_no_epoch_gives_none() {
        let base = point(0, 50.0, 10.0);
        let s = cell_stats(&base, &[point(1, 47.5, 8.0)]).unwrap();
        assert_eq!((s.max, s.mean, s.std, s.length), (-2.5, -2.5, 0.0, -2.0));
        assert!(cell_stats(&base, &[]).is_none());
        assert!(cell_stats(&base, &[point(0, 50.0, 10.0)]).is_none());
    }

    #[test]
    fn seeds_aggregate_to_the_mean_with_the_sample_std() {
        let a = CellStats { max: 3.0, mean: 1.0, std: 2.0, length: 10.0, best_epoch: 2, epochs: 3 };
        let b = CellStats { max: 5.0, mean: 2.0, std: 1.0, length: -10.0, best_epoch: 3, epochs: 2 };
        let g = aggregate(&[a, b]).unwrap();
        assert_eq!(g.seeds, 2);
        // Sample std of {3, 5}: sqrt(((−1)^2 + 1^2) / 1) = sqrt(2).
        assert_eq!(g.max.mean, 4.0);
        assert!((g.max.sd - 2f64.sqrt()).abs() < 1e-12);
        assert_eq!((g.mean.mean, g.std.mean, g.length.mean, g.best_epoch.mean), (1.5, 1.5, 0.0, 2.5));
        assert!((g.length.sd - 200f64.sqrt()).abs() < 1e-12);
        assert_eq!(g.epochs, 2);
        // Two seeds: t(0.975, 1) · sqrt(2) / sqrt(2) = 12.706 either side of the mean.
        assert_eq!(g.max.n, 2);
        assert!((g.max.ci95().half_width().unwrap() - 12.706_20).abs() < 1e-4);
        let one = aggregate(&[a]).unwrap();
        assert_eq!((one.max.mean, one.max.sd, one.max.n), (3.0, 0.0, 1));
        assert_eq!(one.max.ci95().ci, None);
        assert!(aggregate(&[]).is_none());
    }

    #[test]
    fn hms_formats_training_time() {
        assert_eq!(hms(3723.4), "1h 02m 03s");
        assert_eq!(hms(245.0), "4m 05s");
        assert_eq!(hms(5.6), "6s");
    }
}
