//! Contrastiveness of preference pairs (SPEC.md section 1, Table 1): mean Jaccard similarity of
//! the token sets of `y_w` and `y_l` (percent, higher = more minimal pairs) and mean Levenshtein
//! distance in characters (lower = more minimal).
//!
//! Levenshtein uses `rapidfuzz`'s bit-parallel algorithm (Hyyrö 2003, blocked for long texts:
//! O(⌈m/64⌉·n) word operations), and pairs run in parallel on rayon's pool. 32K pairs of
//! 2,000-character texts take seconds (`examples/bench_contrast.rs`).
//!
//! **Cap.** That cost is quadratic in the length: one pair of unrelated 2.5 MB texts ran for
//! over 9.5 minutes (issue 18). So the Levenshtein distance of a pair in which either text is
//! longer than [`LEVENSHTEIN_CAP`] characters is computed on the first [`LEVENSHTEIN_CAP`]
//! characters of each, and the pair is counted in [`ContrastReport::capped`] (shown by
//! `apogrid contrast`). Measured (one unrelated pair, `apogrid contrast FILE`, 2 busy cores):
//! 20,000 characters 0.02-0.05 s, 100,000 0.54 s and 2,500,000 420 s (load 6) before the cap;
//! 0.05 s and 0.33 s (mostly reading and Jaccard) with it. The cap is far above the
//! responses this tool measures (the paper truncates them at 512 tokens, about 2,500
//! characters), so their numbers are exact and unchanged. Jaccard, linear after a sort, is
//! always computed on the whole texts.

use std::borrow::Cow;
use std::cmp::Ordering;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::triple::PreferenceTriple;

/// Jaccard similarity in percent of the sets of lower-cased whitespace-separated words.
/// Two texts without words are identical: 100.
pub fn jaccard_percent(a: &str, b: &str) -> f64 {
    let (sa, sb) = (word_set(a), word_set(b));
    // Both sets are sorted: count the intersection by merging.
    let (mut i, mut j, mut common) = (0, 0, 0);
    while i < sa.len() && j < sb.len() {
        match sa[i].cmp(&sb[j]) {
            Ordering::Less => i += 1,
            Ordering::Greater => j += 1,
            Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = sa.len() + sb.len() - common;
    if union == 0 {
        return 100.0;
    }
    common as f64 / union as f64 * 100.0
}

/// The sorted, deduplicated lower-cased words of `s` (borrowed where already lower case: a
/// sorted vector is about twice as fast as a `HashSet<String>` on 2,000-character texts).
fn word_set(s: &str) -> Vec<Cow<'_, str>> {
    let mut words: Vec<Cow<'_, str>> = s
        .split_whitespace()
        .map(|w| if w.chars().any(char::is_uppercase) { Cow::Owned(w.to_lowercase()) } else { Cow::Borrowed(w) })
        .collect();
    words.sort_unstable();
    words.dedup();
    words
}

/// Levenshtein distance in Unicode scalar values (characters, not bytes).
///
/// Always exact. Preference pairs are often similar, so it first tries two narrow Ukkonen
/// bands (distance at most 31: one machine word per character; at most `len/8`: a quarter of
/// the blocks) and only then runs the full blocked algorithm: at most ~1.3x the full cost for
/// unrelated texts, about a quarter of it for texts within 12% of each other.
pub fn levenshtein_chars(a: &str, b: &str) -> usize {
    use rapidfuzz::distance::levenshtein::{Args, distance, distance_with_args};
    let longest = a.len().max(b.len()); // bytes >= chars: a safe upper bound for the bands
    for cutoff in [31, longest / 8] {
        if cutoff >= 31
            && cutoff < longest
            && let Some(d) = distance_with_args(a.chars(), b.chars(), &Args::default().score_cutoff(cutoff))
        {
            return d;
        }
    }
    distance(a.chars(), b.chars())
}

/// Texts longer than this many characters are compared on their first this-many characters
/// by the Levenshtein distance of [`contrast_pairs`] (see the module doc).
pub const LEVENSHTEIN_CAP: usize = 20_000;

/// [`levenshtein_chars`] of the first [`LEVENSHTEIN_CAP`] characters of each text, and
/// whether either was cut.
pub fn levenshtein_capped(a: &str, b: &str) -> (usize, bool) {
    let (a_cut, b_cut) = (prefix_chars(a, LEVENSHTEIN_CAP), prefix_chars(b, LEVENSHTEIN_CAP));
    (levenshtein_chars(a_cut, b_cut), a_cut.len() < a.len() || b_cut.len() < b.len())
}

/// The first `n` characters of `s` (all of it when shorter).
fn prefix_chars(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((at, _)) => &s[..at],
        None => s,
    }
}

