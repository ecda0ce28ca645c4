//! A loopback server that speaks enough of the OpenAI chat-completions protocol (HTTP/1.1,
//! keep-alive, `Content-Length` bodies) for the integration tests and the throughput benchmark.
//! A handler decides each reply (well-formed, malformed, 429 with `Retry-After`, 500, slow), and
//! the server counts what it received. Not for production use: one thread per connection, no
//! chunked bodies, no TLS.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// One request as the handler sees it.
#[derive(Debug, Clone)]
pub struct MockRequest {
    /// 0-based arrival order over the server's lifetime.
    pub index: usize,
    pub path: String,
    /// Lower-cased names.
    pub headers: Vec<(String, String)>,
    /// The JSON body (`Null` if it was not JSON).
    pub body: Value,
    /// When it arrived (to check that a client waited as told).
    pub at: Instant,
}

impl MockRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The text of the last message, the prompt the client sent.
    pub fn prompt(&self) -> &str {
        self.body["messages"].as_array().and_then(|m| m.last()).and_then(|m| m["content"].as_str()).unwrap_or("")
    }
}

/// What the server answers.
#[derive(Debug, Clone)]
pub struct MockResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// Wait this long before answering (a slow server, or a timeout).
    pub delay: Duration,
}

impl MockResponse {
    /// A well-formed chat completion with `content` and a `usage` block (tokens = words).
    pub fn chat(content: &str, prompt: &str) -> MockResponse {
        let body = json!({
            "id": "mock", "object": "chat.completion",
            "choices": [{ "index": 0, "message": { "role": "assistant", "content": content }, "finish_reason": "stop" }],
            "usage": { "prompt_tokens": prompt.split_whitespace().count(), "completion_tokens": content.split_whitespace().count() },
        });
        MockResponse { status: 200, headers: Vec::new(), body: body.to_string(), delay: Duration::ZERO }
    }

    /// An error status with a JSON error body.
    pub fn error(status: u16) -> MockResponse {
        let body = json!({ "error": { "message": format!("mock error {status}") } }).to_string();
        MockResponse { status, headers: Vec::new(), body, delay: Duration::ZERO }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> MockResponse {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn with_delay(mut self, delay: Duration) -> MockResponse {
        self.delay = delay;
        self
    }
}

type Handler = dyn Fn(&MockRequest) -> MockResponse + Send + Sync;

/// A running server; stops when dropped.
pub struct MockServer {
    addr: SocketAddr,
    received: Arc<AtomicUsize>,
    log: Arc<Mutex<Vec<MockRequest>>>,
    stop: Arc<AtomicBool>,
    accept: Option<std::thread::JoinHandle<()>>,
}

impl MockServer {
    /// Listens on `127.0.0.1` on a free port.
    pub fn start(
        handler: impl Fn(&MockRequest) -> MockResponse + Send + Sync + 'static,
    ) -> std::io::Result<MockServer> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let received = Arc::new(AtomicUsize::new(0));
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let handler: Arc<Handler> = Arc::new(handler);
        let (r, l, s) = (received.clone(), log.clone(), stop.clone());
        let accept = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (r, l, s, h) = (r.clone(), l.clone(), s.clone(), handler.clone());
                std::thread::spawn(move || serve(stream, &r, &l, &s, h.as_ref()));
            }
        });
        Ok(MockServer { addr, received, log, stop, accept: Some(accept) })
    }

    /// The API root to put in a grid, `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Requests received so far.
    pub fn received(&self) -> usize {
        self.received.load(Ordering::SeqCst)
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<MockRequest> {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

/// Serves one keep-alive connection until the client closes it or the server stops.
fn serve(
    stream: TcpStream,
    received: &AtomicUsize,
    log: &Mutex<Vec<MockRequest>>,
    stop: &AtomicBool,
    handler: &Handler,
) {
    let _ = stream.set_nodelay(true);
    let Ok(mut writer) = stream.try_clone() else { return };
    let mut reader = BufReader::new(stream);
    while !stop.load(Ordering::SeqCst) {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
        let mut headers = Vec::new();
        let mut length = 0usize;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_string());
                if k == "content-length" {
                    length = v.parse().unwrap_or(0);
                }
                headers.push((k, v));
            }
        }
        let mut body = vec![0u8; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let index = received.fetch_add(1, Ordering::SeqCst);
        let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let request = MockRequest { index, path, headers, body, at: Instant::now() };
        let response = handler(&request);
        log.lock().unwrap_or_else(|p| p.into_inner()).push(request);
        if !response.delay.is_zero() {
            std::thread::sleep(response.delay);
        }
        let mut head = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
            response.status,
            if response.status == 200 { "OK" } else { "Error" },
            response.body.len()
        );
        for (k, v) in &response.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        if writer.write_all(head.as_bytes()).and_then(|_| writer.write_all(response.body.as_bytes())).is_err() {
            return;
        }
    }
}
