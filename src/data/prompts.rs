//! The paper's reviser and judge prompts (Appendix A, quoted in SPEC.md section 1) and the
//! parsers for their replies. A local model or an LLM behind an API plays reviser or judge by
//! answering these prompts; the embedded oracle does not need them.

use super::agents::{Choice, RejectReason, Revision};

/// The CLAIR reviser prompt for `task` (the prompt) and `student` (the losing output).
pub fn reviser_prompt(task: &str, student: &str) -> String {
    format!(
        "You are a teacher and your task is to minimally improve a student's answer. I will give you a \
{{{{task}}}} and a {{{{student_solution}}}}. Your job is to revise the {{{{student_solution}}}} such that it \
is clearer, more correct, and more engaging. Copy all non-corrected parts of the student's \
answer. Do not allude to the {{{{corrected_student_solution}}}} being a revision or a correction in \
your final solution.\n\n{{{{task}}}}: {task}\n\n{{{{student_solution}}}}: {student}\n\n-----------------\n\n\
Let's first think step by step with a {{{{teacher_reasoning}}}} to decide how to improve the \
{{{{student_solution}}}}, then give the {{{{corrected_student_solution}}}}. Mention the \
{{{{teacher_reasoning}}}} and {{{{corrected_student_solution}}}} identifiers to structure your answer."
    )
}

/// The judge prompt for `task` and the two solutions in the order shown.
pub fn judge_prompt(task: &str, first: &str, second: &str) -> String {
    format!(
        "You are a teacher and your task is to pick the best student's answer. The best answer is \
the most clear, most correct, and most engaging answer. I will give you a {{{{task}}}} and \
{{{{student_solution_1}}}} and {{{{student_solution_2}}}}. Your final answer must contain [1] if \
{{{{student_solution_1}}}} was best, else [2].\n\n{{{{task}}}}: {task}\n\n\
{{{{student_solution_1}}}}: {first}\n\n{{{{student_solution_2}}}}: {second}\n\n-----------------\n\n\
Let's first think step by step with a {{{{teacher_reasoning}}}} to decide which solution is better, \
and then answer [1] or [2]."
    )
}

/// The authors' markers, tried in this order; the revision is the text after the first found.
pub const REVISION_MARKERS: [&str; 3] =
    ["**Corrected Student Solution:**", "{corrected_student_solution}:", "{corrected_student_solution}"];

/// Splits a reviser's reply into reasoning (before the marker) and revision (after it).
pub fn parse_reviser_reply(reply: &str) -> Result<Revision, RejectReason> {
    for marker in REVISION_MARKERS {
        if let Some(pos) = reply.find(marker) {
            let text = reply[pos + marker.len()..].trim().to_string();
            return Ok(Revision { text, reasoning: reply[..pos].trim().to_string() });
        }
    }
    Err(RejectReason::Format("no corrected-solution marker in the reviser's reply".into()))
}

/// Reads a judge's reply: exactly one of `[1]`, `[2]` must occur.
pub fn parse_judge_reply(reply: &str) -> Result<Choice, RejectReason> {
    match (reply.contains("[1]"), reply.contains("[2]")) {
        (true, false) => Ok(Choice::First),
        (false, true) => Ok(Choice::Second),
        (true, true) => Err(RejectReason::Format("the judge's reply contains both [1] and [2]".into())),
        (false, false) => Err(RejectReason::Format("the judge's reply contains neither [1] nor [2]".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_carry_literal_placeholders_and_inputs() {
        let p = reviser_prompt("What is 2+2?", "5");
        assert!(p.contains("{{task}}: What is 2+2?") && p.contains("{{student_solution}}: 5"));
        assert!(p.contains("{{corrected_student_solution}} identifiers"));
        let j = judge_prompt("T", "A", "B");
        assert!(j.contains("{{student_solution_1}}: A\n\n{{student_solution_2}}: B"));
        assert!(j.ends_with("answer [1] or [2]."));
    }

    #[test]
    fn reviser_reply_markers_in_priority_order() {
        let r = parse_reviser_reply("think {corrected_student_solution}: x **Corrected Student Solution:** 4").unwrap();
        assert_eq!(r.text, "4");
        let r =
            parse_reviser_reply("{teacher_reasoning}: off by one.\n{corrected_student_solution}: It is 4.").unwrap();
        assert_eq!((r.text.as_str(), r.reasoning.as_str()), ("It is 4.", "{teacher_reasoning}: off by one."));
        assert!(parse_reviser_reply("It is 4.").is_err());
    }

    #[test]
    fn judge_reply_needs_exactly_one_choice() {
        assert_eq!(parse_judge_reply("so [2]"), Ok(Choice::Second));
        assert_eq!(parse_judge_reply("[1] wins"), Ok(Choice::First));
        assert!(parse_judge_reply("[1] or [2]").is_err());
        assert!(parse_judge_reply("the first").is_err());
    }
}
