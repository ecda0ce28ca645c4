//! Table 2: improvement over the base model per (dataset, objective) (SPEC.md section 4).
//!
//! Every planned cell gets a row, numbers or not, so a partial grid shows its shape. With
//! several seeds each number is the mean over the seeds that have evaluations, with the sample
//! standard deviation across seeds after `±`; `table2.csv` keeps one row per seed (`seed` =
//! the seed) and, when the grid has several seeds, adds the aggregate rows (`seed` = `mean`,
//! spreads in the `*_sd` columns). Rows without numbers (nothing evaluated) are left out of the
//! CSV.

use super::collect::{Collected, EvalPoint, RunData};
use super::render::{Align, Cell, MISSING, Table, csv_text, fixed, raw, signed};
use super::stats::{CellStats, SeedAggregate, Spread, aggregate, cell_stats};
use crate::objective::ObjectiveKind;

/// `table2.csv` columns (an interface).
pub const CSV_COLUMNS: [&str; 16] = [
    "dataset",
    "objective",
    "max",
    "mean",
    "std",
    "length",
    "best_epoch",
    "seed",
    "epochs",
    "kind",
    "best",
    "base",
    "max_sd",
    "mean_sd",
    "std_sd",
    "length_sd",
];

/// One (dataset, objective) cell over its seeds.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub dataset: String,
    pub objective: String,
    pub kind: ObjectiveKind,
    pub epochs_planned: usize,
    /// Seeds whose run has at least one evaluated epoch (and a base score to compare with).
    pub per_seed: Vec<(u64, CellStats)>,
    pub aggregate: Option<SeedAggregate>,
    /// The runs of this cell, one per planned seed (for Tables 4 and 5).
    pub runs: Vec<RunData>,
    /// The dataset's best cell: highest (mean) Max.
    pub best: bool,
}

/// Table 2's content: the base score and one row per planned (dataset, objective).
#[derive(Debug, Clone, PartialEq)]
pub struct Improvement {
    pub base: Option<EvalPoint>,
    pub seeds: usize,
    pub rows: Vec<Row>,
}

pub fn improvement(c: &Collected) -> Improvement {
    let mut rows: Vec<Row> = Vec::new();
    for run in &c.runs {
        let i = match rows.iter().position(|r| r.dataset == run.dataset && r.objective == run.objective) {
            Some(i) => i,
            None => {
                rows.push(Row {
                    dataset: run.dataset.clone(),
                    objective: run.objective.clone(),
                    kind: run.kind,
                    epochs_planned: run.epochs_planned,
                    per_seed: Vec::new(),
                    aggregate: None,
                    runs: Vec::new(),
                    best: false,
                });
                rows.len() - 1
            }
        };
        let row = &mut rows[i];
        row.epochs_planned = row.epochs_planned.max(run.epochs_planned);
        if let Some(base) = &c.base
            && let Some(s) = cell_stats(base, &run.evals)
        {
            row.per_seed.push((run.seed, s));
        }
        row.runs.push(run.clone());
    }
    for row in &mut rows {
        let stats: Vec<CellStats> = row.per_seed.iter().map(|(_, s)| *s).collect();
        row.aggregate = aggregate(&stats);
    }
    // The best cell of each dataset: highest mean Max (the first on ties).
    let datasets: Vec<String> = rows.iter().map(|r| r.dataset.clone()).collect();
    for d in &datasets {
        let mut best: Option<(usize, f64)> = None;
        for (i, r) in rows.iter().enumerate().filter(|(_, r)| &r.dataset == d) {
            if let Some(a) = r.aggregate
                && best.is_none_or(|(_, m)| a.max.mean > m)
            {
                best = Some((i, a.max.mean));
            }
        }
        if let Some((i, _)) = best {
            rows[i].best = true;
        }
    }
    Improvement { base: c.base.clone(), seeds: c.seeds.len().max(1), rows }
}

/// `x`, or `x ± sd` when the grid has several seeds.
fn spread(s: Spread, several: bool, fmt: &dyn Fn(f64) -> String) -> String {
    if several { format!("{} ± {}", fmt(s.mean), fixed(s.sd, 2)) } else { fmt(s.mean) }
}

