//! apogrid: Anchored Preference Optimization (APO) and Contrastive Revisions (CLAIR)
//! as a declarative experiment grid.
//!
//! Data flows one way: `grid` (parse, validate) -> `plan` (tasks, content keys, DAG) ->
//! `exec` (ready queue, slots) -> `store` (content-addressed artifacts) -> `report`.
//! The lower floors (`objective`, `model`, `world`, `data`) know nothing of grids or plans.

/// Atomic file writes, shared by the store and the floors below it.
pub mod atomic_file;
pub mod grid;
pub mod plan;
pub mod store;
pub mod exec;
pub mod objective;
pub mod model;
pub mod world;
pub mod data;
pub mod agents;
pub mod api;
pub mod train;
pub mod tasks;
pub mod report;
