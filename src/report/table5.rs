//! Table 5: the unpaired objectives (`apo_zero_unpaired`, `kto`; paper Appendix C) with the
//! same improvement numbers as Table 2 and their training time. Written only when the grid has
//! unpaired objectives.

use super::render::{Align, Cell, MISSING, Table, csv_text, raw};
use super::stats::{hms, mean_std};
use super::table2::{self, Improvement, Row};

/// `table5.csv` = `table2.csv`'s columns plus `seconds` (wall time of the training run;
/// for `mean` rows, the mean over seeds).
pub fn csv_columns() -> Vec<String> {
    let mut c: Vec<String> = table2::CSV_COLUMNS.map(String::from).to_vec();
    c.push("seconds".into());
    c
}

pub fn rows(imp: &Improvement) -> Vec<&Row> {
    // The unpaired objectives (`apo_zero_unpaired`, `kto`).
    imp.rows.iter().filter(|r| !r.kind.is_paired()).collect()
}

/// Whether the grid has any unpaired objective (then Table 5 is written).
pub fn applies(imp: &Improvement) -> bool {
    !rows(imp).is_empty()
}

/// Training wall times of a row's finished runs, by seed.
fn seconds(row: &Row) -> Vec<(u64, f64)> {
    row.runs.iter().filter_map(|r| r.train.as_ref().map(|t| (r.seed, t.seconds))).collect()
}

pub fn table(imp: &Improvement) -> Table {
    let several = imp.seeds > 1;
    let rows = rows(imp)
        .into_iter()
        .map(|r| {
            let mut cells = vec![Cell::new(&r.dataset), Cell::bold(&r.objective, r.best)];
            cells.extend(table2::number_cells(r, several));
            let secs: Vec<f64> = seconds(r).into_iter().map(|(_, s)| s).collect();
            cells.push(Cell::new(if secs.is_empty() { MISSING.to_string() } else { hms(mean_std(&secs, 1).0) }));
            cells
        })
        .collect();
    let mut notes = table2::notes(imp);
    notes.push("Training time: wall time of the training run (mean over seeds), without evaluations.".into());
    use Align::{Left as L, Right as R};
    Table {
        name: "Table 5".into(),
        title: "Unpaired objectives: improvement over the base model and training time.".into(),
        notes,
        header: ["Dataset", "Objective", "Max", "Mean (std)", "Length", "Best epoch", "Epochs", "Training time"]
            .map(String::from)
            .to_vec(),
        align: vec![L, L, R, R, R, R, R, R],
        rows,
        label: "tab:unpaired".into(),
    }
}

pub fn csv(imp: &Improvement) -> Result<String, csv::Error> {
    let mut out = Vec::new();
    for r in rows(imp) {
        let secs = seconds(r);
        for mut line in table2::csv_rows(imp, std::slice::from_ref(r)) {
            let s = match line[7].as_str() {
                "mean" => mean_std(&secs.iter().map(|(_, s)| *s).collect::<Vec<_>>(), 1).0,
                seed => secs.iter().find(|(s, _)| s.to_string() == seed).map(|(_, t)| *t).unwrap_or(f64::NAN),
            };
            line.push(raw(s));
            out.push(line);
        }
    }
    csv_text(&csv_columns(), &out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::collect::TrainInfo;
    use crate::report::table2::improvement;
    use crate::report::table2::tests::{collected, run};

    #[test]
    fn only_unpaired_objectives_with_their_training_time() {
        let mut kto = run("clair", "kto", 0, &[42.0, 41.0, 40.0]);
        kto.train = Some(TrainInfo { seconds: 3723.0, updates: 10, steps: vec![], warnings: vec![] });
        let c = collected(vec![0], vec![run("clair", "dpo", 0, &[45.0]), kto]);
        let imp = improvement(&c);
        assert!(applies(&imp));
        let md = table(&imp).markdown();
        assert!(
            md.lines().any(|l| l.starts_with("| clair   | kto") && l.contains("+2.00") && l.contains("1h 02m 03s")),
            "{md}"
        );
        assert!(!md.contains("| dpo"));
        let text = csv(&imp).unwrap();
        assert!(text.lines().next().unwrap().ends_with(",seconds"));
        assert!(text.lines().nth(1).unwrap().starts_with("clair,kto,2,") && text.ends_with(",3723\n"), "{text}");
        let paired = improvement(&collected(vec![0], vec![run("clair", "dpo", 0, &[45.0])]));
        assert!(!applies(&paired));
    }
}
