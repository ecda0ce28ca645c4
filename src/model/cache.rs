//! The key/value cache of incremental decoding: what every layer has seen so far, plus the
//! per-row bookkeeping (which cached positions are padding, the next rotary position) that
//! lets one new token per step attend to the prefix without recomputing it.

use burn::tensor::Tensor;

/// The keys and values one layer has seen so far, after rotary embedding.
///
/// # Shapes
/// - keys, values: `[batch, kv_heads, seen, head_dim]`
#[derive(Debug, Clone, Default)]
pub struct LayerCache {
    kv: Option<(Tensor<4>, Tensor<4>)>,
}

impl LayerCache {
    /// Appends this step's keys and values (`[batch, kv_heads, new, head_dim]`) and returns
    /// everything seen so far. Only the new positions were computed by the caller.
    pub(super) fn append(&mut self, k: Tensor<4>, v: Tensor<4>) -> (Tensor<4>, Tensor<4>) {
        let (k, v) = match self.kv.take() {
            Some((pk, pv)) => (Tensor::cat(vec![pk, k], 2), Tensor::cat(vec![pv, v], 2)),
            None => (k, v),
        };
        self.kv = Some((k.clone(), v.clone()));
        (k, v)
    }

    /// Number of positions stored.
    pub fn len(&self) -> usize {
        self.kv.as_ref().map_or(0, |(k, _)| k.dims()[2])
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A whole model's cache for a batch of `batch` rows.
#[derive(Debug, Clone)]
pub struct KvCache {
    pub(super) layers: Vec<LayerCache>,
    /// `[batch][seen]`: whether each cached position is a real token (false = padding).
    pub(super) keep: Vec<Vec<bool>>,
    /// `[batch]`: the rotary position the row's next real token takes.
    pub(super) next_pos: Vec<i64>,
}

impl KvCache {
    pub fn new(batch: usize, layers: usize) -> Self {
        Self { layers: vec![LayerCache::default(); layers], keep: vec![Vec::new(); batch], next_pos: vec![0; batch] }
    }

    pub fn batch(&self) -> usize {
        self.keep.len()
    }

    /// Positions cached so far (the same for every row; padding included).
    pub fn seen(&self) -> usize {
        self.keep.first().map_or(0, Vec::len)
    }
}
