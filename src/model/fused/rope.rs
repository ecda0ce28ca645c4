//! Rotary positions on f32 slices, fused with the move of the head axis in front of the
//! positions, forward and backward.
//!
//! burn's way: `reshape -> swap_dims` (a strided view), then `x * cos + rotate_half(x) * sin`
//! (two narrows, a concatenation, two products, a sum: six ops each way, and a copy back to
//! `[batch, len, heads * head_dim]` in the backward). Here one pass each way.
//!
//! With `p(i)` the partner of `i` in the other half of the head (`i + d/2` or `i - d/2`) and the
//! sign of `rotate_half` folded into `sin` (see [`super::super::rope::Rope::tables`]):
//! `out[i] = x[i] cos[i] + x[p(i)] sin[i]`, `dx[i] = dy[i] cos[i] + dy[p(i)] sin[p(i)]`.
//!
//! Layouts: `x`, `dx`: `[batch, len, heads, d]` (a projection's output, reshaped);
//! `out`, `dy`: `[batch, heads, len, d]`; `cos`, `sin`: `[batch, len, d]`.

use rayon::prelude::*;

use super::simd::vectorised;

/// The sizes of one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dims {
    pub batch: usize,
    pub len: usize,
    pub heads: usize,
    pub head_dim: usize,
}

impl Dims {
    pub fn elems(&self) -> usize {
        self.batch * self.len * self.heads * self.head_dim
    }
    pub fn table_elems(&self) -> usize {
        self.batch * self.len * self.head_dim
    }
    fn check(&self, x: usize, cos: usize, sin: usize) {
        assert!(self.head_dim.is_multiple_of(2), "rotary head_dim {} is odd", self.head_dim);
        assert_eq!((x, cos, sin), (self.elems(), self.table_elems(), self.table_elems()), "rotary: sizes for {self:?}");
    }
}

vectorised! {
    /// One row: `out = x cos + swap(x) sin`.
    fn rotate(x: &[f32], cos: &[f32], sin: &[f32], out: &mut [f32]) {
        let h = x.len() / 2;
        let (x1, x2) = x.split_at(h);
        let (o1, o2) = out.split_at_mut(h);
        for i in 0..h {
            o1[i] = x1[i] * cos[i] + x2[i] * sin[i];
            o2[i] = x2[i] * cos[h + i] + x1[i] * sin[h + i];
        }
    }
}

vectorised! {
    /// One row of the backward: `dx = dy cos + swap(dy sin)`.
    fn rotate_back(dy: &[f32], cos: &[f32], sin: &[f32], dx: &mut [f32]) {
        let h = dy.len() / 2;
        let (d1, d2) = dy.split_at(h);
        let (x1, x2) = dx.split_at_mut(h);
        for i in 0..h {
            x1[i] = d1[i] * cos[i] + d2[i] * sin[h + i];
            x2[i] = d2[i] * cos[h + i] + d1[i] * sin[i];
        }
    }
}

/// `[batch, len, heads, d]` -> rotated `[batch, heads, len, d]`; one batch row per job.
pub fn forward(dims: Dims, x: &[f32], cos: &[f32], sin: &[f32], out: &mut [f32]) {
    dims.check(x.len(), cos.len(), sin.len());
    assert_eq!(out.len(), dims.elems());
    if out.is_empty() {
        return;
    }
    let Dims { len, heads, head_dim: d, .. } = dims;
    out.par_chunks_mut(heads * len * d).enumerate().for_each(|(b, out_b)| {
        for (h, out_h) in out_b.chunks_exact_mut(len * d).enumerate() {
            for (t, o) in out_h.chunks_exact_mut(d).enumerate() {
                let row = (b * len + t) * d;
                let xi = ((b * len + t) * heads + h) * d;
                rotate(&x[xi..xi + d], &cos[row..row + d], &sin[row..row + d], o);
            }
        }
    });
}

/// The gradient of `x` (`[batch, len, heads, d]`) from the output's (`[batch, heads, len, d]`).
pub fn backward(dims: Dims, dy: &[f32], cos: &[f32], sin: &[f32], dx: &mut [f32]) {
    dims.check(dy.len(), cos.len(), sin.len());
    assert_eq!(dx.len(), dims.elems());
    if dx.is_empty() {
        return;
    }
    let Dims { len, heads, head_dim: d, .. } = dims;
    dx.par_chunks_mut(len * heads * d).enumerate().for_each(|(b, dx_b)| {
        for (t, dx_t) in dx_b.chunks_exact_mut(heads * d).enumerate() {
            let row = (b * len + t) * d;
            for (h, g) in dx_t.chunks_exact_mut(d).enumerate() {
                let yi = ((b * heads + h) * len + t) * d;
                rotate_back(&dy[yi..yi + d], &cos[row..row + d], &sin[row..row + d], g);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case() -> (Dims, Vec<f32>, Vec<f32>, Vec<f32>) {
        let dims = Dims { batch: 2, len: 3, heads: 2, head_dim: 4 };
        let x: Vec<f32> = (0..dims.elems()).map(|i| (i as f32 * 0.37).sin()).collect();
        let angle = |i: usize| (i / 4) as f32 * 0.3 + (i % 2) as f32 * 0.1;
        let cos: Vec<f32> = (0..dims.table_elems()).map(|i| angle(i).cos()).collect();
        // Sign of rotate_half folded in: [-sin, sin].
        let sin: Vec<f32> =
            (0..dims.table_elems()).map(|i| if i % 4 < 2 { -angle(i).sin() } else { angle(i).sin() }).collect();
        (dims, x, cos, sin)
    }

    /// burn's formula, `x * cos + cat(x2, x1) * sin` in `[b, h, t, d]`, written out.
    fn reference(dims: Dims, x: &[f32], cos: &[f32], sin: &[f32]) -> Vec<f64> {
        let Dims { batch, len, heads, head_dim: d } = dims;
        let mut out = vec![0.0; dims.elems()];
        for b in 0..batch {
            for h in 0..heads {
                for t in 0..len {
                    for i in 0..d {
                        let p = if i < d / 2 { i + d / 2 } else { i - d / 2 };
                        let at = |j: usize| x[((b * len + t) * heads + h) * d + j] as f64;
                        let row = (b * len + t) * d;
                        out[((b * heads + h) * len + t) * d + i] =
                            at(i) * cos[row + i] as f64 + at(p) * sin[row + i] as f64;
                    }
                }
            }
        }
        out
    }

    #[test]
    fn forward_matches_the_formula_and_backward_its_transpose() {
        let (dims, x, cos, sin) = case();
        let mut out = vec![0.0; dims.elems()];
        forward(dims, &x, &cos, &sin, &mut out);
        for (a, b) in out.iter().zip(reference(dims, &x, &cos, &sin)) {
            assert!((*a as f64 - b).abs() < 1e-6);
        }
        // Linear in x: the backward of a weighted sum is the weights pulled back, checked
        // against the loss of each unit input.
        let w: Vec<f32> = (0..dims.elems()).map(|i| (i as f32 * 0.71).cos()).collect();
        let mut dx = vec![0.0; dims.elems()];
        backward(dims, &w, &cos, &sin, &mut dx);
        for i in 0..dims.elems() {
            let mut e = vec![0.0; dims.elems()];
            e[i] = 1.0;
            let want: f64 = reference(dims, &e, &cos, &sin).iter().zip(&w).map(|(y, w)| y * *w as f64).sum();
            assert!((dx[i] as f64 - want).abs() < 1e-6, "{i}: {} vs {want}", dx[i]);
        }
    }
}
