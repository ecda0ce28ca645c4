//! Seeded subsets of a benchmark, for quick evaluations (`count` in a grid, `--count` on the
//! command line).

use rand::Rng;

use crate::data::seed;

/// `count` items drawn uniformly without replacement with `seed` (a partial Fisher-Yates
/// shuffle of the indices on the ChaCha8 stream `seed::rng(seed, "eval/subset")`), returned in
/// their original order. The same seed and the same item list give the same subset; `count` at
/// or above the list's length gives every item.
pub fn subset<T: Clone>(items: &[T], count: usize, seed: u64) -> Vec<T> {
    if count >= items.len() {
        return items.to_vec();
    }
    let mut rng = seed::rng(seed, "eval/subset");
    let mut idx: Vec<usize> = (0..items.len()).collect();
    for i in 0..count {
        let j = rng.random_range(i..idx.len());
        idx.swap(i, j);
    }
    idx.truncate(count);
    idx.sort_unstable();
    idx.into_iter().map(|i| items[i].clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subsets_are_seeded_sized_ordered_and_distinct() {
        let items: Vec<usize> = (0..1000).collect();
        let a = subset(&items, 50, 7);
        assert_eq!(a, subset(&items, 50, 7));
        assert_ne!(a, subset(&items, 50, 8));
        assert_eq!(a.len(), 50);
        assert!(a.windows(2).all(|w| w[0] < w[1]), "sorted and without repeats");
        assert_eq!(subset(&items, 5000, 1), items);
    }

    #[test]
    fn every_item_can_be_drawn() {
        let items: Vec<usize> = (0..10).collect();
        let mut seen = [false; 10];
        for s in 0..200 {
            for i in subset(&items, 3, s) {
                seen[i] = true;
            }
        }
        assert!(seen.iter().all(|&b| b));
    }
}
