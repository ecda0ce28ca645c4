//! Outputs of other models stored with the prompts (UltraFeedback carries four models'
//! completions per prompt): the off-policy judge's pool when `[agents.off_policy]` has
//! `kind = "file"`. Pool member `k` answers every prompt with that prompt's `k`-th stored
//! completion, so the builder's seeded draw of two distinct members picks two distinct
//! completions; no model runs and no request is sent.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use crate::data::agents::{AgentError, Decoding, Generator};

/// The stored completions of each prompt, in the prompts' order.
pub type Completions = Arc<Vec<Vec<String>>>;

/// Reads one prompt line's completions: a list of strings, or of objects carrying the text
/// under `response` (UltraFeedback), `text`, `content` or `completion`.
pub fn completions_of(value: &Value) -> Result<Vec<String>, String> {
    let list = value.as_array().ok_or("expected a list of completions")?;
    list.iter()
        .enumerate()
        .map(|(i, c)| match c {
            Value::String(s) => Ok(s.clone()),
            Value::Object(o) => ["response", "text", "content", "completion"]
                .iter()
                .find_map(|k| o.get(*k).and_then(Value::as_str))
                .map(str::to_string)
                .ok_or_else(|| format!("completion {i} has no `response`, `text`, `content` or `completion` string")),
            _ => Err(format!("completion {i} is neither a string nor an object")),
        })
        .collect()
}

/// Member `index` of the stored-completions pool.
#[derive(Debug)]
pub struct StoredCompletion {
    name: String,
    index: usize,
    completions: Completions,
    by_prompt: Arc<BTreeMap<String, usize>>,
}

/// The pool: one member per completion slot that every prompt has (the smallest count).
pub fn pool(prompts: &[String], completions: Completions) -> Result<Vec<StoredCompletion>, String> {
    if completions.len() != prompts.len() {
        return Err(format!("{} completion lists for {} prompts", completions.len(), prompts.len()));
    }
    let slots = completions.iter().map(Vec::len).min().unwrap_or(0);
    if let Some(i) = completions.iter().position(|c| c.len() < 2) {
        return Err(format!(
            "prompt {} has {} stored completions; the off-policy judge needs two",
            i + 1,
            completions[i].len()
        ));
    }
    let by_prompt: Arc<BTreeMap<String, usize>> =
        Arc::new(prompts.iter().enumerate().map(|(i, p)| (p.clone(), i)).collect());
    Ok((0..slots)
        .map(|index| StoredCompletion {
            name: format!("stored-completion-{index}"),
            index,
            completions: completions.clone(),
            by_prompt: by_prompt.clone(),
        })
        .collect())
}

impl Generator for StoredCompletion {
    fn name(&self) -> &str {
        &self.name
    }

    fn generate(&mut self, prompts: &[String], _: Decoding) -> Result<Vec<String>, AgentError> {
        prompts
            .iter()
            .map(|p| {
                let i = self.by_prompt.get(p).ok_or_else(|| AgentError::Failed {
                    agent: self.name.clone(),
                    message: format!("no stored completions for prompt {p:?}"),
                })?;
                Ok(self.completions[*i][self.index].clone())
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn completions_parse_and_pool_members_answer_their_slot() {
        let c = completions_of(&json!([{"model": "a", "response": "x"}, "y", {"text": "z"}])).unwrap();
        assert_eq!(c, ["x", "y", "z"]);
        assert!(completions_of(&json!([1])).is_err());
        let prompts = vec!["p".to_string(), "q".to_string()];
        let mut members =
            pool(&prompts, Arc::new(vec![vec!["p0".into(), "p1".into(), "p2".into()], vec!["q0".into(), "q1".into()]]))
                .unwrap();
        assert_eq!(members.len(), 2);
        assert_eq!(members[1].generate(&prompts, Decoding::Greedy).unwrap(), ["p1", "q1"]);
        assert!(
            pool(&prompts, Arc::new(vec![vec!["a".into()], vec!["b".into(), "c".into()]]))
                .unwrap_err()
                .contains("prompt 1")
        );
    }
}
