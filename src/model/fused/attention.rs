//! Grouped-query attention on f32 slices, forward and backward, one (batch, key/value head)
//! group per job.
//!
//! burn's autodiff runs `attention` as its decomposition: a matmul, a scale, a mask fill, a
//! softmax of four passes, a matmul, each kept for the backward, about ten passes over the
//! `[batch, heads, q_len, k_len]` scores each way, and `exp` through libm. Here a group costs
//! two matrix products forward (the scale folded into the first, the softmax three short
//! passes over each row's open span: max, `exp` with the sum, scaling) and four backward, with
//! one elementwise pass over the scores between them (four: dV, dP, dQ, dK).
//!
//! The forward keeps the attention probabilities `P` for the backward (the memory the
//! decomposition keeps too); the backward forms `dS = P * (dP - rowsum(P * dP))` from them, so
//! neither the output nor the scores are stored.
//!
//! Layouts (row-major, contiguous):
//! - `q`: `[batch, heads, q_len, head_dim]`; `k`, `v`: `[batch, kv_heads, k_len, head_dim]`;
//!   query head `h` reads key/value head `h / (heads / kv_heads)` (Hugging Face's `repeat_kv`)
//! - `mask`: `[batch, q_len, k_len]`, nonzero = may not attend; the same for every head
//! - output: `[batch, q_len, heads, head_dim]`, so `[batch, q_len, heads * head_dim]` is a
//!   reshape, not the transpose-and-copy the decomposition's layout needs
//! - `probs`: `[batch, heads, q_len, k_len]`
//!
//! Each group's arithmetic is the same whichever thread runs it, so results do not depend on
//! the thread count. A row whose every key is masked gets zero probabilities and output (the
//! model never makes one: a query always sees its own key).

use rayon::prelude::*;

use super::simd::{self, vectorised};

/// The sizes of one attention call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dims {
    pub batch: usize,
    pub heads: usize,
    pub kv_heads: usize,
    pub q_len: usize,
    pub k_len: usize,
    pub head_dim: usize,
}

impl Dims {
    fn rep(&self) -> usize {
        self.heads / self.kv_heads
    }
    fn groups(&self) -> usize {
        self.batch * self.kv_heads
    }
    pub fn q_elems(&self) -> usize {
        self.batch * self.heads * self.q_len * self.head_dim
    }
    pub fn kv_elems(&self) -> usize {
        self.batch * self.kv_heads * self.k_len * self.head_dim
    }
    pub fn mask_elems(&self) -> usize {
        self.batch * self.q_len * self.k_len
    }
    pub fn prob_elems(&self) -> usize {
        self.batch * self.heads * self.q_len * self.k_len
    }
    /// The head counts agree and the inputs have this call's sizes.
    fn check(&self, q: &[f32], k: &[f32], v: &[f32], mask: &[u8]) {
        assert!(
            self.kv_heads > 0 && self.heads.is_multiple_of(self.kv_heads),
            "heads {} not a multiple of kv_heads {}",
            self.heads,
            self.kv_heads
        );
        assert_eq!(
            (q.len(), k.len(), v.len(), mask.len()),
            (self.q_elems(), self.kv_elems(), self.kv_elems(), self.mask_elems())
        );
    }
    /// Group `group` (batch row `group / kv_heads`, key/value head `group % kv_heads`) of the
    /// inputs that forward and backward read per group.
    fn group<'a>(&self, group: usize, k: &'a [f32], v: &'a [f32], mask: &'a [u8]) -> Group<'a> {
        let (kv, m) = (self.k_len * self.head_dim, self.q_len * self.k_len);
        let b = group / self.kv_heads;
        Group {
            b,
            first_head: (group % self.kv_heads) * self.rep(),
            k: &k[group * kv..][..kv],
            v: &v[group * kv..][..kv],
            mask: &mask[b * m..][..m],
        }
    }
    /// Where head `h` of batch row `b` starts in a `[batch, heads, q_len, width]` tensor.
    fn head_at(&self, b: usize, h: usize, width: usize) -> usize {
        (b * self.heads + h) * self.q_len * width
    }
    /// Where `[b, :, h, :]` starts in a `[batch, q_len, heads, head_dim]` tensor (its rows
    /// `heads * head_dim` apart).
    fn out_at(&self, b: usize, h: usize) -> usize {
        b * self.q_len * self.heads * self.head_dim + h * self.head_dim
    }
}

