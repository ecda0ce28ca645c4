//! The dataset side of the grid (SPEC.md section 1): preference triples and their JSONL form,
//! the agents a builder talks to (generator, reviser, judge), the four builders and the
//! ratings-based one, filters, the
//! held-out split, contrastiveness metrics (Table 1) and the winners-vs-model check (section 5).
//! Generic over who plays the agents: the embedded world's oracle, a local model, an LLM API.

pub mod agents;
pub mod builders;
pub mod contrast;
pub mod dataset;
pub mod filters;
pub mod prompts;
pub mod ratings;
pub mod seed;
pub mod split;
pub mod template;
pub mod triple;
pub mod winner_vs_model;
