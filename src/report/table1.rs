//! Table 1: how contrastive each dataset's pairs are (SPEC.md section 1), how many pairs the
//! filters kept, and whether the winners beat the target model's own answers (section 5).

use super::collect::{DatasetInfo, DatasetNumbers};
use super::render::{Align, Cell, MISSING, Table, csv_text, fixed, raw};

/// `table1.csv` columns (an interface: scripts read them by name).
pub const CSV_COLUMNS: [&str; 13] = [
    "dataset",
    "pairs",
    "jaccard",
    "levenshtein",
    "winner_beats_model",
    "model_beats_winner",
    "suggested",
    "considered",
    "kept",
    "dropped_format",
    "dropped_empty",
    "dropped_identical",
    "dropped_length_ratio",
];

/// The display table (built datasets only; the others are named in a note).
pub fn table(datasets: &[DatasetInfo]) -> Table {
    let mut notes = vec![
        "Jaccard: mean token-set overlap of winning and losing outputs, % (higher = more contrastive). \
         Levenshtein: mean character edit distance (lower = more contrastive). \
         Winner > model: share of judged prompts where the winning output beats the target model's own answer, \
         which suggests the anchor (apo_zero if winners win more often, else apo_down)."
            .to_string(),
    ];
    let missing: Vec<&str> = datasets.iter().filter(|d| d.manifest.is_none()).map(|d| d.name.as_str()).collect();
    if !missing.is_empty() {
        notes.push(format!("Not built yet: {}.", missing.join(", ")));
    }
    let rows = datasets
        .iter()
        .filter_map(|d| d.manifest.as_ref().map(|m| (d, m)))
        .map(|(d, m)| {
            let f = &m.filters;
            let dropped = format!("{} / {} / {} / {}", f.format, f.empty, f.identical, f.length_ratio);
            let (wins, loses, suggested) = winner_cells(m);
            vec![
                Cell::new(&d.name),
                Cell::new(&m.builder),
                Cell::new(m.contrast.pairs.to_string()),
                Cell::new(fixed(m.contrast.mean_jaccard, 2)),
                Cell::new(fixed(m.contrast.mean_levenshtein, 1)),
                Cell::new(wins),
                Cell::new(loses),
                Cell::new(suggested),
                Cell::new(format!("{} / {}", f.kept, f.considered)),
                Cell::new(dropped),
            ]
        })
        .collect();
    use Align::{Left as L, Right as R};
    Table {
        name: "Table 1".into(),
        title: "Contrastiveness of the preference datasets.".into(),
        notes,
        header: [
            "Dataset",
            "Builder",
            "Pairs",
            "Jaccard %",
            "Levenshtein",
            "Winner > model",
            "Model > winner",
            "Suggested",
            "Kept / considered",
            "Dropped (format / empty / identical / length)",
        ]
        .map(String::from)
        .to_vec(),
        align: vec![L, L, R, R, R, R, R, L, R, R],
        rows,
        label: "tab:contrast".into(),
    }
}

fn winner_cells(m: &DatasetNumbers) -> (String, String, String) {
    match &m.winner_vs_model {
        Some(w) => (
            format!("{}%", fixed(100.0 * w.fraction, 1)),
            format!("{}%", fixed(100.0 * w.model_fraction(), 1)),
            w.suggested.clone(),
        ),
        None => (MISSING.into(), MISSING.into(), MISSING.into()),
    }
}

/// Table 1 as Markdown, for the terminal (e.g. after `apogrid run GRID --only datasets`):
/// `table1_markdown(&report::collect(&grid, &plan, &store).datasets)`.
pub fn table1_markdown(datasets: &[DatasetInfo]) -> String {
    table(datasets).markdown()
}

/// `table1.csv`: one row per built dataset, raw numbers (fractions 0..1).
pub fn csv(datasets: &[DatasetInfo]) -> Result<String, csv::Error> {
    let rows: Vec<Vec<String>> = datasets
        .iter()
        .filter_map(|d| d.manifest.as_ref().map(|m| (d, m)))
        .map(|(d, m)| {
            let f = &m.filters;
            let w = m.winner_vs_model.as_ref();
            vec![
                d.name.clone(),
                m.contrast.pairs.to_string(),
                raw(m.contrast.mean_jaccard),
                raw(m.contrast.mean_levenshtein),
                w.map(|w| raw(w.fraction)).unwrap_or_default(),
                w.map(|w| raw(w.model_fraction())).unwrap_or_default(),
                w.map(|w| w.suggested.clone()).unwrap_or_default(),
                f.considered.to_string(),
                f.kept.to_string(),
                f.format.to_string(),
                f.empty.to_string(),
                f.identical.to_string(),
                f.length_ratio.to_string(),
            ]
        })
        .collect();
    csv_text(&CSV_COLUMNS.map(String::from), &rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::builders::{BuilderKind, DatasetKind};
    use crate::report::collect::{ContrastNumbers, FilterNumbers, WinnerNumbers};
    use crate::report::table2::tests::unbuilt;

    pub fn dataset(name: &str, jaccard: f64) -> DatasetInfo {
        DatasetInfo {
            name: name.into(),
            kind: DatasetKind::Build(BuilderKind::Clair),
            manifest: Some(DatasetNumbers {
                builder: "clair".into(),
                train: 90,
                heldout: 10,
                filters: FilterNumbers {
                    considered: 120,
                    format: 5,
                    empty: 1,
                    identical: 12,
                    length_ratio: 2,
                    kept: 100,
                },
                contrast: ContrastNumbers { pairs: 100, mean_jaccard: jaccard, mean_levenshtein: 1108.04 },
                winner_vs_model: Some(WinnerNumbers {
                    compared: 100,
                    winner_better: 60,
                    model_better: 25,
                    ties: 15,
                    fraction: 0.6,
                    model_fraction: Some(0.25),
                    suggested: "apo_zero".into(),
                }),
            }),
        }
    }

    #[test]
    fn csv_has_the_interface_columns_and_raw_numbers() {
        let text = csv(&[dataset("clair", 43.11), unbuilt("late")]).unwrap();
        let mut lines = text.lines();
        assert_eq!(
            lines.next().unwrap(),
            "dataset,pairs,jaccard,levenshtein,winner_beats_model,model_beats_winner,suggested,considered,kept,\
             dropped_format,dropped_empty,dropped_identical,dropped_length_ratio"
        );
        assert_eq!(lines.next().unwrap(), "clair,100,43.11,1108.04,0.6,0.25,apo_zero,120,100,5,1,12,2");
        assert_eq!(lines.next(), None);
    }

    #[test]
    fn markdown_shows_built_datasets_and_names_the_missing() {
        let md = table1_markdown(&[dataset("clair", 43.11), unbuilt("late")]);
        assert!(md.starts_with("**Table 1.**"));
        assert!(md.contains("Not built yet: late."));
        let row = md.lines().find(|l| l.starts_with("| clair")).unwrap();
        for want in ["43.11", "1108.0", "60.0%", "25.0%", "apo_zero", "100 / 120", "5 / 1 / 12 / 2"] {
            assert!(row.contains(want), "{want} missing from {row}");
        }
    }
}
