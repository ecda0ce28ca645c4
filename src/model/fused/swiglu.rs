//! The SwiGLU activation `silu(gate) * up` on f32 slices, forward and backward in one pass
//! each (burn's autodiff: a sigmoid, two products and their backward, five tensors kept).
//!
//! With `s = sigmoid(g)`: `out = g s u`, `d_up = d_out g s`,
//! `d_gate = d_out u s (1 + g (1 - s))`.

use rayon::prelude::*;

use super::simd::{self, vectorised};

/// Elements per parallel job: large enough to amortise the job, a fixed size so results do
/// not depend on the thread count (each element's arithmetic is its own anyway).
const CHUNK: usize = 16 * 1024;

#[inline(always)]
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + simd::exp(-x))
}

vectorised! {
    fn forward_chunk(gate: &[f32], up: &[f32], out: &mut [f32]) {
        for ((o, &g), &u) in out.iter_mut().zip(gate).zip(up) {
            *o = g * sigmoid(g) * u;
        }
    }
}

vectorised! {
    fn backward_chunk(gate: &[f32], up: &[f32], d_out: &[f32], d_gate: &mut [f32], d_up: &mut [f32]) {
        for ((((dg, du), &g), &u), &dy) in d_gate.iter_mut().zip(d_up.iter_mut()).zip(gate).zip(up).zip(d_out) {
            let s = sigmoid(g);
            *du = dy * g * s;
            *dg = dy * u * s * (1.0 + g * (1.0 - s));
        }
    }
}

/// `out = silu(gate) * up`; the three slices the same length.
pub fn forward(gate: &[f32], up: &[f32], out: &mut [f32]) {
    assert!(gate.len() == up.len() && up.len() == out.len());
    out.par_chunks_mut(CHUNK)
        .zip(gate.par_chunks(CHUNK).zip(up.par_chunks(CHUNK)))
        .for_each(|(o, (g, u))| forward_chunk(g, u, o));
}

/// The gradients of `gate` and `up` given the output's.
pub fn backward(gate: &[f32], up: &[f32], d_out: &[f32], d_gate: &mut [f32], d_up: &mut [f32]) {
    let n = gate.len();
    assert!(up.len() == n && d_out.len() == n && d_gate.len() == n && d_up.len() == n);
    d_gate
        .par_chunks_mut(CHUNK)
        .zip(d_up.par_chunks_mut(CHUNK))
        .zip(gate.par_chunks(CHUNK).zip(up.par_chunks(CHUNK)).zip(d_out.par_chunks(CHUNK)))
        .for_each(|((dg, du), ((g, u), dy))| backward_chunk(g, u, dy, dg, du));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn silu_mul(g: f64, u: f64) -> f64 {
        g / (1.0 + (-g).exp()) * u
    }

    #[test]
    fn forward_and_backward_match_f64_and_finite_differences() {
        let gate: Vec<f32> = (0..50).map(|i| (i as f32 - 25.0) * 0.37).collect();
        let up: Vec<f32> = (0..50).map(|i| ((i * 7) % 11) as f32 * 0.3 - 1.5).collect();
        let d_out: Vec<f32> = (0..50).map(|i| ((i * 5) % 13) as f32 * 0.1 - 0.6).collect();
        let mut out = vec![0.0; 50];
        forward(&gate, &up, &mut out);
        let (mut dg, mut du) = (vec![0.0; 50], vec![0.0; 50]);
        backward(&gate, &up, &d_out, &mut dg, &mut du);
        let h = 1e-4;
        for i in 0..50 {
            let (g, u, dy) = (gate[i] as f64, up[i] as f64, d_out[i] as f64);
            assert!((out[i] as f64 - silu_mul(g, u)).abs() < 1e-5 * (1.0 + silu_mul(g, u).abs()));
            let fd_g = (silu_mul(g + h, u) - silu_mul(g - h, u)) / (2.0 * h) * dy;
            let fd_u = (silu_mul(g, u + h) - silu_mul(g, u - h)) / (2.0 * h) * dy;
            assert!((dg[i] as f64 - fd_g).abs() < 1e-4 * (1.0 + fd_g.abs()), "gate {i}: {} vs {fd_g}", dg[i]);
            assert!((du[i] as f64 - fd_u).abs() < 1e-4 * (1.0 + fd_u.abs()), "up {i}: {} vs {fd_u}", du[i]);
        }
    }
}
