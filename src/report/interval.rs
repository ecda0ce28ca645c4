//! 95% confidence intervals across seeds (issue 13), and which side of zero they fall on.
//!
//! Seeds are a sample of the runs one could have made, so a number over seeds is reported as
//! its mean with the 95% Student-t interval `mean ± t(0.975, n - 1) · sd / √n` (`sd` the sample
//! standard deviation, `n` the seeds). A difference of two cells' means uses Welch's interval
//! (unequal variances; Satterthwaite's degrees of freedom), since two cells need not have the
//! same spread or the same number of finished seeds. Fewer than two values on a side give no
//! interval at all, never a zero-width one: one seed says nothing about seed noise.

use super::stats::{Spread, mean_std};
use super::student_t;

/// The interval's coverage.
pub const LEVEL: f64 = 0.95;

/// `t(0.975, df)`: the two-sided 95% quantile.
fn t95(df: f64) -> f64 {
    student_t::quantile(0.5 + LEVEL / 2.0, df)
}

/// A 95% confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ci {
    pub low: f64,
    pub high: f64,
}

/// Where an interval lies with respect to zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Entirely above 0.
    Above,
    /// Entirely below 0.
    Below,
    /// Contains 0: not distinguishable from 0 at this level.
    Contains,
}

/// A mean (or a difference of means) with its 95% interval when there is one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub value: f64,
    /// `None` with fewer than two values (on either side of a difference).
    pub ci: Option<Ci>,
    /// The values behind it: seeds (for a difference, the fewer of the two sides').
    pub n: usize,
}

impl Estimate {
    /// The mean of `xs` and its t-interval.
    pub fn of_mean(xs: &[f64]) -> Estimate {
        Estimate::of_spread(Spread::of(xs))
    }

    /// The t-interval of a mean over seeds and its sample standard deviation.
    pub fn of_spread(s: Spread) -> Estimate {
        let ci = (s.n >= 2).then(|| {
            let half = t95(s.n as f64 - 1.0) * s.sd / (s.n as f64).sqrt();
            Ci { low: s.mean - half, high: s.mean + half }
        });
        Estimate { value: s.mean, ci, n: s.n }
    }

    /// `mean(a) - mean(b)` with Welch's interval (both sides need two values or more).
    pub fn difference(a: &[f64], b: &[f64]) -> Estimate {
        let (ma, sa) = mean_std(a, 1);
        let (mb, sb) = mean_std(b, 1);
        let value = ma - mb;
        let n = a.len().min(b.len());
        if n < 2 {
            return Estimate { value, ci: None, n };
        }
        let (va, vb) = (sa * sa / a.len() as f64, sb * sb / b.len() as f64);
        let se = (va + vb).sqrt();
        let half = if se == 0.0 {
            // Every seed gave the same number on both sides: nothing to widen.
            0.0
        } else {
            let df = (va + vb).powi(2) / (va * va / (a.len() as f64 - 1.0) + vb * vb / (b.len() as f64 - 1.0));
            t95(df) * se
        };
        Estimate { value, ci: Some(Ci { low: value - half, high: value + half }), n }
    }

    /// Half the interval's width.
    pub fn half_width(&self) -> Option<f64> {
        self.ci.map(|c| (c.high - c.low) / 2.0)
    }

    /// Which side of 0 the interval is on; `None` without an interval.
    pub fn side(&self) -> Option<Side> {
        self.ci.map(|c| {
            if c.low > 0.0 {
                Side::Above
            } else if c.high < 0.0 {
                Side::Below
            } else {
                Side::Contains
            }
        })
    }

    /// `+1.23 [−0.10, +2.56]`, or `+1.23` without an interval, with `decimals` decimals.
    pub fn text(&self, decimals: usize) -> String {
        let s = super::render::signed;
        match self.ci {
            Some(c) => format!("{} [{}, {}]", s(self.value, decimals), s(c.low, decimals), s(c.high, decimals)),
            None => s(self.value, decimals),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_interval_matches_a_hand_computation() {
        // 1, 2, 3, 4, 5: mean 3, sd sqrt(2.5), half-width t(0.975, 4) · sqrt(2.5) / sqrt(5)
        // = 2.776445 · 0.707107 = 1.963243.
        let e = Estimate::of_mean(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!((e.value, e.n), (3.0, 5));
        assert!((e.half_width().unwrap() - 1.963_243).abs() < 1e-5, "{e:?}");
        assert_eq!(e.side(), Some(Side::Above));
        // Two seeds, 1 and 3: half-width t(0.975, 1) · sqrt(2) / sqrt(2) = 12.706.
        let two = Estimate::of_mean(&[1.0, 3.0]);
        assert!((two.half_width().unwrap() - 12.706_20).abs() < 1e-4);
        assert_eq!(two.side(), Some(Side::Contains));
        assert_eq!(Estimate::of_mean(&[-3.0, -3.1, -2.9]).side(), Some(Side::Below));
    }

    #[test]
    fn one_value_has_no_interval_and_no_side() {
        let e = Estimate::of_mean(&[2.5]);
        assert_eq!((e.value, e.ci, e.side()), (2.5, None, None));
        assert_eq!(e.text(2), "+2.50");
        assert_eq!(Estimate::difference(&[1.0, 2.0], &[0.5]).ci, None);
    }

    #[test]
    fn welch_difference_matches_a_hand_computation() {
        // a = 1, 2, 3 (mean 2, var 1); b = 0, 0, 3, 5 (mean 2, var 6).
        // va = 1/3, vb = 6/4 = 1.5, se = sqrt(11/6) = 1.354006;
        // df = (11/6)^2 / ((1/3)^2 / 2 + 1.5^2 / 3) = 3.361111 / 0.805556 = 4.172414.
        let e = Estimate::difference(&[1.0, 2.0, 3.0], &[0.0, 0.0, 3.0, 5.0]);
        assert_eq!((e.value, e.n), (0.0, 3));
        let df: f64 = (11.0f64 / 6.0).powi(2) / ((1.0f64 / 3.0).powi(2) / 2.0 + 1.5f64.powi(2) / 3.0);
        assert!((df - 4.172_414).abs() < 1e-6);
        let want = student_t::quantile(0.975, df) * (11.0f64 / 6.0).sqrt();
        assert!((e.half_width().unwrap() - want).abs() < 1e-12);
        // Between t(0.975, 4) and t(0.975, 5) times se.
        assert!(want < 2.776_445 * 1.354_006 && want > 2.570_582 * 1.354_006, "{want}");
        // Clearly apart.
        let apart = Estimate::difference(&[10.0, 10.5, 11.0], &[1.0, 1.2, 0.8]);
        assert_eq!(apart.side(), Some(Side::Above));
        assert_eq!(Estimate::difference(&[1.0, 1.2, 0.8], &[10.0, 10.5, 11.0]).side(), Some(Side::Below));
    }

    #[test]
    fn identical_seeds_give_a_point_interval() {
        let e = Estimate::difference(&[2.0, 2.0], &[1.0, 1.0]);
        assert_eq!(e.ci, Some(Ci { low: 1.0, high: 1.0 }));
        assert_eq!(e.side(), Some(Side::Above));
        assert_eq!(e.text(1), "+1.0 [+1.0, +1.0]");
    }
}
