//! The four dataset builders of SPEC.md section 1, generic over the agents in [`super::agents`]:
//!
//! | builder | `y_l` | `y_w` |
//! |---|---|---|
//! | [`clair`] | a sample of the target `M` | `Reviser(x, y_l)` |
//! | [`judge_on_policy`] | the worse of two samples of `M` | the better, by `Judge` |
//! | [`judge_off_policy`] | the worse of two outputs of other models | the better, by `Judge` |
//! | [`stronger_preferred`] | a sample of `M` | the stronger model's own (greedy) answer |
//!
//! All four take the same prompts. The target's first sample (`target/sample`) is the same in
//! `clair`, `stronger_preferred` and as the first candidate of `judge_on_policy`, so the datasets
//! differ only in what the builder does with it. Pairs shown to a judge are put in a seeded random
//! order per prompt (position-bias cancelling); the judge's choice is mapped back. Judge builders
//! check `empty`/`identical` before asking the judge (no judge call for a pair it cannot split);
//! CLAIR checks them on the revision. Outputs keep the prompts' order.

use std::collections::BTreeMap;

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::agents::{AgentError, Choice, Decoding, Generator, Judge, RejectReason, Reviser, Verdict, expect_len};
use super::filters::{self, FilterConfig, FilterCounts};
use super::seed;
use super::triple::{Metadata, PreferenceTriple};

/// The builder kinds (the `file` kind is an import, see [`super::triple::read_jsonl`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BuilderKind {
    Clair,
    JudgeOnPolicy,
    JudgeOffPolicy,
    StrongerPreferred,
    /// The off-policy dataset from stored completions' ratings, no judge ([`super::ratings`]).
    OffPolicyRatings,
}

impl BuilderKind {
    pub const ALL: [BuilderKind; 5] =
        [Self::Clair, Self::JudgeOnPolicy, Self::JudgeOffPolicy, Self::StrongerPreferred, Self::OffPolicyRatings];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Clair => "clair",
            Self::JudgeOnPolicy => "judge_on_policy",
            Self::JudgeOffPolicy => "judge_off_policy",
            Self::StrongerPreferred => "stronger_preferred",
            Self::OffPolicyRatings => "off_policy_ratings",
        }
    }

    /// The default filters: the length-ratio filter applies to revisions only (SPEC.md).
    pub fn default_filters(self) -> FilterConfig {
        match self {
            Self::Clair => FilterConfig::REVISION,
            _ => FilterConfig::NONE,
        }
    }
}

/// What a dataset row's `builder = "..."` names: one of the four builders, or `file`, an import
/// of a user's own triples (no builder runs). Read from the same names as [`BuilderKind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DatasetKind {
    Build(BuilderKind),
    File,
}

impl DatasetKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DatasetKind::Build(kind) => kind.as_str(),
            DatasetKind::File => "file",
        }
    }
}

impl Serialize for DatasetKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for DatasetKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        if name == "file" {
            return Ok(DatasetKind::File);
        }
        BuilderKind::ALL.into_iter().find(|k| k.as_str() == name).map(DatasetKind::Build).ok_or_else(|| {
            let names: Vec<&str> = BuilderKind::ALL.iter().map(|k| k.as_str()).chain(["file"]).collect();
            serde::de::Error::custom(format!("unknown variant `{name}`, expected one of {}", names.join(", ")))
        })
    }
}

/// Options shared by the builders.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BuildOptions {
    pub seed: u64,
    /// Sampling temperature for the target's (and off-policy models') samples.
    pub temperature: f32,
    pub filters: FilterConfig,
}

impl BuildOptions {
    /// Temperature 1.0 and the kind's default filters.
    pub fn new(kind: BuilderKind, seed: u64) -> Self {
        Self { seed, temperature: 1.0, filters: kind.default_filters() }
    }

    /// The decoding a builder uses for the samples tagged `tag` (seeded per tag).
    pub fn sample(&self, tag: &str) -> Decoding {
        Decoding::Sample { temperature: self.temperature, seed: seed::derive(self.seed, tag) }
    }
}

