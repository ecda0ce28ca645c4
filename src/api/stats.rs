//! What a build cost: requests sent, cache hits, retries, failures by reason, tokens (where the
//! server reports `usage`) and wall time. Shared by the worker threads (atomics and a mutex).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::client::Usage;

#[derive(Default)]
pub struct ApiStats {
    /// Items asked for (one per chat request in a batch).
    items: AtomicU64,
    /// HTTP requests actually sent, retries included.
    requests: AtomicU64,
    cache_hits: AtomicU64,
    retries: AtomicU64,
    prompt_tokens: AtomicU64,
    completion_tokens: AtomicU64,
    wall_ms: AtomicU64,
    /// Items that failed for good, by the reason of their last try.
    failures: Mutex<BTreeMap<String, u64>>,
}

/// A snapshot, written into a dataset task's `api-stats.json` and its summary.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatsSummary {
    pub items: u64,
    pub requests: u64,
    pub cache_hits: u64,
    pub retries: u64,
    pub failed: u64,
    pub failures: BTreeMap<String, u64>,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub wall_s: f64,
    /// Requests sent per second of wall time.
    pub requests_per_s: f64,
}

impl ApiStats {
    pub fn item(&self) {
        self.items.fetch_add(1, Ordering::Relaxed);
    }
    pub fn request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }
    pub fn cache_hit(&self) {
        self.cache_hits.fetch_add(1, Ordering::Relaxed);
    }
    pub fn retry(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }
    pub fn usage(&self, u: Usage) {
        self.prompt_tokens.fetch_add(u.prompt_tokens, Ordering::Relaxed);
        self.completion_tokens.fetch_add(u.completion_tokens, Ordering::Relaxed);
    }
    pub fn wall(&self, d: Duration) {
        self.wall_ms.fetch_add(d.as_millis() as u64, Ordering::Relaxed);
    }
    pub fn failure(&self, reason: &str) {
        let mut f = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        *f.entry(reason.to_string()).or_default() += 1;
    }

    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    pub fn summary(&self) -> StatsSummary {
        let failures = self.failures.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let wall_s = self.wall_ms.load(Ordering::Relaxed) as f64 / 1000.0;
        let requests = self.requests.load(Ordering::Relaxed);
        StatsSummary {
            items: self.items.load(Ordering::Relaxed),
            requests,
            cache_hits: self.cache_hits.load(Ordering::Relaxed),
            retries: self.retries(),
            failed: failures.values().sum(),
            failures,
            prompt_tokens: self.prompt_tokens.load(Ordering::Relaxed),
            completion_tokens: self.completion_tokens.load(Ordering::Relaxed),
            wall_s,
            requests_per_s: if wall_s > 0.0 { requests as f64 / wall_s } else { 0.0 },
        }
    }
}

impl StatsSummary {
    /// One line for logs, e.g. `120 items: 80 requests, 40 cached, 3 retries, 1 failed (http 500: 1), ...`.
    pub fn line(&self) -> String {
        let reasons: Vec<String> = self.failures.iter().map(|(r, n)| format!("{r}: {n}")).collect();
        let failed = if reasons.is_empty() { String::new() } else { format!(" ({})", reasons.join(", ")) };
        format!(
            "{} items: {} requests, {} cached, {} retries, {} failed{failed}, tokens {} prompt + {} completion, {:.1}s",
            self.items,
            self.requests,
            self.cache_hits,
            self.retries,
            self.failed,
            self.prompt_tokens,
            self.completion_tokens,
            self.wall_s
        )
    }
}
