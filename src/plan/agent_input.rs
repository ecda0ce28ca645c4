//! An agent as a task input: the whole `[agents.ROLE]` table, for the task to build the agent
//! from, serialized into keys as only its identity, i.e. what changes its replies: the
//! endpoint, model and sampling settings of an API, the spec of a local model, and for a
//! reviser or judge that reads prompts (an API or a local model) the prompt template's content:
//! a user's file or the built-in paper prompts, and the reply parsers' version, so that a
//! change to any of them gives new dataset keys. The oracle reads no prompts, and its keys carry none. The key's variable name, timeouts, concurrency and retries change no
//! reply and stay out of the key.

use std::path::PathBuf;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::data::template::Role;
use crate::grid::schema::AgentSpec;

/// An agent (reviser, judge, stronger model, off-policy pool) and its prompt template.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentInput {
    pub spec: AgentSpec,
    pub prompts: Prompts,
}

/// The prompts an agent answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Prompts {
    /// None: the agent answers the task's prompts themselves (stronger model, off-policy pool).
    None,
    /// The paper's prompts for this role (`crate::data::prompts`).
    Paper(Role),
    /// A user's template file replacing the paper's.
    File(TemplateFile),
}

#[derive(Debug, Clone, PartialEq)]
pub struct TemplateFile {
    pub path: PathBuf,
    pub sha256: String,
}

impl AgentInput {
    /// A reviser or judge: the paper's prompts for `role`, or the user's template file.
    pub fn prompted(spec: &AgentSpec, role: Role, template: Option<&str>) -> AgentInput {
        let prompts = match template {
            Some(p) => Prompts::File(TemplateFile {
                path: PathBuf::from(p),
                sha256: crate::digest::file_key(std::path::Path::new(p)),
            }),
            None => Prompts::Paper(role),
        };
        AgentInput { spec: spec.clone(), prompts }
    }

    /// An agent that answers prompts as they are (the stronger model, the off-policy pool).
    pub fn plain(spec: &AgentSpec) -> AgentInput {
        AgentInput { spec: spec.clone(), prompts: Prompts::None }
    }

    /// The digest of the template this agent's replies depend on: none for the oracle (it reads
    /// no prompts) or an agent without prompts.
    fn template_key(&self) -> Option<String> {
        if matches!(self.spec, AgentSpec::Oracle | AgentSpec::File { .. }) {
            return None;
        }
        match &self.prompts {
            Prompts::None => None,
            Prompts::Paper(role) => Some(crate::digest::sha256_bytes(role.paper_text().as_bytes())),
            Prompts::File(t) => Some(t.sha256.clone()),
        }
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
        if let Some(t) = self.template_key() {
            map.serialize_entry("template", &t)?;
            map.serialize_entry("parser", &crate::data::prompts::PARSER_VERSION)?;
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
            other => AgentInput::plain(other).serialize(s),
        }
    }
}
