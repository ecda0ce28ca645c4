//! Table 4: per-family (sub-benchmark) scores of the base model and of each dataset's best
//! cell (Table 2's bold row), taken at that cell's best checkpoint (highest overall score).
//! With several seeds, each seed contributes its own best checkpoint and the display shows the
//! mean over seeds; `table4.csv` keeps the per-seed rows and adds `mean` rows.

use super::collect::EvalPoint;
use super::render::{Align, Cell, MISSING, Table, csv_text, fixed, raw};
use super::stats::best_checkpoint;
use super::table2::Improvement;

/// The fixed leading `table4.csv` columns; one column per family follows, named by family.
pub const CSV_LEAD: [&str; 6] = ["dataset", "objective", "seed", "epoch", "overall", "length"];

/// One line of the table: a model and its scores.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// `base` for the base model.
    pub dataset: String,
    pub objective: String,
    /// `(seed, best checkpoint)` per seed; one entry (seed 0) for the base model.
    pub checkpoints: Vec<(Option<u64>, EvalPoint)>,
}

impl Line {
    fn mean(&self, f: &dyn Fn(&EvalPoint) -> Option<f64>) -> f64 {
        let xs: Vec<f64> = self.checkpoints.iter().filter_map(|(_, e)| f(e)).collect();
        if xs.is_empty() { f64::NAN } else { xs.iter().sum::<f64>() / xs.len() as f64 }
    }
}

/// The families, in the order the base model (or else the first checkpoint) lists them.
pub fn families(lines: &[Line]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in lines {
        for (_, e) in &l.checkpoints {
            for (f, _) in &e.per_family {
                if !out.contains(f) {
                    out.push(f.clone());
                }
            }
        }
    }
    out
}

pub fn lines(imp: &Improvement) -> Vec<Line> {
    let mut out = Vec::new();
    if let Some(b) = &imp.base {
        out.push(Line { dataset: "base".into(), objective: String::new(), checkpoints: vec![(None, b.clone())] });
    }
    for row in imp.rows.iter().filter(|r| r.best) {
        let checkpoints = row
            .runs
            .iter()
            .filter_map(|run| {
                let evals: Vec<&EvalPoint> = run.evals.iter().filter(|e| e.epoch >= 1).collect();
                best_checkpoint(&evals).map(|e| (Some(run.seed), e.clone()))
            })
            .collect::<Vec<_>>();
        if !checkpoints.is_empty() {
            out.push(Line { dataset: row.dataset.clone(), objective: row.objective.clone(), checkpoints });
        }
    }
    out
}

fn family_score(e: &EvalPoint, family: &str) -> Option<f64> {
    e.per_family.iter().find(|(f, _)| f == family).map(|(_, a)| *a)
}

pub fn table(imp: &Improvement) -> Table {
    let lines = lines(imp);
    let families = families(&lines);
    let several = imp.seeds > 1;
    let rows = lines
        .iter()
        .map(|l| {
            let model = if l.dataset == "base" {
                "base model (epoch 0)".to_string()
            } else if several {
                let epochs: Vec<String> = l.checkpoints.iter().map(|(_, e)| e.epoch.to_string()).collect();
                format!("{} x {} (epochs {})", l.dataset, l.objective, epochs.join(", "))
            } else {
                format!("{} x {} (epoch {})", l.dataset, l.objective, l.checkpoints[0].1.epoch)
            };
            let mut cells = vec![Cell::new(model), Cell::new(fixed(l.mean(&|e| Some(e.score)), 1))];
            for f in &families {
                let v = l.mean(&|e| family_score(e, f));
                cells.push(Cell::new(if v.is_nan() { MISSING.to_string() } else { fixed(v, 1) }));
            }
            cells
        })
        .collect();
    let mut notes = vec!["Accuracy per task family, %. Each dataset's best cell (Table 2) at its best checkpoint (highest overall score).".to_string()];
    if several {
        notes.push(format!("Mean over the grid's {} seeds, each at its own best checkpoint.", imp.seeds));
    }
    let mut header = vec!["Model".to_string(), "Overall".to_string()];
    header.extend(families.iter().cloned());
    let mut align = vec![Align::Left];
    align.extend(std::iter::repeat_n(Align::Right, families.len() + 1));
    Table {
        name: "Table 4".into(),
        title: "Per-family scores of the base model and of each dataset's best cell.".into(),
        notes,
        header,
        align,
        rows,
        label: "tab:families".into(),
    }
}

pub fn csv(imp: &Improvement) -> Result<String, csv::Error> {
    let lines = lines(imp);
    let families = families(&lines);
    let mut header: Vec<String> = CSV_LEAD.map(String::from).to_vec();
    header.extend(families.iter().cloned());
    let mut rows = Vec::new();
    let row = |l: &Line, seed: String, epoch: String, f: &dyn Fn(&dyn Fn(&EvalPoint) -> Option<f64>) -> f64| {
        let mut r = vec![
            l.dataset.clone(),
            l.objective.clone(),
            seed,
            epoch,
            raw(f(&|e| Some(e.score))),
            raw(f(&|e| Some(e.mean_length))),
        ];
        r.extend(families.iter().map(|fam| raw(f(&|e| family_score(e, fam)))));
        r
    };
    for l in &lines {
        for (seed, e) in &l.checkpoints {
            let one = |g: &dyn Fn(&EvalPoint) -> Option<f64>| g(e).unwrap_or(f64::NAN);
            rows.push(row(l, seed.map(|s| s.to_string()).unwrap_or_default(), e.epoch.to_string(), &one));
        }
        if imp.seeds > 1 && l.dataset != "base" {
            rows.push(row(l, "mean".into(), String::new(), &|g: &dyn Fn(&EvalPoint) -> Option<f64>| l.mean(g)));
        }
    }
    csv_text(&header, &rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::table2::improvement;
    use crate::report::table2::tests::{collected, run};

    #[test]
    fn base_and_the_best_cell_at_its_best_checkpoint() {
        let c = collected(
            vec![0],
            vec![run("clair", "dpo", 0, &[41.0, 43.0, 39.0]), run("clair", "sft", 0, &[40.0, 40.5, 41.0])],
        );
        let imp = improvement(&c);
        let md = table(&imp).markdown();
        assert!(md.contains("| base model (epoch 0)  |"), "{md}");
        assert!(md.lines().any(|l| l.starts_with("| clair x dpo (epoch 2)") && l.contains("43.0")), "{md}");
        assert!(!md.contains("sft"));
        let text = csv(&imp).unwrap();
        let mut it = text.lines();
        assert_eq!(it.next().unwrap(), "dataset,objective,seed,epoch,overall,length,arithmetic");
        assert_eq!(it.next().unwrap(), "base,,,0,40,100,40");
        assert_eq!(it.next().unwrap(), "clair,dpo,0,2,43,101,43");
    }

    #[test]
    fn several_seeds_average_their_own_best_checkpoints() {
        let c =
            collected(vec![1, 2], vec![run("clair", "dpo", 1, &[41.0, 43.0]), run("clair", "dpo", 2, &[46.0, 42.0])]);
        let imp = improvement(&c);
        let md = table(&imp).markdown();
        assert!(md.lines().any(|l| l.starts_with("| clair x dpo (epochs 2, 1)") && l.contains("44.5")), "{md}");
        let text = csv(&imp).unwrap();
        assert!(text.lines().any(|l| l == "clair,dpo,mean,,44.5,100.5,44.5"), "{text}");
    }
}
