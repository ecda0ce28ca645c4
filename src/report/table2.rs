//! Table 2: improvement over the base model per (dataset, objective) (SPEC.md section 4).
//!
//! Every planned cell gets a row, numbers or not, so a partial grid shows its shape. With
//! several seeds each number is the mean over the seeds that have evaluations, with the
//! half-width of its 95% t-interval across seeds after `±` ([`super::interval`]); a number
//! from one seed has no `±`. Two columns say whether the Max and the Mean improvement are
//! distinguishable from the base model ([`super::vs_base`]) and one shows the cell's reward
//! regime ([`super::regime`]).
//!
//! `table2.csv` ([`CSV_COLUMNS`]) keeps one row per seed (`seed` = the seed) and, when the grid
//! has several seeds, adds one aggregate row per cell (`seed` = `mean`). Rows without numbers
//! (nothing evaluated) are left out. Columns:
//! - `dataset`, `objective`, `kind` (the objective's kind), `base` (base score, %);
//! - `max`, `mean`, `std`, `length`, `best_epoch`, `epochs`, `best` (Table 2's bold): the
//!   seed's numbers, or on a `mean` row their means over seeds (`epochs`: the fewest);
//! - `seeds`: how many seeds the row summarizes (1 on a seed's row);
//! - `max_sd`, `mean_sd`, `std_sd`, `length_sd`: sample standard deviations across seeds, and
//!   `max_ci95_low`/`_high` (likewise `mean_`, `std_`, `length_`): the 95% t-interval of the
//!   mean; `mean` rows only, the intervals only from two seeds on;
//! - `max_vs_base`, `mean_vs_base`: `above_base`, `below_base`, `within_noise` or `one_seed`,
//!   on the row that describes the cell (its `mean` row; a one-seed grid's only row);
//! - `abs_reward`: the held-out `|reward|` at the last evaluated epoch (the seed's, or the mean
//!   over seeds); empty where no held-out numbers exist.

use super::collect::{Collected, EvalPoint, RunData};
use super::regime::{self, LINEAR_BELOW};
use super::render::{Align, Cell, MISSING, Table, csv_text, fixed, raw, signed};
use super::stats::{CellStats, SeedAggregate, Spread, aggregate, cell_stats};
use super::vs_base::VsBase;
use crate::objective::ObjectiveKind;

/// `table2.csv` columns (an interface: new ones are appended, never inserted).
pub const CSV_COLUMNS: [&str; 28] = [
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
    "seeds",
    "max_ci95_low",
    "max_ci95_high",
    "mean_ci95_low",
    "mean_ci95_high",
    "std_ci95_low",
    "std_ci95_high",
    "length_ci95_low",
    "length_ci95_high",
    "max_vs_base",
    "mean_vs_base",
    "abs_reward",
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
    /// The held-out `|reward|` at the last evaluated epoch, over seeds ([`regime`]).
    pub abs_reward: Option<Spread>,
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
                    abs_reward: None,
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
        row.abs_reward = regime::abs_reward(&row.runs);
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

impl Row {
    /// Whether the Max improvement is distinguishable from the base model; `None` without numbers.
    pub fn max_vs_base(&self) -> Option<VsBase> {
        self.aggregate.map(|a| VsBase::of(a.max))
    }

    /// Whether the Mean improvement is distinguishable from the base model.
    pub fn mean_vs_base(&self) -> Option<VsBase> {
        self.aggregate.map(|a| VsBase::of(a.mean))
    }
}

/// `x ± h` (`h` the half-width of the 95% interval across seeds), or `x` from one seed.
fn with_ci(s: Spread, decimals: usize, fmt: fn(f64, usize) -> String) -> String {
    match s.ci95().half_width() {
        Some(h) => format!("{} ± {}", fmt(s.mean, decimals), fixed(h, decimals)),
        None => fmt(s.mean, decimals),
    }
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
            let mean = format!("{} ({})", with_ci(a.mean, 2, signed), with_ci(a.std, 2, fixed));
            let best_epoch = if several { fixed(a.best_epoch.mean, 1) } else { format!("{}", a.best_epoch.mean) };
            let epochs = if a.epochs >= planned { planned.to_string() } else { format!("{}/{planned}", a.epochs) };
            vec![
                Cell::bold(with_ci(a.max, 2, signed), row.best),
                Cell::new(mean),
                Cell::new(with_ci(a.length, 1, signed)),
                Cell::new(best_epoch),
                Cell::new(epochs),
            ]
        }
    }
}

