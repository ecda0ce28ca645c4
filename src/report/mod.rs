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
//! (only for grids with unpaired objectives), `claims.{md,csv}` (the paper's claims checked on
//! the grid, [`claims`]), `epochs.csv`, `steps.csv`, `report.md` (all tables, the claims and
//! figures on one page), `report.html` (the same as one self-contained file, [`html`]),
//! `figures/{figure4,scores}_<dataset>.{svg,png}` and each training run's TensorBoard view
//! under `tensorboard/` ([`tensorboard`]).

pub mod claims;
pub mod collect;
pub mod figures;
pub mod html;
pub mod interval;
pub mod regime;
pub mod render;
pub mod stats;
pub mod student_t;
pub mod table1;
pub mod table2;
pub mod table4;
pub mod table5;
pub mod tensorboard;
pub mod tidy;
pub mod vs_base;

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
    #[error("writing a TensorBoard view: {0}")]
    Tensorboard(#[from] crate::tensorboard::ViewError),
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
    let mut others = Vec::new();
    for (i, name) in collected.benchmarks.iter().enumerate().skip(1) {
        let other = collect::collect_benchmark(grid, plan, store, i);
        for (format, ext) in [(Format::Markdown, "md"), (Format::Csv, "csv"), (Format::Latex, "tex")] {
            if let Some(text) = table_text(&other, 2, format)? {
                files.push(ReportFile::text(format!("table2_{name}.{ext}"), text));
            }
        }
        others.push((name.clone(), other));
    }
    // The one-file report, with the figures just drawn inlined.
    let figures: Vec<(String, String)> = files
        .iter()
        .filter(|f| f.path.starts_with("figures") && f.path.extension().is_some_and(|e| e == "svg"))
        .map(|f| {
            let name = f.path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            (name, String::from_utf8_lossy(&f.bytes).into_owned())
        })
        .collect();
    let page = html::page(&html::Page {
        collected: &collected,
        others: &others,
        figures: &figures,
        grid_path: grid.path.display().to_string(),
        grid_text: std::fs::read_to_string(&grid.path).map_err(|e| e.to_string()),
        warnings: warning_lines(&collected),
    });
    files.push(ReportFile::text("report.html", page));
    let dir = results_dir(grid);
    // Temp files of writers killed mid-write (`.NAME.PID.tmp`) are left by nobody alive.
    if dir.exists() {
        crate::atomic_file::remove_dead_temp_files(&dir)
            .map_err(|source| ReportError::Io { path: dir.clone(), source })?;
    }
    write_files(&dir, &files)?;
    // The runs' TensorBoard views too, so one missed by a crash (or a store filled before
    // views existed) is made here; unreadable artifacts are already among the warnings.
    let mut collected = collected;
    for w in tensorboard::refresh_all(plan, store)? {
        if !collected.warnings.contains(&w) {
            collected.warnings.push(w);
        }
    }
    Ok(Published { dir, files: files.len(), collected })
}

/// Where a grid's reports go: `<results>/<grid name>/`.
pub fn results_dir(grid: &Grid) -> PathBuf {
    grid.results_dir()
}

/// The report's table numbers, in page order.
pub const TABLES: [u8; 4] = [1, 2, 4, 5];

/// Table `number` (1, 2, 4 or 5) in `format`; `None` for another number, or for Table 5 when
/// the grid has no unpaired objective.
pub fn table_text(c: &Collected, number: u8, format: Format) -> Result<Option<String>, ReportError> {
    let imp = improvement(c);
    let text = match (number, format) {
        (_, Format::Csv) if display_table(c, &imp, number).is_none() => return Ok(None),
        (1, Format::Csv) => table1::csv(&c.datasets)?,
        (2, Format::Csv) => table2::csv(&imp)?,
        (4, Format::Csv) => table4::csv(&imp)?,
        (5, Format::Csv) => table5::csv(&imp)?,
        (_, Format::Latex) => return Ok(display_table(c, &imp, number).map(|t| t.latex())),
        _ => return Ok(display_table(c, &imp, number).map(|t| t.markdown())),
    };
    Ok(Some(text))
}

/// Table `number` for display (Markdown, LaTeX, HTML); `None` for another number, or for
/// Table 5 when the grid has no unpaired objective.
pub fn display_table(c: &Collected, imp: &Improvement, number: u8) -> Option<render::Table> {
    match number {
        1 => Some(table1::table(&c.datasets)),
        2 => Some(table2::table(imp)),
        4 => Some(table4::table(imp)),
        5 if table5::applies(imp) => Some(table5::table(imp)),
        _ => None,
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
    let checked = claims::claims(c);
    let claims_md = claims::table(&checked).markdown();
    page.push_str(&claims_md);
    page.push('\n');
    files.push(ReportFile::text("claims.md", claims_md));
    files.push(ReportFile::text("claims.csv", claims::csv(&checked)?));
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
    let diverged: Vec<String> = diverged(c).iter().map(|d| format!("- {d}")).collect();
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

/// One line per divergence warning of a run: `clair/dpo (seed 3): <warning>`.
fn diverged(c: &Collected) -> Vec<String> {
    let trained = c.runs.iter().filter_map(|r| r.train.as_ref().map(|t| (r, t)));
    trained
        .flat_map(|(r, t)| {
            t.warnings.iter().map(move |w| format!("{}/{} (seed {}): {w}", r.dataset, r.objective, r.seed))
        })
        .collect()
}

/// The HTML report's warnings: diverged runs (their Table 2 rows are not to be trusted) and
/// artifacts that could not be read, as `report.md` lists them.
fn warning_lines(c: &Collected) -> Vec<String> {
    let diverged = diverged(c).into_iter().map(|d| format!("diverged, its Table 2 row is not to be trusted: {d}"));
    diverged.chain(c.warnings.iter().map(|w| format!("could not be read: {w}"))).collect()
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
    use crate::report::collect::RunData;
    use crate::report::table2::tests::{collected, run, unbuilt};

    #[test]
    fn a_partial_grid_renders_every_file_without_panicking() {
        // Base not evaluated, one dataset not built, a run with one of three epochs evaluated,
        // one with none.
        let mut partial: RunData = run("clair", "kto", 0, &[41.0]);
        partial.evals[0].heldout = None;
        let mut c = collected(vec![0], vec![partial, run("clair", "apo_zero", 0, &[])]);
        c.base = None;
        c.datasets = vec![unbuilt("clair")];
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
            "claims.md",
            "claims.csv",
            "epochs.csv",
            "steps.csv",
            "report.md",
        ] {
            assert!(names.iter().any(|n| n == want), "{want} missing from {names:?}");
        }
        let page = files.iter().find(|f| f.path == Path::new("report.md")).unwrap();
        let page = String::from_utf8_lossy(&page.bytes);
        assert!(page.find("**Table 5.**") < page.find("**Claims.**") && page.contains("not measured"), "{page}");
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