/// The number cells shared by Tables 2 and 5: Max, Mean (std), Length, Best epoch, Epochs.
pub fn number_cells(row: &Row, several: bool) -> Vec<Cell> {
    let planned = row.epochs_planned;
    match row.aggregate {
        None => {
            let done = row.runs.iter().map(|r| r.evals.iter().filter(|e| e.epoch >= 1).count()).max().unwrap_or(0);
            vec![
                Cell::new(MISSING),
                Cell::new(MISSING),
                Cell::new(MISSING),
                Cell::new(MISSING),
                Cell::new(format!("{done}/{planned}")),
            ]
        }
        Some(a) => {
            let mean = format!(
                "{} ({})",
                spread(a.mean, several, &|x| signed(x, 2)),
                spread(a.std, several, &|x| fixed(x, 2))
            );
            let best_epoch = if several { fixed(a.best_epoch.mean, 1) } else { format!("{}", a.best_epoch.mean) };
            let epochs = if a.epochs >= planned { planned.to_string() } else { format!("{}/{planned}", a.epochs) };
            vec![
                Cell::bold(spread(a.max, several, &|x| signed(x, 2)), row.best),
                Cell::new(mean),
                Cell::new(spread(a.length, several, &|x| signed(x, 1))),
                Cell::new(best_epoch),
                Cell::new(epochs),
            ]
        }
    }
}

/// The notes every improvement table carries: base score and conventions.
pub fn notes(imp: &Improvement) -> Vec<String> {
    let mut notes = vec![match &imp.base {
        Some(b) => format!("Base model score: {:.2}% (mean response length {:.1} characters).", b.score, b.mean_length),
        None => "The base model is not evaluated yet: no improvement can be computed.".to_string(),
    }];
    notes.push(
        "Max: largest improvement (checkpoint score minus base score, points) over epochs 1..E. \
         Mean (std): mean improvement over epochs 1..E and, in parentheses, its population standard deviation \
         over those epochs (divided by E). Length: mean response length of the best checkpoint minus the base model's, \
         characters. Bold: the best Max of each dataset."
            .to_string(),
    );
    if imp.seeds > 1 {
        notes.push(format!(
            "Each number is the mean over the grid's {} seeds, ± the sample standard deviation across seeds (divided by seeds - 1).",
            imp.seeds
        ));
    }
    notes
}

pub fn table(imp: &Improvement) -> Table {
    let several = imp.seeds > 1;
    let rows = imp
        .rows
        .iter()
        .map(|r| {
            let mut cells = vec![Cell::new(&r.dataset), Cell::bold(&r.objective, r.best)];
            cells.extend(number_cells(r, several));
            cells
        })
        .collect();
    use Align::{Left as L, Right as R};
    Table {
        name: "Table 2".into(),
        title: "Improvement over the base model on the benchmark, per dataset and objective.".into(),
        notes: notes(imp),
        header: ["Dataset", "Objective", "Max", "Mean (std)", "Length", "Best epoch", "Epochs"]
            .map(String::from)
            .to_vec(),
        align: vec![L, L, R, R, R, R, R],
        rows,
        label: "tab:improvement".into(),
    }
}

/// `table2.csv` rows for a set of improvement rows (shared with Table 5, which appends columns).
pub fn csv_rows(imp: &Improvement, rows: &[Row]) -> Vec<Vec<String>> {
    let base = imp.base.as_ref().map(|b| raw(b.score)).unwrap_or_default();
    let mut out = Vec::new();
    for r in rows {
        let head = |seed: String, epochs: usize, best: bool| {
            (
                vec![r.dataset.clone(), r.objective.clone()],
                vec![seed, epochs.to_string(), r.kind.to_string(), best.to_string(), base.clone()],
            )
        };
        for (seed, s) in &r.per_seed {
            let (a, b) = head(seed.to_string(), s.epochs, r.best);
            let nums = vec![raw(s.max), raw(s.mean), raw(s.std), raw(s.length), s.best_epoch.to_string()];
            out.push([a, nums, b, vec![String::new(); 4]].concat());
        }
        if imp.seeds > 1
            && let Some(g) = r.aggregate
        {
            let (a, b) = head("mean".into(), g.epochs, r.best);
            let nums =
                vec![raw(g.max.mean), raw(g.mean.mean), raw(g.std.mean), raw(g.length.mean), raw(g.best_epoch.mean)];
            let sds = vec![raw(g.max.sd), raw(g.mean.sd), raw(g.std.sd), raw(g.length.sd)];
            out.push([a, nums, b, sds].concat());
        }
    }
    out
}

