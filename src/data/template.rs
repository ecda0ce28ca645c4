//! Reviser and judge prompts as templates: the paper's (SPEC.md section 1, [`super::prompts`])
//! by default, or a user's file.
//!
//! Placeholders are `<<name>>`: the paper's prompts contain literal `{{task}}` and
//! `{{student_solution}}` text, so the usual double-brace syntax would collide with it. The
//! reviser template must contain `<<task>>` and `<<student_solution>>`; the judge template
//! `<<task>>`, `<<student_solution_1>>` and `<<student_solution_2>>`. Substitution is one pass,
//! so a prompt or output that itself contains `<<task>>` is inserted as is. Any other
//! `<<lowercase_name>>` is an error (a typo would otherwise reach the API unnoticed).

use std::path::Path;

use super::prompts::{judge_prompt, reviser_prompt};

/// Which prompt a template is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Reviser,
    Judge,
}

impl Role {
    pub fn placeholders(self) -> &'static [&'static str] {
        match self {
            Role::Reviser => &["task", "student_solution"],
            Role::Judge => &["task", "student_solution_1", "student_solution_2"],
        }
    }

    fn name(self) -> &'static str {
        match self {
            Role::Reviser => "reviser",
            Role::Judge => "judge",
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TemplateError {
    #[error("{file}: cannot read the {role} template: {message}")]
    Read { file: String, role: &'static str, message: String },
    #[error("{file}: the {role} template lacks the placeholder `<<{name}>>` (it needs {needed})")]
    Missing { file: String, role: &'static str, name: String, needed: String },
    #[error("{file}: unknown placeholder `<<{name}>>` in the {role} template (it takes {needed})")]
    Unknown { file: String, role: &'static str, name: String, needed: String },
}

/// A reviser or judge prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptTemplate {
    role: Role,
    /// `None`: the paper's prompt.
    text: Option<String>,
}

impl PromptTemplate {
    pub fn paper(role: Role) -> Self {
        PromptTemplate { role, text: None }
    }

    /// Reads and checks a template file.
    pub fn load(role: Role, path: &Path) -> Result<Self, TemplateError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| TemplateError::Read {
            file: file.clone(),
            role: role.name(),
            message: e.to_string(),
        })?;
        Self::parse(role, text, &file)
    }

    /// Checks a template's text; `file` labels errors.
    pub fn parse(role: Role, text: String, file: &str) -> Result<Self, TemplateError> {
        let needed = role.placeholders().iter().map(|n| format!("`<<{n}>>`")).collect::<Vec<_>>().join(", ");
        let found = placeholders(&text);
        if let Some(name) = found.iter().find(|n| !role.placeholders().contains(&n.as_str())) {
            return Err(TemplateError::Unknown { file: file.into(), role: role.name(), name: name.clone(), needed });
        }
        if let Some(name) = role.placeholders().iter().find(|n| !found.iter().any(|f| f == *n)) {
            return Err(TemplateError::Missing {
                file: file.into(),
                role: role.name(),
                name: name.to_string(),
                needed,
            });
        }
        Ok(PromptTemplate { role, text: Some(text) })
    }

    /// The reviser prompt for `task` and the losing output `student`.
    pub fn reviser(&self, task: &str, student: &str) -> String {
        debug_assert_eq!(self.role, Role::Reviser);
        match &self.text {
            None => reviser_prompt(task, student),
            Some(t) => render(t, &[("task", task), ("student_solution", student)]),
        }
    }

    /// The judge prompt for `task` and two solutions in the order shown.
    pub fn judge(&self, task: &str, first: &str, second: &str) -> String {
        debug_assert_eq!(self.role, Role::Judge);
        match &self.text {
            None => judge_prompt(task, first, second),
            Some(t) => render(t, &[("task", task), ("student_solution_1", first), ("student_solution_2", second)]),
        }
    }
}

/// Splits `text` at each `<<name>>` (name: `[a-z0-9_]+`): `Err(name)` for a placeholder,
/// `Ok(text)` for what lies between.
fn pieces(text: &str) -> Vec<Result<&str, &str>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("<<") {
        let after = &rest[open + 2..];
        let name_len =
            after.find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')).unwrap_or(after.len());
        if name_len > 0 && after[name_len..].starts_with(">>") {
            out.push(Ok(&rest[..open]));
            out.push(Err(&after[..name_len]));
            rest = &after[name_len + 2..];
        } else {
            out.push(Ok(&rest[..open + 2]));
            rest = after;
        }
    }
    out.push(Ok(rest));
    out
}

fn placeholders(text: &str) -> Vec<String> {
    pieces(text).into_iter().filter_map(|p| p.err().map(str::to_string)).collect()
}

fn render(text: &str, values: &[(&str, &str)]) -> String {
    pieces(text)
        .into_iter()
        .map(|p| match p {
            Ok(t) => t,
            Err(name) => values.iter().find(|(n, _)| *n == name).map(|(_, v)| *v).unwrap_or(""),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_templates_are_the_papers() {
        assert_eq!(PromptTemplate::paper(Role::Reviser).reviser("T", "S"), reviser_prompt("T", "S"));
        assert_eq!(PromptTemplate::paper(Role::Judge).judge("T", "A", "B"), judge_prompt("T", "A", "B"));
    }

    #[test]
    fn user_templates_substitute_once_and_keep_literal_braces() {
        let t =
            PromptTemplate::parse(Role::Reviser, "{{task}}: <<task>>\n<<student_solution>> << x>> <<".into(), "r.txt")
                .unwrap();
        assert_eq!(t.reviser("say <<student_solution>>", "5"), "{{task}}: say <<student_solution>>\n5 << x>> <<");
        let j =
            PromptTemplate::parse(Role::Judge, "<<task>>|<<student_solution_1>>|<<student_solution_2>>".into(), "j")
                .unwrap();
        assert_eq!(j.judge("t", "a", "b"), "t|a|b");
    }

    #[test]
    fn missing_and_unknown_placeholders_name_the_file() {
        let e = PromptTemplate::parse(Role::Judge, "<<task>> <<student_solution_1>>".into(), "judge.txt").unwrap_err();
        assert!(
            e.to_string().starts_with("judge.txt: the judge template lacks the placeholder `<<student_solution_2>>`"),
            "{e}"
        );
        let e = PromptTemplate::parse(Role::Reviser, "<<task>> <<student>>".into(), "r.txt").unwrap_err();
        assert!(e.to_string().contains("unknown placeholder `<<student>>`"), "{e}");
        let e = PromptTemplate::load(Role::Reviser, Path::new("/no/such/template.txt")).unwrap_err();
        assert!(e.to_string().starts_with("/no/such/template.txt: cannot read"), "{e}");
    }
}
