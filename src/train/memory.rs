//! An estimate of a training run's peak device memory, from the model's config and the run's
//! settings alone, so `apogrid plan` can say before anything runs whether a run fits a device.
//!
//! What is counted (P = parameters; bytes per element in brackets):
//! - weights: the f32 master copy [4P], plus for bf16 compute the bf16 copy every forward
//!   reads and the graph keeps for the backward [2P] (see `model::precision`);
//! - gradients [4P];
//! - optimizer state: RMSProp's running square [4P], AdamW's two moments [8P];
//! - activations the backward needs, for one micro-batch of `2m` rows (chosen and rejected) of
//!   `T = max_prompt_tokens + max_response_tokens` tokens, per layer and token: the two norms'
//!   inputs and outputs (4H), q, k and v before and after rotary (2(q + 2kv) widths), the
//!   attention probabilities (heads x T, materialised: no fused attention on these backends),
//!   the attention output (q width), and the MLP's gate, up, activation and product (4I), all
//!   in the compute dtype; plus the logits of the scored positions and their f32 log-softmax
//!   (V per token, twice in f32 and once in the compute dtype).
//!
//! Not counted: the allocator's fragmentation and caching, the framework's workspace, and the
//! transient copy while a checkpoint is written. It is an estimate from first principles, meant
//! to be within tens of percent, and refuses only runs that cannot fit (see `fits`).

use std::fmt;

use super::optimizer::OptimizerKind;
use crate::model::config::LlamaConfig;
use crate::model::precision::Precision;
use crate::model::score::Truncation;

const GIB: f64 = (1u64 << 30) as f64;

/// Peak device memory of a training run, in bytes, by what it holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemoryEstimate {
    pub parameters: u64,
    pub weights: u64,
    pub gradients: u64,
    pub optimizer: u64,
    pub activations: u64,
    pub precision: Precision,
}

/// What the estimate depends on besides the model.
#[derive(Debug, Clone, Copy)]
pub struct RunShape {
    pub precision: Precision,
    pub optimizer: OptimizerKind,
    /// Pairs per micro-batch; each is two rows.
    pub micro_batch_size: usize,
    pub truncation: Truncation,
}

impl MemoryEstimate {
    pub fn new(config: &LlamaConfig, shape: &RunShape) -> Self {
        let p = parameter_count(config);
        let compute = shape.precision.compute_bytes();
        let weights = 4 * p + if shape.precision == Precision::F32 { 0 } else { compute * p };
        let optimizer = match shape.optimizer {
            OptimizerKind::RmsProp => 4 * p,
            OptimizerKind::AdamW => 8 * p,
        };
        Self {
            parameters: p,
            weights,
            gradients: 4 * p,
            optimizer,
            activations: activation_bytes(config, shape),
            precision: shape.precision,
        }
    }

    pub fn total(&self) -> u64 {
        self.weights + self.gradients + self.optimizer + self.activations
    }

    /// `Ok` when the run fits `capacity` bytes.
    pub fn fits(&self, capacity: u64) -> bool {
        self.total() <= capacity
    }
}

impl fmt::Display for MemoryEstimate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let params = self.parameters as f64;
        let params = if params >= 1e9 { format!("{:.2}B", params / 1e9) } else { format!("{:.1}M", params / 1e6) };
        write!(
            f,
            "{} ({params} params, {}: weights {} + gradients {} + optimizer {} + activations {})",
            human(self.total()),
            self.precision,
            human(self.weights),
            human(self.gradients),
            human(self.optimizer),
            human(self.activations)
        )
    }
}

/// `1.5 GiB`, `12.0 MiB`: the unit that keeps the number readable.
pub fn human(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= GIB { format!("{:.1} GiB", b / GIB) } else { format!("{:.1} MiB", b / (1u64 << 20) as f64) }
}

/// Parameters of a Llama model: embedding, per layer the four attention projections, the three
/// MLP projections and two norms, the final norm, and an untied head.
pub fn parameter_count(c: &LlamaConfig) -> u64 {
    let (h, i, v) = (c.hidden_size as u64, c.intermediate_size as u64, c.vocab_size as u64);
    let q = (c.num_attention_heads * c.head_dim()) as u64;
    let kv = (c.kv_heads() * c.head_dim()) as u64;
    let layer = h * q + 2 * h * kv + q * h + 3 * h * i + 2 * h;
    let head = if c.tie_word_embeddings { 0 } else { v * h };
    v * h + c.num_hidden_layers as u64 * layer + h + head
}

fn activation_bytes(c: &LlamaConfig, shape: &RunShape) -> u64 {
    let rows = 2 * shape.micro_batch_size as u64;
    let t = (shape.truncation.max_prompt_tokens + shape.truncation.max_response_tokens) as u64;
    let (h, i, v) = (c.hidden_size as u64, c.intermediate_size as u64, c.vocab_size as u64);
    let q = (c.num_attention_heads * c.head_dim()) as u64;
    let kv = (c.kv_heads() * c.head_dim()) as u64;
    let per_token_layer = 4 * h + 2 * (q + 2 * kv) + c.num_attention_heads as u64 * t + q + 4 * i;
    let compute = shape.precision.compute_bytes();
    let layers = rows * t * c.num_hidden_layers as u64 * per_token_layer * compute;
    // Only response positions are scored, but the batch's widest row bounds them.
    let scored = rows * shape.truncation.max_response_tokens as u64;
    let logits = scored * v * (compute + 4 + 4);
    layers + logits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::known::KnownModel;

    #[test]
    fn parameter_counts_match_the_published_sizes() {
        // Hugging Face's model cards: 134.5M, 1.236B, 8.030B.
        let count = |m: KnownModel| parameter_count(&m.config()) as f64;
        assert!((count(KnownModel::SmolLM2_135M) / 134.5e6 - 1.0).abs() < 0.01);
        assert!((count(KnownModel::Llama32_1B) / 1.236e9 - 1.0).abs() < 0.01);
        assert!((count(KnownModel::Llama3_8B) / 8.030e9 - 1.0).abs() < 0.01);
    }

    #[test]
    fn bf16_halves_activations_and_adds_a_half_copy_of_the_weights() {
        let c = KnownModel::Llama3_8B.config();
        let shape = |precision| RunShape {
            precision,
            optimizer: OptimizerKind::RmsProp,
            micro_batch_size: 1,
            truncation: Truncation::default(),
        };
        let f = MemoryEstimate::new(&c, &shape(Precision::F32));
        let b = MemoryEstimate::new(&c, &shape(Precision::Bf16));
        assert_eq!(f.weights, 4 * f.parameters);
        assert_eq!(b.weights, 6 * b.parameters);
        assert_eq!((f.gradients, f.optimizer), (b.gradients, b.optimizer));
        assert!(b.activations < f.activations && b.activations * 2 > f.activations);
        // The paper's 8B run in f32 state: ~90 GiB of weights, gradients and RMSProp state alone,
        // beyond one 80 GB H100; bf16 compute adds its copy but still fits a 141 GB H200.
        assert!(f.total() as f64 / GIB > 90.0);
        assert!(!b.fits(80_000_000_000) && b.fits(141_000_000_000));
    }
}