/// A builder's output: the kept triples and what each filter dropped.
#[derive(Debug, Clone, PartialEq)]
pub struct Built {
    pub kind: BuilderKind,
    pub triples: Vec<PreferenceTriple>,
    pub counts: FilterCounts,
    /// Items dropped because a request failed for good, by reason (`http 500`, `timeout`, ...).
    /// Not counted in `counts`: no filter saw them.
    pub failed: BTreeMap<String, usize>,
}

/// The tag of the target sample shared by the builders.
const TARGET_SAMPLE: &str = "target/sample";
/// The tag of the on-policy judge's second sample.
const TARGET_SAMPLE_2: &str = "target/sample2";
/// Every sampled decoding of the target that some builder asks for, so a caller can draw them
/// once and replay them to all builders.
pub const TARGET_SAMPLE_TAGS: [&str; 2] = [TARGET_SAMPLE, TARGET_SAMPLE_2];

/// CLAIR (eq. 1): `y_l` a sample of the target, `y_w` its minimal revision.
pub fn clair(
    prompts: &[String],
    target: &mut dyn Generator,
    reviser: &mut dyn Reviser,
    opts: &BuildOptions,
) -> Result<Built, AgentError> {
    let losing = generate(target, prompts, opts.sample(TARGET_SAMPLE))?;
    let mut built = Built::new(BuilderKind::Clair);
    let items: Vec<(&str, &str)> = prompts.iter().map(String::as_str).zip(losing.iter().map(String::as_str)).collect();
    let revisions = reviser.revise_batch(&items);
    expect_len(reviser.name(), revisions.len(), items.len())?;
    for ((prompt, y_l), revision) in items.into_iter().zip(revisions) {
        let Some(revision) = built.accept(revision)? else { continue };
        let meta = Metadata {
            builder: BuilderKind::Clair.as_str().into(),
            chosen_model: Some(reviser.name().into()),
            rejected_model: Some(target.name().into()),
            reason: (!revision.reasoning.is_empty()).then(|| revision.reasoning.clone()),
            ..Metadata::default()
        };
        built.push(&opts.filters, PreferenceTriple::new(prompt, &revision.text, y_l, meta));
    }
    Ok(built)
}

/// Stronger-preferred (eq. 4): `y_l` a sample of the target, `y_w` the stronger model's own
/// greedy answer, not a revision.
pub fn stronger_preferred(
    prompts: &[String],
    target: &mut dyn Generator,
    stronger: &mut dyn Generator,
    opts: &BuildOptions,
) -> Result<Built, AgentError> {
    let losing = generate(target, prompts, opts.sample(TARGET_SAMPLE))?;
    let winning = stronger.generate_each(prompts, Decoding::Greedy)?;
    expect_len(stronger.name(), winning.len(), prompts.len())?;
    let mut built = Built::new(BuilderKind::StrongerPreferred);
    for ((prompt, y_w), y_l) in prompts.iter().zip(winning).zip(&losing) {
        let Some(y_w) = built.accept(y_w.map_err(AgentError::from))? else { continue };
        let meta = Metadata {
            builder: BuilderKind::StrongerPreferred.as_str().into(),
            chosen_model: Some(stronger.name().into()),
            rejected_model: Some(target.name().into()),
            ..Metadata::default()
        };
        built.push(&opts.filters, PreferenceTriple::new(prompt, &y_w, y_l, meta));
    }
    Ok(built)
}

/// On-policy judge (eq. 2): two samples of the target; the judge's pick wins.
pub fn judge_on_policy(
    prompts: &[String],
    target: &mut dyn Generator,
    judge: &mut dyn Judge,
    opts: &BuildOptions,
) -> Result<Built, AgentError> {
    let first = generate(target, prompts, opts.sample(TARGET_SAMPLE))?;
    let second = generate(target, prompts, opts.sample(TARGET_SAMPLE_2))?;
    let name = target.name().to_string();
    let mut built = Built::new(BuilderKind::JudgeOnPolicy);
    let pairs: Vec<Candidates> = prompts
        .iter()
        .enumerate()
        .map(|(i, p)| (p.as_str(), [(first[i].as_str(), name.as_str()), (second[i].as_str(), name.as_str())]))
        .collect();
    built.judge_pairs(judge, &pairs, opts)?;
    Ok(built)
}

