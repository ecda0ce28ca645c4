//! `apogrid contrast FILE.jsonl...`: Table 1's contrastiveness numbers for any preference file
//! (this tool's datasets or a user's prompt/chosen/rejected JSONL, strings or chat lists).
//!
//! Bounded: a pair with a text over `LEVENSHTEIN_CAP` (20,000) characters has its Levenshtein
//! distance computed on the first 20,000 characters of each text, and is counted and flagged
//! (`apogrid::data::contrast` says why).

use std::path::PathBuf;

use anyhow::Context;
use apogrid::data::contrast::{ContrastReport, LEVENSHTEIN_CAP, contrast_triples};
use apogrid::data::triple::read_jsonl;

/// Mean Jaccard similarity (percent, higher = more minimal pairs) and mean Levenshtein distance
/// (characters, lower = more minimal) between chosen and rejected outputs. Texts over 20,000
/// characters are compared on their first 20,000 by Levenshtein (flagged in the output), which
/// bounds a pair at a fraction of a second.
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
    let mut rows: Vec<(String, ContrastReport)> = Vec::new();
    for file in &args.files {
        let triples = read_jsonl(file).context("reading a preference file")?;
        rows.push((file.display().to_string(), contrast_triples(&triples)));
    }
    if args.json {
        for (file, r) in &rows {
            let obj = serde_json::json!({
                "file": file,
                "pairs": r.stats.pairs,
                "mean_jaccard_percent": r.stats.mean_jaccard,
                "mean_levenshtein_chars": r.stats.mean_levenshtein,
                "levenshtein_capped_pairs": r.capped,
            });
            println!("{obj}");
        }
        return Ok(());
    }
    let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(4).max(4);
    println!("{:<width$}  {:>8}  {:>11}  {:>16}", "file", "pairs", "Jaccard (%)", "Levenshtein (ch)");
    for (file, r) in &rows {
        let s = &r.stats;
        println!("{file:<width$}  {:>8}  {:>11.2}  {:>16.1}", s.pairs, s.mean_jaccard, s.mean_levenshtein);
    }
    for (file, r) in rows.iter().filter(|r| r.1.capped > 0) {
        println!(
            "note: {file}: {} pair(s) have a text over {LEVENSHTEIN_CAP} characters; their Levenshtein distance \
             is that of the first {LEVENSHTEIN_CAP} characters of each text",
            r.capped
        );
    }
    Ok(())
}
