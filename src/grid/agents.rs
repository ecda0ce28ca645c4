//! Checks of the `[agents]` table that serde cannot express: API endpoints and limits, that
//! `api_key_env` names a variable (and is not a pasted key), which kinds may play which role,
//! and that prompt template files exist and carry their placeholders. Errors name the key.

use std::path::Path;

use super::schema::{AgentSpec, AgentsSection};
use crate::data::template::{PromptTemplate, Role};

/// `Err((key, message))` for the first problem found.
pub fn check_agents(a: &AgentsSection) -> Result<(), (String, String)> {
    for (role, spec) in
        [("reviser", &a.reviser), ("judge", &a.judge), ("stronger", &a.stronger), ("off_policy", &a.off_policy)]
    {
        check_spec(spec, &format!("agents.{role}"))?;
        if matches!(spec, AgentSpec::File { .. }) && role != "off_policy" {
            return Err((
                format!("agents.{role}.kind"),
                "`kind = \"file\"` supplies the off-policy outputs only; use `oracle`, `api` or `model`".into(),
            ));
        }
    }
    if let Some(target) = &a.target {
        if !matches!(target, AgentSpec::Api { .. }) {
            return Err((
                "agents.target.kind".into(),
                "only `kind = \"api\"` (a server serving the target model); remove `[agents.target]` to sample the grid's `[model]` itself".into(),
            ));
        }
        check_spec(target, "agents.target")?;
    }
    for (key, path, role, spec) in [
        ("agents.reviser_template", &a.reviser_template, Role::Reviser, &a.reviser),
        ("agents.judge_template", &a.judge_template, Role::Judge, &a.judge),
    ] {
        let Some(path) = path else { continue };
        if matches!(spec, AgentSpec::Oracle) {
            return Err((
                key.into(),
                "the embedded oracle reads no prompts; a template needs an `api` or `model` agent".into(),
            ));
        }
        PromptTemplate::load(role, Path::new(path)).map_err(|e| (key.to_string(), e.to_string()))?;
    }
    Ok(())
}

fn check_spec(spec: &AgentSpec, table: &str) -> Result<(), (String, String)> {
    let err = |k: &str, m: String| Err((format!("{table}.{k}"), m));
    let AgentSpec::Api { base_url, model, api_key_env, temperature, max_tokens, timeout_s, concurrency, .. } = spec
    else {
        if let AgentSpec::Model { spec } = spec {
            // The same parser as `[model] spec`; the tiny model is the target itself.
            match spec.trim().parse::<crate::model::spec::ModelSpec>() {
                Err(e) => return err("spec", e.to_string()),
                Ok(crate::model::spec::ModelSpec::Tiny(_)) => {
                    return err(
                        "spec",
                        "`tiny` is the embedded target model and cannot play another role; use `kind = \"oracle\"`"
                            .into(),
                    );
                }
                Ok(_) => {}
            }
        }
        return Ok(());
    };
    if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
        return err(
            "base_url",
            format!("expected an http:// or https:// URL such as `https://api.openai.com/v1`, got `{base_url}`"),
        );
    }
    if model.trim().is_empty() {
        return err("model", "expected the served model's name, e.g. `gpt-4-turbo`".into());
    }
    // The value is never echoed: if it is a pasted key, printing it would leak it.
    if !api_key_env.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || api_key_env.starts_with("sk-") {
        return err(
            "api_key_env",
            "expected the NAME of an environment variable holding the key (e.g. `OPENAI_API_KEY`), not the key itself; the value is not shown here".into(),
        );
    }
    if !(temperature.is_finite() && *temperature >= 0.0) {
        return err("temperature", format!("expected a temperature >= 0, got {temperature}"));
    }
    for (k, v) in [("max_tokens", *max_tokens as u64), ("timeout_s", *timeout_s), ("concurrency", *concurrency as u64)]
    {
        if v == 0 {
            return err(k, "expected at least 1".into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(extra: &str) -> AgentsSection {
        toml::from_str(&format!(
            "[judge]\nkind = \"api\"\nbase_url = \"http://localhost:8000/v1\"\nmodel = \"m\"\n{extra}"
        ))
        .unwrap()
    }

    #[test]
    fn api_agents_are_checked_and_keys_never_echoed() {
        assert_eq!(check_agents(&api("")), Ok(()));
        let (k, m) = check_agents(&api("api_key_env = \"sk-abc123secret\"")).unwrap_err();
        assert_eq!(k, "agents.judge.api_key_env");
        assert!(!m.contains("sk-abc123secret"), "{m}");
        assert_eq!(check_agents(&api("concurrency = 0")).unwrap_err().0, "agents.judge.concurrency");
        let bad_url: AgentsSection =
            toml::from_str("[reviser]\nkind = \"api\"\nbase_url = \"api.openai.com\"\nmodel = \"m\"").unwrap();
        assert_eq!(check_agents(&bad_url).unwrap_err().0, "agents.reviser.base_url");
        let file_judge: AgentsSection = toml::from_str("[judge]\nkind = \"file\"").unwrap();
        assert_eq!(check_agents(&file_judge).unwrap_err().0, "agents.judge.kind");
        let oracle_target: AgentsSection = toml::from_str("[target]\nkind = \"oracle\"").unwrap();
        assert_eq!(check_agents(&oracle_target).unwrap_err().0, "agents.target.kind");
    }

    #[test]
    fn templates_need_a_prompted_agent_and_their_placeholders() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("judge.txt");
        std::fs::write(&path, "<<task>> <<student_solution_1>>").unwrap();
        let mut a = api("");
        a.judge_template = Some(path.display().to_string());
        let (k, m) = check_agents(&a).unwrap_err();
        assert_eq!(k, "agents.judge_template");
        assert!(m.contains("judge.txt") && m.contains("<<student_solution_2>>"), "{m}");
        std::fs::write(&path, "<<task>> <<student_solution_1>> <<student_solution_2>>").unwrap();
        assert_eq!(check_agents(&a), Ok(()));
        a.reviser_template = Some(path.display().to_string());
        assert!(check_agents(&a).unwrap_err().1.contains("oracle reads no prompts"));
    }
}
