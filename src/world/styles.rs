//! How each model of the world phrases an answer. Styles differ in phrasing and length, so
//! that pairs from different models differ in many ways besides correctness (as in the paper),
//! while a minimal revision of the target's own text does not.
//!
//! - [`Style::Target`]: the target model's style: an optional lead-in, then the answer alone
//!   (`Okay. The answer is 64.`, `I think the answer is 64.`). It has a few variants; a sampler
//!   picks among them, which is why two samples of the target differ in wording as well as in
//!   answer. It is short on purpose: the tiny model learns it from a few hundred updates, and a
//!   restatement of the prompt before the answer (which it could not yet copy reliably) only
//!   led its greedy answers astray and cost a third more compute per example.
//! - [`Style::Stronger`]: the stronger model's own style: longer, explanatory, ends with a line
//!   `Final answer: X`.
//! - [`Style::Terse`]: the noisy rule-based generator's style: `answer = X`, sometimes just `X`.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::families::{CompareKind, Detail, Relation, Task};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Target,
    Stronger,
    Terse,
}

/// Lead-ins of the target style (the first, none, is a greedy decoder's favourite).
const LEAD_INS: [&str; 3] = ["", "Let me think. ", "Okay. "];

/// Filler openings (the target's lead-ins, the terse style's `ok so `): they make an answer
/// less clear, so the graded quality docks them a little and the oracle reviser removes them.
pub const FILLERS: [&str; 3] = ["Let me think. ", "Okay. ", "ok so "];

/// The filler an answer opens with, if any.
pub fn filler(text: &str) -> Option<&'static str> {
    FILLERS.iter().copied().find(|f| text.starts_with(f))
}

/// Renders `answer` (canonical form; it may be wrong) for `task` in `style`, choosing a variant
/// with `rng`. `variant_rng = None` picks the first variant (a greedy decoder's favourite).
pub fn render(style: Style, task: &Task, answer: &str, rng: Option<&mut ChaCha8Rng>) -> String {
    let (lead, alt) = match rng {
        Some(r) => (r.random_range(0..LEAD_INS.len()), r.random_bool(0.4)),
        None => (0, false),
    };
    match style {
        Style::Target => {
            if alt {
                format!("{}I think the answer is {answer}.", LEAD_INS[lead])
            } else {
                format!("{}The answer is {answer}.", LEAD_INS[lead])
            }
        }
        Style::Stronger => format!("Sure! {}\nFinal answer: {answer}", explanation(task, answer)),
        Style::Terse => {
            if alt {
                format!("ok so answer = {answer}")
            } else {
                format!("answer = {answer}")
            }
        }
    }
}

/// The stronger model's explanation (it only ever states the right answer).
fn explanation(task: &Task, answer: &str) -> String {
    let said = task.stated(answer);
    match &task.detail {
        Detail::Arithmetic { a, op, b } => {
            format!("Working it out step by step: {a} {} {b} = {said}. So the result is {said}.", op.symbol())
        }
        Detail::Fact { entity, relation: Relation::Capital } => {
            format!("{entity} is a country whose capital city is {said}.")
        }
        Detail::Fact { entity, relation: Relation::Language } => {
            format!("Most people in {entity} speak {said}, the national language.")
        }
        Detail::Compare { kind, x, y } => {
            let rel = match kind {
                CompareKind::Greater | CompareKind::Less => "compared with",
                CompareKind::Before => "alphabetically against",
            };
            format!("Checking {x} {rel} {y}, the statement is {}.", if said == "yes" { "true" } else { "false" })
        }
        Detail::Choice { category, .. } => format!("Among the options, only {said} is a kind of {category}."),
        Detail::Reverse { word } => format!("Reading '{word}' from the last letter to the first gives '{said}'."),
        Detail::Sort { .. } => format!("Arranged alphabetically, the letters are {said}."),
        Detail::Count { word, letter: None } => format!("Spelling out '{word}' letter by letter, there are {said}."),
        Detail::Count { word, letter: Some(l) } => {
            format!("Going through '{word}' one letter at a time, '{l}' shows up {said} times.")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::seed;

    #[test]
    fn styles_state_the_answer_where_the_scorer_finds_it() {
        let mut rng = seed::rng(3, "t");
        for f in super::super::families::Family::ALL {
            for _ in 0..50 {
                let t = Task::generate(f, &mut rng);
                for style in [Style::Target, Style::Stronger, Style::Terse] {
                    let text = render(style, &t, &t.answer, Some(&mut rng));
                    assert!(t.exact(&text), "{style:?}: {text:?} for {:?}", t.prompt);
                    assert!(text.chars().count() < 130, "{text}");
                }
            }
        }
        let t = Task::parse("What is 23 plus 41?").unwrap();
        assert_eq!(render(Style::Target, &t, "64", None), "The answer is 64.");
        let t = Task::parse("Which is an animal? A) saw B) fox C) pear D) bus").unwrap();
        assert_eq!(render(Style::Target, &t, "B", None), "The answer is B.");
    }
}
