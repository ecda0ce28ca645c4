//! Benchmark of the contrastiveness metrics at the paper's scale: 32K pairs of 2,000-character
//! texts (by default each pair differs by 10% scattered edits; `EDIT_PERCENT` >= 100 makes the
//! two texts independent, the worst case), bit-parallel Levenshtein on rayon's pool, against a
//! plain O(n·m) dynamic programme timed on a sample and extrapolated.
//!
//!     CARGO_TARGET_DIR=/work/main/target cargo run --release --example bench_contrast [PAIRS] [CHARS] [EDIT_PERCENT]

use std::time::Instant;

use apogrid::data::contrast::{contrast_pairs, levenshtein_chars};
use apogrid::data::seed;
use rand::Rng;

fn naive_levenshtein(a: &[char], b: &[char]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let pairs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(32_000);
    let chars: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2_000);
    let edit_percent: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    let mut rng = seed::rng(1, "bench");
    let alphabet: Vec<char> = "abcdefghijklmnopqrstuvwxyz      .,é".chars().collect();
    let data: Vec<(String, String)> = (0..pairs)
        .map(|_| {
            let a: Vec<char> = (0..chars).map(|_| alphabet[rng.random_range(0..alphabet.len())]).collect();
            if edit_percent >= 100 {
                let b: String = (0..chars).map(|_| alphabet[rng.random_range(0..alphabet.len())]).collect();
                return (a.into_iter().collect(), b);
            }
            let mut b = a.clone();
            for _ in 0..chars * edit_percent / 100 {
                let i = rng.random_range(0..b.len());
                match rng.random_range(0..3) {
                    0 => b[i] = alphabet[rng.random_range(0..alphabet.len())],
                    1 => {
                        b.remove(i);
                    }
                    _ => b.insert(i, 'x'),
                }
            }
            (a.into_iter().collect(), b.into_iter().collect())
        })
        .collect();
    let refs: Vec<(&str, &str)> = data.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let threads = rayon::current_num_threads();
    use rayon::prelude::*;
    let t = Instant::now();
    let full: usize =
        refs.par_iter().map(|(a, b)| rapidfuzz::distance::levenshtein::distance(a.chars(), b.chars())).sum();
    println!("rapidfuzz full band: {:.2} s (mean {:.1})", t.elapsed().as_secs_f64(), full as f64 / pairs as f64);
    let t = Instant::now();
    let lev: usize = refs.par_iter().map(|(a, b)| levenshtein_chars(a, b)).sum();
    println!("Levenshtein alone: {:.2} s (mean {:.1})", t.elapsed().as_secs_f64(), lev as f64 / pairs as f64);
    let t = Instant::now();
    let jac: f64 = refs.par_iter().map(|(a, b)| apogrid::data::contrast::jaccard_percent(a, b)).sum();
    println!("Jaccard alone: {:.2} s (mean {:.2} %)", t.elapsed().as_secs_f64(), jac / pairs as f64);
    let t = Instant::now();
    let stats = contrast_pairs(&refs);
    let fast = t.elapsed().as_secs_f64();
    println!(
        "contrast (Jaccard + bit-parallel Levenshtein, {threads} threads): {pairs} pairs x {chars} chars in {fast:.2} s \
         (mean Jaccard {:.2} %, mean Levenshtein {:.1})",
        stats.mean_jaccard, stats.mean_levenshtein
    );
    let sample = pairs.min(50);
    let t = Instant::now();
    let naive_d: Vec<usize> = data[..sample]
        .iter()
        .map(|(a, b)| {
            let (ca, cb): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
            naive_levenshtein(&ca, &cb)
        })
        .collect();
    let naive = t.elapsed().as_secs_f64() / sample as f64 * pairs as f64;
    let agree = data[..sample].iter().zip(&naive_d).all(|((a, b), d)| levenshtein_chars(a, b) == *d);
    println!(
        "plain O(n*m) DP, one thread: {naive:.1} s extrapolated from {sample} pairs; results agree on the sample: {agree}"
    );
}
