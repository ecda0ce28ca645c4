//! RMSNorm over the last axis on f32 slices, forward and backward in one pass over each row
//! (burn's autodiff: square, mean, add, sqrt, divide, multiply and their backward).
//!
//! With `r = 1 / sqrt(mean(x^2) + eps)` per row and `g = d_out * w`:
//! `out = x r w`, `d_x = r g - x r^3 sum(g x) / n`, `d_w = sum over rows of d_out x r`.
//!
//! Layouts: `x`, `out`, `d_out`, `d_x`: `[rows, n]`; `w`, `d_w`: `[n]`; `inv_rms`: `[rows]`.

use rayon::prelude::*;

use super::simd::{self, vectorised};

/// Rows per parallel job. `d_w` is summed per block of this many rows, then over blocks in
/// order, so it does not depend on the thread count.
const ROWS: usize = 64;

vectorised! {
    fn forward_rows(x: &[f32], w: &[f32], eps: f32, out: &mut [f32], inv_rms: &mut [f32]) {
        let n = w.len();
        for ((xr, or), r) in x.chunks_exact(n).zip(out.chunks_exact_mut(n)).zip(inv_rms.iter_mut()) {
            let inv = 1.0 / (simd::dot(xr, xr) / n as f32 + eps).sqrt();
            *r = inv;
            for ((o, &xi), &wi) in or.iter_mut().zip(xr).zip(w) {
                *o = xi * inv * wi;
            }
        }
    }
}

vectorised! {
    /// This block's `d_x` rows, and its rows' share of `d_w` (added into `d_w_block`).
    fn backward_rows(x: &[f32], w: &[f32], inv_rms: &[f32], d_out: &[f32], d_x: &mut [f32], d_w_block: &mut [f32]) {
        let n = w.len();
        for (((xr, dyr), dxr), &r) in x.chunks_exact(n).zip(d_out.chunks_exact(n)).zip(d_x.chunks_exact_mut(n)).zip(inv_rms) {
            let mut gx = [0.0f32; simd::LANES];
            let mut i = 0;
            while i + simd::LANES <= n {
                for l in 0..simd::LANES {
                    gx[l] += dyr[i + l] * w[i + l] * xr[i + l];
                }
                i += simd::LANES;
            }
            let tail: f32 = (i..n).map(|j| dyr[j] * w[j] * xr[j]).sum();
            let c = (gx.iter().sum::<f32>() + tail) * r * r * r / n as f32;
            for ((((dx, &dy), &wi), &xi), dw) in dxr.iter_mut().zip(dyr).zip(w).zip(xr).zip(d_w_block.iter_mut()) {
                *dx = r * dy * wi - xi * c;
                *dw += dy * xi * r;
            }
        }
    }
}

/// Fills `out` and `inv_rms` (kept for the backward).
pub fn forward(x: &[f32], w: &[f32], eps: f32, out: &mut [f32], inv_rms: &mut [f32]) {
    let n = w.len();
    assert!(n > 0 && x.len() == out.len() && x.len() == inv_rms.len() * n);
    out.par_chunks_mut(ROWS * n)
        .zip(inv_rms.par_chunks_mut(ROWS))
        .zip(x.par_chunks(ROWS * n))
        .for_each(|((o, r), x)| forward_rows(x, w, eps, o, r));
}

/// Fills `d_x` (`[rows, n]`) and returns `d_w` (`[n]`).
pub fn backward(x: &[f32], w: &[f32], inv_rms: &[f32], d_out: &[f32], d_x: &mut [f32]) -> Vec<f32> {
    let n = w.len();
    assert!(x.len() == d_out.len() && x.len() == d_x.len() && x.len() == inv_rms.len() * n);
    let blocks: Vec<Vec<f32>> = d_x
        .par_chunks_mut(ROWS * n)
        .zip(x.par_chunks(ROWS * n).zip(d_out.par_chunks(ROWS * n)).zip(inv_rms.par_chunks(ROWS)))
        .map(|(dx, ((x, dy), r))| {
            let mut dw = vec![0.0f32; n];
            backward_rows(x, w, r, dy, dx, &mut dw);
            dw
        })
        .collect();
    let mut d_w = vec![0.0f32; n];
    for block in &blocks {
        for (a, b) in d_w.iter_mut().zip(block) {
            *a += b;
        }
    }
    d_w
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(x: &[f64], w: &[f64], eps: f64) -> Vec<f64> {
        let n = w.len();
        x.chunks(n)
            .flat_map(|row| {
                let r = 1.0 / (row.iter().map(|v| v * v).sum::<f64>() / n as f64 + eps).sqrt();
                row.iter().zip(w).map(move |(v, w)| v * r * w)
            })
            .collect()
    }

    #[test]
    fn forward_and_backward_match_f64_and_finite_differences() {
        let (rows, n, eps) = (70, 11, 1e-5);
        let x: Vec<f32> = (0..rows * n).map(|i| ((i * 37 % 101) as f32 - 50.0) * 0.03).collect();
        let w: Vec<f32> = (0..n).map(|i| 0.5 + i as f32 * 0.1).collect();
        let dy: Vec<f32> = (0..rows * n).map(|i| ((i * 13 % 29) as f32 - 14.0) * 0.05).collect();
        let (mut out, mut r) = (vec![0.0; rows * n], vec![0.0; rows]);
        forward(&x, &w, eps, &mut out, &mut r);
        let mut dx = vec![0.0; rows * n];
        let dw = backward(&x, &w, &r, &dy, &mut dx);
        let x64: Vec<f64> = x.iter().map(|&v| v as f64).collect();
        let w64: Vec<f64> = w.iter().map(|&v| v as f64).collect();
        for (a, b) in out.iter().zip(norm(&x64, &w64, eps as f64)) {
            assert!((*a as f64 - b).abs() < 1e-5, "{a} vs {b}");
        }
        let loss =
            |x: &[f64], w: &[f64]| -> f64 { norm(x, w, eps as f64).iter().zip(&dy).map(|(o, d)| o * *d as f64).sum() };
        let h = 1e-6;
        for i in (0..rows * n).step_by(7) {
            let (mut up, mut down) = (x64.clone(), x64.clone());
            up[i] += h;
            down[i] -= h;
            let fd = (loss(&up, &w64) - loss(&down, &w64)) / (2.0 * h);
            assert!((dx[i] as f64 - fd).abs() < 1e-4 * (1.0 + fd.abs()), "x {i}: {} vs {fd}", dx[i]);
        }
        for i in 0..n {
            let (mut up, mut down) = (w64.clone(), w64.clone());
            up[i] += h;
            down[i] -= h;
            let fd = (loss(&x64, &up) - loss(&x64, &down)) / (2.0 * h);
            assert!((dw[i] as f64 - fd).abs() < 1e-4 * (1.0 + fd.abs()), "w {i}: {} vs {fd}", dw[i]);
        }
    }
}
