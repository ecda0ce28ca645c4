//! A batch of chat requests in, one result per request out: each request is looked up in the
//! cache, else sent (at most `concurrency` at once) and retried per the [`RetryPolicy`]; a
//! request that fails for good is a [`Failure`] with its reason, never a panic or an early
//! return, so the caller decides what a failed item means.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::cache::ResponseCache;
use super::client::{ChatClient, ChatReply, ChatRequest};
use super::key::ApiKey;
use super::pool::map_bounded;
use super::retry::RetryPolicy;
use super::stats::ApiStats;

/// Everything that configures a service (the grid's `kind = "api"` agent, resolved).
#[derive(Debug, Clone)]
pub struct ApiSettings {
    pub base_url: String,
    pub model: String,
    pub key: Option<ApiKey>,
    /// One request, connect to last byte.
    pub timeout: Duration,
    /// Requests in flight at once.
    pub concurrency: usize,
    pub retry: RetryPolicy,
    /// Where replies are cached (`None`: no cache).
    pub cache_dir: Option<PathBuf>,
}

/// A request that failed for good: the reason of its last try (`http 500`, `timeout`, ...,
/// counted in the stats) and a detail for messages.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub reason: String,
    pub detail: String,
}

/// Reports progress as one line (`label 120/400 requests, 35.1/s, eta 9s, 2 retries, 0 failed`).
pub type ProgressFn = Box<dyn Fn(&str) + Send + Sync>;

pub struct ChatService {
    settings: ApiSettings,
    client: ChatClient,
    cache: Option<ResponseCache>,
    pub stats: ApiStats,
    progress: Option<ProgressFn>,
}

impl ChatService {
    pub fn new(settings: ApiSettings) -> std::io::Result<ChatService> {
        let client = ChatClient::new(
            &settings.base_url,
            &settings.model,
            settings.key.clone(),
            settings.timeout,
            settings.concurrency,
        );
        let cache = settings.cache_dir.as_deref().map(ResponseCache::open).transpose()?;
        Ok(ChatService { settings, client, cache, stats: ApiStats::default(), progress: None })
    }

    pub fn with_progress(mut self, progress: ProgressFn) -> Self {
        self.progress = Some(progress);
        self
    }

    pub fn settings(&self) -> &ApiSettings {
        &self.settings
    }

    /// All `requests`, at most `concurrency` in flight, one result each in order. `label` names
    /// the role in progress lines.
    pub fn complete_all(&self, label: &str, requests: &[ChatRequest]) -> Vec<Result<ChatReply, Failure>> {
        let start = Instant::now();
        let done = AtomicUsize::new(0);
        let failed = AtomicUsize::new(0);
        let total = requests.len();
        let out = map_bounded(requests, self.settings.concurrency, |_, r| {
            let result = self.complete(r);
            if result.is_err() {
                failed.fetch_add(1, Ordering::Relaxed);
            }
            let n = done.fetch_add(1, Ordering::Relaxed) + 1;
            if let Some(progress) = &self.progress {
                progress(&progress_line(
                    label,
                    n,
                    total,
                    start.elapsed(),
                    self.stats.retries(),
                    failed.load(Ordering::Relaxed),
                ));
            }
            result
        });
        self.stats.wall(start.elapsed());
        out
    }

    /// One request: from the cache, else sent with retries (and then cached).
    pub fn complete(&self, request: &ChatRequest) -> Result<ChatReply, Failure> {
        self.stats.item();
        let key = ResponseCache::key(&self.settings.base_url, &self.settings.model, request);
        if let Some(hit) = self.cache.as_ref().and_then(|c| c.get(&key)) {
            self.stats.cache_hit();
            return Ok(hit);
        }
        let mut retry = 0;
        loop {
            self.stats.request();
            match self.client.send(request) {
                Ok(reply) => {
                    if let Some(u) = reply.usage {
                        self.stats.usage(u);
                    }
                    if let Some(cache) = &self.cache {
                        // A reply that cannot be cached is still a reply; only a rerun pays for it.
                        let _ = cache.put(&key, &reply);
                    }
                    return Ok(reply);
                }
                Err(e) if e.retryable && retry < self.settings.retry.max_retries => {
                    retry += 1;
                    self.stats.retry();
                    std::thread::sleep(self.settings.retry.delay(retry, e.retry_after, rand::random::<f64>()));
                }
                Err(e) => {
                    self.stats.failure(&e.reason);
                    let detail = if e.retryable { format!("{} (after {retry} retries)", e.detail) } else { e.detail };
                    return Err(Failure { reason: e.reason, detail });
                }
            }
        }
    }
}

