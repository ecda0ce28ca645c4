//! The embedded synthetic world: a faithful miniature of the paper's setting, small enough for
//! two CPU cores, and openly synthetic.
//!
//! - [`families`]: seven task families standing in for MixEval's sub-benchmarks, with an
//!   their prompts and answers; [`facts`] the synthetic fact table; [`scoring`] the exact-match
//!   scorer and the graded quality score.
//! - [`styles`]: how the target, the stronger model and the weak generators phrase answers.
//! - [`corpus`]: training prompts and the target model's training corpus (wrong at
//!   family-specific rates).
//! - [`policies`]: the stronger model and rule-based stand-ins (target stand-in, weaker
//!   checkpoint, noisy rules), as [`crate::data::agents::Generator`]s.
//! - [`oracle`]: the minimal-edit reviser and the graded judge.
//! - [`benchmark`]: the held-out benchmark, disjoint from all training prompts.
//! - [`build`]: one of the four datasets on the world, for any target [`crate::data::agents::Generator`].

pub mod benchmark;
pub mod build;
pub mod corpus;
pub mod facts;
pub mod families;
pub mod oracle;
pub mod policies;
pub mod scoring;
pub mod styles;
