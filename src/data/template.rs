//! Reviser and judge prompts as templates: the paper's ([`super::prompts`]) by default, or a
//! user's file. A template makes a [`ChatPrompt`]: an optional system message and a user
//! message.
//!
//! Syntax. A line that is exactly `<<system>>` or `<<user>>` opens that message; the message is
//! the lines up to the next such line, without its trailing newlines. A template with a
//! `<<system>>` section must open with it and have a `<<user>>` section after it; a template
//! with no section lines is one user message, verbatim. Inside a message, placeholders are
//! `<<name>>`: the prompts contain literal `{task}` identifiers (and a user's may contain
//! Table 6's `{{task}}`), so brace syntax would collide with them. The reviser template must
//! contain `<<task>>` and `<<student_solution>>`; the judge template `<<task>>`,
//! `<<student_solution_1>>` and `<<student_solution_2>>` (in either message). Substitution is
//! one pass, so a prompt or output that itself contains `<<task>>` is inserted as is. Any other
//! `<<lowercase_name>>` is an error (a typo would otherwise reach the API unnoticed).

use std::path::Path;

use super::agents::ChatPrompt;
use super::prompts::{JUDGE_TEMPLATE, REVISER_TEMPLATE};

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

    /// The paper's template text.
    pub fn paper_text(self) -> &'static str {
        match self {
            Role::Reviser => REVISER_TEMPLATE,
            Role::Judge => JUDGE_TEMPLATE,
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
    #[error(
        "{file}:{line}: {message} in the {role} template (expected an optional `<<system>>` section, then a `<<user>>` section, each opened by a line of its own)"
    )]
    Section { file: String, line: usize, role: &'static str, message: String },
}

/// A reviser or judge prompt: the text of its optional system message and of its user message,
/// with placeholders.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptTemplate {
    role: Role,
    system: Option<String>,
    user: String,
}

/// A message of a template, where it starts (1-based line of its header; 0 for a template
/// without sections) and its text.
struct Section<'a> {
    name: &'a str,
    line: usize,
    text: String,
}

impl PromptTemplate {
    /// The paper's prompt (SPEC.md section 1).
    pub fn paper(role: Role) -> Self {
        Self::parse(role, role.paper_text().to_string(), "the built-in paper prompt")
            .expect("the built-in prompts are valid templates")
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
        let section_err = |line: usize, message: String| TemplateError::Section {
            file: file.into(),
            line,
            role: role.name(),
            message,
        };
        let sections = sections(&text).map_err(|(line, m)| section_err(line, m))?;
        let (system, user) = match sections.as_slice() {
            [] => (None, text.clone()),
            [s] if s.name == "user" => (None, s.text.clone()),
            [s, u] if s.name == "system" && u.name == "user" => (Some(s.text.clone()), u.text.clone()),
            [s, ..] if s.name == "user" => {
                return Err(section_err(sections[1].line, "a section after `<<user>>`".into()));
            }
            [s] => {
                return Err(section_err(s.line, "a `<<system>>` section without a `<<user>>` section after it".into()));
            }
            [_, u, ..] => return Err(section_err(u.line, format!("an unexpected `<<{}>>` section", u.name))),
        };
        let needed = role.placeholders().iter().map(|n| format!("`<<{n}>>`")).collect::<Vec<_>>().join(", ");
        let found: Vec<String> = system.iter().chain([&user]).flat_map(|t| placeholders(t)).collect();
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
        Ok(PromptTemplate { role, system, user })
    }

    fn fill(&self, values: &[(&str, &str)]) -> ChatPrompt {
        ChatPrompt { system: self.system.as_deref().map(|s| render(s, values)), user: render(&self.user, values) }
    }

    /// The reviser prompt for `task` and the losing output `student`.
    pub fn reviser(&self, task: &str, student: &str) -> ChatPrompt {
        debug_assert_eq!(self.role, Role::Reviser);
        self.fill(&[("task", task), ("student_solution", student)])
    }

    /// The judge prompt for `task` and two solutions in the order shown.
    pub fn judge(&self, task: &str, first: &str, second: &str) -> ChatPrompt {
        debug_assert_eq!(self.role, Role::Judge);
        self.fill(&[("task", task), ("student_solution_1", first), ("student_solution_2", second)])
    }
}

