//! Which objective, without its hyper-parameters: the one enum the grid deserializes
//! (`kind = "apo_zero"`), the plan keys, and [`super::Objective::from_kind`] builds from.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::ObjectiveError;

/// The objectives of SPEC.md section 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectiveKind {
    Dpo,
    KtoPair,
    Sft,
    ApoZero,
    ApoDown,
    /// APO-zero or APO-down per pair, from whether the winner beats the model (paper, section 7).
    ApoAuto,
    ApoZeroUnpaired,
    Kto,
}

impl ObjectiveKind {
    pub const ALL: [ObjectiveKind; 8] = [
        ObjectiveKind::Dpo,
        ObjectiveKind::ApoZero,
        ObjectiveKind::ApoDown,
        ObjectiveKind::ApoAuto,
        ObjectiveKind::KtoPair,
        ObjectiveKind::Sft,
        ObjectiveKind::ApoZeroUnpaired,
        ObjectiveKind::Kto,
    ];

    /// The snake_case name used in grids, the CLI and serialized configs.
    pub fn name(self) -> &'static str {
        match self {
            ObjectiveKind::Dpo => "dpo",
            ObjectiveKind::KtoPair => "kto_pair",
            ObjectiveKind::Sft => "sft",
            ObjectiveKind::ApoZero => "apo_zero",
            ObjectiveKind::ApoDown => "apo_down",
            ObjectiveKind::ApoAuto => "apo_auto",
            ObjectiveKind::ApoZeroUnpaired => "apo_zero_unpaired",
            ObjectiveKind::Kto => "kto",
        }
    }

    /// Paired objectives see a pair as one example; the unpaired ones (Appendix C) see two.
    pub fn is_paired(self) -> bool {
        !matches!(self, ObjectiveKind::ApoZeroUnpaired | ObjectiveKind::Kto)
    }

    /// Whether the loss needs the frozen reference model's log-probabilities (all but `sft`),
    /// and so whether β means anything for it.
    pub fn needs_reference(self) -> bool {
        self != ObjectiveKind::Sft
    }

    /// The smallest micro-batch the loss can be computed on: KTO's KL estimate pairs each
    /// prompt with another example's completion, so it needs two.
    pub fn min_batch(self) -> usize {
        if self == ObjectiveKind::Kto { 2 } else { 1 }
    }

    /// Whether training needs each pair's winner-vs-model comparison stored in the dataset
    /// (`apo_auto`), which the dataset build then makes for every training pair.
    pub fn needs_comparisons(self) -> bool {
        self == ObjectiveKind::ApoAuto
    }
}

impl FromStr for ObjectiveKind {
    type Err = ObjectiveError;
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        ObjectiveKind::ALL
            .into_iter()
            .find(|k| k.name() == name)
            .ok_or_else(|| ObjectiveError::UnknownName(name.into()))
    }
}

impl fmt::Display for ObjectiveKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