fn progress_line(label: &str, done: usize, total: usize, elapsed: Duration, retries: u64, failed: usize) -> String {
    let secs = elapsed.as_secs_f64().max(1e-9);
    let rate = done as f64 / secs;
    let eta = if rate > 0.0 { (total - done) as f64 / rate } else { 0.0 };
    format!("{label} {done}/{total} requests, {rate:.1}/s, eta {}, {retries} retries, {failed} failed", human(eta))
}

fn human(secs: f64) -> String {
    let s = secs.round() as u64;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::client::Message;
    use crate::api::mock::{MockRequest, MockResponse, MockServer};

    fn service(url: &str, cache: Option<&std::path::Path>) -> ChatService {
        ChatService::new(ApiSettings {
            base_url: url.into(),
            model: "m".into(),
            key: Some(ApiKey::new("sk-unit-secret")),
            timeout: Duration::from_millis(500),
            concurrency: 4,
            retry: RetryPolicy { max_retries: 2, base: Duration::from_millis(1), max: Duration::from_secs(2) },
            cache_dir: cache.map(|p| p.to_path_buf()),
        })
        .unwrap()
    }

    fn request(text: &str) -> ChatRequest {
        ChatRequest { messages: vec![Message::user(text)], temperature: 0.7, max_tokens: 8, seed: None, top_p: None }
    }

    #[test]
    fn retries_fail_for_good_and_cache_across_services() {
        // "flaky": 429 then OK; "down": 500 always; "bad": 401 (not retried); else OK.
        let flaky_seen = std::sync::atomic::AtomicBool::new(false);
        let server = MockServer::start(move |r: &MockRequest| match r.prompt() {
            "flaky" if !flaky_seen.swap(true, Ordering::SeqCst) => {
                MockResponse::error(429).with_header("retry-after-ms", "20")
            }
            "down" => MockResponse::error(500),
            "bad" => {
                MockResponse { body: "{\"error\": \"key sk-unit-secret is wrong\"}".into(), ..MockResponse::error(401) }
            }
            p => MockResponse::chat(&format!("re: {p}"), p),
        })
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let s = service(&server.base_url(), Some(dir.path()));
        let out = s.complete_all("t", &[request("flaky"), request("down"), request("bad"), request("ok")]);
        assert_eq!(out[0].as_ref().unwrap().content, "re: flaky");
        assert_eq!(out[1].as_ref().unwrap_err().reason, "http 500");
        assert!(out[1].as_ref().unwrap_err().detail.contains("after 2 retries"));
        let bad = out[2].as_ref().unwrap_err();
        assert_eq!(bad.reason, "http 401");
        assert!(!bad.detail.contains("sk-unit-secret") && bad.detail.contains("***"), "{}", bad.detail);
        let st = s.stats.summary();
        assert_eq!((st.items, st.requests, st.retries, st.failed, st.cache_hits), (4, 2 + 3 + 1 + 1, 3, 2, 0));
        assert_eq!(st.failures.get("http 500"), Some(&1));
        assert_eq!(st.prompt_tokens, 2);
        // A new service on the same cache: the two good replies are hits, the failures retried.
        let before = server.received();
        let again = service(&server.base_url(), Some(dir.path()));
        let out = again.complete_all("t", &[request("flaky"), request("ok"), request("down")]);
        assert!(out[0].is_ok() && out[1].is_ok() && out[2].is_err());
        assert_eq!(server.received() - before, 3);
        assert_eq!(again.stats.summary().cache_hits, 2);
    }

    #[test]
    fn slow_replies_time_out_and_are_retried() {
        let server = MockServer::start(|r: &MockRequest| {
            let reply = MockResponse::chat("late", r.prompt());
            if r.index == 0 { reply.with_delay(Duration::from_millis(1500)) } else { reply }
        })
        .unwrap();
        let s = service(&server.base_url(), None);
        assert_eq!(s.complete(&request("x")).unwrap().content, "late");
        assert_eq!(s.stats.summary().retries, 1);
    }

    #[test]
    fn progress_lines_give_rate_and_eta() {
        let l = progress_line("reviser", 10, 40, Duration::from_secs(5), 3, 1);
        assert_eq!(l, "reviser 10/40 requests, 2.0/s, eta 15s, 3 retries, 1 failed");
        assert_eq!(human(125.0), "2m05s");
        assert_eq!(human(7300.0), "2h01m");
    }
}
