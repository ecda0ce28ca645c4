//! Builds one of the four datasets on the embedded world: the world's prompts, the oracle as
//! reviser and judge, the stronger model, and the off-policy pool (an earlier checkpoint of the
//! target, or its rule-based stand-in, plus the noisy rule-based generator). The target model
//! comes in as a [`Generator`], so the executor can pass the trained tiny Llama and tests a
//! stand-in. The winners-vs-model check (SPEC.md section 5) is measured with the same judge.

use crate::data::agents::{AgentError, Generator};
use crate::data::builders::{self, BuildOptions, BuilderKind};
use crate::data::dataset::Dataset;
use crate::data::filters::FilterConfig;
use crate::data::split::DEFAULT_HELDOUT;
use crate::data::winner_vs_model::winner_vs_model;

use super::corpus::preference_prompts;
use super::oracle::{OracleJudge, OracleReviser};
use super::policies::{RulePolicy, StrongerModel};

/// What a world dataset is made from (besides the target model).
#[derive(Debug, Clone, PartialEq)]
pub struct WorldDataConfig {
    pub seed: u64,
    /// Prompts given to the builder (the same for every kind with the same seed).
    pub prompts: usize,
    /// Held-out pairs for the trajectory plots.
    pub heldout: usize,
    pub temperature: f32,
    /// `None`: the kind's default filters.
    pub filters: Option<FilterConfig>,
    /// Pairs on which to compare winners with the target's greedy answers (`None`: all).
    pub winner_check: Option<usize>,
}

impl WorldDataConfig {
    pub fn new(seed: u64, prompts: usize) -> Self {
        Self { seed, prompts, heldout: DEFAULT_HELDOUT, temperature: 1.0, filters: None, winner_check: None }
    }
}

/// Builds the `kind` dataset for `target`. `earlier_checkpoint` joins the off-policy pool when
/// given (the paper's pool holds other, mostly weaker models); otherwise its stand-in does.
pub fn build_world_dataset(
    kind: BuilderKind,
    config: &WorldDataConfig,
    target: &mut dyn Generator,
    earlier_checkpoint: Option<&mut dyn Generator>,
) -> Result<Dataset, AgentError> {
    let prompts = preference_prompts(config.seed, config.prompts);
    let mut opts = BuildOptions::new(kind, config.seed);
    opts.temperature = config.temperature;
    if let Some(f) = config.filters {
        opts.filters = f;
    }
    let mut judge = OracleJudge { seed: config.seed };
    let built = match kind {
        BuilderKind::Clair => builders::clair(&prompts, target, &mut OracleReviser, &opts)?,
        BuilderKind::JudgeOnPolicy => builders::judge_on_policy(&prompts, target, &mut judge, &opts)?,
        BuilderKind::JudgeOffPolicy => {
            let mut standin = RulePolicy::weak_checkpoint();
            let mut noisy = RulePolicy::noisy_rules();
            let earlier: &mut dyn Generator = match earlier_checkpoint {
                Some(g) => g,
                None => &mut standin,
            };
            let mut pool: Vec<&mut dyn Generator> = vec![earlier, &mut noisy];
            builders::judge_off_policy(&prompts, &mut pool, &mut judge, &opts)?
        }
        BuilderKind::StrongerPreferred => builders::stronger_preferred(&prompts, target, &mut StrongerModel, &opts)?,
        BuilderKind::OffPolicyRatings => {
            return Err(AgentError::Failed {
                agent: kind.as_str().into(),
                message: "the embedded world stores no rated completions; use `judge_off_policy`".into(),
            });
        }
    };
    let mut dataset = Dataset::from_built(built, config.heldout, config.seed);
    let all: Vec<_> = dataset.train.iter().chain(&dataset.heldout).cloned().collect();
    dataset.manifest.winner_vs_model =
        Some(winner_vs_model(&all, target, &mut judge, config.seed, config.winner_check)?);
    Ok(dataset)
}
