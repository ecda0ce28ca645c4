//! The alignment objectives (SPEC.md section 2): pure functions of log-probability tensors.
//!
//! Every objective sees only **summed** response log-probabilities (prompt and padding already
//! masked out by the model floor), one number per sequence, and returns a scalar loss whose
//! gradient flows into the policy's log-probabilities. Reference log-probabilities are constants.
//! Nothing here knows about models, tokenizers, grids or the trainer: the trainer builds a
//! [`Batch`], calls [`Objective::loss`], and calls `.backward()` on [`LossOutput::loss`].
//!
//! Notation (SPEC.md): `lw = log π(y_w|x) - log π_ref(y_w|x)`, `ll` likewise for `y_l`,
//! `h = lw - ll`, rewards `r = β·(log-ratio)`. The formulas live next to their code in
//! [`paired`] (dpo, apo_zero, apo_down, apo_auto, kto_pair, sft) and [`unpaired`] (apo_zero_unpaired,
//! kto). All of them are written with `σ(-x)` in place of `1 - σ(x)` and `-log σ(x)` in place of
//! `softplus(-x)`, which are exact identities that stay finite and keep their precision for
//! margins of thousands of nats.
//!
//! The code is backend-agnostic: it uses only `burn::tensor` operations and creates new tensors
//! on the device and with the dtype of its inputs, so f32 training on a GPU and the f64
//! inspection command (`apogrid loss`) run the same lines.

pub mod kind;
pub mod metrics;
pub mod paired;
pub mod unpaired;

#[cfg(test)]
mod tests;

use std::fmt;
use std::str::FromStr;

use burn::tensor::{Tensor, TensorData};
use serde::{Deserialize, Serialize};

pub use kind::ObjectiveKind;
pub use metrics::{LossOutput, Metrics, Rewards};
pub use paired::PairedBatch;
pub use unpaired::UnpairedBatch;

/// The paper's reward scale (section 5.2), also TRL's default `beta`.
pub const DEFAULT_BETA: f64 = 0.1;

