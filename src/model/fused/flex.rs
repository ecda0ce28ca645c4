//! The fused ops on flex: tensors to contiguous f32 slices, the kernels, slices back to
//! tensors.

use burn::backend::Flex;
use burn::backend::TensorMetadata;
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::{BoolTensor, FloatTensor};
use burn::tensor::{DType, Shape, TensorData};

use super::attention::{self, Dims};
use super::{FusedOps, rms_norm, rope, swiglu};

/// A contiguous copy (or the tensor itself, when it already is one).
fn contiguous(t: FlexTensor) -> FlexTensor {
    assert_eq!(t.dtype(), DType::F32, "fused kernels run in f32");
    t.to_contiguous()
}

fn slice(t: &FlexTensor) -> &[f32] {
    t.as_slice().expect("a contiguous f32 tensor")
}

fn tensor(data: Vec<f32>, shape: impl Into<Shape>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(data, shape.into()))
}

fn dims(q: &FlexTensor, k: &FlexTensor) -> Dims {
    let [batch, heads, q_len, head_dim] = q.shape().dims();
    let [kb, kv_heads, k_len, kd] = k.shape().dims();
    assert_eq!((kb, kd), (batch, head_dim), "attention: key shape {:?} against query {:?}", k.shape(), q.shape());
    Dims { batch, heads, kv_heads, q_len, k_len, head_dim }
}

fn out_shape(d: Dims) -> [usize; 4] {
    [d.batch, d.q_len, d.heads, d.head_dim]
}

/// A bool tensor's bytes (flex keeps one byte per element), contiguous.
fn bool_bytes(t: &FlexTensor) -> &[u8] {
    let (start, end) = t.layout().contiguous_offsets().expect("a contiguous bool tensor");
    &t.storage::<u8>()[start..end]
}

/// Attention; the probabilities are returned when `keep`, else each job's scratch.
fn run_attention(
    q: FlexTensor,
    k: FlexTensor,
    v: FlexTensor,
    mask: FlexTensor,
    scale: f32,
    keep: bool,
) -> (FlexTensor, Option<FlexTensor>) {
    let (q, k, v) = (contiguous(q), contiguous(k), contiguous(v));
    let mask = mask.to_contiguous();
    let d = dims(&q, &k);
    assert_eq!(v.shape(), k.shape(), "attention: value shape against key shape");
    assert_eq!(
        mask.shape().dims::<3>(),
        [d.batch, d.q_len, d.k_len],
        "attention: mask shape, [batch, q_len, k_len] expected"
    );
    let mut out = vec![0.0f32; d.q_elems()];
    let mut probs = keep.then(|| vec![0.0f32; d.prob_elems()]);
    attention::forward(d, scale, slice(&q), slice(&k), slice(&v), bool_bytes(&mask), &mut out, probs.as_deref_mut());
    let probs = probs.map(|p| tensor(p, [d.batch, d.heads, d.q_len, d.k_len]));
    (tensor(out, out_shape(d)), probs)
}

impl FusedOps for Flex {
    fn fused_attention(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
        mask: BoolTensor<Self>,
        scale: f32,
    ) -> FloatTensor<Self> {
        run_attention(q, k, v, mask, scale, false).0
    }

    fn attention_forward(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
        mask: BoolTensor<Self>,
        scale: f32,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let (out, probs) = run_attention(q, k, v, mask, scale, true);
        (out, probs.expect("kept"))
    }

    fn attention_backward(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
        mask: BoolTensor<Self>,
        probs: FloatTensor<Self>,
        d_out: FloatTensor<Self>,
        scale: f32,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let (q, k, v, probs, d_out) =
            (contiguous(q), contiguous(k), contiguous(v), contiguous(probs), contiguous(d_out));
        let mask = mask.to_contiguous();
        let d = dims(&q, &k);
        let (mut dq, mut dk, mut dv) =
            (vec![0.0f32; d.q_elems()], vec![0.0f32; d.kv_elems()], vec![0.0f32; d.kv_elems()]);
        attention::backward(
            d,
            scale,
            slice(&q),
            slice(&k),
            slice(&v),
            bool_bytes(&mask),
            slice(&probs),
            slice(&d_out),
            &mut dq,
            &mut dk,
            &mut dv,
        );
        (tensor(dq, q.shape()), tensor(dk, k.shape()), tensor(dv, v.shape()))
    }

