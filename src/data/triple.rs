//! Preference triples `(x, y_w, y_l)` and their JSONL form.
//!
//! On disk one triple is one line in the common layout
//! `{"prompt": ..., "chosen": ..., "rejected": ..., "metadata": {...}}`. [`read_jsonl`] also
//! imports a user's file (the `file` dataset kind): `prompt`, `chosen`, `rejected` may be
//! strings or chat message lists as TRL accepts them (`[{"role": ..., "content": ...}]`, content
//! a string or a list of `{"type": "text", "text": ...}` parts), and `prompt` may be left out
//! when `chosen` and `rejected` carry the conversation before their last (assistant) message.
//! Every error names the file and the 1-based line.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One chat message (kept when an imported prompt is a multi-message conversation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: String,
    pub content: String,
}

/// Where a triple came from and how it was judged.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Metadata {
    /// `clair`, `judge_on_policy`, `judge_off_policy`, `stronger_preferred` or `file`.
    pub builder: String,
    /// The model (or reviser) that produced `chosen`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chosen_model: Option<String>,
    /// The model that produced `rejected`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected_model: Option<String>,
    /// The judge's (or oracle's) score of `chosen`, where one exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chosen_score: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected_score: Option<f64>,
    /// The judge's or reviser's reasoning, where one exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// How `chosen` fared against the target model's own greedy answer, for builds that
    /// compare every pair (`apo_auto` reads it; `super::winner_vs_model`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub winner_vs_model: Option<super::winner_vs_model::PairComparison>,
}

/// A preference triple: `chosen` (y_w) is preferred over `rejected` (y_l) for `prompt` (x).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreferenceTriple {
    /// The prompt text (for a chat prompt, the last user message).
    pub prompt: String,
    pub chosen: String,
    pub rejected: String,
    /// The full prompt conversation when an imported prompt had more than one message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_messages: Option<Vec<Message>>,
    #[serde(default)]
    pub metadata: Metadata,
}

impl PreferenceTriple {
    pub fn new(prompt: &str, chosen: &str, rejected: &str, metadata: Metadata) -> Self {
        Self {
            prompt: prompt.to_string(),
            chosen: chosen.to_string(),
            rejected: rejected.to_string(),
            prompt_messages: None,
            metadata,
        }
    }
}

/// Errors reading or writing triples; each names the file (and line where there is one).
#[derive(Debug, thiserror::Error)]
pub enum TripleError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path} line {line}: {message}")]
    Line { path: PathBuf, line: usize, message: String },
    #[error("{path}: no triples (the file is empty)")]
    Empty { path: PathBuf },
}

/// Writes triples as JSONL atomically (`path.tmp`, then rename).
pub fn write_jsonl(path: &Path, triples: &[PreferenceTriple]) -> Result<(), TripleError> {
    let mut text = String::new();
    for t in triples {
        // Serializing plain strings, options and f64 cannot fail.
        let line = serde_json::to_string(t)
            .map_err(|e| TripleError::Io { path: path.to_path_buf(), source: std::io::Error::other(e) })?;
        text.push_str(&line);
        text.push('\n');
    }
    write_atomic(path, text.as_bytes())
}

/// Writes bytes to `path` through a sibling temp file and a rename, so readers never see half
/// a file (`crate::atomic_file`), with the error naming the path.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), TripleError> {
    crate::atomic_file::write(path, bytes).map_err(|source| TripleError::Io { path: path.to_path_buf(), source })
}

/// Reads a JSONL file of triples: this tool's own output or a user's file. Blank lines are
/// skipped; an empty file is an error.
pub fn read_jsonl(path: &Path) -> Result<Vec<PreferenceTriple>, TripleError> {
    let io = |source| TripleError::Io { path: path.to_path_buf(), source };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut out = Vec::new();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(io)?;
        if line.trim().is_empty() {
            continue;
        }
        let triple = parse_line(&line).map_err(|message| TripleError::Line {
            path: path.to_path_buf(),
            line: i + 1,
            message,
        })?;
        out.push(triple);
    }
    if out.is_empty() {
        return Err(TripleError::Empty { path: path.to_path_buf() });
    }
    Ok(out)
}

/// Parses one JSONL line into a triple; the error says which key is wrong and what was expected.
pub fn parse_line(line: &str) -> Result<PreferenceTriple, String> {
    let value: Value = serde_json::from_str(line).map_err(|e| format!("not valid JSON: {e}"))?;
    let obj =
        value.as_object().ok_or_else(|| "expected a JSON object with `prompt`, `chosen`, `rejected`".to_string())?;
    let chosen = response(obj.get("chosen"), "chosen")?;
    let rejected = response(obj.get("rejected"), "rejected")?;
    let (prompt, prompt_messages) = match obj.get("prompt") {
        Some(Value::String(s)) => (s.clone(), None),
        Some(Value::Array(_)) => {
            let msgs = messages(obj.get("prompt"), "prompt")?;
            prompt_from_messages(msgs, "prompt")?
        }
        Some(_) => return Err("`prompt` must be a string or a list of chat messages".into()),
        None => {
            // Implicit prompt: the conversation before the last message of `chosen`.
            if chosen.1.is_empty() {
                return Err("missing `prompt` (and `chosen` is not a conversation to take it from)".into());
            }
            if chosen.1 != rejected.1 {
                return Err("missing `prompt`, and `chosen` and `rejected` do not share the \
                            conversation before their last message"
                    .into());
            }
            prompt_from_messages(chosen.1.clone(), "chosen")?
        }
    };
    let metadata = match obj.get("metadata") {
        None | Some(Value::Null) => Metadata { builder: "file".into(), ..Metadata::default() },
        // Another tool's metadata is not an error: the triple counts as imported.
        Some(m) => serde_json::from_value(m.clone())
            .unwrap_or_else(|_| Metadata { builder: "file".into(), ..Metadata::default() }),
    };
    Ok(PreferenceTriple { prompt, chosen: chosen.0, rejected: rejected.0, prompt_messages, metadata })
}

