//! `prompts`: the prompts every dataset builder uses, from the world or a JSONL file.
//!
//! From a file with more prompts than `count`, a seeded uniform subset of `count` lines is
//! taken, in file order (a file sorted by source or length would otherwise give a biased
//! first `count`). The file is read twice, line by line: once to count its prompt lines, once
//! to parse only the chosen ones, so memory holds `count` prompts whatever the file's size.

use std::io::{BufRead, BufReader};

use anyhow::{Context, bail};
use rand::seq::index::sample;
use serde_json::{Value, json};

use crate::agents::file::completions_of;
use crate::artifacts::{CompletionRatings, Completions, JsonArtifact, Prompts};
use crate::data::ratings::Ratings;
use crate::data::seed;
use crate::exec::TaskContext;
use crate::plan::inputs::PromptsInput;
use crate::world::corpus::preference_prompts;

pub fn run(input: &PromptsInput, ctx: &TaskContext) -> anyhow::Result<Value> {
    let prompts = match input {
        PromptsInput::World { count, seed } => preference_prompts(*seed, *count),
        PromptsInput::File { path, count, seed, field, completions_field, ratings, .. } => {
            let fields = Fields { prompt: field, completions: completions_field.as_deref(), ratings: *ratings };
            let read = read_file(path, *count, *seed, &fields)?;
            if let Some(c) = read.completions {
                Completions(c).write(&ctx.out)?;
            }
            if let Some(r) = read.ratings {
                CompletionRatings(r).write(&ctx.out)?;
            }
            read.prompts
        }
    };
    let n = prompts.len();
    Prompts(prompts).write(&ctx.out)?;
    Ok(json!({ "prompts": n }))
}

/// What to read from each line.
struct Fields<'a> {
    prompt: &'a str,
    /// Other models' completions (they feed the off-policy datasets).
    completions: Option<&'a str>,
    /// And their ratings.
    ratings: bool,
}

/// The chosen lines' prompts, and their completions and ratings where asked for.
#[derive(Debug)]
struct FileRead {
    prompts: Vec<String>,
    completions: Option<Vec<Vec<String>>>,
    ratings: Option<Vec<Vec<Ratings>>>,
}

/// Indices (0-based, among `n` lines) of a seeded uniform subset of `count`, ascending; all of
/// them when `count >= n`.
fn chosen(n: usize, count: usize, seed: u64) -> Vec<usize> {
    if count >= n {
        return (0..n).collect();
    }
    let mut picked = sample(&mut seed::rng(seed, "prompts/subset"), n, count).into_vec();
    picked.sort_unstable();
    picked
}

/// The non-blank lines of `path`, with their 1-based line numbers, streamed.
fn prompt_lines(path: &str) -> anyhow::Result<impl Iterator<Item = anyhow::Result<(usize, String)>>> {
    let file = std::fs::File::open(path).with_context(|| format!("reading the prompts file {path}"))?;
    let path = path.to_string();
    Ok(BufReader::new(file)
        .lines()
        .enumerate()
        .map(move |(i, line)| line.map(|l| (i + 1, l)).with_context(|| format!("{path}:{}: cannot read", i + 1)))
        .filter(|r| r.as_ref().map_or(true, |(_, l)| !l.trim().is_empty())))
}