pub fn csv(imp: &Improvement) -> Result<String, csv::Error> {
    csv_text(&CSV_COLUMNS.map(String::from), &csv_rows(imp, &imp.rows))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::data::builders::{BuilderKind, DatasetKind};
    use crate::report::collect::DatasetInfo;

    pub fn point(epoch: usize, score: f64, length: f64) -> EvalPoint {
        EvalPoint { epoch, score, mean_length: length, per_family: vec![("arithmetic".into(), score)], heldout: None }
    }

    pub fn run(dataset: &str, objective: &str, seed: u64, scores: &[f64]) -> RunData {
        RunData {
            dataset: dataset.into(),
            objective: objective.into(),
            kind: objective.parse().expect("fixture objectives are named by their kind"),
            seed,
            epochs_planned: 3,
            evals: scores.iter().enumerate().map(|(i, s)| point(i + 1, *s, 100.0 + i as f64)).collect(),
            train: None,
            reference_heldout: None,
        }
    }

    /// A grid dataset (a CLAIR one) that is not built yet.
    pub fn unbuilt(name: &str) -> DatasetInfo {
        DatasetInfo { name: name.into(), kind: DatasetKind::Build(BuilderKind::Clair), manifest: None }
    }

    pub fn collected(seeds: Vec<u64>, runs: Vec<RunData>) -> Collected {
        Collected {
            grid: "t".into(),
            seeds,
            base: Some(point(0, 40.0, 100.0)),
            datasets: vec![],
            runs,
            warnings: vec![],
            benchmark: "world".into(),
            benchmarks: vec!["world".into()],
            timing: None,
        }
    }

    #[test]
    fn hand_computed_row_and_best_cell_per_dataset() {
        let c = collected(
            vec![0],
            vec![
                run("clair", "dpo", 0, &[41.0, 43.0, 39.0]),
                run("clair", "apo_zero", 0, &[45.0, 44.0, 40.0]),
                run("offp", "dpo", 0, &[38.0, 39.0, 40.5]),
                run("offp", "apo_zero", 0, &[]),
            ],
        );
        let imp = improvement(&c);
        assert_eq!(imp.rows.len(), 4);
        let best: Vec<(&str, &str)> =
            imp.rows.iter().filter(|r| r.best).map(|r| (r.dataset.as_str(), r.objective.as_str())).collect();
        assert_eq!(best, [("clair", "apo_zero"), ("offp", "dpo")]);
        let md = table(&imp).markdown();
        // clair/dpo: max +3, mean +1, population std sqrt(8/3) = 1.63, best epoch 2 (length 101 - 100).
        let dpo = md.lines().find(|l| l.starts_with("| clair   | dpo")).unwrap();
        for want in ["+3.00", "+1.00 (1.63)", "+1.0 ", " 2 |"] {
            assert!(dpo.contains(want), "{want} not in {dpo}");
        }
        assert!(dpo.ends_with(" 3 |"), "{dpo}");
        assert!(md.lines().any(|l| l.contains("| **apo_zero** |") && l.contains("**+5.00**")), "{md}");
        assert!(md.contains("Base model score: 40.00%"));
        assert!(md.contains("population standard deviation"));
        // A row with nothing evaluated shows dashes and 0 of 3 epochs, and is left out of the CSV.
        assert!(md.lines().any(|l| l.starts_with("| offp    | apo_zero") && l.contains("0/3")));
        let text = csv(&imp).unwrap();
        assert_eq!(text.lines().count(), 4);
        assert!(
            text.lines().next().unwrap().starts_with("dataset,objective,max,mean,std,length,best_epoch,seed,epochs,")
        );
        assert!(text.contains("\nclair,apo_zero,5,"));
    }

    #[test]
    fn several_seeds_give_mean_and_spread_and_keep_per_seed_rows() {
        let c = collected(
            vec![1, 2],
            vec![run("clair", "dpo", 1, &[41.0, 43.0, 39.0]), run("clair", "dpo", 2, &[45.0, 42.0, 44.0])],
        );
        let imp = improvement(&c);
        let a = imp.rows[0].aggregate.unwrap();
        // Max 3 and 5: mean 4, sample std sqrt(2) = 1.41. Means 1 and 3.67.
        assert_eq!((a.seeds, a.max.mean), (2, 4.0));
        assert!((a.max.sd - 2f64.sqrt()).abs() < 1e-12);
        let md = table(&imp).markdown();
        assert!(md.contains("**+4.00 ± 1.41**"), "{md}");
        assert!(md.contains("mean over the grid's 2 seeds"));
        let text = csv(&imp).unwrap();
        let seeds: Vec<&str> = text.lines().skip(1).map(|l| l.split(',').nth(7).unwrap()).collect();
        assert_eq!(seeds, ["1", "2", "mean"]);
        let mean_row: Vec<&str> = text.lines().last().unwrap().split(',').collect();
        assert_eq!((mean_row[2], mean_row[6]), ("4", "1.5"));
        assert!(mean_row[12].starts_with("1.414"));
    }

    #[test]
    fn no_base_model_yet_renders_dashes() {
        let mut c = collected(vec![0], vec![run("clair", "dpo", 0, &[41.0])]);
        c.base = None;
        let imp = improvement(&c);
        let md = table(&imp).markdown();
        assert!(md.contains("not evaluated yet"));
        assert!(md.contains(" 1/3 |"), "{md}");
        assert_eq!(csv(&imp).unwrap().lines().count(), 1);
    }
}
