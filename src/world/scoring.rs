//! Scoring free-form responses of the world's tasks.
//!
//! [`extract_answer`] finds the text after the last `answer is` / `answer:` / `answer =`
//! marker; [`Task::exact`] compares it, normalised, with the canonical answer (the benchmark
//! score); [`Task::quality`] is a graded score in [0, 1] for judging:
//! `0.8 * correctness + 0.2 * form`, where a wrong answer earns partial credit of at most 0.5
//! (closeness of numbers or strings) and form rewards a marker (0.5), a sane length (0.3) and
//! getting to the point without a filler opening like `Okay. ` (0.2).

use std::ops::Range;

use super::families::{Detail, Family, Task, letter};
use super::styles::filler;

impl Task {
    /// Normalises an answer for comparison: lower case, outer quotes and periods removed,
    /// whitespace collapsed; sort answers ignore commas; a choice answer given as its option's
    /// word counts as that option's letter.
    pub fn normalize(&self, raw: &str) -> String {
        let mut s = raw.to_lowercase();
        if self.family == Family::Sort {
            s = s.replace(',', " ");
        }
        let s = s.trim().trim_matches(|c: char| c == '.' || c == '!' || c == '\'' || c == '"' || c.is_whitespace());
        let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
        if let Detail::Choice { options, .. } = &self.detail {
            let mut cs = s.chars();
            if let Some(c @ 'a'..='d') = cs.next()
                && cs.next().is_none_or(|n| !n.is_alphanumeric())
            {
                return c.to_string();
            }
            if let Some(i) = options.iter().position(|o| *o == s) {
                return letter(i).to_ascii_lowercase().to_string();
            }
        }
        s
    }

    /// The normalised answer a response gives, if it gives one.
    pub fn extracted(&self, response: &str) -> Option<String> {
        extract_answer(response).map(|r| self.normalize(&response[r]))
    }

    /// Benchmark score: does the response's extracted answer equal the canonical one?
    pub fn exact(&self, response: &str) -> bool {
        self.extracted(response).is_some_and(|a| a == self.normalize(&self.answer))
    }

    /// Graded quality in [0, 1] for the judge (see the module doc).
    pub fn quality(&self, response: &str) -> f64 {
        let want = self.normalize(&self.answer);
        let correctness = match self.extracted(response) {
            None => 0.0,
            Some(got) if got == want => 1.0,
            Some(got) => 0.5 * self.closeness(&got, &want),
        };
        let len = response.trim().chars().count();
        let form = 0.5 * f64::from(extract_answer(response).is_some() as u8)
            + 0.3 * f64::from((8..=160).contains(&len) as u8)
            + 0.2 * f64::from(filler(response).is_none() as u8);
        0.8 * correctness + 0.2 * form
    }

    /// Closeness in [0, 1] of a wrong answer to the right one (partial credit).
    fn closeness(&self, got: &str, want: &str) -> f64 {
        match self.family {
            Family::Arithmetic | Family::Count => match (got.parse::<i64>(), want.parse::<i64>()) {
                (Ok(g), Ok(w)) => (1.0 - (g - w).abs() as f64 / w.abs().max(1) as f64).max(0.0),
                _ => 0.0,
            },
            Family::Compare | Family::Choice => 0.0,
            Family::Facts | Family::Reverse | Family::Sort => {
                let d = crate::data::contrast::levenshtein_chars(got, want) as f64;
                let n = got.chars().count().max(want.chars().count()).max(1) as f64;
                1.0 - d / n
            }
        }
    }

    /// The text a response states next to its answer: the option's word for a choice answer
    /// (`B` -> `fox`), the answer itself otherwise. `answer` is canonical or as written.
    pub fn stated(&self, answer: &str) -> String {
        if let Detail::Choice { options, .. } = &self.detail {
            let n = self.normalize(answer);
            if let Some(i) = "abcd".find(n.as_str()).filter(|_| n.len() == 1) {
                return options[i].clone();
            }
        }
        answer.to_string()
    }
}

/// The byte range of the answer a response gives: the text after the last marker
/// (`answer is`, `answer:`, `answer =`, any case) up to the end of its line, without surrounding
/// spaces, a final period or quotes. `None` when there is no marker or nothing after it.
pub fn extract_answer(response: &str) -> Option<Range<usize>> {
    let lower = response.to_ascii_lowercase();
    let (pos, marker) = ["answer is", "answer:", "answer ="]
        .iter()
        .filter_map(|m| lower.rfind(m).map(|p| (p, *m)))
        .max_by_key(|(p, _)| *p)?;
    let start = pos + marker.len();
    let end = response[start..].find('\n').map_or(response.len(), |e| start + e);
    let span = &response[start..end];
    let trimmed_start = span.len() - span.trim_start().len();
    let inner = span.trim().trim_end_matches(['.', '!']).trim_matches(['\'', '"']).trim();
    if inner.is_empty() {
        return None;
    }
    // Locate `inner` inside the span (after leading spaces and quotes).
    let offset = span[trimmed_start..].find(inner)? + trimmed_start;
    Some(start + offset..start + offset + inner.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extraction_exact_match_and_graded_quality() {
        let t = Task::parse("What is 23 plus 41?").unwrap();
        assert_eq!(extract_answer("23 plus 41 is 64. The answer is 64."), Some(32..34));
        assert!(t.exact("23 plus 41 is 64. The answer is 64."));
        assert!(t.exact("Sure!\nFinal answer: 64"));
        assert!(!t.exact("The answer is 65."));
        assert!(!t.exact("64"), "no marker, no extracted answer");
        // Graded: right > off by one > far off > no answer.
        let (right, near, far, none) = (
            t.quality("23 plus 41 is 64. The answer is 64."),
            t.quality("23 plus 41 is 65. The answer is 65."),
            t.quality("23 plus 41 is 640. The answer is 640."),
            t.quality("64"),
        );
        assert_eq!(right, 1.0);
        assert!(right > near && near > far && far > none, "{right} {near} {far} {none}");
        assert!((0.0..=1.0).contains(&none));

        let c = Task::parse("Which is an animal? A) saw B) fox C) pear D) bus").unwrap();
        assert!(c.exact("I pick fox. The answer is B."));
        assert!(c.exact("The answer is B) fox"));
        assert!(c.exact("answer: fox"));
        assert!(!c.exact("The answer is A."));
        assert_eq!(c.stated("B"), "fox");

        let s = Task::parse("Sort these letters: d b a c.").unwrap();
        assert!(s.exact("The answer is a, b, c, d."));
        let r = Task::parse("Spell 'planet' backwards.").unwrap();
        assert!(r.exact("The answer is 'tenalp'."));
        assert!(r.quality("The answer is tenapl.") > r.quality("The answer is xyz."));
    }
}