fn read_file(path: &str, count: usize, seed: u64, fields: &Fields) -> anyhow::Result<FileRead> {
    let mut n = 0;
    for line in prompt_lines(path)? {
        line?;
        n += 1;
    }
    let picked = chosen(n, count, seed);
    let mut out = FileRead {
        prompts: Vec::with_capacity(picked.len()),
        completions: fields.completions.map(|_| Vec::new()),
        ratings: fields.ratings.then(Vec::new),
    };
    let mut next = picked.iter().copied().peekable();
    for (index, line) in prompt_lines(path)?.enumerate() {
        if next.peek() != Some(&index) {
            continue;
        }
        next.next();
        let (number, line) = line?;
        let at = |m: String| anyhow::anyhow!("{path}:{number}: {m}");
        let v: Value = serde_json::from_str(&line).map_err(|e| at(format!("not JSON: {e}")))?;
        let Some(s) = v.get(fields.prompt).and_then(Value::as_str) else {
            bail!(at(format!("expected a string field `{}`", fields.prompt)));
        };
        out.prompts.push(s.to_string());
        if let (Some(f), Some(all)) = (fields.completions, out.completions.as_mut()) {
            all.push(completions_of(&v[f]).map_err(|m| at(format!("field `{f}`: {m}")))?);
            if let Some(ratings) = out.ratings.as_mut() {
                let list = v[f].as_array().map(Vec::as_slice).unwrap_or_default();
                let r: Result<Vec<Ratings>, String> = list
                    .iter()
                    .enumerate()
                    .map(|(i, c)| Ratings::of(c).map_err(|m| format!("field `{f}`, completion {i}: {m}")))
                    .collect();
                ratings.push(r.map_err(at)?);
            }
        }
        if next.peek().is_none() {
            break;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_smaller_count_is_a_seeded_uniform_subset_in_file_order() {
        assert_eq!(chosen(5, 9, 1), [0, 1, 2, 3, 4]);
        let a = chosen(100, 10, 1);
        assert_eq!(a.len(), 10);
        assert!(a.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(a, chosen(100, 10, 1));
        assert_ne!(a, chosen(100, 10, 2));
        assert_ne!(a, (0..10).collect::<Vec<_>>(), "not the first lines");
        // Uniform: over many seeds, every line is picked about count/n of the time.
        let mut hits = [0u32; 20];
        for s in 0..4000 {
            for i in chosen(20, 5, s) {
                hits[i] += 1;
            }
        }
        assert!(hits.iter().all(|&h| (850..1150).contains(&h)), "{hits:?}");
    }

    #[test]
    fn chosen_lines_are_parsed_with_their_ratings_and_errors_name_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.jsonl");
        let line = |i: usize| {
            json!({ "prompt": format!("p{i}"), "completions": [
                { "response": format!("a{i}"), "overall_score": i },
                { "response": format!("b{i}"), "annotations": { "honesty": { "Rating": "N/A" } } },
            ] })
            .to_string()
        };
        let text: Vec<String> = (0..30).map(line).collect();
        std::fs::write(&path, format!("{}\n\n{}\n", text[..10].join("\n"), text[10..].join("\n"))).unwrap();
        let path = path.display().to_string();
        let fields = Fields { prompt: "prompt", completions: Some("completions"), ratings: true };
        let read = read_file(&path, 4, 3, &fields).unwrap();
        let want: Vec<String> = chosen(30, 4, 3).iter().map(|i| format!("p{i}")).collect();
        assert_eq!(read.prompts, want);
        let i: usize = read.prompts[0][1..].parse().unwrap();
        assert_eq!(read.completions.unwrap()[0], [format!("a{i}"), format!("b{i}")]);
        let ratings = &read.ratings.unwrap()[0];
        assert_eq!((ratings[0].overall, ratings[1].overall, ratings[1].aspects), (Some(i as f64), None, None));

        // A bad line is reported with its number (line 12 holds prompt 10: a blank line precedes it).
        let mut bad = text.clone();
        bad[10] = "{\"prompt\": 3}".into();
        let file = dir.path().join("bad.jsonl");
        std::fs::write(&file, format!("{}\n\n{}\n", bad[..10].join("\n"), bad[10..].join("\n"))).unwrap();
        let e = read_file(&file.display().to_string(), 30, 3, &fields).unwrap_err().to_string();
        assert!(e.ends_with("bad.jsonl:12: expected a string field `prompt`"), "{e}");
        let mut bad = text;
        bad[0] = json!({ "prompt": "p", "completions": [{ "response": "a", "overall_score": "high" }] }).to_string();
        std::fs::write(&file, bad.join("\n")).unwrap();
        let e = read_file(&file.display().to_string(), 30, 3, &fields).unwrap_err().to_string();
        assert!(e.contains("bad.jsonl:1: field `completions`, completion 0: `overall_score` is \"high\""), "{e}");
    }
}
