//! The claims' view of a grid: its (dataset, objective) cells that have numbers, found by the
//! dataset's builder and the objective's kind (both from the grid), never by the names a grid
//! gives them, and the one comparison most claims make: the best of some cells against the
//! best of others.

use crate::data::builders::{BuilderKind, DatasetKind};
use crate::objective::ObjectiveKind;
use crate::report::collect::{Collected, DatasetInfo};
use crate::report::interval::Estimate;
use crate::report::regime;
use crate::report::table2::{Improvement, Row};

/// One cell with at least one seed's numbers.
#[derive(Debug, Clone, Copy)]
pub struct Cell<'a> {
    pub dataset: &'a DatasetInfo,
    pub row: &'a Row,
}

impl<'a> Cell<'a> {
    pub fn kind(&self) -> ObjectiveKind {
        self.row.kind
    }

    /// `clair × apo_zero`, with the grid's names.
    pub fn name(&self) -> String {
        format!("{} × {}", self.dataset.name, self.row.objective)
    }

    /// The Mean improvement (points, over epochs 1..E) of each seed.
    pub fn means(&self) -> Vec<f64> {
        self.row.per_seed.iter().map(|(_, s)| s.mean).collect()
    }

    /// The Mean improvement over seeds with its 95% interval.
    pub fn mean(&self) -> Estimate {
        Estimate::of_mean(&self.means())
    }

    /// The held-out chosen reward at the last evaluated epoch, per seed that has one.
    pub fn final_chosen_rewards(&self) -> Vec<f64> {
        self.row.runs.iter().filter_map(regime::final_heldout).map(|h| h.chosen_reward).collect()
    }

    /// `+1.23 [+0.40, +2.06] (3 seeds)`: the Mean improvement as evidence.
    pub fn mean_text(&self) -> String {
        format!("{} Mean {}", self.name(), with_seeds(&self.mean(), 2))
    }
}

/// `e` with `decimals` and how many seeds it rests on.
pub fn with_seeds(e: &Estimate, decimals: usize) -> String {
    let seeds = if e.n == 1 { "1 seed".to_string() } else { format!("{} seeds", e.n) };
    format!("{} ({seeds})", e.text(decimals))
}

/// The cells of a grid that have numbers, with their datasets.
pub struct Cells<'a> {
    pub collected: &'a Collected,
    pub all: Vec<Cell<'a>>,
    /// Every objective kind the grid plans, numbers or not.
    pub planned_kinds: Vec<ObjectiveKind>,
}

impl<'a> Cells<'a> {
    pub fn new(collected: &'a Collected, imp: &'a Improvement) -> Cells<'a> {
        let all = imp
            .rows
            .iter()
            .filter(|r| !r.per_seed.is_empty())
            .filter_map(|row| {
                collected.datasets.iter().find(|d| d.name == row.dataset).map(|dataset| Cell { dataset, row })
            })
            .collect();
        let mut planned_kinds: Vec<ObjectiveKind> = imp.rows.iter().map(|r| r.kind).collect();
        planned_kinds.sort();
        planned_kinds.dedup();
        Cells { collected, all, planned_kinds }
    }

    /// Whether the grid has an objective of this kind (numbers or not).
    pub fn plans(&self, kind: ObjectiveKind) -> bool {
        self.planned_kinds.contains(&kind)
    }

    /// Why no cell of `kind` on a `label` dataset (`dataset`) can be used: the grid has no such
    /// dataset, no such objective, or no numbers for them yet.
    pub fn why_absent(&self, dataset: fn(DatasetKind) -> bool, label: &str, kind: ObjectiveKind) -> String {
        if self.datasets(dataset).is_empty() {
            format!("the grid has no {label} dataset")
        } else if !self.plans(kind) {
            format!("the grid has no {kind} objective")
        } else {
            format!("no {label} × {kind} cell has numbers yet")
        }
    }

    /// The cells on datasets of a kind.
    pub fn on(&self, dataset: fn(DatasetKind) -> bool) -> Vec<Cell<'a>> {
        self.all.iter().copied().filter(|c| dataset(c.dataset.kind)).collect()
    }

    /// The cells on one dataset.
    pub fn on_dataset(&self, name: &str) -> Vec<Cell<'a>> {
        self.all.iter().copied().filter(|c| c.dataset.name == name).collect()
    }

    /// The grid's datasets of a kind (built or not), in grid order.
    pub fn datasets(&self, dataset: fn(DatasetKind) -> bool) -> Vec<&'a DatasetInfo> {
        self.collected.datasets.iter().filter(|d| dataset(d.kind)).collect()
    }
}

pub fn is_clair(k: DatasetKind) -> bool {
    k == DatasetKind::Build(BuilderKind::Clair)
}

pub fn is_on_policy_judge(k: DatasetKind) -> bool {
    k == DatasetKind::Build(BuilderKind::JudgeOnPolicy)
}

/// The off-policy dataset: judged (`judge_off_policy`) or ranked by stored ratings
/// (`off_policy_ratings`, the paper grid's stand-in for it).
pub fn is_off_policy(k: DatasetKind) -> bool {
    matches!(k, DatasetKind::Build(BuilderKind::JudgeOffPolicy | BuilderKind::OffPolicyRatings))
}

pub fn is_stronger_preferred(k: DatasetKind) -> bool {
    k == DatasetKind::Build(BuilderKind::StrongerPreferred)
}

pub fn any_dataset(_: DatasetKind) -> bool {
    true
}

/// The cell with the highest mean (over seeds) Mean improvement; the first on ties.
pub fn best<'a>(cells: &[Cell<'a>]) -> Option<Cell<'a>> {
    let mut best: Option<(Cell<'a>, f64)> = None;
    for c in cells {
        let m = c.mean().value;
        if best.is_none_or(|(_, b)| m > b) {
            best = Some((*c, m));
        }
    }
    best.map(|(c, _)| c)
}

/// The best of `targets` against the best of `rivals`, by Mean improvement.
#[derive(Debug, Clone, Copy)]
pub struct Contest<'a> {
    pub target: Cell<'a>,
    pub rival: Cell<'a>,
    /// Target minus rival, with Welch's interval across seeds.
    pub difference: Estimate,
}

impl<'a> Contest<'a> {
    /// `None` when either side has no cell.
    pub fn of(targets: &[Cell<'a>], rivals: &[Cell<'a>]) -> Option<Contest<'a>> {
        let (target, rival) = (best(targets)?, best(rivals)?);
        Some(Contest { target, rival, difference: Estimate::difference(&target.means(), &rival.means()) })
    }

    /// `A Mean … vs B Mean …: difference … (Welch)`.
    pub fn text(&self) -> String {
        format!(
            "{} vs {}: difference {}",
            self.target.mean_text(),
            self.rival.mean_text(),
            difference_text(&self.difference)
        )
    }
}

/// A difference of means as evidence: with its Welch interval, or marked as a point estimate.
pub fn difference_text(e: &Estimate) -> String {
    match e.ci {
        Some(_) => format!("{} (Welch)", e.text(2)),
        None => format!("{} (one seed: no interval)", e.text(2)),
    }
}