/// The `<<system>>`/`<<user>>` sections of `text` in order (none for a template without
/// section lines); `Err((line, message))` for a section opened twice or text before the first.
fn sections(text: &str) -> Result<Vec<Section<'_>>, (usize, String)> {
    let mut out: Vec<Section> = Vec::new();
    let mut before = None;
    for (i, line) in text.lines().enumerate() {
        let header = match line.trim_end_matches('\r') {
            "<<system>>" => Some("system"),
            "<<user>>" => Some("user"),
            _ => None,
        };
        match (header, out.last_mut()) {
            (Some(name), _) => {
                if out.iter().any(|s| s.name == name) {
                    return Err((i + 1, format!("a second `<<{name}>>` section")));
                }
                out.push(Section { name, line: i + 1, text: String::new() });
            }
            (None, Some(section)) => {
                section.text.push_str(line);
                section.text.push('\n');
            }
            (None, None) if before.is_none() && !line.trim().is_empty() => before = Some(i + 1),
            (None, None) => {}
        }
    }
    if let (Some(line), false) = (before, out.is_empty()) {
        return Err((line, "text before the first section".into()));
    }
    for s in &mut out {
        s.text.truncate(s.text.trim_end_matches(['\n', '\r']).len());
    }
    Ok(out)
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
    fn the_papers_prompts_are_a_system_and_a_user_message_with_single_braces() {
        let r = PromptTemplate::paper(Role::Reviser).reviser("What is 2+2?", "5");
        let system = r.system.unwrap();
        assert!(system.starts_with("You are a teacher and your task is to minimally improve"), "{system}");
        assert!(system.contains("I will give you a {task} and a {student_solution}."), "{system}");
        assert!(!system.contains("{{") && !r.user.contains("{{"));
        assert!(
            r.user.starts_with("{task}: What is 2+2?\n\n{student_solution}: 5\n\n-----------------\n\n"),
            "{}",
            r.user
        );
        assert!(r.user.ends_with("{corrected_student_solution} identifiers to structure your answer."), "{}", r.user);
        let j = PromptTemplate::paper(Role::Judge).judge("T", "A", "B");
        assert!(j.system.unwrap().ends_with("must contain [1] if {student_solution_1} was best, else [2]."));
        assert!(
            j.user.starts_with("{task}: T\n\n{student_solution_1}: A\n\n{student_solution_2}: B\n\n---"),
            "{}",
            j.user
        );
        assert!(j.user.ends_with("and then answer [1] or [2]."));
    }

    #[test]
    fn user_templates_substitute_once_and_keep_literal_braces() {
        let t =
            PromptTemplate::parse(Role::Reviser, "{{task}}: <<task>>\n<<student_solution>> << x>> <<".into(), "r.txt")
                .unwrap();
        let p = t.reviser("say <<student_solution>>", "5");
        assert_eq!(p, ChatPrompt::user("{{task}}: say <<student_solution>>\n5 << x>> <<"));
        let j =
            PromptTemplate::parse(Role::Judge, "<<task>>|<<student_solution_1>>|<<student_solution_2>>".into(), "j")
                .unwrap();
        assert_eq!(j.judge("t", "a", "b"), ChatPrompt::user("t|a|b"));
    }

    #[test]
    fn user_templates_express_a_system_message() {
        let text = "\n<<system>>\nBe brief about <<task>>.\n\n<<user>>\r\n<<task>>\n\n<<student_solution>>\n\n";
        let t = PromptTemplate::parse(Role::Reviser, text.into(), "r.txt").unwrap();
        let p = t.reviser("T", "S");
        assert_eq!(p.system.as_deref(), Some("Be brief about T."));
        assert_eq!(p.user, "T\n\nS");
        let only_user = PromptTemplate::parse(Role::Reviser, "<<user>>\n<<task>> <<student_solution>>\n".into(), "r")
            .unwrap()
            .reviser("T", "S");
        assert_eq!(only_user, ChatPrompt::user("T S"));
    }

    #[test]
    fn misplaced_sections_name_the_line() {
        let err = |text: &str| PromptTemplate::parse(Role::Reviser, text.into(), "r.txt").unwrap_err().to_string();
        let e = err("hello\n<<system>>\nx\n<<user>>\n<<task>> <<student_solution>>");
        assert!(e.starts_with("r.txt:1: text before the first section"), "{e}");
        let e = err("<<user>>\n<<task>> <<student_solution>>\n<<system>>\nx");
        assert!(e.starts_with("r.txt:3: a section after `<<user>>`"), "{e}");
        let e = err("<<system>>\n<<task>> <<student_solution>>");
        assert!(e.starts_with("r.txt:1: a `<<system>>` section without a `<<user>>`"), "{e}");
        let e = err("<<system>>\na\n<<user>>\n<<task>>\n<<user>>\n<<student_solution>>");
        assert!(e.starts_with("r.txt:5: a second `<<user>>` section"), "{e}");
        // A header word inside a line is an unknown placeholder, not a section.
        let e = err("<<task>> <<student_solution>> <<system>>");
        assert!(e.contains("unknown placeholder `<<system>>`"), "{e}");
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