/// Table 1 numbers for one dataset.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ContrastStats {
    pub pairs: usize,
    /// Mean Jaccard similarity, percent.
    pub mean_jaccard: f64,
    /// Mean Levenshtein distance, characters.
    pub mean_levenshtein: f64,
}

/// [`ContrastStats`] and how many of its pairs had their Levenshtein distance capped.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ContrastReport {
    pub stats: ContrastStats,
    /// Pairs with a text over [`LEVENSHTEIN_CAP`] characters, compared on their prefixes.
    pub capped: usize,
}

/// Mean Jaccard and Levenshtein over `(chosen, rejected)` pairs, in parallel (both 0 for no pairs). Sums are
/// reduced in input order, so the result does not depend on the number of threads.
pub fn contrast_pairs(pairs: &[(&str, &str)]) -> ContrastStats {
    contrast_report(pairs).stats
}

/// [`contrast_pairs`] with the count of capped pairs.
pub fn contrast_report(pairs: &[(&str, &str)]) -> ContrastReport {
    let per: Vec<(f64, (usize, bool))> =
        pairs.par_iter().map(|(w, l)| (jaccard_percent(w, l), levenshtein_capped(w, l))).collect();
    let n = per.len();
    let capped = per.iter().filter(|p| p.1.1).count();
    if n == 0 {
        // Zero, not NaN: NaN does not survive a JSON manifest; `pairs: 0` says there was none.
        return ContrastReport { stats: ContrastStats { pairs: 0, mean_jaccard: 0.0, mean_levenshtein: 0.0 }, capped };
    }
    let jac: f64 = per.iter().map(|p| p.0).sum();
    let lev: usize = per.iter().map(|p| p.1.0).sum();
    let stats = ContrastStats { pairs: n, mean_jaccard: jac / n as f64, mean_levenshtein: lev as f64 / n as f64 };
    ContrastReport { stats, capped }
}

/// [`contrast_pairs`] over triples.
pub fn contrast(triples: &[PreferenceTriple]) -> ContrastStats {
    contrast_triples(triples).stats
}

