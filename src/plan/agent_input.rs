//! An agent as a task input: the whole `[agents.ROLE]` table, for the task to build the agent
//! from, serialized into keys as only its identity, i.e. what changes its replies: the
//! endpoint, model and sampling settings of an API, the spec of a local model, the prompt
//! template's content. The key's variable name, timeouts, concurrency and retries change no
//! reply and stay out of the key.

use std::path::PathBuf;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::grid::schema::AgentSpec;

/// An agent (reviser, judge, stronger model, off-policy pool) and its prompt template.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentInput {
    pub spec: AgentSpec,
    /// A user's prompt template replacing the paper's, with its content digest.
    pub template: Option<TemplateFile>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TemplateFile {
    pub path: PathBuf,
    pub sha256: String,
}

impl AgentInput {
    pub fn new(spec: &AgentSpec, template: Option<&str>) -> AgentInput {
        let template = template
            .map(|p| TemplateFile { path: PathBuf::from(p), sha256: crate::digest::file_key(std::path::Path::new(p)) });
        AgentInput { spec: spec.clone(), template }
    }
}

impl Serialize for AgentInput {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        match &self.spec {
            AgentSpec::Oracle => map.serialize_entry("kind", "oracle")?,
            AgentSpec::Api { base_url, model, temperature, max_tokens, .. } => {
                map.serialize_entry("kind", "api")?;
                map.serialize_entry("base_url", base_url)?;
                map.serialize_entry("model", model)?;
                map.serialize_entry("temperature", temperature)?;
                map.serialize_entry("max_tokens", max_tokens)?;
            }
            AgentSpec::Model { spec } => {
                map.serialize_entry("kind", "model")?;
                map.serialize_entry("spec", spec)?;
            }
            AgentSpec::File { field } => {
                map.serialize_entry("kind", "file")?;
                map.serialize_entry("field", field)?;
            }
        }
        if let Some(t) = &self.template {
            map.serialize_entry("template", &t.sha256)?;
        }
        map.end()
    }
}

/// A server sampling the target. Its identity is the endpoint and model only: how it is
/// sampled is `[agents.sampling]`'s, already in the `sample` task's input.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetInput(pub AgentSpec);

impl Serialize for TargetInput {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            AgentSpec::Api { base_url, model, .. } => {
                let mut map = s.serialize_map(Some(3))?;
                map.serialize_entry("kind", "api")?;
                map.serialize_entry("base_url", base_url)?;
                map.serialize_entry("model", model)?;
                map.end()
            }
            other => AgentInput { spec: other.clone(), template: None }.serialize(s),
        }
    }
}
