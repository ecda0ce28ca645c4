//! Student's t distribution: its CDF and its quantile, for the 95% intervals across seeds
//! ([`super::interval`]).
//!
//! Why not a crate: `statrs` (the maintained one) is not in the offline registry this project
//! builds from, and it would bring `nalgebra` for one function. The t CDF is a regularized
//! incomplete beta function, `F(t) = 1 - I_x(df/2, 1/2) / 2` with `x = df / (df + t²)` for
//! `t >= 0`, computed by its continued fraction (modified Lentz, as in Numerical Recipes §6.4)
//! with a Lanczos log-gamma; the quantile inverts the CDF by bisection, which cannot fail to
//! converge and needs no derivative. Degrees of freedom may be fractional (Welch's
//! Satterthwaite approximation gives fractional ones). The tests check the quantile against
//! the closed forms for 1 and 2 degrees of freedom and against published table values.

/// `log Γ(x)` for `x > 0` (Lanczos, g = 7, 9 coefficients: ~15 significant digits).
fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x) Γ(1 - x) = π / sin(πx).
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + G + 0.5;
    let sum = C[0] + C.iter().enumerate().skip(1).map(|(i, c)| c / (x + i as f64)).sum::<f64>();
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

/// The continued fraction of the incomplete beta function (converges fast for
/// `x < (a + 1) / (a + b + 2)`; [`beta_inc`] uses the symmetry for the other side).
fn beta_cf(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let nonzero = |v: f64| if v.abs() < TINY { TINY } else { v };
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 / nonzero(1.0 - qab * x / qap);
    let mut h = d;
    for m in 1..=10_000 {
        let m = m as f64;
        let m2 = 2.0 * m;
        let even = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 / nonzero(1.0 + even * d);
        c = nonzero(1.0 + even / c);
        h *= d * c;
        let odd = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 / nonzero(1.0 + odd * d);
        c = nonzero(1.0 + odd / c);
        let step = d * c;
        h *= step;
        if (step - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// The regularized incomplete beta function `I_x(a, b)`, `a, b > 0`, `0 <= x <= 1`.
fn beta_inc(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front = (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    if x < (a + 1.0) / (a + b + 2.0) { front * beta_cf(a, b, x) / a } else { 1.0 - front * beta_cf(b, a, 1.0 - x) / b }
}

/// `P(T <= t)` for `T` Student-t with `df > 0` degrees of freedom.
pub fn cdf(t: f64, df: f64) -> f64 {
    if t.is_nan() || !(df > 0.0) {
        return f64::NAN;
    }
    if t.is_infinite() {
        return if t > 0.0 { 1.0 } else { 0.0 };
    }
    // One tail: P(T > |t|) = I_x(df/2, 1/2) / 2.
    let tail = 0.5 * beta_inc(0.5 * df, 0.5, df / (df + t * t));
    if t >= 0.0 { 1.0 - tail } else { tail }
}

/// The `p`-quantile of Student's t with `df > 0` degrees of freedom (`0 < p < 1`); NaN outside
/// that domain. Accurate to about 1e-12 relative.
pub fn quantile(p: f64, df: f64) -> f64 {
    if !(p > 0.0 && p < 1.0 && df > 0.0) {
        return f64::NAN;
    }
    if p < 0.5 {
        return -quantile(1.0 - p, df);
    }
    if p == 0.5 {
        return 0.0;
    }
    // Bracket [lo, hi] with cdf(lo) < p <= cdf(hi), then halve it.
    let (mut lo, mut hi) = (0.0, 1.0);
    while cdf(hi, df) < p {
        lo = hi;
        hi *= 2.0;
        if hi > 1e300 {
            return f64::INFINITY;
        }
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if cdf(mid, df) < p {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-13 * hi {
            break;
        }
    }
    0.5 * (lo + hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_gamma_matches_factorials_and_the_half_integer() {
        for (n, fact) in [(1.0, 1.0), (2.0, 1.0), (5.0, 24.0), (11.0, 3_628_800.0)] {
            assert!((ln_gamma(n) - f64::ln(fact)).abs() < 1e-12, "Γ({n})");
        }
        // Γ(1/2) = √π.
        assert!((ln_gamma(0.5) - 0.5 * std::f64::consts::PI.ln()).abs() < 1e-12);
    }

    #[test]
    fn quantile_matches_the_closed_forms_for_one_and_two_degrees_of_freedom() {
        for p in [0.6, 0.9, 0.95, 0.975, 0.995, 0.9995] {
            // df = 1 is Cauchy: tan(π(p - 1/2)).
            let cauchy = (std::f64::consts::PI * (p - 0.5)).tan();
            assert!((quantile(p, 1.0) - cauchy).abs() < 1e-9 * cauchy.max(1.0), "df 1, p {p}");
            // df = 2: (2p - 1) / sqrt(2 p (1 - p)).
            let two = (2.0 * p - 1.0) / (2.0 * p * (1.0 - p)).sqrt();
            assert!((quantile(p, 2.0) - two).abs() < 1e-9 * two.max(1.0), "df 2, p {p}");
        }
    }

    #[test]
    fn quantile_matches_published_table_values() {
        // t(0.975, df) as R's `qt(0.975, df)` prints it (7 significant digits); printed tables
        // (NIST/SEMATECH e-Handbook 1.3.6.7.2) agree to their 3 decimals.
        let table = [
            (1.0, 12.706_20),
            (2.0, 4.302_653),
            (3.0, 3.182_446),
            (4.0, 2.776_445),
            (5.0, 2.570_582),
            (9.0, 2.262_157),
            (10.0, 2.228_139),
            (29.0, 2.045_230),
            (30.0, 2.042_272),
            (120.0, 1.979_930),
            (1000.0, 1.962_339),
        ];
        for (df, want) in table {
            let got = quantile(0.975, df);
            assert!((got - want).abs() < 5e-6 * want, "t(0.975, {df}) = {got}, want {want}");
        }
        // The brief's three, to 3 decimals.
        assert_eq!(format!("{:.3}", quantile(0.975, 2.0)), "4.303");
        assert_eq!(format!("{:.3}", quantile(0.975, 4.0)), "2.776");
        assert_eq!(format!("{:.3}", quantile(0.975, 30.0)), "2.042");
        // Other levels: t(0.95, 10) = 1.812461, t(0.995, 5) = 4.032143.
        assert!((quantile(0.95, 10.0) - 1.812_461).abs() < 1e-5);
        assert!((quantile(0.995, 5.0) - 4.032_143).abs() < 1e-5);
        // Far out it tends to the normal's 1.959964.
        assert!((quantile(0.975, 1e6) - 1.959_966).abs() < 1e-5);
    }

    #[test]
    fn fractional_degrees_of_freedom_lie_between_their_neighbours() {
        let (a, b, c) = (quantile(0.975, 3.0), quantile(0.975, 3.5), quantile(0.975, 4.0));
        assert!(a > b && b > c, "{a} {b} {c}");
    }

    #[test]
    fn cdf_is_symmetric_and_inverts_the_quantile() {
        for df in [1.0, 2.5, 7.0, 40.0] {
            assert!((cdf(0.0, df) - 0.5).abs() < 1e-15);
            for t in [0.1, 1.0, 3.0, 25.0] {
                assert!((cdf(t, df) + cdf(-t, df) - 1.0).abs() < 1e-13, "df {df} t {t}");
            }
            for p in [0.025, 0.3, 0.9, 0.999] {
                assert!((cdf(quantile(p, df), df) - p).abs() < 1e-11, "df {df} p {p}");
            }
        }
        assert!(quantile(0.0, 3.0).is_nan() && quantile(0.5, 0.0).is_nan() && cdf(1.0, -1.0).is_nan());
        assert_eq!(quantile(0.5, 3.0), 0.0);
    }
}
