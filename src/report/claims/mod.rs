//! The claims table (issue 13): one row per qualitative claim of the paper, each decided by
//! code from the collected data, with the evidence as numbers and intervals.
//!
//! Why: Table 2 of a small grid invites reading a winner into differences that a different
//! seed would reverse. Each claim here has a stated rule ([`rules`]), written before looking
//! at any result, and a verdict:
//! - `reproduced` / `not reproduced`: the 95% interval across seeds lies on the claimed side
//!   of 0 / on the other side (for Table 1's deterministic numbers, the comparison holds or not);
//! - `within noise`: the interval contains 0;
//! - `not measured`: the grid lacks a dataset, an objective or the numbers the claim needs.
//!
//! With one seed there is no interval: the point estimate decides, the verdict says
//! `(one seed)` and the evidence `one seed: no interval`. The numbers are Mean improvements
//! (over epochs 1..E), not Max: Max is a maximum over noisy epochs and so biased upward. A
//! difference of two cells uses Welch's interval ([`super::interval`]). Datasets are matched by
//! their builder and objectives by their kind, both from the grid ([`cells`]), so a grid may
//! name them as it likes. Claims made of parts (one per dataset or cell) need every part to
//! hold, except (g), which is judged only where the data can tell ([`verdict`]).
//!
//! Files: `claims.md` and `claims.csv` ([`CSV_COLUMNS`]); the table is also in `report.md` and
//! `report.html`.

pub mod cells;
pub mod rules;
pub mod verdict;

#[cfg(test)]
mod tests;

use super::collect::Collected;
use super::interval::Estimate;
use super::render::{Align, Cell, Table, csv_text, raw};
use super::table2::improvement;
use cells::Cells;
use verdict::Decision;

/// One claim and its verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    /// `a`..`h`, the order of [`claims`].
    pub id: char,
    pub statement: &'static str,
    pub decision: Decision,
    /// The one number that decided it, when one did (a difference or a pooled mean).
    pub estimate: Option<Estimate>,
    /// The numbers behind the verdict, in words.
    pub evidence: String,
}

/// Every claim, in order, for a collection.
pub fn claims(c: &Collected) -> Vec<Claim> {
    let imp = improvement(c);
    let cells = Cells::new(c, &imp);
    vec![
        rules::clair_most_contrastive(&cells),
        rules::clair_apo_zero_best_cell(&cells),
        rules::apo_down_best_off_policy(&cells),
        rules::stronger_preferred_degrades(&cells),
        rules::on_policy_beats_off_policy(&cells),
        rules::figure4_directions(&cells),
        rules::anchor_rule(&cells),
        rules::apo_auto_at_least_as_good(&cells),
    ]
}

/// The rules, as the caption states them.
const RULES: [&str; 8] = [
    "(a) every clair dataset has a higher Jaccard % and a lower Levenshtein distance than every other built dataset (Table 1's exact numbers).",
    "(b) the best clair × apo_zero cell against the best other cell of the grid: the interval on the difference of their Mean improvements must lie above 0.",
    "(c) on each off-policy dataset (judge_off_policy, or off_policy_ratings in its place), the best apo_down cell against the best other cell there, as in (b).",
    "(d) the Mean improvements of every objective on stronger_preferred, pooled over objectives and seeds: the interval of their mean must lie below 0.",
    "(e) the best judge_on_policy cell against the best off-policy cell, as in (b).",
    "(f) the held-out chosen reward at the last evaluated epoch: its interval across seeds above 0 for every apo_zero cell and below 0 for every apo_down cell.",
    "(g) per dataset with a winner-vs-model comparison (Table 1), the best apo_zero against the best apo_down cell: wherever the interval on the difference excludes 0, the better one must be the suggested anchor; within noise if it never excludes 0.",
    "(h) per dataset, the best apo_auto cell against the better of apo_zero and apo_down: reproduced above 0, within noise if the interval contains 0, not reproduced below.",
];

/// `claims.md`'s table.
pub fn table(claims: &[Claim]) -> Table {
    let mut notes = vec![
        "Each claim of the paper is decided by a stated rule from this grid's data. Numbers are Mean improvements \
         (points, over epochs 1..E: Max is a maximum over epochs and so biased upward) or held-out rewards, as the \
         mean over seeds with its 95% interval in brackets: t(0.975, n - 1) · sd / √n across n seeds, and Welch's \
         interval for a difference of two cells. Reproduced: the interval lies on the claimed side of 0; not \
         reproduced: on the other side; within noise: it contains 0; not measured: the grid lacks the dataset, \
         objective or numbers. With one seed there is no interval: the point estimate decides and the verdict says \
         (one seed). Datasets are matched by builder, objectives by kind; a claim with parts (datasets, cells) needs \
         all of them."
            .to_string(),
    ];
    notes.extend(RULES.iter().map(|r| r.to_string()));
    let rows = claims
        .iter()
        .map(|c| {
            vec![
                Cell::new(c.id.to_string()),
                Cell::new(c.statement),
                Cell::new(c.decision.label()),
                Cell::new(&c.evidence),
            ]
        })
        .collect();
    use Align::Left as L;
    Table {
        name: "Claims".into(),
        title: "The paper's qualitative claims, checked on this grid.".into(),
        notes,
        header: ["", "Claim", "Verdict", "Evidence"].map(String::from).to_vec(),
        align: vec![L, L, L, L],
        rows,
        label: "tab:claims".into(),
    }
}

/// `claims.csv` columns (an interface): `claim` (its letter), `statement`, `verdict`
/// (`reproduced`, `not_reproduced`, `within_noise`, `not_measured`), `basis` (`exact`: Table 1's
/// numbers; `ci95`: 95% intervals; `one_seed`: a point estimate from one seed decided; `none`),
/// `estimate`, `ci95_low`, `ci95_high`, `seeds` (the number that decided the claim, when one
/// did: a difference of Mean improvements or a pooled mean, in points; `seeds` the fewer of
/// the two sides'), and `evidence` (the table's text).
pub const CSV_COLUMNS: [&str; 9] =
    ["claim", "statement", "verdict", "basis", "estimate", "ci95_low", "ci95_high", "seeds", "evidence"];

pub fn csv(claims: &[Claim]) -> Result<String, csv::Error> {
    let rows: Vec<Vec<String>> = claims
        .iter()
        .map(|c| {
            let e = c.estimate;
            let ci = e.and_then(|e| e.ci);
            vec![
                c.id.to_string(),
                c.statement.to_string(),
                c.decision.verdict.csv().to_string(),
                c.decision.basis.csv().to_string(),
                e.map(|e| raw(e.value)).unwrap_or_default(),
                ci.map(|ci| raw(ci.low)).unwrap_or_default(),
                ci.map(|ci| raw(ci.high)).unwrap_or_default(),
                e.map(|e| e.n.to_string()).unwrap_or_default(),
                c.evidence.clone(),
            ]
        })
        .collect();
    csv_text(&CSV_COLUMNS.map(String::from), &rows)
}
