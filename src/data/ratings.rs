//! The off-policy dataset as the paper made it: from completions that already carry ratings
//! (UltraFeedback's four models' completions per prompt, rated by GPT-4), without asking a
//! judge. UltraFeedback's binarization: per prompt, the highest-rated completion wins against
//! a seeded random other one; a pair whose two ratings are equal says nothing about preference
//! and is dropped (counted under `tie`), as is a prompt with fewer than two rated completions
//! (counted under `unrated`).
//!
//! Ratings are read from UltraFeedback's layout, per completion object:
//! - `overall_score`: a number (or a numeric string);
//! - `annotations`: per aspect (`helpfulness`, `honesty`, `instruction_following`,
//!   `truthfulness`) an object whose `Rating` is a number or a numeric string; `"N/A"` and other
//!   non-numeric ratings are skipped, and the completion's aspect rating is the mean of the rest
//!   (the later UltraFeedback binarization ranks by this mean rather than by `overall_score`).

use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::builders::{BuildOptions, BuilderKind, Built};
use super::seed;
use super::triple::{Metadata, PreferenceTriple};

/// Which rating ranks the completions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RatingSource {
    /// `overall_score` (UltraFeedback's first binarization).
    #[default]
    OverallScore,
    /// The mean of the per-aspect `annotations` ratings.
    MeanAspects,
}

/// A stored completion's ratings, as far as the file gives them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Ratings {
    pub overall: Option<f64>,
    pub aspects: Option<f64>,
}

impl Ratings {
    /// Reads the ratings of one completion object; a string completion has none. A rating of
    /// the wrong type is an error naming it.
    pub fn of(completion: &Value) -> Result<Ratings, String> {
        let Value::Object(o) = completion else { return Ok(Ratings::default()) };
        let overall = match o.get("overall_score") {
            None | Some(Value::Null) => None,
            Some(v) => Some(number(v).ok_or_else(|| format!("`overall_score` is {v}, expected a number"))?),
        };
        let aspects = match o.get("annotations") {
            None | Some(Value::Null) => None,
            Some(Value::Object(aspects)) => {
                let mut ratings = Vec::new();
                for (name, a) in aspects {
                    let rating = a.get("Rating").or_else(|| a.get("rating")).ok_or_else(|| {
                        format!("`annotations.{name}` has no `Rating` (expected an object with a numeric `Rating`)")
                    })?;
                    ratings.extend(number(rating));
                }
                (!ratings.is_empty()).then(|| ratings.iter().sum::<f64>() / ratings.len() as f64)
            }
            Some(v) => return Err(format!("`annotations` is {v}, expected an object of per-aspect ratings")),
        };
        Ok(Ratings { overall, aspects })
    }

    pub fn get(&self, source: RatingSource) -> Option<f64> {
        match source {
            RatingSource::OverallScore => self.overall,
            RatingSource::MeanAspects => self.aspects,
        }
    }
}

/// A finite number, or a string holding one (`"4"`); `None` for anything else (`"N/A"`).
fn number(v: &Value) -> Option<f64> {
    let x = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }?;
    x.is_finite().then_some(x)
}

/// One prompt's stored completions with their ratings.
pub struct Rated<'a> {
    pub prompt: &'a str,
    pub completions: &'a [String],
    pub ratings: &'a [Ratings],
}