/// Table 2's own cells after the numbers: Max vs base, Mean vs base, Abs. reward.
fn verdict_cells(row: &Row) -> Vec<Cell> {
    let verdict = |v: Option<VsBase>| Cell::new(v.map_or(MISSING, VsBase::label));
    let abs_reward = row.abs_reward.map_or(MISSING.to_string(), |s| fixed(s.mean, 2));
    vec![verdict(row.max_vs_base()), verdict(row.mean_vs_base()), Cell::new(abs_reward)]
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
            "Each number is the mean over the grid's {} seeds (those with evaluations), ± the half-width of its 95% \
             t-interval across seeds: t(0.975, n - 1) · sd / √n, with n seeds and sd their sample standard deviation \
             (divided by n - 1). A number without ± comes from one seed.",
            imp.seeds
        ));
    }
    notes
}

/// The notes of Table 2's own columns: the verdicts against the base model and the regime.
fn verdict_notes() -> Vec<String> {
    vec![
        "Max vs base, Mean vs base: above base (below base) when the 95% interval across seeds of the Max (Mean) \
         improvement lies above (below) 0, within noise when it contains 0; one seed gives no interval, hence no verdict. \
         Max is the largest of E noisy checkpoint scores, so it is biased upward (a model that did not change still \
         shows a positive Max); Mean is the fairer test."
            .to_string(),
        format!(
            "Abs. reward: at the last evaluated epoch, the mean of the absolute chosen and rejected rewards on the \
             held-out pairs (rewards β·log-ratio against the base model), averaged over seeds. Below about \
             {LINEAR_BELOW} every sigmoid in the losses is in its linear region, where DPO and APO-zero take the same \
             steps under RMSProp (their gradients differ by a constant factor, which RMSProp divides out), so such \
             cells cannot separate those objectives. The evaluation keeps the held-out mean rewards, so this is the \
             mean of their absolute values: a lower bound of the per-pair magnitudes."
        ),
    ]
}

