//! One chat-completions request (`POST {base_url}/chat/completions`) over ureq with rustls,
//! and what its failure means: worth a retry (429, 5xx, timeout, connection) or final.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::key::ApiKey;
use super::retry::{parse_retry_after, retryable_status};

/// One chat message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: String,
    pub content: String,
}

impl Message {
    pub fn user(content: impl Into<String>) -> Message {
        Message { role: "user".into(), content: content.into() }
    }

    pub fn system(content: impl Into<String>) -> Message {
        Message { role: "system".into(), content: content.into() }
    }
}

/// What a request asks for. The model and endpoint belong to the client.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    pub messages: Vec<Message>,
    pub temperature: f64,
    pub max_tokens: usize,
    /// Sent as `seed` (OpenAI and vLLM honour it) so that two samples of one prompt with
    /// different seeds are different requests, and each is reproducible where the server allows.
    pub seed: Option<u64>,
    /// Nucleus sampling; not sent when `None` (the server's default, 1).
    pub top_p: Option<f64>,
}

impl ChatRequest {
    /// The request's parameters besides the messages, as sent (and as hashed by the cache).
    pub fn params(&self) -> Value {
        let mut p = json!({ "temperature": self.temperature, "max_tokens": self.max_tokens });
        if let Some(seed) = self.seed {
            p["seed"] = json!(seed);
        }
        if let Some(top_p) = self.top_p {
            p["top_p"] = json!(top_p);
        }
        p
    }
}

/// Token counts, where the server reports `usage`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

/// The first choice's text and the usage the server reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatReply {
    pub content: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
}

/// A failed try. `reason` is a short category counted in the stats (`http 429`, `timeout`,
/// `connection`, `malformed reply`, ...); `detail` says more and never contains the key.
#[derive(Debug, Clone, PartialEq)]
pub struct TryError {
    pub reason: String,
    pub detail: String,
    pub retryable: bool,
    /// The server's `Retry-After`, if it sent one.
    pub retry_after: Option<Duration>,
}

/// An HTTP client for one endpoint and model. Cheap to share between threads: ureq's agent
/// keeps a pool of keep-alive connections.
pub struct ChatClient {
    agent: ureq::Agent,
    url: String,
    model: String,
    key: Option<ApiKey>,
}

impl ChatClient {
    /// `base_url` is the API root (e.g. `https://api.openai.com/v1` or `http://localhost:8000/v1`);
    /// `timeout` bounds one whole request, connect to last byte.
    pub fn new(base_url: &str, model: &str, key: Option<ApiKey>, timeout: Duration, connections: usize) -> ChatClient {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .max_idle_connections(connections.max(1) * 2)
            .max_idle_connections_per_host(connections.max(1) * 2)
            .user_agent(concat!("apogrid/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        let url = format!("{}/chat/completions", base_url.trim_end_matches('/'));
        ChatClient { agent, url, model: model.to_string(), key }
    }

    /// One try, no retries.
    pub fn send(&self, request: &ChatRequest) -> Result<ChatReply, TryError> {
        let mut body = request.params();
        body["model"] = json!(self.model);
        body["messages"] = json!(request.messages);
        let mut req = self.agent.post(&self.url).header("Content-Type", "application/json");
        if let Some(key) = &self.key {
            req = req.header("Authorization", key.bearer());
        }
        let mut response = match req.send(body.to_string()) {
            Ok(r) => r,
            Err(e) => return Err(self.transport_error(e)),
        };
        let status = response.status().as_u16();
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        let retry_after = parse_retry_after(header("retry-after-ms").as_deref(), header("retry-after").as_deref());
        let text = match response.body_mut().read_to_string() {
            Ok(t) => t,
            Err(e) => return Err(self.transport_error(e)),
        };
        if status != 200 {
            return Err(TryError {
                reason: format!("http {status}"),
                detail: format!("HTTP {status}: {}", self.redact(&snippet(&text))),
                retryable: retryable_status(status),
                retry_after,
            });
        }
        parse_reply(&text).map_err(|detail| TryError {
            reason: "malformed reply".into(),
            detail: self.redact(&detail),
            retryable: false,
            retry_after: None,
        })
    }

    fn transport_error(&self, e: ureq::Error) -> TryError {
        let reason = match &e {
            ureq::Error::Timeout(_) => "timeout",
            ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => "timeout",
            ureq::Error::Io(_)
            | ureq::Error::ConnectionFailed
            | ureq::Error::HostNotFound
            | ureq::Error::Protocol(_) => "connection",
            ureq::Error::Tls(_) => "tls",
            _ => "client",
        };
        // Timeouts and broken connections heal; a TLS or URL error does not.
        let retryable = matches!(reason, "timeout" | "connection");
        TryError { reason: reason.into(), detail: self.redact(&e.to_string()), retryable, retry_after: None }
    }

    fn redact(&self, text: &str) -> String {
        match &self.key {
            Some(k) => k.redact(text),
            None => text.to_string(),
        }
    }
}

/// `choices[0].message.content` and `usage` of a chat-completions reply.
pub fn parse_reply(text: &str) -> Result<ChatReply, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("reply is not JSON ({e}): {}", snippet(text)))?;
    let content = v["choices"][0]["message"]["content"]
        .as_str()
        .ok_or_else(|| format!("reply has no choices[0].message.content: {}", snippet(text)))?;
    let usage = v.get("usage").and_then(|u| {
        Some(Usage { prompt_tokens: u["prompt_tokens"].as_u64()?, completion_tokens: u["completion_tokens"].as_u64()? })
    });
    Ok(ChatReply { content: content.to_string(), usage })
}

/// The first 300 characters of a body, for error messages.
fn snippet(text: &str) -> String {
    let t: String = text.chars().take(300).collect();
    if t.len() < text.len() { format!("{t}...") } else { t }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_parse_with_and_without_usage() {
        let r = parse_reply(r#"{"choices":[{"message":{"role":"assistant","content":"hi"}}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}"#).unwrap();
        assert_eq!(
            r,
            ChatReply { content: "hi".into(), usage: Some(Usage { prompt_tokens: 3, completion_tokens: 1 }) }
        );
        let r = parse_reply(r#"{"choices":[{"message":{"content":"x"}}]}"#).unwrap();
        assert_eq!(r.usage, None);
        assert!(parse_reply(r#"{"choices":[]}"#).unwrap_err().contains("choices[0]"));
        assert!(parse_reply("<html>").unwrap_err().contains("not JSON"));
    }

    #[test]
    fn params_carry_the_seed_only_when_set() {
        let mut r = ChatRequest {
            messages: vec![Message::user("x")],
            temperature: 0.7,
            max_tokens: 10,
            seed: None,
            top_p: None,
        };
        assert!(r.params().get("seed").is_none() && r.params().get("top_p").is_none());
        r.seed = Some(5);
        r.top_p = Some(0.9);
        assert_eq!((&r.params()["seed"], &r.params()["top_p"]), (&json!(5), &json!(0.9)));
    }
}
