//! The element loops of the fused kernels, written so LLVM vectorises them, and compiled twice:
//! for the baseline x86-64 (SSE2, 4 lanes) and for AVX2 (8 lanes), chosen once per call by
//! `is_x86_feature_detected!`. Neither version enables FMA, so LLVM contracts nothing and the
//! two give the same bits: these loops do not depend on the machine's vector width. (The matrix
//! products do: gemm picks FMA or AVX-512 kernels by CPU, as flex's own products do, so results
//! agree across machines to rounding, and on one machine bit for bit.)
//!
//! Why not flex's own ops: flex computes `exp` one element at a time through libm (a call LLVM
//! cannot vectorise), and `exp` was 23% of a tiny-model training step (README "Speed on the
//! CPU"). [`exp`] is Cephes' `expf` (range reduction by ln 2 in two parts, a degree-5
//! polynomial), branch-free so that it vectorises: within 2 ulp of the correctly rounded value
//! on the range softmax and the sigmoid use (tested against `f64::exp`).
//!
//! Reductions keep [`LANES`] partial sums in a fixed order, so a row's sum is the same whatever
//! thread computes it.

/// Defines `fn $name(args)` twice over (baseline and AVX2) and picks one at run time.
macro_rules! vectorised {
    ($(#[$m:meta])* $vis:vis fn $name:ident($($arg:ident : $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$m])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            fn body($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2")]
                unsafe fn avx2($($arg: $ty),*) $(-> $ret)? { body($($arg),*) }
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU has AVX2 (checked just above).
                    return unsafe { avx2($($arg),*) };
                }
            }
            body($($arg),*)
        }
    };
}
pub(crate) use vectorised;

/// Partial sums kept side by side in reductions (one AVX2 register of f32).
pub const LANES: usize = 8;

/// `e^x`, branch-free (Cephes `expf`). Inputs are clamped to [-87.3, 88.3], where `2^n` stays
/// a normal f32: below, the result is about 1e-38 rather than 0 (callers that need an exact 0
/// for a masked entry select it), above, about 2e38 rather than infinity.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    // ln 2 in two parts: `n * LN2_HI` is exact for the n that occur.
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // 1.5 * 2^23: adding it rounds to an integer, kept in the low mantissa bits.
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.3, 88.3);
    let t = x * LOG2E + ROUND;
    let n = t - ROUND;
    let k = t.to_bits().wrapping_sub(ROUND.to_bits()) as i32;
    let r = x - n * LN2_HI - n * LN2_LO;
    let p =
        ((((1.987_569_1e-4 * r + 1.398_2e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r + 1.666_666_5e-1) * r + 0.5;
    let e = p * (r * r) + r + 1.0;
    e * f32::from_bits(((k + 127) as u32) << 23)
}

/// `sum(a[i] * b[i])` in [`LANES`] partial sums, added in a fixed order.
#[inline(always)]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let mut s = [0.0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..LANES {
            s[l] += x[l] * y[l];
        }
    }
    let tail: f32 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    s.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Distance in units in the last place between two positive finite f32s.
    fn ulps(a: f32, b: f32) -> u32 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs() as u32
    }

    #[test]
    fn exp_is_within_two_ulp_of_the_correctly_rounded_value() {
        let mut worst = 0;
        let mut x = -87.0f32;
        while x < 88.0 {
            let want = (x as f64).exp() as f32;
            worst = worst.max(ulps(exp(x), want));
            x += 0.0137;
        }
        assert!(worst <= 2, "worst error {worst} ulp");
        assert_eq!(exp(0.0), 1.0);
    }

    #[test]
    fn exp_saturates_instead_of_overflowing() {
        assert!(exp(f32::NEG_INFINITY) < 1e-37 && exp(f32::NEG_INFINITY) >= 0.0);
        assert!(exp(1000.0).is_finite() && exp(1000.0) > 1e38);
    }

    vectorised! {
        /// `e^x` of every element, in place: a loop through the macro, to compare with `exp`.
        fn exp_in_place(xs: &mut [f32]) {
            for x in xs.iter_mut() {
                *x = exp(*x);
            }
        }
    }

    #[test]
    fn the_vectorised_loop_gives_the_scalar_bits() {
        let mut xs: Vec<f32> = (0..1000).map(|i| (i as f32 - 500.0) * 0.173).collect();
        let want: Vec<u32> = xs.iter().map(|&x| exp(x).to_bits()).collect();
        exp_in_place(&mut xs);
        assert_eq!(xs.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), want);
    }

    #[test]
    fn dot_covers_the_tail() {
        let a: Vec<f32> = (1..=13).map(|i| i as f32).collect();
        assert_eq!(dot(&a, &a), 819.0);
    }
}