/// A response field: a string, or a message list whose last message is the assistant's.
/// Returns the response text and the messages before it.
fn response(v: Option<&Value>, key: &str) -> Result<(String, Vec<Message>), String> {
    match v {
        Some(Value::String(s)) => Ok((s.clone(), Vec::new())),
        Some(Value::Array(_)) => {
            let mut msgs = messages(v, key)?;
            let last = msgs.pop().ok_or_else(|| format!("`{key}` is an empty message list"))?;
            if last.role != "assistant" {
                return Err(format!("the last message of `{key}` has role `{}`, expected `assistant`", last.role));
            }
            Ok((last.content, msgs))
        }
        Some(_) => Err(format!("`{key}` must be a string or a list of chat messages")),
        None => Err(format!("missing `{key}`")),
    }
}

fn messages(v: Option<&Value>, key: &str) -> Result<Vec<Message>, String> {
    let Some(Value::Array(items)) = v else {
        return Err(format!("`{key}` must be a list of chat messages"));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let role = m
                .get("role")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("`{key}`[{i}] needs a string `role` (system, user or assistant)"))?;
            let content = match m.get("content") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Array(parts)) => parts
                    .iter()
                    .map(|p| p.get("text").and_then(Value::as_str).unwrap_or(""))
                    .collect::<Vec<_>>()
                    .join(""),
                _ => {
                    return Err(format!("`{key}`[{i}] needs `content`: a string or a list of text parts"));
                }
            };
            Ok(Message { role: role.to_string(), content })
        })
        .collect()
}

/// The prompt text of a conversation is its last user message; the whole list is kept when
/// there is more than that one message.
fn prompt_from_messages(msgs: Vec<Message>, key: &str) -> Result<(String, Option<Vec<Message>>), String> {
    let text = msgs
        .iter()
        .rev()
        .find(|m| m.role == "user")
        .map(|m| m.content.clone())
        .ok_or_else(|| format!("the conversation in `{key}` has no `user` message"))?;
    let keep = if msgs.len() > 1 { Some(msgs) } else { None };
    Ok((text, keep))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_strings_and_chat_lists() {
        let t = parse_line(r#"{"prompt":"Hi?","chosen":"Yes.","rejected":"No."}"#).unwrap();
        assert_eq!((t.prompt.as_str(), t.chosen.as_str(), t.rejected.as_str()), ("Hi?", "Yes.", "No."));
        assert_eq!(t.metadata.builder, "file");

        let t = parse_line(
            r#"{"prompt":[{"role":"system","content":"Be brief."},{"role":"user","content":"2+2?"}],
                "chosen":[{"role":"assistant","content":"4"}],
                "rejected":[{"role":"assistant","content":[{"type":"text","text":"5"}]}]}"#,
        )
        .unwrap();
        assert_eq!((t.prompt.as_str(), t.chosen.as_str(), t.rejected.as_str()), ("2+2?", "4", "5"));
        assert_eq!(t.prompt_messages.as_ref().map(Vec::len), Some(2));

        // Implicit prompt: shared conversation before the last message.
        let t = parse_line(
            r#"{"chosen":[{"role":"user","content":"Q"},{"role":"assistant","content":"A"}],
                "rejected":[{"role":"user","content":"Q"},{"role":"assistant","content":"B"}]}"#,
        )
        .unwrap();
        assert_eq!((t.prompt.as_str(), t.chosen.as_str(), t.rejected.as_str()), ("Q", "A", "B"));
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let err = |l: &str| parse_line(l).unwrap_err();
        assert!(err("{").contains("not valid JSON"));
        assert!(err(r#"[1]"#).contains("JSON object"));
        assert!(err(r#"{"prompt":"p","chosen":"c"}"#).contains("missing `rejected`"));
        assert!(err(r#"{"prompt":3,"chosen":"c","rejected":"r"}"#).contains("`prompt` must be"));
        assert!(
            err(r#"{"prompt":"p","chosen":[{"role":"user","content":"c"}],"rejected":"r"}"#)
                .contains("expected `assistant`")
        );
        assert!(err(r#"{"prompt":"p","chosen":[{"content":"c"}],"rejected":"r"}"#).contains("`role`"));
        assert!(err(r#"{"chosen":"c","rejected":"r"}"#).contains("missing `prompt`"));
    }

    #[test]
    fn round_trips_through_a_file_and_names_the_bad_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        let meta = Metadata {
            builder: "clair".into(),
            chosen_model: Some("oracle".into()),
            chosen_score: Some(0.75),
            ..Metadata::default()
        };
        let triples = vec![
            PreferenceTriple::new("p1", "good \"quoted\"", "bad", meta.clone()),
            PreferenceTriple::new("p2", "ünïcode", "x\ny", meta),
        ];
        write_jsonl(&path, &triples).unwrap();
        assert!(!dir.path().join("t.jsonl.tmp").exists());
        assert_eq!(read_jsonl(&path).unwrap(), triples);

        std::fs::write(&path, "{\"prompt\":\"p\",\"chosen\":\"c\",\"rejected\":\"r\"}\n\n{\"prompt\":\"p\"}\n")
            .unwrap();
        let msg = read_jsonl(&path).unwrap_err().to_string();
        assert!(msg.contains("line 3") && msg.contains("missing `chosen`"), "{msg}");

        std::fs::write(&path, "\n").unwrap();
        assert!(read_jsonl(&path).unwrap_err().to_string().contains("empty"));
    }
}
