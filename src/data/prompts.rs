//! The paper's reviser and judge prompts, as the authors' code sends them (SPEC.md section 1),
//! and the parsers for their replies. A local model or an LLM behind an API plays reviser or
//! judge by answering these prompts; the embedded oracle does not need them.
//!
//! The paper's Table 6 prints the identifiers with double braces (`{{task}}`) because it was
//! printed from a Python format string; what the authors' code sends has single braces
//! (`{task}`), with the instruction as the system message and the prompt and output in the user
//! message. The prompts are written here in the template syntax of [`super::template`]
//! (`<<system>>`/`<<user>>` sections, `<<name>>` placeholders), so the paper's prompts and a
//! user's own go through the same code; a user can start from a copy of these texts.

use super::agents::{Choice, RejectReason, Revision};

/// Bumped when [`parse_reviser_reply`] or [`parse_judge_reply`] change what they read from a
/// reply: part of the key of every dataset built by a prompted reviser or judge, so replies
/// cached under the store are parsed again instead of a stale dataset being reused.
pub const PARSER_VERSION: u32 = 1;

/// The CLAIR reviser prompt; `<<task>>` is the prompt, `<<student_solution>>` the losing output.
pub const REVISER_TEMPLATE: &str = "<<system>>
You are a teacher and your task is to minimally improve a student's answer. I will give you a {task} and a {student_solution}. Your job is to revise the {student_solution} such that it is clearer, more correct, and more engaging. Copy all non-corrected parts of the student's answer. Do not allude to the {corrected_student_solution} being a revision or a correction in your final solution.
<<user>>
{task}: <<task>>

{student_solution}: <<student_solution>>

-----------------

Let's first think step by step with a {teacher_reasoning} to decide how to improve the {student_solution}, then give the {corrected_student_solution}. Mention the {teacher_reasoning} and {corrected_student_solution} identifiers to structure your answer.
";

/// The judge prompt, by analogy with the reviser's (the authors' judge code is not public); the
/// two solutions in the order shown.
pub const JUDGE_TEMPLATE: &str = "<<system>>
You are a teacher and your task is to pick the best student's answer. The best answer is the most clear, most correct, and most engaging answer. I will give you a {task} and {student_solution_1} and {student_solution_2}. Your final answer must contain [1] if {student_solution_1} was best, else [2].
<<user>>
{task}: <<task>>

{student_solution_1}: <<student_solution_1>>

{student_solution_2}: <<student_solution_2>>

-----------------

Let's first think step by step with a {teacher_reasoning} to decide which solution is better, and then answer [1] or [2].
";

/// The markers before a revision, tried in this order; the revision is the text after the first
/// occurrence of the first marker found. The authors' three (the bold heading,
/// `{corrected_student_solution}:`, `{corrected_student_solution}`), each single-brace one
/// preceded by its double-brace echo: a model that copies Table 6's `{{...}}` would otherwise
/// leave a stray `}:` at the start of the revision.
pub const REVISION_MARKERS: [&str; 5] = [
    "**Corrected Student Solution:**",
    "{{corrected_student_solution}}:",
    "{corrected_student_solution}:",
    "{{corrected_student_solution}}",
    "{corrected_student_solution}",
];

/// What may open the reasoning and is stripped from it (then a colon), as the authors strip a
/// leading `{teacher_reasoning}`; double braces first, for the same reason as above.
const REASONING_MARKERS: [&str; 3] = ["**Teacher Reasoning:**", "{{teacher_reasoning}}", "{teacher_reasoning}"];

/// Splits a reviser's reply into reasoning (before the marker) and revision (after it). A
/// reply with no marker, or nothing after it, is rejected.
pub fn parse_reviser_reply(reply: &str) -> Result<Revision, RejectReason> {
    let Some((pos, marker)) = REVISION_MARKERS.iter().find_map(|m| reply.find(m).map(|pos| (pos, *m))) else {
        return Err(RejectReason::Format("no corrected-solution marker in the reviser's reply".into()));
    };
    let text = reply[pos + marker.len()..].trim().to_string();
    if text.is_empty() {
        return Err(RejectReason::Format("nothing after the corrected-solution marker".into()));
    }
    let mut reasoning = reply[..pos].trim();
    if let Some(rest) = REASONING_MARKERS.iter().find_map(|m| reasoning.strip_prefix(m)) {
        reasoning = rest.trim_start().strip_prefix(':').unwrap_or(rest).trim();
    }
    Ok(Revision { text, reasoning: reasoning.to_string() })
}

/// How a judge's reply was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum VerdictRule {
    /// Only one of `[1]`, `[2]` occurs.
    Single,
    /// Both occur (common after step-by-step reasoning that weighs the two); the last one in
    /// the reply is the verdict, as the prompt asks for the final answer last.
    LastOfBoth,
}

