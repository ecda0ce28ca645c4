//! The reports: Tables 1, 2, 4 and 5 (Markdown, CSV, LaTeX), tidy CSVs of every evaluation and
//! training step, and figures (SVG, PNG), made from the store alone (SPEC.md section 4).
//!
//! [`collect`] reads what a grid's finished tasks left in the store (a partial grid gives
//! partial tables); the table modules are pure functions of that; [`render_all`] turns it into
//! files in memory and [`write_files`] writes them atomically into a folder. [`publish`] does
//! all three into `<results>/<grid name>/`: it is the one report writer, called after every
//! `apogrid run` and by `apogrid table`. Writing reports never changes the store.
//!
//! Files (names are an interface): `table1.{md,csv,tex}`, `table2.*`, `table4.*`, `table5.*`
//! (only for grids with unpaired objectives), `epochs.csv`, `steps.csv`, `report.md` (all tables
//! and figures on one page) and `figures/{figure4,scores}_<dataset>.{svg,png}`.

pub mod collect;
pub mod figures;
pub mod render;
pub mod stats;
pub mod table1;
pub mod table2;
pub mod table4;
pub mod table5;
pub mod tidy;

use std::path::{Path, PathBuf};

pub use collect::{Collected, DatasetInfo, collect};
pub use table1::table1_markdown;
pub use table2::{Improvement, improvement};

use crate::grid::Grid;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("formatting a CSV table: {0}")]
    Csv(#[from] csv::Error),
    #[error("drawing figure {0}")]
    Figure(String),
}

/// One output file, `path` relative to the report folder.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportFile {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
}

impl ReportFile {
    fn text(path: impl Into<PathBuf>, text: String) -> ReportFile {
        ReportFile { path: path.into(), bytes: text.into_bytes() }
    }
}

/// Output formats of the tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Csv,
    Latex,
}

/// What [`publish`] wrote.
pub struct Published {
    pub dir: PathBuf,
    pub files: usize,
    pub collected: Collected,
}

/// Collects the store's results for `plan`, renders every report and writes it into
/// `<results>/<grid name>/`.
pub fn publish(grid: &Grid, plan: &crate::plan::Plan, store: &crate::store::Store) -> Result<Published, ReportError> {
    let collected = collect(grid, plan, store);
    let mut files = render_all(&collected)?;
    // Every other benchmark gets its own Table 2.
    for (i, name) in collected.benchmarks.iter().enumerate().skip(1) {
        let other = collect::collect_benchmark(grid, plan, store, i);
        for (format, ext) in [(Format::Markdown, "md"), (Format::Csv, "csv"), (Format::Latex, "tex")] {
            if let Some(text) = table_text(&other, 2, format)? {
                files.push(ReportFile::text(format!("table2_{name}.{ext}"), text));
            }
        }
    }
    let dir = results_dir(grid);
    // Temp files of writers killed mid-write (`.NAME.PID.tmp`) are left by nobody alive.
    if dir.exists() {
        crate::atomic_file::remove_dead_temp_files(&dir)
            .map_err(|source| ReportError::Io { path: dir.clone(), source })?;
    }
    write_files(&dir, &files)?;
    Ok(Published { dir, files: files.len(), collected })
}

/// Where a grid's reports go: `<results>/<grid name>/`.
pub fn results_dir(grid: &Grid) -> PathBuf {
    grid.results.join(&grid.name)
}

/// Table `number` (1, 2, 4 or 5) in `format`; `None` for another number, or for Table 5 when
/// the grid has no unpaired objective.
pub fn table_text(c: &Collected, number: u8, format: Format) -> Result<Option<String>, ReportError> {
    let imp = improvement(c);
    let text = match (number, format) {
        (1, Format::Csv) => table1::csv(&c.datasets)?,
        (1, f) => show(table1::table(&c.datasets), f),
        (2, Format::Csv) => table2::csv(&imp)?,
        (2, f) => show(table2::table(&imp), f),
        (4, Format::Csv) => table4::csv(&imp)?,
        (4, f) => show(table4::table(&imp), f),
        (5, _) if !table5::applies(&imp) => return Ok(None),
        (5, Format::Csv) => table5::csv(&imp)?,
        (5, f) => show(table5::table(&imp), f),
        _ => return Ok(None),
    };
    Ok(Some(text))
}

fn show(t: render::Table, format: Format) -> String {
    match format {
        Format::Latex => t.latex(),
        _ => t.markdown(),
    }
}

