//! Whether a cell is distinguishable from the base model (issue 13): Table 2's `vs base`
//! columns, from the 95% interval across seeds of an improvement (score minus base score).
//!
//! An improvement of a few points can be seed noise (one prompt of the tiny benchmark is half
//! a point), so a cell counts as above or below the base model only when its interval
//! excludes 0; one seed has no interval and gets no verdict.

use super::interval::Side;
use super::stats::Spread;

/// The verdict on one improvement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VsBase {
    /// The 95% interval lies above 0.
    Above,
    /// The 95% interval lies below 0.
    Below,
    /// The interval contains 0.
    WithinNoise,
    /// One seed: no interval, no verdict.
    OneSeed,
}

impl VsBase {
    /// The verdict on an improvement over seeds.
    pub fn of(improvement: Spread) -> VsBase {
        match improvement.ci95().side() {
            Some(Side::Above) => VsBase::Above,
            Some(Side::Below) => VsBase::Below,
            Some(Side::Contains) => VsBase::WithinNoise,
            None => VsBase::OneSeed,
        }
    }

    /// The table's words.
    pub fn label(self) -> &'static str {
        match self {
            VsBase::Above => "above base",
            VsBase::Below => "below base",
            VsBase::WithinNoise => "within noise",
            VsBase::OneSeed => "one seed",
        }
    }

    /// The CSV's value (snake_case, no spaces).
    pub fn csv(self) -> &'static str {
        match self {
            VsBase::Above => "above_base",
            VsBase::Below => "below_base",
            VsBase::WithinNoise => "within_noise",
            VsBase::OneSeed => "one_seed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interval_decides_and_one_seed_gives_no_verdict() {
        // Three seeds at +2.0, +2.2, +1.8: half-width 4.303 · 0.2 / 1.732 = 0.50, all above 0.
        assert_eq!(VsBase::of(Spread::of(&[2.0, 2.2, 1.8])), VsBase::Above);
        assert_eq!(VsBase::of(Spread::of(&[-2.0, -2.2, -1.8])), VsBase::Below);
        // +1 and +3: half-width 12.7, contains 0 although both seeds improved.
        assert_eq!(VsBase::of(Spread::of(&[1.0, 3.0])), VsBase::WithinNoise);
        assert_eq!(VsBase::of(Spread::of(&[5.0])), VsBase::OneSeed);
        assert_eq!((VsBase::WithinNoise.label(), VsBase::OneSeed.csv()), ("within noise", "one_seed"));
    }
}
