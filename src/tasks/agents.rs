//! From the grid's `[agents]` to the builders' roles: the embedded oracle, a local model, or an
//! LLM behind an OpenAI-compatible API, whichever the grid names. API agents share the
//! response cache under the store (`<store>/.api-cache/`) and report progress on the task's
//! line; their costs and rejections are collected for `api-stats.json`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::{Value, json};

use super::bundle;
use crate::agents::api::ApiGenerator;
use crate::agents::model::{GENERATION_BATCH, OwnedModelGenerator};
use crate::agents::prompted::{PromptedJudge, PromptedReviser, Rejections};
use crate::api::retry::RetryPolicy;
use crate::api::{ApiKey, ApiSettings, ChatService};
use crate::data::agents::{Generator, Judge, Reviser};
use crate::data::template::{PromptTemplate, Role};
use crate::exec::TaskContext;
use crate::grid::schema::AgentSpec;
use crate::model::spec::ModelSpec;
use crate::plan::agent_input::{AgentInput, Prompts};
use crate::world::oracle::{OracleJudge, OracleReviser};
use crate::world::policies::StrongerModel;

/// A loaded local model as a generator, decoding as `[agents.sampling]` says.
pub fn local_generator(name: &str, b: bundle::Bundle, max_new_tokens: usize, top_p: f64) -> OwnedModelGenerator {
    OwnedModelGenerator {
        name: name.to_string(),
        model: b.model,
        tokenizer: b.tokenizer,
        format: b.format,
        max_new_tokens,
        top_p: top_p as f32,
        batch_size: GENERATION_BATCH,
    }
}

/// The cache folder under a store.
pub const CACHE_DIR: &str = ".api-cache";

/// Builds agents for one task and remembers the API services and rejection counters it made.
pub struct AgentFactory<'a> {
    ctx: &'a TaskContext<'a>,
    /// `[agents.sampling]`: how local models answer.
    max_new_tokens: usize,
    top_p: f64,
    services: Vec<(String, Arc<ChatService>)>,
    rejections: Vec<(String, Rejections)>,
    /// The judge's kept replies by the rule that read them.
    verdicts: Vec<(String, Rejections)>,
}

impl<'a> AgentFactory<'a> {
    pub fn new(ctx: &'a TaskContext<'a>, max_new_tokens: usize, top_p: f64) -> Self {
        AgentFactory { ctx, max_new_tokens, top_p, services: Vec::new(), rejections: Vec::new(), verdicts: Vec::new() }
    }

    /// An API agent as a generator for `role` (`greedy_temperature`: see [`ApiGenerator`]).
    pub fn api(
        &mut self,
        role: &str,
        spec: &AgentSpec,
        greedy_temperature: Option<f64>,
    ) -> anyhow::Result<ApiGenerator> {
        let AgentSpec::Api {
            base_url,
            model,
            api_key_env,
            temperature,
            max_tokens,
            timeout_s,
            concurrency,
            max_retries,
            backoff_ms,
        } = spec
        else {
            bail!("agents.{role}: not an API agent");
        };
        let key = ApiKey::from_env(api_key_env, &format!("agents.{role}.api_key_env"))?;
        let settings = ApiSettings {
            base_url: base_url.clone(),
            model: model.clone(),
            key,
            timeout: Duration::from_secs(*timeout_s),
            concurrency: *concurrency,
            retry: RetryPolicy {
                max_retries: *max_retries,
                base: Duration::from_millis(*backoff_ms),
                ..RetryPolicy::default()
            },
            cache_dir: Some(self.ctx.store.root().join(CACHE_DIR)),
        };
        let cache = settings.cache_dir.clone().unwrap_or_default();
        let progress = self.ctx.progress.clone();
        let service = ChatService::new(settings)
            .with_context(|| format!("opening the API response cache {}", cache.display()))?
            .with_progress(Box::new(move |line| progress.set(line.to_string())));
        let service = Arc::new(service);
        self.services.push((role.to_string(), service.clone()));
        Ok(ApiGenerator {
            name: model.clone(),
            label: role.to_string(),
            service,
            max_tokens: *max_tokens,
            greedy_temperature: greedy_temperature.unwrap_or(*temperature),
            top_p: None,
        })
    }