/// Why an objective could not be evaluated. Every variant is a caller mistake that the caller
/// can fix (shapes, missing inputs, batch size), so each names what was expected.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ObjectiveError {
    #[error("unknown objective `{0}`; expected one of: {names}", names = ObjectiveKind::ALL.map(ObjectiveKind::name).join(", "))]
    UnknownName(String),
    #[error("{objective}: {what} must be finite and {bound}, got {value}")]
    BadParameter { objective: &'static str, what: &'static str, bound: &'static str, value: f64 },
    #[error("{objective}: empty batch")]
    EmptyBatch { objective: &'static str },
    #[error("{objective}: `{field}` has {got} entries but the batch has {expected}")]
    LengthMismatch { objective: &'static str, field: &'static str, expected: usize, got: usize },
    #[error("{objective}: `{field}` is required by this objective but was not given")]
    Missing { objective: &'static str, field: &'static str },
    #[error("{objective}: chosen_tokens[{index}] is 0; every winning response needs at least one token")]
    ZeroTokens { objective: &'static str, index: usize },
    #[error(
        "kto needs a batch of at least 2 examples (its KL estimate pairs each prompt with another example's completion), got {got}"
    )]
    KtoBatchTooSmall { got: usize },
    #[error("{objective} takes a {expected} batch, got a {got} one")]
    WrongBatchKind { objective: &'static str, expected: &'static str, got: &'static str },
    #[error("reading a tensor back to the host failed: {0}")]
    Readback(String),
}

/// An alignment objective with its hyper-parameters. The loss arms are in [`paired`] and
/// [`unpaired`]; this type only dispatches.
///
/// Serialized internally tagged by `name` (`{"name": "dpo", "beta": 0.1}`); weights default to 1
/// and `beta` to [`DEFAULT_BETA`] when omitted.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case", deny_unknown_fields)]
pub enum Objective {
    /// Direct Preference Optimization: `-log σ(β·h)`.
    Dpo {
        #[serde(default = "default_beta")]
        beta: f64,
    },
    /// Anchored PO, zero anchor: `(1 - σ(β·lw)) + σ(β·ll)`.
    ApoZero {
        #[serde(default = "default_beta")]
        beta: f64,
    },
    /// Anchored PO, down anchor: `σ(β·lw) + (1 - σ(β·h))`.
    ApoDown {
        #[serde(default = "default_beta")]
        beta: f64,
    },
    /// Anchored PO, anchor per pair: APO-zero where the winner beats the model's own answer,
    /// APO-down elsewhere (paper, section 7).
    ApoAuto {
        #[serde(default = "default_beta")]
        beta: f64,
    },
    /// KTO on pairs as in TRL 0.9.4 (`loss_type="kto_pair"`), batch KL estimates not detached.
    KtoPair {
        #[serde(default = "default_beta")]
        beta: f64,
    },
    /// Supervised fine-tuning on `y_w`: token-weighted mean NLL. SFT's loss has no β; `beta`
    /// only scales the rewards it logs (TRL logs SFT rewards with its trainer's β too), so
    /// its reward curves are comparable with the other objectives'.
    Sft {
        #[serde(default = "default_beta")]
        beta: f64,
    },
    /// Unpaired APO-zero (paper Appendix C, TRL `KTOTrainer(loss_type="apo_zero_unpaired")`).
    ApoZeroUnpaired {
        #[serde(default = "default_beta")]
        beta: f64,
        #[serde(default = "one")]
        desirable_weight: f64,
        #[serde(default = "one")]
        undesirable_weight: f64,
    },
    /// Kahneman-Tversky Optimization as in TRL 1.x, detached KL estimate `z0`.
    Kto {
        #[serde(default = "default_beta")]
        beta: f64,
        #[serde(default = "one")]
        desirable_weight: f64,
        #[serde(default = "one")]
        undesirable_weight: f64,
    },
}

fn default_beta() -> f64 {
    DEFAULT_BETA
}
fn one() -> f64 {
    1.0
}

/// The input of one loss evaluation: pairs for the paired objectives, single examples for the
/// unpaired ones (see [`Objective::is_paired`]).
#[derive(Debug, Clone)]
pub enum Batch {
    Paired(PairedBatch),
    Unpaired(UnpairedBatch),
}

impl Objective {
    /// Builds an objective from its name and hyper-parameters (see [`Objective::from_kind`]).
    pub fn new(name: &str, beta: f64, desirable_weight: f64, undesirable_weight: f64) -> Result<Self, ObjectiveError> {
        let kind = name.parse::<ObjectiveKind>()?;
        Objective::from_kind(kind, beta, desirable_weight, undesirable_weight)
    }

    /// Builds an objective of `kind`. The weights are used only by the unpaired objectives;
    /// callers that let users set them should reject them elsewhere (the grid and the CLI do).
    /// `beta` must be finite and positive, weights finite and non-negative. The match is
    /// exhaustive: a new [`ObjectiveKind`] does not compile until it is built here.
    pub fn from_kind(
        kind: ObjectiveKind,
        beta: f64,
        desirable_weight: f64,
        undesirable_weight: f64,
    ) -> Result<Self, ObjectiveError> {
        let objective = match kind {
            ObjectiveKind::Dpo => Objective::Dpo { beta },
            ObjectiveKind::ApoZero => Objective::ApoZero { beta },
            ObjectiveKind::ApoDown => Objective::ApoDown { beta },
            ObjectiveKind::ApoAuto => Objective::ApoAuto { beta },
            ObjectiveKind::KtoPair => Objective::KtoPair { beta },
            ObjectiveKind::Sft => Objective::Sft { beta },
            ObjectiveKind::ApoZeroUnpaired => Objective::ApoZeroUnpaired { beta, desirable_weight, undesirable_weight },
            ObjectiveKind::Kto => Objective::Kto { beta, desirable_weight, undesirable_weight },
        };
        objective.validate()?;
        Ok(objective)
    }

    /// Which objective this is, without its hyper-parameters.
    pub fn kind(&self) -> ObjectiveKind {
        match self {
            Objective::Dpo { .. } => ObjectiveKind::Dpo,
            Objective::ApoZero { .. } => ObjectiveKind::ApoZero,
            Objective::ApoDown { .. } => ObjectiveKind::ApoDown,
            Objective::ApoAuto { .. } => ObjectiveKind::ApoAuto,
            Objective::KtoPair { .. } => ObjectiveKind::KtoPair,
            Objective::Sft { .. } => ObjectiveKind::Sft,
            Objective::ApoZeroUnpaired { .. } => ObjectiveKind::ApoZeroUnpaired,
            Objective::Kto { .. } => ObjectiveKind::Kto,
        }
    }

    /// Checks the hyper-parameters (deserialization bypasses [`Objective::new`]).
    pub fn validate(&self) -> Result<(), ObjectiveError> {
        let objective = self.name();
        let beta = self.beta();
        if !(beta.is_finite() && beta > 0.0) {
            let what = "beta";
            return Err(ObjectiveError::BadParameter { objective, what, bound: "> 0", value: beta });
        }
        if let Some((d, u)) = self.weights() {
            for (what, value) in [("desirable_weight", d), ("undesirable_weight", u)] {
                if !(value.is_finite() && value >= 0.0) {
                    return Err(ObjectiveError::BadParameter { objective, what, bound: ">= 0", value });
                }
            }
        }
        Ok(())
    }

    /// The snake_case name used in grids, the CLI and serialized configs.
    pub fn name(&self) -> &'static str {
        self.kind().name()
    }

    /// The reward scale β (for `sft`, only the scale of its logged rewards).
    pub fn beta(&self) -> f64 {
        match *self {
            Objective::Dpo { beta }
            | Objective::ApoZero { beta }
            | Objective::ApoDown { beta }
            | Objective::ApoAuto { beta }
            | Objective::KtoPair { beta }
            | Objective::Sft { beta }
            | Objective::ApoZeroUnpaired { beta, .. }
            | Objective::Kto { beta, .. } => beta,
        }
    }

    /// `(desirable_weight, undesirable_weight)` for the unpaired objectives.
    pub fn weights(&self) -> Option<(f64, f64)> {
        match *self {
            Objective::ApoZeroUnpaired { desirable_weight, undesirable_weight, .. }
            | Objective::Kto { desirable_weight, undesirable_weight, .. } => {
                Some((desirable_weight, undesirable_weight))
            }
            _ => None,
        }
    }

    /// Paired objectives take a [`PairedBatch`]; the others an [`UnpairedBatch`], in which each
    /// preference pair becomes one desirable and one undesirable example.
    pub fn is_paired(&self) -> bool {
        self.kind().is_paired()
    }

    /// Whether the loss needs the frozen reference model's log-probabilities (all but `sft`).
    pub fn needs_reference(&self) -> bool {
        self.kind().needs_reference()
    }

    /// Whether the batch must carry the mismatched-pair log-probs for the KL estimate (`kto`).
    pub fn needs_kl(&self) -> bool {
        matches!(self, Objective::Kto { .. })
    }

    /// Evaluates the objective on one batch. `loss` in the output is differentiable with respect
    /// to the policy log-probabilities (call `.backward()` on it); the rest is detached or on
    /// the host. Errors on an empty batch, mismatched lengths, a missing input, or the wrong
    /// batch kind.
    pub fn loss(&self, batch: &Batch) -> Result<LossOutput, ObjectiveError> {
        let beta = self.beta();
        match (self, batch) {
            (Objective::Dpo { .. }, Batch::Paired(b)) => paired::dpo(b, beta),
            (Objective::ApoZero { .. }, Batch::Paired(b)) => paired::apo_zero(b, beta),
            (Objective::ApoDown { .. }, Batch::Paired(b)) => paired::apo_down(b, beta),
            (Objective::ApoAuto { .. }, Batch::Paired(b)) => paired::apo_auto(b, beta),
            (Objective::KtoPair { .. }, Batch::Paired(b)) => paired::kto_pair(b, beta),
            (Objective::Sft { .. }, Batch::Paired(b)) => paired::sft(b, beta),
            (Objective::ApoZeroUnpaired { desirable_weight: d, undesirable_weight: u, .. }, Batch::Unpaired(b)) => {
                unpaired::apo_zero_unpaired(b, beta, *d, *u)
            }
            (Objective::Kto { desirable_weight: d, undesirable_weight: u, .. }, Batch::Unpaired(b)) => {
                unpaired::kto(b, beta, *d, *u)
            }
            (objective, batch) => Err(ObjectiveError::WrongBatchKind {
                objective: objective.name(),
                expected: if objective.is_paired() { "paired" } else { "unpaired" },
                got: match batch {
                    Batch::Paired(_) => "paired",
                    Batch::Unpaired(_) => "unpaired",
                },
            }),
        }
    }
}