/// One (batch row, key/value head) group: its key and value heads `[k_len, head_dim]`, its
/// batch row's mask `[q_len, k_len]`, and its first query head (the group's `rep` heads follow).
struct Group<'a> {
    b: usize,
    first_head: usize,
    k: &'a [f32],
    v: &'a [f32],
    mask: &'a [u8],
}

/// A raw pointer that jobs on other threads write through, each to its own elements.
#[derive(Clone, Copy)]
struct Shared(*mut f32);
// SAFETY: every user writes a set of elements no other job touches (stated at each use).
unsafe impl Send for Shared {}
unsafe impl Sync for Shared {}

impl Shared {
    /// Through a method, so closures capture the `Sync` wrapper rather than its raw field.
    fn get(self) -> *mut f32 {
        self.0
    }
}

/// One f32 matrix product `dst = beta * lhs @ rhs (+ dst if accumulate)`, single-threaded
/// (the jobs are the parallelism). Strides are in elements: `(row stride, column stride)`.
///
/// # Safety
/// The pointers must cover `m x k`, `k x n` and `m x n` elements at the given strides, and
/// `dst` must not overlap the inputs.
#[allow(clippy::too_many_arguments)]
unsafe fn matmul(
    (m, n, k): (usize, usize, usize),
    dst: *mut f32,
    (dst_rs, dst_cs): (usize, usize),
    accumulate: bool,
    lhs: *const f32,
    (lhs_rs, lhs_cs): (usize, usize),
    rhs: *const f32,
    (rhs_rs, rhs_cs): (usize, usize),
    beta: f32,
) {
    // SAFETY: forwarded from the caller.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst,
            dst_cs as isize,
            dst_rs as isize,
            accumulate,
            lhs,
            lhs_cs as isize,
            lhs_rs as isize,
            rhs,
            rhs_cs as isize,
            rhs_rs as isize,
            1.0,
            beta,
            false,
            false,
            false,
            gemm::Parallelism::None,
        )
    }
}

/// The span `[lo, hi)` of a row outside which every key is masked (a causal row's future, left
/// padding): the softmax passes run over it alone, the rest of the row is 0. Empty when all are.
fn open_span(mask: &[u8]) -> (usize, usize) {
    match mask.iter().position(|&m| m == 0) {
        Some(lo) => (lo, mask.iter().rposition(|&m| m == 0).map_or(lo, |i| i + 1)),
        None => (0, 0),
    }
}

vectorised! {
    /// A row of scaled scores to probabilities, in place: masked entries 0, the rest a softmax.
    /// Three passes over the open span: the maximum, `exp` with the sum in [`simd::LANES`]
    /// partial sums, the scaling.
    fn softmax_row(row: &mut [f32], mask: &[u8]) {
        let (lo, hi) = open_span(mask);
        row[..lo].fill(0.0);
        row[hi..].fill(0.0);
        let (row, mask) = (&mut row[lo..hi], &mask[lo..hi]);
        // Masked entries read as -inf; selects, not branches, so the loop vectorises.
        let open = |x: f32, k: u8| if k == 0 { x } else { f32::NEG_INFINITY };
        let larger = |a: f32, b: f32| if b > a { b } else { a };
        let mut m = [f32::NEG_INFINITY; simd::LANES];
        let (rc, mc) = (row.chunks_exact(simd::LANES), mask.chunks_exact(simd::LANES));
        let mut max = rc.remainder().iter().zip(mc.remainder()).fold(f32::NEG_INFINITY, |a, (&x, &k)| larger(a, open(x, k)));
        for (x, k) in rc.zip(mc) {
            for l in 0..simd::LANES {
                m[l] = larger(m[l], open(x[l], k[l]));
            }
        }
        max = m.iter().fold(max, |a, &x| larger(a, x));
        if max == f32::NEG_INFINITY {
            row.fill(0.0);
            return;
        }
        let mut sums = [0.0f32; simd::LANES];
        let mut chunks = row.chunks_exact_mut(simd::LANES);
        let mut masks = mask.chunks_exact(simd::LANES);
        for (x, k) in (&mut chunks).zip(&mut masks) {
            for l in 0..simd::LANES {
                let e = simd::exp(x[l] - max);
                x[l] = if k[l] == 0 { e } else { 0.0 };
                sums[l] += x[l];
            }
        }
        let mut tail = 0.0f32;
        for (x, &k) in chunks.into_remainder().iter_mut().zip(masks.remainder()) {
            *x = if k == 0 { simd::exp(*x - max) } else { 0.0 };
            tail += *x;
        }
        let inv = 1.0 / (sums.iter().sum::<f32>() + tail);
        for s in row.iter_mut() {
            *s *= inv;
        }
    }
}

