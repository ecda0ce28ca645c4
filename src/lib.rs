//! apogrid: Anchored Preference Optimization (APO) and Contrastive Revisions (CLAIR)
//! as a declarative experiment grid.
//!
//! Data flows one way: `grid` (parse, validate) -> `plan` (tasks, content keys, DAG) ->
//! `exec` (ready queue, slots) -> `store` (content-addressed artifacts) -> `report`.
//! The lower floors (`objective`, `model`, `world`, `data`) know nothing of grids or plans.

// Clippy's default lints hold, but for these, each on purpose:
// - `!(x > 0.0)` rejects NaN as well as non-positive numbers: the negated comparisons are the point.
#![allow(clippy::neg_cmp_op_on_partial_ord, clippy::nonminimal_bool)]
// - configs, tokenizers and task inputs are built once per task; boxing the large variants would
//   add noise and save nothing.
#![allow(clippy::large_enum_variant)]
// - progress and snapshot callbacks (`&dyn Fn(..)`) are spelled out where they are taken.
#![allow(clippy::type_complexity)]

pub mod agents;
pub mod api;
pub mod artifacts;
/// Atomic file writes, shared by the store and the floors below it.
pub mod atomic_file;
pub mod data;
pub mod device;
pub mod digest;
pub mod eval;
pub mod exec;
pub mod grid;
pub mod model;
pub mod objective;
pub mod plan;
pub mod report;
pub mod store;
pub mod tasks;
/// TensorBoard event files, written as views of the store.
pub mod tensorboard;
pub mod train;
pub mod world;