/// Every report file for a collection, in memory.
pub fn render_all(c: &Collected) -> Result<Vec<ReportFile>, ReportError> {
    let mut files = Vec::new();
    let mut page = format!("# Report of grid `{}`\n\n", c.grid);
    if c.benchmarks.len() > 1 {
        let others: Vec<String> = c.benchmarks[1..].iter().map(|b| format!("`table2_{b}`")).collect();
        page.push_str(&format!(
            "Benchmarks: {}. Tables 2 and 4 and the figures use the headline benchmark, `{}`; the others' Table 2 is in {}.\n\n",
            c.benchmarks.join(", "),
            c.benchmark,
            others.join(", ")
        ));
    }
    for n in [1u8, 2, 4, 5] {
        for (format, ext) in [(Format::Markdown, "md"), (Format::Csv, "csv"), (Format::Latex, "tex")] {
            if let Some(text) = table_text(c, n, format)? {
                if format == Format::Markdown {
                    page.push_str(&text);
                    page.push('\n');
                }
                files.push(ReportFile::text(format!("table{n}.{ext}"), text));
            }
        }
    }
    files.push(ReportFile::text("epochs.csv", tidy::epochs_csv(c)?));
    files.push(ReportFile::text("steps.csv", tidy::steps_csv(c)?));
    let figures = figures::figures(c);
    if !figures.is_empty() {
        page.push_str("## Figures\n\n");
    }
    for fig in &figures {
        let r = figures::render(fig).map_err(ReportError::Figure)?;
        files.push(ReportFile::text(format!("figures/{}.svg", fig.name), r.svg));
        files.push(ReportFile { path: PathBuf::from(format!("figures/{}.png", fig.name)), bytes: r.png });
        page.push_str(&format!("![{0}](figures/{0}.png)\n\n", fig.name));
    }
    let diverged: Vec<String> = c
        .runs
        .iter()
        .filter_map(|r| r.train.as_ref().map(|t| (r, t)))
        .flat_map(|(r, t)| {
            t.warnings.iter().map(move |w| format!("- {}/{} (seed {}): {w}", r.dataset, r.objective, r.seed))
        })
        .collect();
    if !diverged.is_empty() {
        page.push_str(
            "## Training warnings\n\nThese runs look diverged; their rows in Table 2 are not to be trusted.\n\n",
        );
        page.push_str(&diverged.join("\n"));
        page.push_str("\n\n");
    }
    if !c.warnings.is_empty() {
        page.push_str("## Artifacts that could not be read\n\n");
        for w in &c.warnings {
            page.push_str(&format!("- {w}\n"));
        }
    }
    files.push(ReportFile::text("report.md", page));
    Ok(files)
}

/// Writes files under `dir` (creating folders), each atomically (temp file, then rename).
pub fn write_files(dir: &Path, files: &[ReportFile]) -> Result<(), ReportError> {
    for f in files {
        let path = dir.join(&f.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| ReportError::Io { path: parent.to_path_buf(), source })?;
        }
        crate::store::atomic::write(&path, &f.bytes)
            .map_err(|source| ReportError::Io { path: path.clone(), source })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::collect::{DatasetInfo, RunData};
    use crate::report::table2::tests::{collected, run};

    #[test]
    fn a_partial_grid_renders_every_file_without_panicking() {
        // Base not evaluated, one dataset not built, a run with one of three epochs evaluated,
        // one with none.
        let mut partial: RunData = run("clair", "kto", 0, &[41.0]);
        partial.evals[0].heldout = None;
        let mut c = collected(vec![0], vec![partial, run("clair", "apo_zero", 0, &[])]);
        c.base = None;
        c.datasets = vec![DatasetInfo { name: "clair".into(), manifest: None }];
        let files = render_all(&c).unwrap();
        let names: Vec<String> = files.iter().map(|f| f.path.display().to_string()).collect();
        for want in [
            "table1.md",
            "table1.csv",
            "table1.tex",
            "table2.md",
            "table2.csv",
            "table2.tex",
            "table4.csv",
            "table5.md",
            "epochs.csv",
            "steps.csv",
            "report.md",
        ] {
            assert!(names.iter().any(|n| n == want), "{want} missing from {names:?}");
        }
        // Nothing at all: still every table file.
        let empty = render_all(&Collected::default()).unwrap();
        assert!(empty.iter().any(|f| f.path == Path::new("table2.md")));
        assert!(!empty.iter().any(|f| f.path.starts_with("figures")));
    }

    #[test]
    fn files_are_written_under_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let files = vec![ReportFile::text("figures/a.svg", "<svg/>".into()), ReportFile::text("t.md", "x".into())];
        write_files(dir.path(), &files).unwrap();
        assert_eq!(std::fs::read_to_string(dir.path().join("figures/a.svg")).unwrap(), "<svg/>");
        assert_eq!(std::fs::read_to_string(dir.path().join("t.md")).unwrap(), "x");
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(left.is_empty());
    }
}
