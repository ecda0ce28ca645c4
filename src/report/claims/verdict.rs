//! How a claim is decided: a verdict, what it rests on, and the two ways parts of a claim
//! (one per dataset, say) combine into one verdict.

use crate::report::interval::{Estimate, Side};

/// A claim's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The data show what the paper claims.
    Reproduced,
    /// The data show the opposite (or, for a claim without intervals, not what it claims).
    NotReproduced,
    /// The 95% interval contains 0: seeds cannot tell.
    WithinNoise,
    /// The grid lacks a dataset, an objective or the numbers the claim needs.
    NotMeasured,
}

impl Verdict {
    /// The table's words.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Reproduced => "reproduced",
            Verdict::NotReproduced => "not reproduced",
            Verdict::WithinNoise => "within noise",
            Verdict::NotMeasured => "not measured",
        }
    }

    /// The CSV's value.
    pub fn csv(self) -> &'static str {
        match self {
            Verdict::Reproduced => "reproduced",
            Verdict::NotReproduced => "not_reproduced",
            Verdict::WithinNoise => "within_noise",
            Verdict::NotMeasured => "not_measured",
        }
    }
}

/// What a verdict rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// Deterministic numbers (Table 1): no interval needed.
    Exact,
    /// 95% intervals across seeds.
    Interval,
    /// At least one number from a single seed: its point estimate decided, without an interval.
    OneSeed,
    /// Nothing was measured.
    Nothing,
}

impl Basis {
    pub fn csv(self) -> &'static str {
        match self {
            Basis::Exact => "exact",
            Basis::Interval => "ci95",
            Basis::OneSeed => "one_seed",
            Basis::Nothing => "none",
        }
    }
}

/// A verdict and what it rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub verdict: Verdict,
    pub basis: Basis,
}

impl Decision {
    pub const NOT_MEASURED: Decision = Decision { verdict: Verdict::NotMeasured, basis: Basis::Nothing };

    /// The verdict's words, marked when a point estimate from one seed decided it.
    pub fn label(self) -> String {
        match self.basis {
            Basis::OneSeed if self.verdict != Verdict::NotMeasured => format!("{} (one seed)", self.verdict.label()),
            _ => self.verdict.label().to_string(),
        }
    }
}

/// Decides a claim that `e` lies on side `want` of 0 (`Above` or `Below`): by its interval
/// when it has one; otherwise by the sign of the point estimate (0 is not on either side).
pub fn decide(e: &Estimate, want: Side) -> Decision {
    match e.side() {
        Some(side) => Decision {
            verdict: if side == want {
                Verdict::Reproduced
            } else if side == Side::Contains {
                Verdict::WithinNoise
            } else {
                Verdict::NotReproduced
            },
            basis: Basis::Interval,
        },
        None => {
            let on_side = match want {
                Side::Above => e.value > 0.0,
                Side::Below => e.value < 0.0,
                Side::Contains => e.value == 0.0,
            };
            let verdict = if on_side { Verdict::Reproduced } else { Verdict::NotReproduced };
            Decision { verdict, basis: Basis::OneSeed }
        }
    }
}

/// The basis of several parts: one seed if any part rests on one seed.
fn joint_basis(parts: &[Decision]) -> Basis {
    if parts.iter().any(|p| p.basis == Basis::OneSeed) { Basis::OneSeed } else { Basis::Interval }
}

/// A claim that must hold everywhere (on every dataset): not reproduced if any part is not,
/// else within noise if any part is, else reproduced. Parts not measured are left out; with
/// none left, not measured.
pub fn all_of(parts: &[Decision]) -> Decision {
    let parts: Vec<Decision> = parts.iter().copied().filter(|p| p.verdict != Verdict::NotMeasured).collect();
    if parts.is_empty() {
        return Decision::NOT_MEASURED;
    }
    let has = |v: Verdict| parts.iter().any(|p| p.verdict == v);
    let verdict = if has(Verdict::NotReproduced) {
        Verdict::NotReproduced
    } else if has(Verdict::WithinNoise) {
        Verdict::WithinNoise
    } else {
        Verdict::Reproduced
    };
    Decision { verdict, basis: joint_basis(&parts) }
}