/// Off-policy judge (eq. 3): two outputs of other models; the judge's pick wins. For each prompt
/// two distinct models of `pool` are drawn (seeded); with a pool of one, two samples of it.
pub fn judge_off_policy(
    prompts: &[String],
    pool: &mut [&mut dyn Generator],
    judge: &mut dyn Judge,
    opts: &BuildOptions,
) -> Result<Built, AgentError> {
    if pool.is_empty() {
        return Err(AgentError::Failed {
            agent: BuilderKind::JudgeOffPolicy.as_str().into(),
            message: "needs at least one other model in its pool".into(),
        });
    }
    // Who answers which prompt in which slot.
    let picks: Vec<[usize; 2]> = prompts
        .iter()
        .map(|p| {
            if pool.len() == 1 {
                return [0, 0];
            }
            let mut rng = seed::rng_for(opts.seed, "offpolicy/pick", &[p.as_str()]);
            let a = rng.random_range(0..pool.len());
            let b = (a + rng.random_range(1..pool.len())) % pool.len();
            [a, b]
        })
        .collect();
    // One batched call per (model, slot); different slots sample with different seeds.
    let mut outputs: Vec<[String; 2]> = vec![Default::default(); prompts.len()];
    for (g, model) in pool.iter_mut().enumerate() {
        for slot in 0..2 {
            let idx: Vec<usize> = (0..prompts.len()).filter(|&i| picks[i][slot] == g).collect();
            if idx.is_empty() {
                continue;
            }
            let batch: Vec<String> = idx.iter().map(|&i| prompts[i].clone()).collect();
            let out = generate(&mut **model, &batch, opts.sample(&format!("offpolicy/{g}/{slot}")))?;
            for (&i, o) in idx.iter().zip(out) {
                outputs[i][slot] = o;
            }
        }
    }
    let names: Vec<String> = pool.iter().map(|m| m.name().to_string()).collect();
    let mut built = Built::new(BuilderKind::JudgeOffPolicy);
    let pairs: Vec<Candidates> = prompts
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let [a, b] = picks[i];
            (p.as_str(), [(outputs[i][0].as_str(), names[a].as_str()), (outputs[i][1].as_str(), names[b].as_str())])
        })
        .collect();
    built.judge_pairs(judge, &pairs, opts)?;
    Ok(built)
}

/// Asks `judge` about `x` and `y` in a seeded random order (per prompt and texts). Returns
/// whether `x` won and the verdict with its scores mapped back to `(x, y)` order.
pub fn judge_in_seeded_order(
    judge: &mut dyn Judge,
    prompt: &str,
    x: &str,
    y: &str,
    seed: u64,
) -> Result<(bool, Verdict), AgentError> {
    judge_all_in_seeded_order(judge, &[(prompt, x, y)], seed).pop().expect("one item in, one result out")
}

/// [`judge_in_seeded_order`] for many `(prompt, x, y)` items in one [`Judge::judge_batch`].
pub fn judge_all_in_seeded_order(
    judge: &mut dyn Judge,
    items: &[(&str, &str, &str)],
    seed: u64,
) -> Vec<Result<(bool, Verdict), AgentError>> {
    let swaps: Vec<bool> =
        items.iter().map(|&(p, x, y)| seed::rng_for(seed, "judge/order", &[p, x, y]).random()).collect();
    let shown: Vec<(&str, &str, &str)> =
        items.iter().zip(&swaps).map(|(&(p, x, y), &swap)| if swap { (p, y, x) } else { (p, x, y) }).collect();
    let verdicts = judge.judge_batch(&shown);
    if verdicts.len() != items.len() {
        let err = || expect_len(judge.name(), verdicts.len(), items.len()).expect_err("lengths differ");
        return items.iter().map(|_| Err(err())).collect();
    }
    verdicts
        .into_iter()
        .zip(swaps)
        .map(|(v, swap)| {
            let mut v = v?;
            let x_won = (v.winner == Choice::First) != swap;
            if swap {
                v.scores = v.scores.map(|(s1, s2)| (s2, s1));
            }
            Ok((x_won, v))
        })
        .collect()
}

