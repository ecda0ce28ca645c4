//! `apogrid table GRID`: regenerate every report file of a grid from its store into
//! `<results>/<grid name>/` and print Tables 1 and 2.

use std::path::PathBuf;

use apogrid::report::{self, Format};

/// Regenerate all reports (tables, tidy CSVs, figures) from the store, whatever part of the
/// grid is done, and print Table 1 and Table 2.
#[derive(clap::Args)]
pub struct Args {
    /// The grid file.
    grid: PathBuf,
    /// How to print the tables (the files are written in every format).
    #[arg(long, value_enum, default_value = "md")]
    format: PrintFormat,
    /// Artifact store (default: the grid's, `results/.cache`).
    #[arg(long)]
    store: Option<PathBuf>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum PrintFormat {
    Md,
    Csv,
    Latex,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let loaded = super::common::load(&args.grid, args.store.as_ref())?;
    let published = loaded.publish()?;
    let format = match args.format {
        PrintFormat::Md => Format::Markdown,
        PrintFormat::Csv => Format::Csv,
        PrintFormat::Latex => Format::Latex,
    };
    let mut printed = Vec::new();
    for n in [1, 2] {
        if let Some(text) = report::table_text(&published.collected, n, format)? {
            printed.push(text);
        }
    }
    println!("{}", printed.join("\n"));
    eprintln!("wrote {} report files to {}", published.files, published.dir.display());
    Ok(())
}