/// A claim judged only where the data can tell: parts within noise are left out; reproduced
/// if every remaining part is, not reproduced if any is not; within noise if no part is
/// outside noise.
pub fn where_distinguishable(parts: &[Decision]) -> Decision {
    let measured: Vec<Decision> = parts.iter().copied().filter(|p| p.verdict != Verdict::NotMeasured).collect();
    if measured.is_empty() {
        return Decision::NOT_MEASURED;
    }
    let clear: Vec<Decision> = measured.iter().copied().filter(|p| p.verdict != Verdict::WithinNoise).collect();
    let verdict = if clear.is_empty() {
        Verdict::WithinNoise
    } else if clear.iter().any(|p| p.verdict == Verdict::NotReproduced) {
        Verdict::NotReproduced
    } else {
        Verdict::Reproduced
    };
    Decision { verdict, basis: joint_basis(&measured) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(verdict: Verdict, basis: Basis) -> Decision {
        Decision { verdict, basis }
    }

    #[test]
    fn decide_follows_the_interval_or_else_the_point_estimate() {
        let above = Estimate::of_mean(&[1.0, 1.1, 0.9]);
        assert_eq!(decide(&above, Side::Above), d(Verdict::Reproduced, Basis::Interval));
        assert_eq!(decide(&above, Side::Below), d(Verdict::NotReproduced, Basis::Interval));
        let noisy = Estimate::of_mean(&[1.0, -0.5]);
        assert_eq!(decide(&noisy, Side::Above), d(Verdict::WithinNoise, Basis::Interval));
        let one = Estimate::of_mean(&[-0.2]);
        assert_eq!(decide(&one, Side::Below), d(Verdict::Reproduced, Basis::OneSeed));
        assert_eq!(decide(&one, Side::Above), d(Verdict::NotReproduced, Basis::OneSeed));
        assert_eq!(decide(&Estimate::of_mean(&[0.0]), Side::Above).verdict, Verdict::NotReproduced);
        assert_eq!(d(Verdict::Reproduced, Basis::OneSeed).label(), "reproduced (one seed)");
        assert_eq!(d(Verdict::WithinNoise, Basis::Interval).label(), "within noise");
    }

    #[test]
    fn all_of_is_as_weak_as_its_weakest_part() {
        let (r, n, w) = (Verdict::Reproduced, Verdict::NotReproduced, Verdict::WithinNoise);
        let i = Basis::Interval;
        assert_eq!(all_of(&[d(r, i), d(r, i)]), d(r, i));
        assert_eq!(all_of(&[d(r, i), d(w, i)]), d(w, i));
        assert_eq!(all_of(&[d(w, i), d(n, i), d(r, i)]), d(n, i));
        assert_eq!(all_of(&[d(r, i), d(r, Basis::OneSeed)]), d(r, Basis::OneSeed));
        assert_eq!(all_of(&[Decision::NOT_MEASURED, d(r, i)]), d(r, i));
        assert_eq!(all_of(&[]), Decision::NOT_MEASURED);
    }

    #[test]
    fn where_distinguishable_ignores_parts_within_noise() {
        let (r, n, w) = (Verdict::Reproduced, Verdict::NotReproduced, Verdict::WithinNoise);
        let i = Basis::Interval;
        assert_eq!(where_distinguishable(&[d(r, i), d(w, i)]), d(r, i));
        assert_eq!(where_distinguishable(&[d(r, i), d(n, i), d(w, i)]), d(n, i));
        assert_eq!(where_distinguishable(&[d(w, i), d(w, i)]), d(w, i));
        assert_eq!(where_distinguishable(&[Decision::NOT_MEASURED]), Decision::NOT_MEASURED);
    }
}
