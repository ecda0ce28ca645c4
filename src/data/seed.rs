//! Seed derivation shared by the data builders and the embedded world.
//!
//! Every random choice in a dataset comes from a `ChaCha8Rng` whose seed is derived from the
//! run seed, a purpose tag and (where the choice concerns one item) the item's text. Deriving
//! from text rather than from call order makes a choice independent of batching and of how
//! many other items came before it; ChaCha streams are identical on every platform.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// FNV-1a over bytes: a tiny, stable, platform-independent string hash (not cryptographic).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// SplitMix64 finaliser: spreads the bits of a combined seed.
pub fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Derives a sub-seed from a seed and a purpose tag ("clair/sample", "judge/order", ...).
pub fn derive(seed: u64, tag: &str) -> u64 {
    splitmix(seed ^ splitmix(fnv1a(tag.as_bytes())))
}

/// Derives a sub-seed from a seed, a tag and a list of texts (prompt, outputs, ...). The texts
/// are separated by a byte that cannot occur in UTF-8, so ("ab","c") and ("a","bc") differ.
pub fn derive_texts(seed: u64, tag: &str, texts: &[&str]) -> u64 {
    let mut bytes = Vec::new();
    for t in texts {
        bytes.extend_from_slice(t.as_bytes());
        bytes.push(0xff);
    }
    splitmix(derive(seed, tag) ^ fnv1a(&bytes))
}

/// A ChaCha8 stream for `(seed, tag)`.
pub fn rng(seed: u64, tag: &str) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(derive(seed, tag))
}

/// A ChaCha8 stream for `(seed, tag, texts)`.
pub fn rng_for(seed: u64, tag: &str, texts: &[&str]) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(derive_texts(seed, tag, texts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_reference_values() {
        // Reference values of 64-bit FNV-1a.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn derived_seeds_separate_tags_and_text_boundaries() {
        assert_ne!(derive(1, "a"), derive(1, "b"));
        assert_ne!(derive(1, "a"), derive(2, "a"));
        assert_ne!(derive_texts(1, "t", &["ab", "c"]), derive_texts(1, "t", &["a", "bc"]));
        assert_eq!(derive_texts(7, "t", &["x"]), derive_texts(7, "t", &["x"]));
    }
}
