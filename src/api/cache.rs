//! A content-addressed cache of chat replies: the key is the sha256 of (base URL, model,
//! request parameters, messages), the value the reply's text and usage. A rerun, or a build
//! resumed after a kill, finds every reply it already paid for and sends only the rest.
//!
//! It lives under the store (`<store>/.api-cache/`), outside any task's temp folder, so it
//! survives a killed or failed task and is shared by every grid on that store. Entries hold no
//! API key (the key is not part of a request's identity: any key gets the same reply). Only
//! successful replies are kept, so a request that failed for good is tried again next time.
//! Layout: `<dir>/<first two hex digits>/<key>.json`.

use std::path::{Path, PathBuf};

use serde_json::json;
use sha2::{Digest, Sha256};

use super::client::{ChatReply, ChatRequest};
use crate::atomic_file as atomic;

pub struct ResponseCache {
    dir: PathBuf,
}

impl ResponseCache {
    pub fn open(dir: &Path) -> std::io::Result<ResponseCache> {
        std::fs::create_dir_all(dir)?;
        Ok(ResponseCache { dir: dir.to_path_buf() })
    }

    /// The cache key of `request` sent to `model` at `base_url`. The base URL is normalised
    /// (no trailing `/`) so `.../v1` and `.../v1/` share entries.
    pub fn key(base_url: &str, model: &str, request: &ChatRequest) -> String {
        let canonical = json!({
            "base_url": base_url.trim_end_matches('/'),
            "model": model,
            "params": request.params(),
            "messages": request.messages,
        });
        hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(&key[..2.min(key.len())]).join(format!("{key}.json"))
    }

    /// The stored reply, or `None` (missing, or unreadable: then it is fetched again).
    pub fn get(&self, key: &str) -> Option<ChatReply> {
        let text = std::fs::read_to_string(self.path(key)).ok()?;
        serde_json::from_str(&text).ok()
    }

    pub fn put(&self, key: &str, reply: &ChatReply) -> std::io::Result<()> {
        let path = self.path(key);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let text = serde_json::to_vec(reply).map_err(std::io::Error::other)?;
        atomic::write_unsynced(&path, &text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::client::{Message, Usage};

    fn req(text: &str, seed: Option<u64>) -> ChatRequest {
        ChatRequest { messages: vec![Message::user(text)], temperature: 0.7, max_tokens: 64, seed, top_p: None }
    }

    #[test]
    fn keys_change_with_every_input_and_entries_round_trip() {
        let k = ResponseCache::key("http://h/v1", "m", &req("a", None));
        assert_eq!(k, ResponseCache::key("http://h/v1/", "m", &req("a", None)));
        for other in [
            ResponseCache::key("http://g/v1", "m", &req("a", None)),
            ResponseCache::key("http://h/v1", "n", &req("a", None)),
            ResponseCache::key("http://h/v1", "m", &req("b", None)),
            ResponseCache::key("http://h/v1", "m", &req("a", Some(1))),
        ] {
            assert_ne!(k, other);
        }
        let dir = tempfile::tempdir().unwrap();
        let cache = ResponseCache::open(dir.path()).unwrap();
        assert_eq!(cache.get(&k), None);
        let reply = ChatReply { content: "x".into(), usage: Some(Usage { prompt_tokens: 1, completion_tokens: 2 }) };
        cache.put(&k, &reply).unwrap();
        assert_eq!(cache.get(&k), Some(reply));
        // A damaged entry is a miss, not an error.
        std::fs::write(cache.path(&k), "{").unwrap();
        assert_eq!(cache.get(&k), None);
    }
}
