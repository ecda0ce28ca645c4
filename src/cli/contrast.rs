//! `apogrid contrast FILE.jsonl...`: Table 1's contrastiveness numbers for any preference file
//! (this tool's datasets or a user's prompt/chosen/rejected JSONL, strings or chat lists).

use std::path::PathBuf;

use anyhow::Context;
use apogrid::data::contrast::{ContrastStats, contrast};
use apogrid::data::triple::read_jsonl;

/// Mean Jaccard similarity (percent, higher = more minimal pairs) and mean Levenshtein distance
/// (characters, lower = more minimal) between chosen and rejected outputs.
#[derive(clap::Args)]
pub struct Args {
    /// JSONL preference files: one {"prompt", "chosen", "rejected"} object per line.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Print one JSON object per file instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let mut rows: Vec<(String, ContrastStats)> = Vec::new();
    for file in &args.files {
        let triples = read_jsonl(file).context("reading a preference file")?;
        rows.push((file.display().to_string(), contrast(&triples)));
    }
    if args.json {
        for (file, s) in &rows {
            let obj = serde_json::json!({
                "file": file,
                "pairs": s.pairs,
                "mean_jaccard_percent": s.mean_jaccard,
                "mean_levenshtein_chars": s.mean_levenshtein,
            });
            println!("{obj}");
        }
        return Ok(());
    }
    let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(4).max(4);
    println!("{:<width$}  {:>8}  {:>11}  {:>16}", "file", "pairs", "Jaccard (%)", "Levenshtein (ch)");
    for (file, s) in &rows {
        println!("{file:<width$}  {:>8}  {:>11.2}  {:>16.1}", s.pairs, s.mean_jaccard, s.mean_levenshtein);
    }
    Ok(())
}
