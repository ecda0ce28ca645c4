//! When to retry a request and how long to wait first: exponential backoff with jitter, or the
//! server's own `Retry-After` when it sends one. Pure functions (the jitter is an argument), so
//! the policy is tested without sleeping.
//!
//! Retried: HTTP 408, 409, 429 and 5xx, timeouts and connection errors, the failures that
//! another try can cure. Not retried: other 4xx (a bad request, a wrong key or model name stays
//! wrong) and malformed 200 replies.

use std::time::Duration;

/// How many times to retry and how long to wait.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first try (so at most `max_retries + 1` requests per item).
    pub max_retries: u32,
    /// The wait before the first retry, doubled for each further retry.
    pub base: Duration,
    /// No wait is longer than this (a `Retry-After` included).
    pub max: Duration,
}

impl Default for RetryPolicy {
    /// 6 retries from 1 s, capped at 60 s: about two minutes of patience per request.
    fn default() -> Self {
        RetryPolicy { max_retries: 6, base: Duration::from_secs(1), max: Duration::from_secs(60) }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1-based). With `retry_after` from the server, that
    /// (capped at `max`); otherwise "equal jitter": half of `min(max, base * 2^(retry-1))` plus a
    /// random part of the other half, `jitter` in `[0, 1)`, so that many clients throttled at
    /// once do not retry in lock step.
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>, jitter: f64) -> Duration {
        if let Some(d) = retry_after {
            return d.min(self.max);
        }
        let exp = 2f64.powi(retry.saturating_sub(1).min(30) as i32);
        let full = (self.base.as_secs_f64() * exp).min(self.max.as_secs_f64());
        Duration::from_secs_f64(full / 2.0 + full / 2.0 * jitter.clamp(0.0, 1.0))
    }
}

/// Whether an HTTP status is worth another try.
pub fn retryable_status(status: u16) -> bool {
    matches!(status, 408 | 409 | 429) || (500..=599).contains(&status)
}

/// Reads the server's wait: `retry-after-ms` (OpenAI's, milliseconds) first, then
/// `Retry-After` in seconds (integer or decimal). An HTTP-date `Retry-After` is not read; the
/// backoff applies then.
pub fn parse_retry_after(retry_after_ms: Option<&str>, retry_after: Option<&str>) -> Option<Duration> {
    let positive = |s: &str, scale: f64| -> Option<Duration> {
        let x: f64 = s.trim().parse().ok()?;
        (x.is_finite() && x >= 0.0).then(|| Duration::from_secs_f64(x * scale))
    };
    retry_after_ms.and_then(|s| positive(s, 1e-3)).or_else(|| retry_after.and_then(|s| positive(s, 1.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_caps() {
        let p = RetryPolicy { max_retries: 5, base: Duration::from_millis(100), max: Duration::from_millis(1000) };
        assert_eq!(p.delay(1, None, 0.0), Duration::from_millis(50));
        assert_eq!(p.delay(1, None, 0.999_999_999), Duration::from_millis(100));
        assert_eq!(p.delay(3, None, 0.0), Duration::from_millis(200));
        assert_eq!(p.delay(3, None, 1.0), Duration::from_millis(400));
        // 100 * 2^9 > max: capped at 1 s, jitter within [0.5 s, 1 s].
        assert_eq!(p.delay(10, None, 0.0), Duration::from_millis(500));
        assert_eq!(p.delay(10, None, 1.0), Duration::from_millis(1000));
        // Large retry numbers do not overflow.
        assert_eq!(p.delay(u32::MAX, None, 1.0), Duration::from_millis(1000));
    }

    #[test]
    fn retry_after_wins_but_is_capped() {
        let p = RetryPolicy { max_retries: 5, base: Duration::from_millis(100), max: Duration::from_secs(10) };
        assert_eq!(p.delay(1, Some(Duration::from_secs(3)), 0.7), Duration::from_secs(3));
        assert_eq!(p.delay(1, Some(Duration::from_secs(300)), 0.7), Duration::from_secs(10));
    }

    #[test]
    fn retry_after_headers_parse() {
        assert_eq!(parse_retry_after(None, Some("2")), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after(None, Some(" 0.5 ")), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after(Some("250"), Some("2")), Some(Duration::from_millis(250)));
        assert_eq!(parse_retry_after(Some("x"), Some("1")), Some(Duration::from_secs(1)));
        assert_eq!(parse_retry_after(None, Some("Wed, 21 Oct 2015 07:28:00 GMT")), None);
        assert_eq!(parse_retry_after(None, Some("-1")), None);
        assert_eq!(parse_retry_after(None, None), None);
    }

    #[test]
    fn which_statuses_retry() {
        for s in [408, 409, 429, 500, 502, 503, 504] {
            assert!(retryable_status(s), "{s}");
        }
        for s in [200, 400, 401, 403, 404, 422] {
            assert!(!retryable_status(s), "{s}");
        }
    }
}
