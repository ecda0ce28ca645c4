//! Contrastiveness of preference pairs (SPEC.md section 1, Table 1): mean Jaccard similarity of
//! the token sets of `y_w` and `y_l` (percent, higher = more minimal pairs) and mean Levenshtein
//! distance in characters (lower = more minimal).
//!
//! Levenshtein uses `rapidfuzz`'s bit-parallel algorithm (Hyyrö 2003, blocked for long texts:
//! O(⌈m/64⌉·n) word operations), and pairs run in parallel on rayon's pool. 32K pairs of
//! 2,000-character texts take seconds (`examples/bench_contrast.rs`).

use std::collections::HashSet;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::triple::PreferenceTriple;

/// Jaccard similarity in percent of the sets of lower-cased whitespace-separated words.
/// Two texts without words are identical: 100.
pub fn jaccard_percent(a: &str, b: &str) -> f64 {
    let set = |s: &str| -> HashSet<String> { s.split_whitespace().map(str::to_lowercase).collect() };
    let (sa, sb) = (set(a), set(b));
    let union = sa.union(&sb).count();
    if union == 0 {
        return 100.0;
    }
    sa.intersection(&sb).count() as f64 / union as f64 * 100.0
}

/// Levenshtein distance in Unicode scalar values (characters, not bytes).
pub fn levenshtein_chars(a: &str, b: &str) -> usize {
    rapidfuzz::distance::levenshtein::distance(a.chars(), b.chars())
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

/// Mean Jaccard and Levenshtein over `(chosen, rejected)` pairs, in parallel. Sums are
/// reduced in input order, so the result does not depend on the number of threads.
pub fn contrast_pairs(pairs: &[(&str, &str)]) -> ContrastStats {
    let per: Vec<(f64, usize)> = pairs
        .par_iter()
        .map(|(w, l)| (jaccard_percent(w, l), levenshtein_chars(w, l)))
        .collect();
    let n = per.len();
    if n == 0 {
        return ContrastStats { pairs: 0, mean_jaccard: f64::NAN, mean_levenshtein: f64::NAN };
    }
    let jac: f64 = per.iter().map(|p| p.0).sum();
    let lev: usize = per.iter().map(|p| p.1).sum();
    ContrastStats { pairs: n, mean_jaccard: jac / n as f64, mean_levenshtein: lev as f64 / n as f64 }
}

/// [`contrast_pairs`] over triples.
pub fn contrast(triples: &[PreferenceTriple]) -> ContrastStats {
    let pairs: Vec<(&str, &str)> =
        triples.iter().map(|t| (t.chosen.as_str(), t.rejected.as_str())).collect();
    contrast_pairs(&pairs)
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