    fn fused_rope(x: FloatTensor<Self>, cos: FloatTensor<Self>, sin: FloatTensor<Self>) -> FloatTensor<Self> {
        let (x, cos, sin) = (contiguous(x), contiguous(cos), contiguous(sin));
        let [batch, len, heads, head_dim] = x.shape().dims();
        let dims = rope::Dims { batch, len, heads, head_dim };
        let mut out = vec![0.0f32; dims.elems()];
        rope::forward(dims, slice(&x), slice(&cos), slice(&sin), &mut out);
        tensor(out, [batch, heads, len, head_dim])
    }

    fn rope_backward(d_out: FloatTensor<Self>, cos: FloatTensor<Self>, sin: FloatTensor<Self>) -> FloatTensor<Self> {
        let (d_out, cos, sin) = (contiguous(d_out), contiguous(cos), contiguous(sin));
        let [batch, heads, len, head_dim] = d_out.shape().dims();
        let dims = rope::Dims { batch, len, heads, head_dim };
        let mut dx = vec![0.0f32; dims.elems()];
        rope::backward(dims, slice(&d_out), slice(&cos), slice(&sin), &mut dx);
        tensor(dx, [batch, len, heads, head_dim])
    }

    fn fused_swiglu(gate: FloatTensor<Self>, up: FloatTensor<Self>) -> FloatTensor<Self> {
        let (gate, up) = (contiguous(gate), contiguous(up));
        assert_eq!(gate.shape(), up.shape(), "swiglu: gate and up shapes differ");
        let mut out = vec![0.0f32; gate.shape().num_elements()];
        swiglu::forward(slice(&gate), slice(&up), &mut out);
        tensor(out, gate.shape())
    }

    fn swiglu_backward(
        gate: FloatTensor<Self>,
        up: FloatTensor<Self>,
        d_out: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let (gate, up, d_out) = (contiguous(gate), contiguous(up), contiguous(d_out));
        let n = gate.shape().num_elements();
        let (mut dg, mut du) = (vec![0.0f32; n], vec![0.0f32; n]);
        swiglu::backward(slice(&gate), slice(&up), slice(&d_out), &mut dg, &mut du);
        (tensor(dg, gate.shape()), tensor(du, up.shape()))
    }

    fn fused_rms_norm(x: FloatTensor<Self>, w: FloatTensor<Self>, eps: f32) -> FloatTensor<Self> {
        Self::rms_norm_forward(x, w, eps).0
    }

    fn rms_norm_forward(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        eps: f32,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let (x, w) = (contiguous(x), contiguous(w));
        let n = w.shape().num_elements();
        let x_dims = x.shape();
        assert_eq!(x_dims[x_dims.num_dims() - 1], n, "rms_norm: input's last axis against the weight's length");
        let rows = x.shape().num_elements() / n;
        let (mut out, mut inv) = (vec![0.0f32; rows * n], vec![0.0f32; rows]);
        rms_norm::forward(slice(&x), slice(&w), eps, &mut out, &mut inv);
        (tensor(out, x.shape()), tensor(inv, [rows]))
    }

    fn rms_norm_backward(
        x: FloatTensor<Self>,
        w: FloatTensor<Self>,
        inv_rms: FloatTensor<Self>,
        d_out: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let (x, w, inv_rms, d_out) = (contiguous(x), contiguous(w), contiguous(inv_rms), contiguous(d_out));
        let mut dx = vec![0.0f32; x.shape().num_elements()];
        let dw = rms_norm::backward(slice(&x), slice(&w), slice(&inv_rms), slice(&d_out), &mut dx);
        (tensor(dx, x.shape()), tensor(dw, w.shape()))
    }
}