/// UltraFeedback's binarization of every prompt (see the module doc). The loser is drawn per
/// prompt from `opts.seed`; the winner is the first completion with the highest rating.
pub fn binarize(items: &[Rated], source: RatingSource, opts: &BuildOptions) -> Built {
    let kind = BuilderKind::OffPolicyRatings;
    let mut built = Built::new(kind);
    for item in items {
        let rated: Vec<(usize, f64)> = item
            .ratings
            .iter()
            .take(item.completions.len())
            .enumerate()
            .filter_map(|(i, r)| r.get(source).map(|x| (i, x)))
            .collect();
        if rated.len() < 2 {
            built.counts.record_unrated();
            continue;
        }
        let best = rated.iter().fold(rated[0], |best, &r| if r.1 > best.1 { r } else { best });
        let others: Vec<(usize, f64)> = rated.iter().copied().filter(|r| r.0 != best.0).collect();
        let mut rng = seed::rng_for(opts.seed, "ratings/loser", &[item.prompt]);
        let loser = others[rng.random_range(0..others.len())];
        if loser.1 == best.1 {
            built.counts.record_tie();
            continue;
        }
        let meta = Metadata {
            builder: kind.as_str().into(),
            chosen_model: Some(format!("stored-completion-{}", best.0)),
            rejected_model: Some(format!("stored-completion-{}", loser.0)),
            chosen_score: Some(best.1),
            rejected_score: Some(loser.1),
            ..Metadata::default()
        };
        let triple = PreferenceTriple::new(item.prompt, &item.completions[best.0], &item.completions[loser.0], meta);
        built.push(&opts.filters, triple);
    }
    built
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn aspects(h: &str, t: &str) -> Value {
        json!({ "helpfulness": { "Rating": h, "Rationale": "..." }, "truthfulness": { "Rating": t } })
    }

    #[test]
    fn ultrafeedback_ratings_are_read() {
        let c = json!({ "response": "x", "overall_score": 7.5, "annotations": aspects("4", "N/A") });
        assert_eq!(Ratings::of(&c), Ok(Ratings { overall: Some(7.5), aspects: Some(4.0) }));
        let c = json!({ "response": "x", "overall_score": "6", "annotations": aspects("2", "5") });
        assert_eq!(Ratings::of(&c), Ok(Ratings { overall: Some(6.0), aspects: Some(3.5) }));
        assert_eq!(Ratings::of(&json!("plain text")), Ok(Ratings::default()));
        assert!(Ratings::of(&json!({ "overall_score": [1] })).unwrap_err().contains("`overall_score`"));
        assert!(Ratings::of(&json!({ "annotations": { "honesty": 3 } })).unwrap_err().contains("annotations.honesty"));
    }

    fn rated(overall: &[Option<f64>]) -> Vec<Ratings> {
        overall.iter().map(|&o| Ratings { overall: o, aspects: o.map(|x| 10.0 - x) }).collect()
    }

    #[test]
    fn the_best_wins_against_a_seeded_other_and_ties_are_dropped() {
        let texts: Vec<String> = ["a", "b", "c", "d"].map(String::from).to_vec();
        let prompts: Vec<String> = (0..40).map(|i| format!("prompt {i}")).collect();
        let ratings = rated(&[Some(3.0), Some(8.0), Some(5.0), None]);
        let items: Vec<Rated> =
            prompts.iter().map(|p| Rated { prompt: p, completions: &texts, ratings: &ratings }).collect();
        let opts = BuildOptions::new(BuilderKind::OffPolicyRatings, 7);
        let built = binarize(&items, RatingSource::OverallScore, &opts);
        assert_eq!(built.triples.len(), 40);
        assert!(built.triples.iter().all(|t| t.chosen == "b" && t.metadata.chosen_score == Some(8.0)));
        // The loser is drawn among the rated others, both of them over 40 prompts, never `d`.
        let losers: std::collections::BTreeSet<&str> = built.triples.iter().map(|t| t.rejected.as_str()).collect();
        assert_eq!(losers, ["a", "c"].into());
        assert_eq!(built.triples, binarize(&items, RatingSource::OverallScore, &opts).triples);
        // By the aspects (10 - overall here) the order flips: `a` wins.
        let by_aspects = binarize(&items, RatingSource::MeanAspects, &opts);
        assert!(by_aspects.triples.iter().all(|t| t.chosen == "a"));

        let tie = rated(&[Some(5.0), Some(5.0)]);
        let one = rated(&[Some(5.0), None, None]);
        let items = [
            Rated { prompt: "tie", completions: &texts, ratings: &tie },
            Rated { prompt: "one", completions: &texts, ratings: &one },
        ];
        let built = binarize(&items, RatingSource::OverallScore, &opts);
        assert!(built.triples.is_empty());
        assert_eq!((built.counts.considered, built.counts.tie, built.counts.unrated), (2, 1, 1));
    }
}