impl VerdictRule {
    /// The name counted in a build's statistics.
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictRule::Single => "one verdict",
            VerdictRule::LastOfBoth => "both verdicts, the last taken",
        }
    }
}

/// The instruction's own words, which a reply often repeats ("I must answer [1] or [2]") before
/// or without deciding: not a verdict.
const QUOTED_INSTRUCTION: [&str; 2] = ["[1] or [2]", "[2] or [1]"];

/// Reads a judge's reply: the verdict is the last `[1]` or `[2]` in it ([`VerdictRule`]), once
/// quotes of the instruction's "[1] or [2]" are left out; a reply with neither is rejected.
pub fn parse_judge_reply(reply: &str) -> Result<(Choice, VerdictRule), RejectReason> {
    // Same-length blanks keep the other brackets where they were.
    let reply = QUOTED_INSTRUCTION.iter().fold(reply.to_string(), |r, q| r.replace(q, &" ".repeat(q.len())));
    match (reply.rfind("[1]"), reply.rfind("[2]")) {
        (Some(_), None) => Ok((Choice::First, VerdictRule::Single)),
        (None, Some(_)) => Ok((Choice::Second, VerdictRule::Single)),
        (Some(one), Some(two)) => Ok((if one > two { Choice::First } else { Choice::Second }, VerdictRule::LastOfBoth)),
        (None, None) => Err(RejectReason::Format("the judge's reply contains neither [1] nor [2]".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn revision(reply: &str) -> (String, String) {
        let r = parse_reviser_reply(reply).unwrap();
        (r.reasoning, r.text)
    }

    #[test]
    fn replies_echoing_single_braces_double_braces_or_the_bold_marker() {
        let want = ("off by one.".to_string(), "It is 4.".to_string());
        assert_eq!(revision("{teacher_reasoning}: off by one.\n{corrected_student_solution}: It is 4."), want);
        assert_eq!(revision("{{teacher_reasoning}}: off by one.\n{{corrected_student_solution}}: It is 4."), want);
        assert_eq!(revision("**Teacher Reasoning:** off by one.\n\n**Corrected Student Solution:**\nIt is 4."), want);
        // The identifier without its colon, as the third marker.
        assert_eq!(revision("{teacher_reasoning} off by one. {corrected_student_solution} It is 4."), want);
        assert_eq!(revision("{{teacher_reasoning}} off by one. {{corrected_student_solution}}\nIt is 4."), want);
    }

    #[test]
    fn markers_are_tried_in_the_authors_order() {
        // The bold heading wins over an identifier mentioned earlier in the reasoning.
        let (reasoning, text) =
            revision("I will give the {corrected_student_solution}: below. **Corrected Student Solution:** 4");
        assert_eq!(text, "4");
        assert_eq!(reasoning, "I will give the {corrected_student_solution}: below.");
        // With a colon before without one.
        assert_eq!(revision("the {corrected_student_solution} follows. {corrected_student_solution}: 4").1, "4");
        // Reasoning that does not open with its identifier is kept whole.
        assert_eq!(revision("Fix the sum. {corrected_student_solution}: 4").0, "Fix the sum.");
    }

    #[test]
    fn replies_without_a_revision_are_rejected() {
        assert!(parse_reviser_reply("It is 4.").is_err());
        assert!(parse_reviser_reply("{corrected_student_solution}:   ").is_err());
    }

    #[test]
    fn judge_verdict_is_the_last_bracket() {
        assert_eq!(parse_judge_reply("so [2]"), Ok((Choice::Second, VerdictRule::Single)));
        assert_eq!(parse_judge_reply("[1] wins"), Ok((Choice::First, VerdictRule::Single)));
        let weighed = "[2] looks right at first, but the second is wrong, so [1].";
        assert_eq!(parse_judge_reply(weighed), Ok((Choice::First, VerdictRule::LastOfBoth)));
        assert_eq!(
            parse_judge_reply("[1] is clearer, but [2] is right: [2]"),
            Ok((Choice::Second, VerdictRule::LastOfBoth))
        );
        assert!(parse_judge_reply("the first").is_err());
        // Quoting the instruction decides nothing: a reply cut off after it has no verdict.
        let quoted = "I must answer [1] or [2]. The second is wrong: [1]";
        assert_eq!(parse_judge_reply(quoted), Ok((Choice::First, VerdictRule::Single)));
        assert!(parse_judge_reply("To answer [1] or [2], we need to consider the following").is_err());
        assert!(parse_judge_reply("Either [2] or [1] could do").is_err());
    }
}
