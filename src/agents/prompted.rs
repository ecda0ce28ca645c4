//! Any [`Generator`] as reviser or judge: it answers the paper's prompts (or a user's
//! template, [`PromptTemplate`]) as a system and a user message, and its replies go through the
//! paper's parsers ([`crate::data::prompts`]). An LLM behind an API and a local burn model play
//! these roles the same way. Replies that break the format are rejected and counted by reason;
//! the judge's kept replies are counted by the rule that read them
//! ([`crate::data::prompts::VerdictRule`]).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crate::data::agents::{AgentError, ChatPrompt, Decoding, Generator, Judge, Reviser, Revision, Verdict};
use crate::data::prompts::{parse_judge_reply, parse_reviser_reply};
use crate::data::template::PromptTemplate;

/// Counts by name (a rejection's message, e.g. "reply breaks the format: no corrected-solution
/// marker ...", or a [`crate::data::prompts::VerdictRule`]'s name), shared so the caller can read them after the agent
/// is boxed and used.
pub type Rejections = Arc<Mutex<BTreeMap<String, u64>>>;

fn count(tally: &Rejections, name: &str) {
    *tally.lock().unwrap_or_else(|p| p.into_inner()).entry(name.to_string()).or_default() += 1;
}

/// A generator answering reviser prompts.
pub struct PromptedReviser<G: Generator> {
    pub generator: G,
    pub template: PromptTemplate,
    pub rejections: Rejections,
}

/// A generator answering judge prompts.
pub struct PromptedJudge<G: Generator> {
    pub generator: G,
    pub template: PromptTemplate,
    pub rejections: Rejections,
    /// Kept replies by the [`crate::data::prompts::VerdictRule`] that read them.
    pub verdicts: Rejections,
}

impl<G: Generator> PromptedReviser<G> {
    pub fn new(generator: G, template: PromptTemplate) -> Self {
        Self { generator, template, rejections: Rejections::default() }
    }
}

impl<G: Generator> PromptedJudge<G> {
    pub fn new(generator: G, template: PromptTemplate) -> Self {
        Self { generator, template, rejections: Rejections::default(), verdicts: Rejections::default() }
    }
}

/// Sends `prompts` through the generator (its own decoding) and parses each reply; an error
/// that stops the build is repeated for every item.
fn ask<G: Generator, T>(
    generator: &mut G,
    rejections: &Rejections,
    prompts: Vec<ChatPrompt>,
    parse: impl Fn(&str) -> Result<T, crate::data::agents::RejectReason>,
) -> Vec<Result<T, AgentError>> {
    let n = prompts.len();
    let replies = match generator.chat_each(&prompts, Decoding::Greedy) {
        Ok(r) if r.len() == n => r,
        other => {
            let message = match other {
                Ok(r) => format!("returned {} replies for {n} prompts", r.len()),
                Err(e) => e.to_string(),
            };
            let agent = generator.name().to_string();
            return (0..n)
                .map(|_| Err(AgentError::Failed { agent: agent.clone(), message: message.clone() }))
                .collect();
        }
    };
    replies
        .into_iter()
        .map(|reply| {
            let reply = reply?;
            parse(&reply).map_err(|reason| {
                count(rejections, &reason.to_string());
                AgentError::Rejected(reason)
            })
        })
        .collect()
}

impl<G: Generator> Reviser for PromptedReviser<G> {
    fn name(&self) -> &str {
        self.generator.name()
    }

    fn revise(&mut self, prompt: &str, losing: &str) -> Result<Revision, AgentError> {
        self.revise_batch(&[(prompt, losing)]).pop().expect("one item in, one result out")
    }

    fn revise_batch(&mut self, items: &[(&str, &str)]) -> Vec<Result<Revision, AgentError>> {
        let prompts = items.iter().map(|(p, l)| self.template.reviser(p, l)).collect();
        ask(&mut self.generator, &self.rejections, prompts, parse_reviser_reply)
    }
}

impl<G: Generator> Judge for PromptedJudge<G> {
    fn name(&self) -> &str {
        self.generator.name()
    }

    fn judge(&mut self, prompt: &str, first: &str, second: &str) -> Result<Verdict, AgentError> {
        self.judge_batch(&[(prompt, first, second)]).pop().expect("one item in, one result out")
    }

    fn judge_batch(&mut self, items: &[(&str, &str, &str)]) -> Vec<Result<Verdict, AgentError>> {
        let prompts = items.iter().map(|(p, a, b)| self.template.judge(p, a, b)).collect();
        let verdicts = &self.verdicts;
        ask(&mut self.generator, &self.rejections, prompts, |reply| {
            let (winner, rule) = parse_judge_reply(reply)?;
            count(verdicts, rule.as_str());
            Ok(Verdict { winner, reason: reply.to_string(), scores: None })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::agents::{Choice, RejectReason};
    use crate::data::prompts::VerdictRule;
    use crate::data::template::Role;

    /// Replies in order, one per prompt; every prompt must carry the paper's system message.
    struct Canned(Vec<Result<String, RejectReason>>);
    impl Generator for Canned {
        fn name(&self) -> &str {
            "canned"
        }
        fn generate(&mut self, _: &[String], _: Decoding) -> Result<Vec<String>, AgentError> {
            unreachable!("the prompted agents call chat_each")
        }
        fn chat_each(
            &mut self,
            prompts: &[ChatPrompt],
            _: Decoding,
        ) -> Result<Vec<Result<String, RejectReason>>, AgentError> {
            assert_eq!(prompts.len(), self.0.len());
            assert!(prompts.iter().all(|p| p.system.as_deref().is_some_and(|s| s.starts_with("You are a teacher"))));
            Ok(std::mem::take(&mut self.0))
        }
    }

    #[test]
    fn replies_are_parsed_rejected_and_counted() {
        let failed = RejectReason::RequestFailed { reason: "http 500".into(), detail: "x".into() };
        let canned = Canned(vec![
            Ok("{teacher_reasoning}: fix.\n{corrected_student_solution}: It is 4.".into()),
            Ok("no marker".into()),
            Err(failed.clone()),
        ]);
        let mut r = PromptedReviser::new(canned, PromptTemplate::paper(Role::Reviser));
        let out = r.revise_batch(&[("2+2?", "5"), ("a", "b"), ("c", "d")]);
        assert_eq!(out[0].as_ref().unwrap().text, "It is 4.");
        assert!(matches!(&out[1], Err(AgentError::Rejected(RejectReason::Format(_)))));
        assert!(matches!(&out[2], Err(AgentError::Rejected(f)) if *f == failed));
        assert_eq!(r.rejections.lock().unwrap().values().sum::<u64>(), 1);

        let mut j = PromptedJudge::new(
            Canned(vec![Ok("so [2]".into()), Ok("[2] is shorter, but [1]".into()), Ok("the first".into())]),
            PromptTemplate::paper(Role::Judge),
        );
        let out = j.judge_batch(&[("t", "a", "b"), ("t", "a", "c"), ("t", "a", "d")]);
        assert_eq!(out[0].as_ref().unwrap().winner, Choice::Second);
        assert_eq!(out[1].as_ref().unwrap().winner, Choice::First);
        assert!(out[2].is_err());
        assert_eq!(
            j.rejections.lock().unwrap().clone(),
            BTreeMap::from([("reply breaks the format: the judge's reply contains neither [1] nor [2]".into(), 1)])
        );
        assert_eq!(
            j.verdicts.lock().unwrap().clone(),
            BTreeMap::from([(VerdictRule::Single.as_str().into(), 1), (VerdictRule::LastOfBoth.as_str().into(), 1)])
        );
    }
}