vectorised! {
    /// `dP` to `dS = P * (dP - sum(P * dP))` for one row, in place (0 outside `P`'s open span).
    fn softmax_backward_row(dp: &mut [f32], p: &[f32], mask: &[u8]) {
        let (lo, hi) = open_span(mask);
        dp[..lo].fill(0.0);
        dp[hi..].fill(0.0);
        let (dp, p) = (&mut dp[lo..hi], &p[lo..hi]);
        let d = simd::dot(p, dp);
        for (g, &pi) in dp.iter_mut().zip(p) {
            *g = pi * (*g - d);
        }
    }
}

/// The forward pass: fills `out` (`[batch, q_len, heads, head_dim]`), and `probs` when given
/// (for the backward; inference passes `None` and each job reuses a scratch).
#[allow(clippy::too_many_arguments)]
pub fn forward(
    dims: Dims,
    scale: f32,
    q: &[f32],
    k: &[f32],
    v: &[f32],
    mask: &[u8],
    out: &mut [f32],
    probs: Option<&mut [f32]>,
) {
    dims.check(q, k, v, mask);
    let Dims { heads, q_len: tq, k_len: tk, head_dim: d, .. } = dims;
    assert_eq!(out.len(), dims.q_elems());
    if out.is_empty() || dims.k_len == 0 {
        return;
    }
    let rep = dims.rep();
    let out_ptr = Shared(out.as_mut_ptr());
    // A group's probabilities are `rep` consecutive heads: one contiguous chunk.
    let run = |group: usize, p_group: &mut [f32]| {
        let Group { b, first_head, k: kg, v: vg, mask: mask_b } = dims.group(group, k, v, mask);
        for r in 0..rep {
            let h = first_head + r;
            let qh = &q[dims.head_at(b, h, d)..][..tq * d];
            let ph = &mut p_group[r * tq * tk..][..tq * tk];
            // SAFETY: sizes as documented above; `ph` is this job's own.
            unsafe {
                matmul((tq, tk, d), ph.as_mut_ptr(), (tk, 1), false, qh.as_ptr(), (d, 1), kg.as_ptr(), (1, d), scale)
            };
            for (row, m) in ph.chunks_exact_mut(tk).zip(mask_b.chunks_exact(tk)) {
                softmax_row(row, m);
            }
            // SAFETY: `out[b, :, h, :]` (rows of `d` at stride `heads * d`) belongs to head `h`
            // of batch row `b`, which only this job computes.
            unsafe {
                let o = out_ptr.get().add(dims.out_at(b, h));
                matmul((tq, d, tk), o, (heads * d, 1), false, ph.as_ptr(), (tk, 1), vg.as_ptr(), (d, 1), 1.0);
            }
        }
    };
    match probs {
        Some(probs) => {
            assert_eq!(probs.len(), dims.prob_elems());
            probs.par_chunks_mut(rep * tq * tk).enumerate().for_each(|(group, p)| run(group, p));
        }
        None => {
            (0..dims.groups()).into_par_iter().for_each_init(|| vec![0.0f32; rep * tq * tk], |p, group| run(group, p))
        }
    }
}