fn generate(model: &mut dyn Generator, prompts: &[String], decoding: Decoding) -> Result<Vec<String>, AgentError> {
    let out = model.generate(prompts, decoding)?;
    expect_len(model.name(), out.len(), prompts.len())?;
    Ok(out)
}

/// A prompt and its two candidate (output, model name) pairs for a judge.
type Candidates<'a> = (&'a str, [(&'a str, &'a str); 2]);

impl Built {
    pub(crate) fn new(kind: BuilderKind) -> Self {
        Self { kind, triples: Vec::new(), counts: FilterCounts::default(), failed: BTreeMap::new() }
    }

    pub(crate) fn push(&mut self, config: &FilterConfig, triple: PreferenceTriple) {
        let outcome = filters::check(config, &triple.chosen, &triple.rejected);
        self.counts.record(outcome);
        if outcome.is_ok() {
            self.triples.push(triple);
        }
    }

    /// An agent's answer for one item: `Some` to go on, `None` when the item is dropped (a
    /// format rejection counted under `format`, a failed request counted in `failed`), or the
    /// error that stops the build.
    fn accept<T>(&mut self, answer: Result<T, AgentError>) -> Result<Option<T>, AgentError> {
        match answer {
            Ok(t) => Ok(Some(t)),
            Err(AgentError::Rejected(RejectReason::RequestFailed { reason, .. })) => {
                *self.failed.entry(reason).or_default() += 1;
                Ok(None)
            }
            Err(AgentError::Rejected(_)) => {
                self.counts.record_format();
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Items whose request failed for good.
    pub fn failed_items(&self) -> usize {
        self.failed.values().sum()
    }

    /// Filters each candidate pair, asks the judge about the rest in one batch, and keeps each
    /// winner as `chosen`, in the prompts' order.
    fn judge_pairs(
        &mut self,
        judge: &mut dyn Judge,
        pairs: &[Candidates],
        opts: &BuildOptions,
    ) -> Result<(), AgentError> {
        // Symmetric checks first: no judge call for a pair that would be dropped anyway.
        let mut asked = Vec::new();
        for pair @ (_, [(a, _), (b, _)]) in pairs {
            match filters::check(&FilterConfig::NONE, a, b) {
                Ok(()) => asked.push(pair),
                Err(drop) => self.counts.record(Err(drop)),
            }
        }
        let items: Vec<(&str, &str, &str)> = asked.iter().map(|(p, [(a, _), (b, _)])| (*p, *a, *b)).collect();
        let verdicts = judge_all_in_seeded_order(judge, &items, opts.seed);
        for ((prompt, [(a, a_model), (b, b_model)]), verdict) in asked.into_iter().zip(verdicts) {
            let Some((a_won, verdict)) = self.accept(verdict)? else { continue };
            let ((w, wm), (l, lm)) = if a_won { ((a, a_model), (b, b_model)) } else { ((b, b_model), (a, a_model)) };
            let scores = verdict.scores.map(|(sa, sb)| if a_won { (sa, sb) } else { (sb, sa) });
            let meta = Metadata {
                builder: self.kind.as_str().into(),
                chosen_model: Some((*wm).into()),
                rejected_model: Some((*lm).into()),
                chosen_score: scores.map(|s| s.0),
                rejected_score: scores.map(|s| s.1),
                reason: Some(verdict.reason),
                ..Metadata::default()
            };
            self.push(&opts.filters, PreferenceTriple::new(prompt, w, l, meta));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::agents::Revision;

    /// A generator whose answer is a function of (prompt, decoding).
    struct FnGen<F: FnMut(&str, Decoding) -> String>(&'static str, F);
    impl<F: FnMut(&str, Decoding) -> String> Generator for FnGen<F> {
        fn name(&self) -> &str {
            self.0
        }
        fn generate(&mut self, prompts: &[String], d: Decoding) -> Result<Vec<String>, AgentError> {
            Ok(prompts.iter().map(|p| (self.1)(p, d)).collect())
        }
    }

    /// Sample text: "<prompt>/<seed mod 1000>", greedy "<prompt>/greedy".
    fn sampler(p: &str, d: Decoding) -> String {
        match d {
            Decoding::Greedy => format!("{p}/greedy"),
            Decoding::Sample { seed, .. } => format!("{p}/{}", seed % 1000),
        }
    }

    /// Upper-cases the losing output; rejects prompts containing "bad"; returns the input
    /// unchanged for prompts containing "same"; doubles it thrice for "long".
    struct Upper;
    impl Reviser for Upper {
        fn name(&self) -> &str {
            "upper"
        }
        fn revise(&mut self, prompt: &str, losing: &str) -> Result<Revision, AgentError> {
            if prompt.contains("bad") {
                return Err(RejectReason::Format("no marker".into()).into());
            }
            let text = if prompt.contains("same") {
                losing.to_string()
            } else if prompt.contains("long") {
                losing.repeat(3)
            } else {
                losing.to_uppercase()
            };
            Ok(Revision { text, reasoning: "caps".into() })
        }
    }

    /// Prefers the longer text (ties: first); records the order it was shown.
    #[derive(Default)]
    struct Longer(Vec<(String, String)>);
    impl Judge for Longer {
        fn name(&self) -> &str {
            "longer"
        }
        fn judge(&mut self, prompt: &str, a: &str, b: &str) -> Result<Verdict, AgentError> {
            if prompt.contains("reject") {
                return Err(RejectReason::Format("neither [1] nor [2]".into()).into());
            }
            self.0.push((a.to_string(), b.to_string()));
            let winner = if b.len() > a.len() { Choice::Second } else { Choice::First };
            Ok(Verdict { winner, reason: "length".into(), scores: Some((a.len() as f64, b.len() as f64)) })
        }
    }

    fn prompts(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn clair_revises_the_target_sample_and_counts_drops() {
        let ps = prompts(&["p1", "bad", "same", "long", "p2"]);
        let opts = BuildOptions::new(BuilderKind::Clair, 9);
        let mut target = FnGen("target", sampler);
        let b = clair(&ps, &mut target, &mut Upper, &opts).unwrap();
        assert_eq!(b.triples.len(), 2);
        let t = &b.triples[0];
        assert_eq!(t.chosen, t.rejected.to_uppercase());
        assert!(t.rejected.starts_with("p1/"));
        assert_eq!(t.metadata.builder, "clair");
        assert_eq!(t.metadata.chosen_model.as_deref(), Some("upper"));
        assert_eq!(t.metadata.rejected_model.as_deref(), Some("target"));
        let c = b.counts;
        assert_eq!((c.considered, c.kept, c.format, c.identical, c.length_ratio), (5, 2, 1, 1, 1));
        // The same target sample is y_l in stronger_preferred.
        let mut stronger =
            FnGen(
                "strong",
                |p: &str, d| if d == Decoding::Greedy { format!("{p} is best") } else { "sampled?".into() },
            );
        let s =
            stronger_preferred(&ps, &mut target, &mut stronger, &BuildOptions::new(BuilderKind::StrongerPreferred, 9))
                .unwrap();
        assert_eq!(s.triples.len(), 5, "no length filter outside CLAIR by default");
        assert_eq!(s.triples[0].rejected, t.rejected);
        assert_eq!(s.triples[0].chosen, "p1 is best");
        assert_eq!(s.triples[0].metadata.chosen_model.as_deref(), Some("strong"));
    }

    #[test]
    fn on_policy_judge_picks_the_winner_in_random_order() {
        // Two samples of different lengths: the longer must win whatever order the judge saw.
        let gen_ = |p: &str, d: Decoding| match d {
            Decoding::Sample { .. } if p == "tie" => "same".to_string(),
            Decoding::Sample { seed, .. } => "x".repeat(1 + (seed % 7) as usize) + p,
            Decoding::Greedy => String::new(),
        };
        let ps: Vec<String> =
            (0..40).map(|i| format!("q{i}")).chain(["tie".to_string(), "reject".to_string()]).collect();
        let mut judge = Longer::default();
        let b =
            judge_on_policy(&ps, &mut FnGen("m", gen_), &mut judge, &BuildOptions::new(BuilderKind::JudgeOnPolicy, 3))
                .unwrap();
        let c = b.counts;
        assert_eq!((c.considered, c.identical, c.format), (42, 1, 1));
        for t in &b.triples {
            assert!(t.chosen.len() >= t.rejected.len(), "{t:?}");
            assert_eq!(t.metadata.chosen_score, Some(t.chosen.len() as f64));
            assert_eq!(t.metadata.rejected_score, Some(t.rejected.len() as f64));
        }
        // The judge never saw the identical pair, and saw winners in both positions.
        assert!(judge.0.iter().all(|(a, _)| !a.starts_with("same")));
        let longer_first = judge.0.iter().filter(|(a, b)| a.len() > b.len()).count();
        assert!(longer_first > 5 && longer_first < judge.0.len() - 5, "{longer_first}");
    }

    #[test]
    fn off_policy_judge_uses_two_pool_models() {
        let ps: Vec<String> = (0..30).map(|i| format!("q{i}")).collect();
        let mut a = FnGen("a", |p: &str, _| format!("a says {p}"));
        let mut b = FnGen("bb", |p: &str, _| format!("bb says a lot about {p}"));
        let mut c = FnGen("c", |p: &str, _| format!("c: {p}"));
        let mut pool: Vec<&mut dyn Generator> = vec![&mut a, &mut b, &mut c];
        let opts = BuildOptions::new(BuilderKind::JudgeOffPolicy, 5);
        let built = judge_off_policy(&ps, &mut pool, &mut Longer::default(), &opts).unwrap();
        assert_eq!(built.triples.len(), 30);
        let mut models = std::collections::BTreeSet::new();
        for t in &built.triples {
            let (w, l) = (t.metadata.chosen_model.clone().unwrap(), t.metadata.rejected_model.clone().unwrap());
            assert_ne!(w, l);
            assert!(t.chosen.starts_with(&format!("{w} ")) || t.chosen.starts_with(&format!("{w}:")));
            assert!(t.chosen.len() >= t.rejected.len());
            models.insert(w);
            models.insert(l);
        }
        assert_eq!(models.len(), 3);
        let mut empty: Vec<&mut dyn Generator> = vec![];
        assert!(matches!(
            judge_off_policy(&ps, &mut empty, &mut Longer::default(), &opts),
            Err(AgentError::Failed { .. })
        ));
    }

    #[test]
    fn a_generator_returning_the_wrong_count_stops_the_build() {
        struct Short;
        impl Generator for Short {
            fn name(&self) -> &str {
                "short"
            }
            fn generate(&mut self, _: &[String], _: Decoding) -> Result<Vec<String>, AgentError> {
                Ok(vec!["one".into()])
            }
        }
        let ps = prompts(&["a", "b"]);
        let err = clair(&ps, &mut Short, &mut Upper, &BuildOptions::new(BuilderKind::Clair, 1)).unwrap_err();
        assert!(err.to_string().contains("returned 1 responses for 2 prompts"), "{err}");
    }

    #[test]
    fn winner_vs_model_counts_strict_wins_and_ties() {
        use crate::data::winner_vs_model::winner_vs_model;
        let meta = crate::data::triple::Metadata::default();
        let t = |p: &str, w: &str| PreferenceTriple::new(p, w, "l", meta.clone());
        // Greedy answers are "<p>/greedy" (8+ chars); winners longer, shorter, equal length, equal text.
        let triples = vec![t("a", "a much longer winner"), t("b", "short"), t("c", "c/greedX"), t("d", "d/greedy")];
        let r = winner_vs_model(&triples, &mut FnGen("m", sampler), &mut Longer::default(), 1, None).unwrap();
        assert_eq!((r.compared, r.winner_better, r.model_better, r.ties), (4, 1, 1, 2));
        assert_eq!((r.fraction, r.model_fraction), (0.25, 0.25));
        assert_eq!(r.suggested, "apo_down", "a tie between better and worse is not better");
        let r = winner_vs_model(&triples[..1], &mut FnGen("m", sampler), &mut Longer::default(), 1, None).unwrap();
        assert_eq!(r.suggested, "apo_zero");
    }
}
