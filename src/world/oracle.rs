//! The world's oracle as CLAIR's reviser and as the judge.
//!
//! [`OracleReviser`] makes a *minimal* revision: it keeps the target's wording and replaces only
//! the wrong answer, where the response states it (after the answer marker, and the last
//! mention of the same wrong answer before it, e.g. `I think the answer is 65.` ->
//! `I think the answer is 64.`; `7 plus 8 is 16. The answer is 16.` -> `7 plus 8 is 15. The
//! answer is 15.`). A response without an answer marker gets
//! ` The answer is X.` appended; an empty one gets a fresh target-style answer. Like the paper's
//! reviser, which makes answers "clearer", it also drops a filler opening (`Okay. `,
//! `Let me think. `), the one stylistic flaw the graded quality knows. A right answer without
//! filler is returned unchanged (the builder's `identical` filter then drops the pair).
//!
//! [`OracleJudge`] prefers the output with the higher graded quality ([`Task::quality`]); a tie
//! is broken by a coin seeded from the judge's seed, the prompt and both texts.

use rand::Rng;

use super::families::Task;
use super::scoring::extract_answer;
use super::styles::{Style, filler, render};
use crate::data::agents::{AgentError, Choice, Judge, RejectReason, Reviser, Revision, Verdict};
use crate::data::seed;

fn task_of(prompt: &str) -> Result<Task, AgentError> {
    Task::parse(prompt)
        .ok_or_else(|| RejectReason::Unsupported(format!("not a prompt of the embedded world: {prompt:?}")).into())
}

#[derive(Debug, Clone, Default)]
pub struct OracleReviser;

impl Reviser for OracleReviser {
    fn name(&self) -> &str {
        "world-oracle"
    }

    fn revise(&mut self, prompt: &str, losing: &str) -> Result<Revision, AgentError> {
        let task = task_of(prompt)?;
        let mut revision = self.fix_answer(&task, losing);
        if let Some(f) = filler(&revision.text) {
            revision.text = revision.text[f.len()..].to_string();
            revision.reasoning.push_str(" Drop the filler opening.");
        }
        Ok(revision)
    }
}

impl OracleReviser {
    /// Corrects the answer where the response states it, changing nothing else.
    fn fix_answer(&self, task: &Task, losing: &str) -> Revision {
        let right = task.answer.clone();
        let Some(span) = extract_answer(losing) else {
            if losing.trim().is_empty() {
                let text = render(Style::Target, task, &right, None);
                return Revision { text, reasoning: "The solution is empty; answer it.".into() };
            }
            let text = format!("{} The answer is {right}.", losing.trim_end());
            return Revision { text, reasoning: "The solution never states its answer; state it.".into() };
        };
        let given = &losing[span.clone()];
        if task.normalize(given) == task.normalize(&right) {
            return Revision { text: losing.to_string(), reasoning: "The answer is correct.".into() };
        }
        // Fix the last earlier mention of the wrong answer, then the answer itself.
        let before = replace_last_word(&losing[..span.start], &task.stated(given), &task.stated(&right));
        let text = format!("{before}{right}{}", &losing[span.end..]);
        let reasoning = format!("The solution answers {given}, but the answer is {right}; fix only that.");
        Revision { text, reasoning }
    }
}

/// Replaces the last occurrence of `from` in `text` that stands as a whole word.
fn replace_last_word(text: &str, from: &str, to: &str) -> String {
    if from.is_empty() {
        return text.to_string();
    }
    let is_word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    let mut end = text.len();
    while let Some(pos) = text[..end].rfind(from) {
        let before = text[..pos].chars().next_back();
        let after = text[pos + from.len()..].chars().next();
        if !is_word(before) && !is_word(after) {
            return format!("{}{to}{}", &text[..pos], &text[pos + from.len()..]);
        }
        end = pos;
    }
    text.to_string()
}

/// The oracle judge: graded quality, seeded tie coin.
#[derive(Debug, Clone)]
pub struct OracleJudge {
    pub seed: u64,
}

impl Judge for OracleJudge {
    fn name(&self) -> &str {
        "world-oracle-judge"
    }

    fn judge(&mut self, prompt: &str, first: &str, second: &str) -> Result<Verdict, AgentError> {
        let task = task_of(prompt)?;
        let (q1, q2) = (task.quality(first), task.quality(second));
        let (winner, how) = if q1 > q2 {
            (Choice::First, "higher")
        } else if q2 > q1 {
            (Choice::Second, "higher")
        } else if seed::rng_for(self.seed, "oracle/tie", &[prompt, first, second]).random::<bool>() {
            (Choice::First, "tied; coin")
        } else {
            (Choice::Second, "tied; coin")
        };
        let n = if winner == Choice::First { 1 } else { 2 };
        let reason = format!("solution 1 scores {q1:.3}, solution 2 scores {q2:.3} ({how}): [{n}]");
        Ok(Verdict { winner, reason, scores: Some((q1, q2)) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn revise(p: &str, l: &str) -> String {
        OracleReviser.revise(p, l).unwrap().text
    }

    #[test]
    fn revisions_are_minimal() {
        let p = "What is 23 plus 41?";
        assert_eq!(revise(p, "Okay. 23 plus 41 is 65. The answer is 65."), "23 plus 41 is 64. The answer is 64.");
        assert_eq!(revise(p, "So 23 plus 41 gives 65. The answer is 65."), "So 23 plus 41 gives 64. The answer is 64.");
        assert_eq!(
            revise(p, "Let me think. 23 plus 41 is 64. The answer is 64."),
            "23 plus 41 is 64. The answer is 64."
        );
        // The operand 23 is not touched even when the wrong answer equals it.
        assert_eq!(revise(p, "23 plus 41 is 23. The answer is 23."), "23 plus 41 is 64. The answer is 64.");
        let c = "Which is an animal? A) saw B) fox C) pear D) bus";
        assert_eq!(revise(c, "I pick saw. The answer is A."), "I pick fox. The answer is B.");
        assert_eq!(revise(p, "sixty four"), "sixty four The answer is 64.");
        assert_eq!(revise(p, ""), "The answer is 64.");
        assert_eq!(revise(p, "Okay. I think the answer is 65."), "I think the answer is 64.");
        let right = "23 plus 41 is 64. The answer is 64.";
        assert_eq!(revise(p, right), right);
        assert!(matches!(OracleReviser.revise("Write a poem.", "x"), Err(AgentError::Rejected(_))));
        let r = "Spell 'planet' backwards.";
        assert_eq!(
            revise(r, "planet reversed is tenlap. The answer is tenlap."),
            "planet reversed is tenalp. The answer is tenalp."
        );
    }

    #[test]
    fn judge_prefers_quality_and_breaks_ties_with_a_seeded_coin() {
        let p = "What is 23 plus 41?";
        let mut j = OracleJudge { seed: 1 };
        let v = j.judge(p, "The answer is 65.", "The answer is 64.").unwrap();
        assert_eq!(v.winner, Choice::Second);
        assert!(v.scores.is_some_and(|(a, b)| a < b));
        // A tie: same quality; the coin is the same for the same inputs and seed.
        let (a, b) = ("The answer is 64.", "So, the answer is 64.");
        let w = j.judge(p, a, b).unwrap().winner;
        assert_eq!(w, j.judge(p, a, b).unwrap().winner);
        let winners: Vec<Choice> = (0..32).map(|s| OracleJudge { seed: s }.judge(p, a, b).unwrap().winner).collect();
        assert!(winners.contains(&Choice::First) && winners.contains(&Choice::Second));
    }
}
