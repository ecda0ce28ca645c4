//! Requests per second the chat-completions client sustains against a loopback server that
//! answers instantly (`apogrid::api::mock`), at several concurrencies, without the cache, with
//! the cache being filled, and served from the cache. Client and server share this machine's
//! cores, so the numbers are a floor for the client alone. Run: `scripts/bench-api.sh`.

use std::time::{Duration, Instant};

use apogrid::api::mock::{MockRequest, MockResponse, MockServer};
use apogrid::api::retry::RetryPolicy;
use apogrid::api::{ApiSettings, ChatRequest, ChatService, Message};

fn requests(n: usize, tag: &str) -> Vec<ChatRequest> {
    (0..n)
        .map(|i| ChatRequest {
            messages: vec![Message::user(format!("{tag} prompt {i}: revise this short answer please"))],
            temperature: 0.7,
            max_tokens: 256,
            seed: None,
            top_p: None,
        })
        .collect()
}

fn service(url: &str, concurrency: usize, cache: Option<&std::path::Path>) -> ChatService {
    ChatService::new(ApiSettings {
        base_url: url.to_string(),
        model: "bench".into(),
        key: None,
        timeout: Duration::from_secs(30),
        concurrency,
        retry: RetryPolicy::default(),
        cache_dir: cache.map(|p| p.to_path_buf()),
    })
    .expect("service")
}

fn main() {
    let n: usize = std::env::var("APOGRID_BENCH_REQUESTS").ok().and_then(|v| v.parse().ok()).unwrap_or(4000);
    let server = MockServer::start(|r: &MockRequest| {
        MockResponse::chat("{teacher_reasoning}: fine.\n{corrected_student_solution}: revised.", r.prompt())
    })
    .expect("server");
    let url = server.base_url();
    println!("| concurrency | cache | requests | seconds | requests/s |");
    println!("|---:|---|---:|---:|---:|");
    let row = |c: usize, cache: &str, count: usize, secs: f64| {
        println!("| {c} | {cache} | {count} | {secs:.2} | {:.0} |", count as f64 / secs);
    };
    // Warm up connections.
    service(&url, 16, None).complete_all("warmup", &requests(200, "warmup"));
    for c in [1, 4, 16, 64] {
        let s = service(&url, c, None);
        let batch = requests(if c == 1 { n / 4 } else { n }, &format!("c{c}"));
        let t = Instant::now();
        let out = s.complete_all("bench", &batch);
        assert!(out.iter().all(Result::is_ok));
        row(c, "off", batch.len(), t.elapsed().as_secs_f64());
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let s = service(&url, 16, Some(dir.path()));
    let batch = requests(n, "cached");
    let t = Instant::now();
    assert!(s.complete_all("bench", &batch).iter().all(Result::is_ok));
    row(16, "filled", n, t.elapsed().as_secs_f64());
    let sent = server.received();
    let t = Instant::now();
    assert!(s.complete_all("bench", &batch).iter().all(Result::is_ok));
    row(16, "hits", n, t.elapsed().as_secs_f64());
    assert_eq!(server.received(), sent, "a cached batch sends nothing");
}