/// The gradients of the inputs given the output's, `d_out` (`[batch, q_len, heads,
/// head_dim]`): fills `dq` (the layout of `q`) and `dk`, `dv` (of `k`, `v`).
#[allow(clippy::too_many_arguments)]
pub fn backward(
    dims: Dims,
    scale: f32,
    q: &[f32],
    k: &[f32],
    v: &[f32],
    mask: &[u8],
    probs: &[f32],
    d_out: &[f32],
    dq: &mut [f32],
    dk: &mut [f32],
    dv: &mut [f32],
) {
    dims.check(q, k, v, mask);
    let Dims { heads, q_len: tq, k_len: tk, head_dim: d, .. } = dims;
    assert_eq!((probs.len(), d_out.len()), (dims.prob_elems(), dims.q_elems()));
    assert_eq!((dq.len(), dk.len(), dv.len()), (dims.q_elems(), dims.kv_elems(), dims.kv_elems()));
    if dq.is_empty() || dims.k_len == 0 {
        return;
    }
    let rep = dims.rep();
    let groups = dims.groups();
    debug_assert_eq!(groups * rep * tq * d, dq.len());
    dq.par_chunks_mut(rep * tq * d)
        .zip(dk.par_chunks_mut(tk * d))
        .zip(dv.par_chunks_mut(tk * d))
        .enumerate()
        .for_each_init(
            || vec![0.0f32; tq * tk],
            |ds, (group, ((dq_group, dk_g), dv_g))| {
                let Group { b, first_head, k: kg, v: vg, mask: mask_b } = dims.group(group, k, v, mask);
                for r in 0..rep {
                    let h = first_head + r;
                    let qh = &q[dims.head_at(b, h, d)..][..tq * d];
                    let ph = &probs[dims.head_at(b, h, tk)..][..tq * tk];
                    // `d_out[b, :, h, :]`: rows of `d` at stride `heads * d`.
                    let dout = d_out[dims.out_at(b, h)..].as_ptr();
                    let dq_h = &mut dq_group[r * tq * d..][..tq * d];
                    let acc = r > 0;
                    // SAFETY: every operand is sized as documented; the destinations are this
                    // job's chunks or its scratch `ds`, none of them an input.
                    unsafe {
                        // dV += P^T dO
                        matmul(
                            (tk, d, tq),
                            dv_g.as_mut_ptr(),
                            (d, 1),
                            acc,
                            ph.as_ptr(),
                            (1, tk),
                            dout,
                            (heads * d, 1),
                            1.0,
                        );
                        // dP = dO V^T
                        matmul(
                            (tq, tk, d),
                            ds.as_mut_ptr(),
                            (tk, 1),
                            false,
                            dout,
                            (heads * d, 1),
                            vg.as_ptr(),
                            (1, d),
                            1.0,
                        );
                    }
                    for ((row, p), m) in ds.chunks_exact_mut(tk).zip(ph.chunks_exact(tk)).zip(mask_b.chunks_exact(tk)) {
                        softmax_backward_row(row, p, m);
                    }
                    unsafe {
                        // dQ = scale dS K
                        matmul(
                            (tq, d, tk),
                            dq_h.as_mut_ptr(),
                            (d, 1),
                            false,
                            ds.as_ptr(),
                            (tk, 1),
                            kg.as_ptr(),
                            (d, 1),
                            scale,
                        );
                        // dK += scale dS^T Q
                        matmul(
                            (tk, d, tq),
                            dk_g.as_mut_ptr(),
                            (d, 1),
                            acc,
                            ds.as_ptr(),
                            (1, tk),
                            qh.as_ptr(),
                            (d, 1),
                            scale,
                        );
                    }
                }
            },
        );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Attention computed the obvious way in f64: `out[b, i, h, :]`.
    fn reference(dims: Dims, scale: f64, q: &[f32], k: &[f32], v: &[f32], mask: &[u8]) -> Vec<f64> {
        let Dims { batch, heads, q_len: tq, k_len: tk, head_dim: d, .. } = dims;
        let rep = dims.rep();
        let mut out = vec![0.0; dims.q_elems()];
        for b in 0..batch {
            for h in 0..heads {
                let g = h / rep;
                for i in 0..tq {
                    let s: Vec<f64> = (0..tk)
                        .map(|j| {
                            if mask[(b * tq + i) * tk + j] != 0 {
                                return f64::NEG_INFINITY;
                            }
                            let dot: f64 = (0..d)
                                .map(|e| {
                                    q[((b * heads + h) * tq + i) * d + e] as f64
                                        * k[((b * dims.kv_heads + g) * tk + j) * d + e] as f64
                                })
                                .sum();
                            dot * scale
                        })
                        .collect();
                    let m = s.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                    let e: Vec<f64> = s.iter().map(|x| (x - m).exp()).collect();
                    let z: f64 = e.iter().sum();
                    for c in 0..d {
                        out[((b * tq + i) * heads + h) * d + c] =
                            (0..tk).map(|j| e[j] / z * v[((b * dims.kv_heads + g) * tk + j) * d + c] as f64).sum();
                    }
                }
            }
        }
        out
    }

    fn values(n: usize, seed: u32) -> Vec<f32> {
        (0..n)
            .map(|i| {
                (((i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed) >> 8) as f32 / 16_777_216.0) * 2.0 - 1.0
            })
            .collect()
    }

    fn case() -> (Dims, Vec<f32>, Vec<f32>, Vec<f32>, Vec<u8>) {
        let dims = Dims { batch: 2, heads: 4, kv_heads: 2, q_len: 5, k_len: 7, head_dim: 3 };
        // Causal over the last 5 keys (2 seen before), the second row's first key padding.
        let mut mask = vec![0u8; dims.mask_elems()];
        for b in 0..2 {
            for i in 0..5 {
                for j in 0..7 {
                    mask[(b * 5 + i) * 7 + j] = u8::from(j > i + 2 || (b == 1 && j == 0));
                }
            }
        }
        (dims, values(dims.q_elems(), 1), values(dims.kv_elems(), 2), values(dims.kv_elems(), 3), mask)
    }

    #[test]
    fn forward_matches_the_f64_reference() {
        let (dims, q, k, v, mask) = case();
        let mut out = vec![0.0; dims.q_elems()];
        let mut probs = vec![0.0; dims.prob_elems()];
        forward(dims, 0.6, &q, &k, &v, &mask, &mut out, Some(&mut probs));
        let want = reference(dims, 0.6, &q, &k, &v, &mask);
        for (a, b) in out.iter().zip(&want) {
            assert!((*a as f64 - b).abs() < 1e-6, "{a} vs {b}");
        }
        // Masked probabilities are exactly 0: batch row 1 (4 heads x 5 queries x 7 keys on),
        // head 0, query 0, its padding key 0.
        assert_eq!(probs[4 * 5 * 7], 0.0);
    }

    /// The loss `sum(out * w)` for fixed weights `w`, whose gradient the backward returns.
    #[test]
    fn backward_matches_finite_differences() {
        let (dims, q, k, v, mask) = case();
        let w = values(dims.q_elems(), 9);
        let loss = |q: &[f32], k: &[f32], v: &[f32]| -> f64 {
            let out = reference(dims, 0.6, q, k, v, &mask);
            out.iter().zip(&w).map(|(o, w)| o * *w as f64).sum()
        };
        let mut out = vec![0.0; dims.q_elems()];
        let mut probs = vec![0.0; dims.prob_elems()];
        forward(dims, 0.6, &q, &k, &v, &mask, &mut out, Some(&mut probs));
        let (mut dq, mut dk, mut dv) = (vec![0.0; q.len()], vec![0.0; k.len()], vec![0.0; v.len()]);
        backward(dims, 0.6, &q, &k, &v, &mask, &probs, &w, &mut dq, &mut dk, &mut dv);
        let h = 1e-3f32;
        let check = |which: usize, grad: &[f32]| {
            for i in 0..grad.len() {
                let mut t = [q.clone(), k.clone(), v.clone()];
                t[which][i] += h;
                let up = loss(&t[0], &t[1], &t[2]);
                t[which][i] -= 2.0 * h;
                let down = loss(&t[0], &t[1], &t[2]);
                let fd = (up - down) / (2.0 * h as f64);
                assert!((grad[i] as f64 - fd).abs() < 2e-3, "input {which} element {i}: {} vs {fd}", grad[i]);
            }
        };
        check(0, &dq);
        check(1, &dk);
        check(2, &dv);
        // The padding key gets no gradient in the row that cannot see it.
        assert_eq!(dk[2 * 7 * 3], 0.0); // batch row 1, kv head 0, key 0
    }

    #[test]
    fn results_do_not_depend_on_the_thread_count() {
        let (dims, q, k, v, mask) = case();
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| {
                let mut out = vec![0.0; dims.q_elems()];
                let mut probs = vec![0.0; dims.prob_elems()];
                forward(dims, 0.6, &q, &k, &v, &mask, &mut out, Some(&mut probs));
                let (mut dq, mut dk, mut dv) = (vec![0.0; q.len()], vec![0.0; k.len()], vec![0.0; v.len()]);
                backward(dims, 0.6, &q, &k, &v, &mask, &probs, &out, &mut dq, &mut dk, &mut dv);
                [out, dq, dk, dv].concat().iter().map(|x| x.to_bits()).collect::<Vec<_>>()
            })
        };
        assert_eq!(run(1), run(3));
    }
}
