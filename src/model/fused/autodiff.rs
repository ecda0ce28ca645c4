//! The fused ops under burn's autodiff: each forward runs on the inner backend, keeps what its
//! backward needs, and registers one backward node that calls the inner backend's
//! `*_backward` (instead of burn differentiating a chain of small ops).
//!
//! Only first-order gradients: the backward passes are not themselves recorded.

use burn::backend::tensor::{BoolTensor, FloatTensor};
use burn_autodiff::Autodiff;
use burn_autodiff::checkpoint::base::Checkpointer;
use burn_autodiff::checkpoint::strategy::CheckpointStrategy;
use burn_autodiff::grads::Gradients;
use burn_autodiff::ops::{Backward, Ops, OpsKind};

use super::FusedOps;

#[derive(Debug)]
struct AttentionBackward;

#[derive(Debug, Clone)]
struct AttentionState<B: FusedOps> {
    q: FloatTensor<B>,
    k: FloatTensor<B>,
    v: FloatTensor<B>,
    mask: BoolTensor<B>,
    probs: FloatTensor<B>,
    scale: f32,
}

impl<B: FusedOps> Backward<B, 3> for AttentionBackward {
    type State = AttentionState<B>;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
        let [node_q, node_k, node_v] = ops.parents;
        let d_out = grads.consume::<B>(&ops.node);
        let AttentionState { q, k, v, mask, probs, scale } = ops.state;
        let (dq, dk, dv) = B::attention_backward(q, k, v, mask, probs, d_out, scale);
        for (node, grad) in [(node_q, dq), (node_k, dk), (node_v, dv)] {
            if let Some(node) = node {
                grads.register::<B>(node.id, grad);
            }
        }
    }
}

#[derive(Debug)]
struct RopeBackward;

impl<B: FusedOps> Backward<B, 1> for RopeBackward {
    /// `(cos, sin)`.
    type State = (FloatTensor<B>, FloatTensor<B>);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
        let [node_x] = ops.parents;
        let d_out = grads.consume::<B>(&ops.node);
        let (cos, sin) = ops.state;
        if let Some(node) = node_x {
            grads.register::<B>(node.id, B::rope_backward(d_out, cos, sin));
        }
    }
}

#[derive(Debug)]
struct SwigluBackward;

impl<B: FusedOps> Backward<B, 2> for SwigluBackward {
    /// `(gate, up)`.
    type State = (FloatTensor<B>, FloatTensor<B>);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
        let [node_gate, node_up] = ops.parents;
        let d_out = grads.consume::<B>(&ops.node);
        let (gate, up) = ops.state;
        let (d_gate, d_up) = B::swiglu_backward(gate, up, d_out);
        for (node, grad) in [(node_gate, d_gate), (node_up, d_up)] {
            if let Some(node) = node {
                grads.register::<B>(node.id, grad);
            }
        }
    }
}

#[derive(Debug)]
struct RmsNormBackward;

impl<B: FusedOps> Backward<B, 2> for RmsNormBackward {
    /// `(x, w, 1 / rms per row)`.
    type State = (FloatTensor<B>, FloatTensor<B>, FloatTensor<B>);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
        let [node_x, node_w] = ops.parents;
        let d_out = grads.consume::<B>(&ops.node);
        let (x, w, inv_rms) = ops.state;
        let (d_x, d_w) = B::rms_norm_backward(x, w, inv_rms, d_out);
        for (node, grad) in [(node_x, d_x), (node_w, d_w)] {
            if let Some(node) = node {
                grads.register::<B>(node.id, grad);
            }
        }
    }
}

impl<B: FusedOps, C: CheckpointStrategy> FusedOps for Autodiff<B, C> {
    fn fused_attention(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
        mask: BoolTensor<Self>,
        scale: f32,
    ) -> FloatTensor<Self> {
        match AttentionBackward.prepare::<C>([q.node(), k.node(), v.node()]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let (out, probs) = B::attention_forward(
                    q.primitive().clone(),
                    k.primitive().clone(),
                    v.primitive().clone(),
                    mask.clone(),
                    scale,
                );
                prep.finish(
                    AttentionState {
                        q: q.into_primitive(),
                        k: k.into_primitive(),
                        v: v.into_primitive(),
                        mask,
                        probs,
                        scale,
                    },
                    out,
                )
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(B::fused_attention(q.into_primitive(), k.into_primitive(), v.into_primitive(), mask, scale))
            }
        }
    }

    fn fused_rope(x: FloatTensor<Self>, cos: FloatTensor<Self>, sin: FloatTensor<Self>) -> FloatTensor<Self> {
        // The tables are constants: no gradient flows to them.
        let (cos, sin) = (cos.into_primitive(), sin.into_primitive());
        match RopeBackward.prepare::<C>([x.node()]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let out = B::fused_rope(x.into_primitive(), cos.clone(), sin.clone());
                prep.finish((cos, sin), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::fused_rope(x.into_primitive(), cos, sin)),
        }
    }

    fn fused_swiglu(gate: FloatTensor<Self>, up: FloatTensor<Self>) -> FloatTensor<Self> {
        match SwigluBackward.prepare::<C>([gate.node(), up.node()]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let out = B::fused_swiglu(gate.primitive().clone(), up.primitive().clone());
                prep.finish((gate.into_primitive(), up.into_primitive()), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::fused_swiglu(gate.into_primitive(), up.into_primitive())),
        }
    }

    fn fused_rms_norm(x: FloatTensor<Self>, w: FloatTensor<Self>, eps: f32) -> FloatTensor<Self> {
        match RmsNormBackward.prepare::<C>([x.node(), w.node()]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let (out, inv_rms) = B::rms_norm_forward(x.primitive().clone(), w.primitive().clone(), eps);
                prep.finish((x.into_primitive(), w.into_primitive(), inv_rms), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::fused_rms_norm(x.into_primitive(), w.into_primitive(), eps)),
        }
    }
}