    /// A local model (not `tiny`, which is the target itself) as a generator.
    fn model(&self, spec: &str) -> anyhow::Result<OwnedModelGenerator> {
        let parsed: ModelSpec = spec.parse()?;
        if let ModelSpec::Tiny(_) = parsed {
            bail!("`tiny` is the embedded target model and cannot play another role; use `oracle`");
        }
        let b = bundle::from_spec(&parsed, &bundle::device(self.ctx)?)?;
        Ok(local_generator(spec, b, self.max_new_tokens, self.top_p))
    }

    fn template(&self, role: Role, agent: &AgentInput) -> anyhow::Result<PromptTemplate> {
        Ok(match &agent.prompts {
            Prompts::File(t) => PromptTemplate::load(role, &t.path)?,
            Prompts::Paper(_) | Prompts::None => PromptTemplate::paper(role),
        })
    }

    pub fn reviser(&mut self, agent: &AgentInput) -> anyhow::Result<Box<dyn Reviser>> {
        let template = self.template(Role::Reviser, agent);
        let reviser = match &agent.spec {
            AgentSpec::Oracle => return Ok(Box::new(OracleReviser)),
            spec @ AgentSpec::Api { .. } => {
                PromptedReviser::new(Box::new(self.api("reviser", spec, None)?) as Box<dyn Generator>, template?)
            }
            AgentSpec::Model { spec } => {
                PromptedReviser::new(Box::new(self.model(spec)?) as Box<dyn Generator>, template?)
            }
            AgentSpec::File { .. } => bail!("agents.reviser: `kind = \"file\"` cannot revise"),
        };
        self.rejections.push(("reviser".into(), reviser.rejections.clone()));
        Ok(Box::new(reviser))
    }

    pub fn judge(&mut self, agent: &AgentInput, seed: u64) -> anyhow::Result<Box<dyn Judge>> {
        let template = self.template(Role::Judge, agent);
        let judge = match &agent.spec {
            AgentSpec::Oracle => return Ok(Box::new(OracleJudge { seed })),
            spec @ AgentSpec::Api { .. } => {
                PromptedJudge::new(Box::new(self.api("judge", spec, None)?) as Box<dyn Generator>, template?)
            }
            AgentSpec::Model { spec } => {
                PromptedJudge::new(Box::new(self.model(spec)?) as Box<dyn Generator>, template?)
            }
            AgentSpec::File { .. } => bail!("agents.judge: `kind = \"file\"` cannot judge"),
        };
        self.rejections.push(("judge".into(), judge.rejections.clone()));
        self.verdicts.push(("judge".into(), judge.verdicts.clone()));
        Ok(Box::new(judge))
    }

    /// The stronger model of `stronger_preferred`, or the one model of an off-policy pool.
    pub fn generator(&mut self, role: &str, spec: &AgentSpec) -> anyhow::Result<Box<dyn Generator>> {
        Ok(match spec {
            AgentSpec::Oracle if role == "stronger" => Box::new(StrongerModel),
            AgentSpec::Api { .. } => Box::new(self.api(role, spec, None)?),
            AgentSpec::Model { spec } => Box::new(self.model(spec)?),
            _ => bail!("agents.{role}: this kind cannot answer prompts here"),
        })
    }

    /// Per role: the API's costs (requests, cache hits, retries, failures by reason, tokens,
    /// wall time), the format rejections by reason and the judge's kept replies by the rule
    /// that read them (`crate::data::prompts::VerdictRule`). `None` when no API or prompted agent ran.
    pub fn summary(&self) -> Option<Value> {
        let mut roles: BTreeMap<String, Value> = BTreeMap::new();
        for (role, service) in &self.services {
            roles.insert(role.clone(), json!({ "model": service.settings().model, "api": service.stats.summary() }));
        }
        for (role, rejections) in &self.rejections {
            let counts = rejections.lock().unwrap_or_else(|p| p.into_inner()).clone();
            roles.entry(role.clone()).or_insert_with(|| json!({}))["rejected"] = json!(counts);
        }
        for (role, verdicts) in &self.verdicts {
            let counts = verdicts.lock().unwrap_or_else(|p| p.into_inner()).clone();
            roles.entry(role.clone()).or_insert_with(|| json!({}))["verdicts"] = json!(counts);
        }
        (!roles.is_empty()).then(|| json!(roles))
    }

    /// One line per API role for the run's log.
    pub fn summary_lines(&self) -> Vec<String> {
        self.services
            .iter()
            .map(|(role, s)| format!("{role} ({}): {}", s.settings().model, s.stats.summary().line()))
            .collect()
    }
}
