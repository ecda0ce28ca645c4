//! The held-out split: a seeded sample of pairs kept out of training, on which the trajectory
//! plots (SPEC.md section 4, Figure 4) follow log-likelihoods and rewards per checkpoint.

use rand::seq::SliceRandom;

use super::seed;
use super::triple::PreferenceTriple;

/// The paper's 100 held-out pairs per dataset.
pub const DEFAULT_HELDOUT: usize = 100;

/// Splits `triples` into (train, held_out). The held-out part has `min(n, len / 2)` pairs, so
/// training keeps at least half of a small dataset; both parts keep the input order. The same
/// seed and input give the same split.
pub fn split_heldout(
    triples: Vec<PreferenceTriple>,
    n: usize,
    seed: u64,
) -> (Vec<PreferenceTriple>, Vec<PreferenceTriple>) {
    let take = n.min(triples.len() / 2);
    let mut order: Vec<usize> = (0..triples.len()).collect();
    order.shuffle(&mut seed::rng(seed, "split/heldout"));
    let mut is_held = vec![false; triples.len()];
    for &i in &order[..take] {
        is_held[i] = true;
    }
    let (mut train, mut held) = (Vec::new(), Vec::new());
    for (t, held_out) in triples.into_iter().zip(is_held) {
        if held_out { held.push(t) } else { train.push(t) }
    }
    (train, held)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::triple::Metadata;

    fn triples(n: usize) -> Vec<PreferenceTriple> {
        (0..n).map(|i| PreferenceTriple::new(&format!("p{i}"), "w", "l", Metadata::default())).collect()
    }

    #[test]
    fn split_sizes_order_and_seed() {
        let (train, held) = split_heldout(triples(300), 100, 1);
        assert_eq!((train.len(), held.len()), (200, 100));
        // Disjoint, complete, each part in input order.
        let idx = |v: &[PreferenceTriple]| -> Vec<usize> { v.iter().map(|t| t.prompt[1..].parse().unwrap()).collect() };
        let (a, b) = (idx(&train), idx(&held));
        assert!(a.windows(2).all(|w| w[0] < w[1]) && b.windows(2).all(|w| w[0] < w[1]));
        let mut all = [a.clone(), b.clone()].concat();
        all.sort();
        assert_eq!(all, (0..300).collect::<Vec<_>>());
        // Same seed, same split; another seed, another split.
        assert_eq!(split_heldout(triples(300), 100, 1).1, held);
        assert_ne!(split_heldout(triples(300), 100, 2).1, held);
        // Small datasets keep at least half for training.
        let (train, held) = split_heldout(triples(7), 100, 1);
        assert_eq!((train.len(), held.len()), (4, 3));
        assert_eq!(split_heldout(triples(0), 100, 1).1.len(), 0);
    }
}