/// [`contrast_report`] over triples.
pub fn contrast_triples(triples: &[PreferenceTriple]) -> ContrastReport {
    let pairs: Vec<(&str, &str)> = triples.iter().map(|t| (t.chosen.as_str(), t.rejected.as_str())).collect();
    contrast_report(&pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jaccard_against_hand_computed_values() {
        // {the, cat, sat} vs {the, cat, ran}: 2 shared of 4 -> 50%.
        assert_eq!(jaccard_percent("The cat sat", "the  cat ran"), 50.0);
        // Duplicates collapse in a set: {a, b} vs {a}: 1/2.
        assert_eq!(jaccard_percent("a a b", "A"), 50.0);
        // Punctuation stays part of a word: {is, 12.} vs {is, 12}: 1/3.
        assert!((jaccard_percent("is 12.", "is 12") - 100.0 / 3.0).abs() < 1e-12);
        assert_eq!(jaccard_percent("x", "y"), 0.0);
        assert_eq!(jaccard_percent("", "  "), 100.0);
        assert_eq!(jaccard_percent("", "a"), 0.0);
    }

    #[test]
    fn levenshtein_against_hand_computed_values() {
        assert_eq!(levenshtein_chars("kitten", "sitting"), 3);
        assert_eq!(levenshtein_chars("flaw", "lawn"), 2);
        assert_eq!(levenshtein_chars("", "abc"), 3);
        assert_eq!(levenshtein_chars("same", "same"), 0);
        // Characters, not bytes: one substitution of a 2-byte char.
        assert_eq!(levenshtein_chars("café", "cafe"), 1);
        // Longer than one 64-bit block: 130 a's vs 130 a's with 3 changes spread out.
        let a = "a".repeat(130);
        let mut b: Vec<char> = a.chars().collect();
        b[0] = 'b';
        b[64] = 'c';
        b.remove(129);
        let b: String = b.into_iter().collect();
        assert_eq!(levenshtein_chars(&a, &b), 3);
    }

    /// Textbook O(n·m) dynamic programme over chars.
    fn naive(a: &str, b: &str) -> usize {
        let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
        let mut prev: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.iter().enumerate() {
            let mut cur = vec![i + 1; b.len() + 1];
            for (j, cb) in b.iter().enumerate() {
                cur[j + 1] = (prev[j] + usize::from(ca != cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
            }
            prev = cur;
        }
        prev[b.len()]
    }

    #[test]
    fn banded_levenshtein_matches_the_textbook_algorithm() {
        use rand::Rng;
        let mut rng = crate::data::seed::rng(4, "lev");
        let alphabet: Vec<char> = "ab cdé€".chars().collect();
        for len in [5, 40, 70, 200, 700] {
            for edits in [0, 1, 3, len / 10, len / 3, len] {
                let a: Vec<char> = (0..len).map(|_| alphabet[rng.random_range(0..alphabet.len())]).collect();
                let mut b = a.clone();
                for _ in 0..edits {
                    let i = rng.random_range(0..=b.len().saturating_sub(1));
                    match rng.random_range(0..3) {
                        0 if !b.is_empty() => b[i] = alphabet[rng.random_range(0..alphabet.len())],
                        1 if !b.is_empty() => {
                            b.remove(i);
                        }
                        _ => b.insert(i, 'z'),
                    }
                }
                let (a, b): (String, String) = (a.into_iter().collect(), b.into_iter().collect());
                assert_eq!(levenshtein_chars(&a, &b), naive(&a, &b), "len {len}, edits {edits}");
            }
        }
    }

    #[test]
    fn long_pairs_are_capped_short_ones_exact() {
        // Under the cap: exact, not flagged.
        let a = "ab".repeat(LEVENSHTEIN_CAP / 2);
        assert_eq!(levenshtein_capped(&a, "ab"), (LEVENSHTEIN_CAP - 2, false));
        // Over it: the prefixes, flagged; multi-byte characters are cut at a boundary.
        let long = "é".repeat(LEVENSHTEIN_CAP + 10);
        let other = format!("x{}", "é".repeat(LEVENSHTEIN_CAP * 3));
        assert_eq!(levenshtein_capped(&long, &other), (1, true));
        assert_eq!(prefix_chars("café", 3), "caf");
        assert_eq!(prefix_chars("café", 9), "café");
        let r = contrast_report(&[(long.as_str(), other.as_str()), ("kitten", "sitting")]);
        assert_eq!((r.capped, r.stats.pairs, r.stats.mean_levenshtein), (1, 2, 2.0));
    }

    #[test]
    fn means_over_pairs() {
        let s = contrast_pairs(&[("kitten", "sitting"), ("a b", "a b")]);
        assert_eq!(s.pairs, 2);
        assert_eq!(s.mean_levenshtein, 1.5);
        // Jaccard: {kitten} vs {sitting} = 0; {a,b} vs {a,b} = 100 -> 50.
        assert_eq!(s.mean_jaccard, 50.0);
        assert_eq!(contrast_pairs(&[]).pairs, 0);
    }
}