/// Parses a name with the default hyper-parameters (β = 0.1, weights 1).
impl FromStr for Objective {
    type Err = ObjectiveError;
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Objective::new(name, DEFAULT_BETA, 1.0, 1.0)
    }
}

impl fmt::Display for Objective {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A constant `[n]` tensor on `like`'s device and with its dtype (f32 in training, f64 in the
/// inspection command), so the formulas never mix precisions.
pub(crate) fn constant_like(like: &Tensor<1>, values: Vec<f64>) -> Tensor<1> {
    let n = values.len();
    Tensor::from_data(TensorData::new(values, [n]), (&like.device(), like.dtype()))
}

/// `max(0, x)` for a `[1]` tensor with PyTorch's `clamp(min=0)` gradient convention: the
/// gradient passes where `x >= 0` (including exactly 0, the all-equal case) and is 0 below.
pub(crate) fn clamp_min_zero(x: Tensor<1>) -> Tensor<1> {
    let below = x.clone().lower_elem(0.0);
    x.mask_fill(below, 0.0)
}

/// Reads a tensor back to the host as f64, whatever its dtype.
pub(crate) fn to_host(t: Tensor<1>) -> Result<Vec<f64>, ObjectiveError> {
    t.into_data().convert::<f64>().try_into_vec::<f64>().map_err(|e| ObjectiveError::Readback(format!("{e:?}")))
}

/// Checks that a batch field has the batch's length.
pub(crate) fn check_len(
    objective: &'static str,
    field: &'static str,
    t: &Tensor<1>,
    expected: usize,
) -> Result<(), ObjectiveError> {
    let got = t.dims()[0];
    if got != expected {
        return Err(ObjectiveError::LengthMismatch { objective, field, expected, got });
    }
    Ok(())
}
