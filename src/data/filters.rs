//! The filters every build applies (SPEC.md section 1, "Filtering"), in this order:
//! `format` (the reviser or judge broke the reply format or could not handle the prompt:
//! counted by the builders),
//! `empty` (either output blank), `identical` (the two outputs equal after trimming) and
//! `length_ratio` (a revision whose length changed too much). Each dropped item is counted
//! under the first filter that dropped it; the counts go into the manifest and the run's output.
//! Pairs formed from ratings (`super::ratings`) add two counts of their own, before these
//! filters: `tie` (the two ratings are equal) and `unrated` (fewer than two rated completions);
//! they are left out of manifests that have none, so other builds write what they always wrote.

use serde::{Deserialize, Serialize};

/// Which filters to apply. `length_ratio` bounds `len(chosen) / len(rejected)` in characters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FilterConfig {
    /// `Some((lo, hi))`: keep a pair when `lo <= len(y_w)/len(y_l) <= hi`. SPEC.md applies it to
    /// revisions (CLAIR), default `(0.5, 2.0)`; `None` disables it.
    pub length_ratio: Option<(f64, f64)>,
}

impl FilterConfig {
    /// The paper's revision filter: `0.5 <= len(y_w)/len(y_l) <= 2.0`.
    pub const REVISION: FilterConfig = FilterConfig { length_ratio: Some((0.5, 2.0)) };
    /// No length filter (judge and stronger-preferred pairs are not revisions).
    pub const NONE: FilterConfig = FilterConfig { length_ratio: None };
}

/// How many items each filter dropped, and how many were kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilterCounts {
    /// Items considered (one per prompt).
    pub considered: usize,
    pub format: usize,
    pub empty: usize,
    pub identical: usize,
    pub length_ratio: usize,
    /// Rated pairs whose ratings are equal.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub tie: usize,
    /// Prompts with fewer than two rated completions.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unrated: usize,
    pub kept: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl FilterCounts {
    pub fn dropped(&self) -> usize {
        self.format + self.empty + self.identical + self.length_ratio + self.tie + self.unrated
    }

    /// One line for a run's output, e.g. `kept 90 of 100 (format 2, empty 0, identical 8, ...)`.
    pub fn summary(&self) -> String {
        let rated = if self.tie + self.unrated > 0 {
            format!(", tie {}, unrated {}", self.tie, self.unrated)
        } else {
            String::new()
        };
        format!(
            "kept {} of {} (dropped: format {}, empty {}, identical {}, length ratio {}{rated})",
            self.kept, self.considered, self.format, self.empty, self.identical, self.length_ratio
        )
    }
}

/// Why a pair was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drop {
    Empty,
    Identical,
    LengthRatio,
}

/// Checks one pair against the content filters (`format` is decided by the builders).
pub fn check(config: &FilterConfig, chosen: &str, rejected: &str) -> Result<(), Drop> {
    if chosen.trim().is_empty() || rejected.trim().is_empty() {
        return Err(Drop::Empty);
    }
    if chosen.trim() == rejected.trim() {
        return Err(Drop::Identical);
    }
    if let Some((lo, hi)) = config.length_ratio {
        let ratio = chosen.chars().count() as f64 / rejected.chars().count() as f64;
        if !(lo..=hi).contains(&ratio) {
            return Err(Drop::LengthRatio);
        }
    }
    Ok(())
}

impl FilterCounts {
    /// Counts one considered item: `Ok` kept, or the filter that dropped it.
    pub fn record(&mut self, outcome: Result<(), Drop>) {
        self.considered += 1;
        match outcome {
            Ok(()) => self.kept += 1,
            Err(Drop::Empty) => self.empty += 1,
            Err(Drop::Identical) => self.identical += 1,
            Err(Drop::LengthRatio) => self.length_ratio += 1,
        }
    }

    /// Counts one considered item dropped because an agent rejected it: its reply broke the
    /// format, or it could not handle the prompt ([`super::agents::RejectReason`]).
    pub fn record_format(&mut self) {
        self.considered += 1;
        self.format += 1;
    }

    /// Counts one considered rated pair dropped because its two ratings are equal.
    pub fn record_tie(&mut self) {
        self.considered += 1;
        self.tie += 1;
    }

    /// Counts one considered prompt dropped because it has fewer than two rated completions.
    pub fn record_unrated(&mut self) {
        self.considered += 1;
        self.unrated += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_filter_drops_what_it_should() {
        let c = FilterConfig::REVISION;
        assert_eq!(check(&c, "", "x"), Err(Drop::Empty));
        assert_eq!(check(&c, "x", "  \n"), Err(Drop::Empty));
        assert_eq!(check(&c, " same ", "same"), Err(Drop::Identical));
        // 1 char vs 3 chars: ratio 1/3 < 0.5.
        assert_eq!(check(&c, "a", "abc"), Err(Drop::LengthRatio));
        // Exactly 2.0 and exactly 0.5 are kept (bounds inclusive).
        assert_eq!(check(&c, "abcd", "ab"), Ok(()));
        assert_eq!(check(&c, "ab", "abcd"), Ok(()));
        assert_eq!(check(&c, "abcde", "ab"), Err(Drop::LengthRatio));
        // Characters, not bytes: "éé" is 2 chars (4 bytes) against "ab".
        assert_eq!(check(&FilterConfig { length_ratio: Some((1.0, 1.0)) }, "éé", "ab"), Ok(()));
        assert_eq!(check(&FilterConfig::NONE, "a", "abcdefgh"), Ok(()));
    }

    #[test]
    fn counts_add_up() {
        let mut n = FilterCounts::default();
        n.record(Ok(()));
        n.record(Err(Drop::Identical));
        n.record(Err(Drop::Empty));
        n.record_format();
        n.record(Err(Drop::LengthRatio));
        assert_eq!((n.considered, n.kept, n.dropped()), (5, 1, 4));
        assert_eq!((n.format, n.empty, n.identical, n.length_ratio), (1, 1, 1, 1));
        assert!(n.summary().starts_with("kept 1 of 5") && !n.summary().contains("tie"));
        assert!(!serde_json::to_string(&n).unwrap().contains("tie"));
        n.record_tie();
        n.record_unrated();
        assert_eq!((n.considered, n.dropped()), (7, 6));
        assert!(n.summary().ends_with("tie 1, unrated 1)"), "{}", n.summary());
    }
}