pub fn table(imp: &Improvement) -> Table {
    let several = imp.seeds > 1;
    let rows = imp
        .rows
        .iter()
        .map(|r| {
            let mut cells = vec![Cell::new(&r.dataset), Cell::bold(&r.objective, r.best)];
            cells.extend(number_cells(r, several));
            cells.extend(verdict_cells(r));
            cells
        })
        .collect();
    use Align::{Left as L, Right as R};
    Table {
        name: "Table 2".into(),
        title: "Improvement over the base model on the benchmark, per dataset and objective.".into(),
        notes: [notes(imp), verdict_notes()].concat(),
        header: [
            "Dataset",
            "Objective",
            "Max",
            "Mean (std)",
            "Length",
            "Best epoch",
            "Epochs",
            "Max vs base",
            "Mean vs base",
            "Abs. reward",
        ]
        .map(String::from)
        .to_vec(),
        align: vec![L, L, R, R, R, R, R, L, L, R],
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
        // The verdicts go on the row that describes the cell: the only one in a one-seed grid.
        let verdicts = |on: bool| match (on, r.max_vs_base(), r.mean_vs_base()) {
            (true, Some(max), Some(mean)) => vec![max.csv().to_string(), mean.csv().to_string()],
            _ => vec![String::new(); 2],
        };
        for (seed, s) in &r.per_seed {
            let (a, b) = head(seed.to_string(), s.epochs, r.best);
            let nums = vec![raw(s.max), raw(s.mean), raw(s.std), raw(s.length), s.best_epoch.to_string()];
            let run = r.runs.iter().find(|run| run.seed == *seed);
            let abs_reward = run.and_then(regime::final_abs_reward).map(raw).unwrap_or_default();
            let spreads = [vec![String::new(); 4], vec!["1".to_string()], vec![String::new(); 8]].concat();
            out.push([a, nums, b, spreads, verdicts(imp.seeds == 1), vec![abs_reward]].concat());
        }
        if imp.seeds > 1
            && let Some(g) = r.aggregate
        {
            let (a, b) = head("mean".into(), g.epochs, r.best);
            let nums =
                vec![raw(g.max.mean), raw(g.mean.mean), raw(g.std.mean), raw(g.length.mean), raw(g.best_epoch.mean)];
            let spreads = [g.max, g.mean, g.std, g.length];
            let sds = spreads.iter().map(|s| raw(s.sd)).collect();
            let cis = spreads
                .iter()
                .flat_map(|s| match s.ci95().ci {
                    Some(ci) => [raw(ci.low), raw(ci.high)],
                    None => [String::new(), String::new()],
                })
                .collect();
            let abs_reward = r.abs_reward.map(|s| raw(s.mean)).unwrap_or_default();
            out.push([a, nums, b, sds, vec![g.seeds.to_string()], cis, verdicts(true), vec![abs_reward]].concat());
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
    use crate::report::collect::{DatasetInfo, HeldoutPoint};

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
        assert_eq!(cells(dpo)[6..], ["3", "one seed", "one seed", "–"], "{dpo}");
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
        // ± the 95% half-width: t(0.975, 1) · sqrt(2) / sqrt(2) = 12.71.
        assert!(md.contains("**+4.00 ± 12.71**"), "{md}");
        assert!(md.contains("mean over the grid's 2 seeds"));
        let text = csv(&imp).unwrap();
        let seeds: Vec<&str> = text.lines().skip(1).map(|l| l.split(',').nth(7).unwrap()).collect();
        assert_eq!(seeds, ["1", "2", "mean"]);
        let mean_row: Vec<&str> = text.lines().last().unwrap().split(',').collect();
        assert_eq!((mean_row[2], mean_row[6]), ("4", "1.5"));
        assert!(mean_row[12].starts_with("1.414"));
        assert_eq!(field(&text, 3, "seeds"), "2");
        assert!(field(&text, 3, "max_ci95_low").starts_with("-8.706"), "{text}");
        assert!(field(&text, 3, "max_ci95_high").starts_with("16.706"), "{text}");
        assert_eq!(field(&text, 3, "max_vs_base"), "within_noise");
        // Per-seed rows: one seed each, no interval, no verdict.
        assert_eq!((field(&text, 1, "seeds"), field(&text, 1, "max_ci95_low")), ("1".to_string(), String::new()));
        assert_eq!(field(&text, 1, "max_vs_base"), "");
    }

    /// A Markdown table line's cells, trimmed, bold marks removed.
    pub fn cells(line: &str) -> Vec<String> {
        line.trim().trim_matches('|').split('|').map(|c| c.trim().trim_matches('*').to_string()).collect()
    }

    /// The cells of the Markdown table's row for (dataset, objective).
    pub fn row_cells(md: &str, dataset: &str, objective: &str) -> Vec<String> {
        md.lines()
            .filter(|l| l.starts_with('|'))
            .map(cells)
            .find(|c| c.len() > 1 && c[0] == dataset && c[1] == objective)
            .unwrap_or_else(|| panic!("no row {dataset}/{objective} in {md}"))
    }

    /// The value in CSV `text` at data row `row` (1-based, after the header) and column `name`.
    pub fn field(text: &str, row: usize, name: &str) -> String {
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let i = r.headers().unwrap().iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"));
        r.records().nth(row - 1).unwrap().unwrap()[i].to_string()
    }

    /// A held-out point with these mean rewards.
    pub fn heldout(chosen_reward: f64, rejected_reward: f64) -> HeldoutPoint {
        HeldoutPoint { pairs: 4, chosen_logps: -10.0, rejected_logps: -12.0, chosen_reward, rejected_reward }
    }

    #[test]
    fn three_seeds_give_95_intervals_verdicts_against_the_base_and_the_reward_regime() {
        // Base 40. clair/dpo improvements per seed: (2, 3, 1), (3, 4, 2), (1, 2, 3): Max 3, 4, 3
        // (mean 3.333, sd 0.57735), Mean 2, 3, 2 (mean 2.333, same sd). Half-width
        // t(0.975, 2) · 0.57735 / sqrt(3) = 4.302653 · 0.333333 = 1.434218: both intervals above 0.
        // clair/apo_zero: flat runs at +1, -1, 0: Max and Mean 0 ± 2.48, within noise.
        let mut runs = Vec::new();
        let rewards = [(0.2, -0.4), (0.1, -0.1), (0.5, -0.3)];
        for (seed, (scores, (c, r))) in
            [[42.0, 43.0, 41.0], [43.0, 44.0, 42.0], [41.0, 42.0, 43.0]].iter().zip(rewards).enumerate()
        {
            let mut dpo = run("clair", "dpo", seed as u64, scores);
            dpo.evals.last_mut().unwrap().heldout = Some(heldout(c, r));
            runs.push(dpo);
        }
        for (seed, score) in [41.0, 39.0, 40.0].into_iter().enumerate() {
            runs.push(run("clair", "apo_zero", seed as u64, &[score; 3]));
        }
        let imp = improvement(&collected(vec![0, 1, 2], runs));
        let md = table(&imp).markdown();
        let dpo = row_cells(&md, "clair", "dpo");
        assert_eq!(dpo[2], "+3.33 ± 1.43");
        assert!(dpo[3].starts_with("+2.33 ± 1.43 ("), "{dpo:?}");
        // |reward|: (0.3 + 0.1 + 0.4) / 3 = 0.27.
        assert_eq!(dpo[7..], ["above base", "above base", "0.27"]);
        let apo = row_cells(&md, "clair", "apo_zero");
        assert_eq!(apo[7..], ["within noise", "within noise", "–"], "{apo:?}");
        assert!(md.contains("t(0.975, n - 1) · sd / √n") && md.contains("biased upward"));
        assert!(md.contains("linear region") && md.contains("Below about 0.3"), "{md}");
        assert!(!table(&imp).latex().contains('|'), "a pipe is a Markdown cell border and an em dash in LaTeX");

        let text = csv(&imp).unwrap();
        assert_eq!(text.lines().next().unwrap().split(',').collect::<Vec<_>>(), CSV_COLUMNS);
        // Rows: dpo seeds 0, 1, 2, mean; apo_zero seeds 0, 1, 2, mean.
        assert_eq!(field(&text, 4, "seed"), "mean");
        assert_eq!(field(&text, 4, "seeds"), "3");
        let num = |row, name| field(&text, row, name).parse::<f64>().unwrap();
        assert!((num(4, "max_ci95_low") - (10.0 / 3.0 - 1.434_218)).abs() < 1e-5);
        assert!((num(4, "mean_ci95_high") - (7.0 / 3.0 + 1.434_218)).abs() < 1e-5);
        assert_eq!(
            (field(&text, 4, "max_vs_base"), field(&text, 4, "mean_vs_base")),
            ("above_base".into(), "above_base".into())
        );
        assert!((num(4, "abs_reward") - 0.8 / 3.0).abs() < 1e-12);
        assert!((num(2, "abs_reward") - 0.1).abs() < 1e-12, "a seed's row has its own |reward|");
        assert_eq!(field(&text, 8, "mean_vs_base"), "within_noise");
        assert_eq!(field(&text, 8, "abs_reward"), "");
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
