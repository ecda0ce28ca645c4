//! The task families of the embedded world, each a tiny stand-in for one of MixEval's
//! sub-benchmarks, with seeded prompts, verifiable answers and two scorers:
//!
//! | family | stands for | example prompt | answer |
//! |---|---|---|---|
//! | `arithmetic` | GSM8k, MATH | `What is 23 plus 41?` | `64` |
//! | `facts` | TriviaQA (a fixed synthetic fact table) | `Name the capital of Dorvia.` | `Melkot` |
//! | `compare` | BoolQ | `Is 37 greater than 52?` | `no` |
//! | `choice` | MMLU, ARC | `Which is an animal? A) saw B) fox C) pear D) bus` | `B` |
//! | `reverse` | string manipulation | `Spell 'planet' backwards.` | `tenalp` |
//! | `sort` | string manipulation | `Sort these letters: d b a c.` | `a b c d` |
//! | `count` | string manipulation | `How many times does 'a' appear in 'banana'?` | `3` |
//!
//! Everything is synthetic and says so: the fact table is made of invented names drawn from a
//! fixed seed. A task can be recovered from its prompt text ([`Task::parse`]), which is how the
//! oracle "knows the answers" to any prompt of this world.
//!
//! Scoring a free-form response: [`extract_answer`] finds the text after the last
//! `answer is` / `answer:` / `answer =` marker; [`Task::exact`] compares it, normalised, with
//! the canonical answer (the benchmark score); [`Task::quality`] is a graded score in [0, 1]
//! for judging: `0.8 * correctness + 0.2 * form`, where a wrong answer earns partial credit of
//! at most 0.5 (closeness of numbers or strings) and form rewards a marker (0.5), a sane length
//! (0.3) and getting to the point without a filler opening like `Okay. ` (0.2).

use std::ops::Range;
use std::sync::OnceLock;

use rand::Rng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::data::seed;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    Arithmetic,
    Facts,
    Compare,
    Choice,
    Reverse,
    Sort,
    Count,
}

impl Family {
    pub const ALL: [Family; 7] = [
        Self::Arithmetic,
        Self::Facts,
        Self::Compare,
        Self::Choice,
        Self::Reverse,
        Self::Sort,
        Self::Count,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Arithmetic => "arithmetic",
            Self::Facts => "facts",
            Self::Compare => "compare",
            Self::Choice => "choice",
            Self::Reverse => "reverse",
            Self::Sort => "sort",
            Self::Count => "count",
        }
    }

    /// The MixEval sub-benchmarks this family stands in for.
    pub fn stands_for(self) -> &'static str {
        match self {
            Self::Arithmetic => "GSM8k, MATH",
            Self::Facts => "TriviaQA",
            Self::Compare => "BoolQ",
            Self::Choice => "MMLU, ARC",
            Self::Reverse | Self::Sort | Self::Count => "string manipulation",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Plus,
    Minus,
    Times,
}

impl Op {
    pub fn word(self) -> &'static str {
        match self {
            Op::Plus => "plus",
            Op::Minus => "minus",
            Op::Times => "times",
        }
    }
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Plus => "+",
            Op::Minus => "-",
            Op::Times => "x",
        }
    }
    pub fn apply(self, a: i64, b: i64) -> i64 {
        match self {
            Op::Plus => a + b,
            Op::Minus => a - b,
            Op::Times => a * b,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    Capital,
    Language,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareKind {
    Greater,
    Less,
    Before,
}

/// What a task is about, beyond its prompt and answer (the styles and the oracle use it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detail {
    Arithmetic { a: i64, op: Op, b: i64 },
    Fact { entity: String, relation: Relation },
    Compare { kind: CompareKind, x: String, y: String },
    Choice { category: String, options: [String; 4] },
    Reverse { word: String },
    Sort { letters: Vec<char> },
    Count { word: String, letter: Option<char> },
}

/// One prompt of the world with its canonical answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub family: Family,
    pub prompt: String,
    pub answer: String,
    pub detail: Detail,
}

const ARITH_TEMPLATES: [(&str, &str); 3] =
    [("What is ", "?"), ("Compute ", "."), ("How much is ", "?")];
const CAPITAL_TEMPLATES: [(&str, &str); 3] = [
    ("What is the capital of ", "?"),
    ("Which city is the capital of ", "?"),
    ("Name the capital of ", "."),
];
const LANGUAGE_TEMPLATES: [(&str, &str); 3] = [
    ("What language is spoken in ", "?"),
    ("Which language do people speak in ", "?"),
    ("Name the language of ", "."),
];
const REVERSE_TEMPLATES: [(&str, &str); 3] =
    [("Reverse the word '", "'."), ("Spell '", "' backwards."), ("Write '", "' in reverse.")];
const SORT_TEMPLATES: [(&str, &str); 2] =
    [("Sort these letters: ", "."), ("Put these letters in order: ", ".")];
const LETTERS_IN: (&str, &str) = ("How many letters are in '", "'?");
const TIMES_IN: (&str, &str, &str) = ("How many times does '", "' appear in '", "'?");
const BEFORE: (&str, &str, &str) = ("Does '", "' come before '", "' in the alphabet?");
const CHOICE_TEMPLATES: [(&str, &str); 2] = [("Which is ", "? "), ("Pick the ", ": ")];

/// Common short English words (reverse, count, compare).
pub const WORDS: [&str; 100] = [
    "apple", "planet", "garden", "window", "river", "candle", "silver", "market", "pencil",
    "forest", "orange", "bridge", "cotton", "rocket", "summer", "winter", "button", "castle",
    "dragon", "finger", "guitar", "hunter", "island", "jacket", "kitten", "ladder", "mirror",
    "needle", "pepper", "rabbit", "saddle", "tunnel", "violin", "wallet", "yellow", "zipper",
    "banana", "cherry", "doctor", "engine", "flower", "ginger", "helmet", "insect", "jungle",
    "kettle", "lemon", "magnet", "number", "office", "parrot", "quartz", "ribbon", "sister",
    "ticket", "umpire", "velvet", "walnut", "bottle", "coffee", "letter", "summit", "puzzle",
    "tomato", "anchor", "basket", "carpet", "desert", "easel", "fabric", "goblet", "harbor",
    "iron", "jelly", "kernel", "lantern", "meadow", "napkin", "oyster", "pillow", "quiver",
    "rafter", "shadow", "timber", "uncle", "vessel", "wagon", "yogurt", "zebra", "blanket",
    "cabin", "dinner", "feather", "glove", "hollow", "marble", "nickel", "paddle", "saucer", "thimble",
];

/// The categories of the multiple-choice family, with their members.
pub const CATEGORIES: [(&str, &str, [&str; 6]); 6] = [
    ("fruit", "a", ["apple", "pear", "lemon", "mango", "plum", "grape"]),
    ("animal", "an", ["fox", "horse", "tiger", "otter", "wolf", "camel"]),
    ("tool", "a", ["hammer", "saw", "wrench", "drill", "chisel", "shovel"]),
    ("vehicle", "a", ["truck", "bus", "bicycle", "boat", "train", "tractor"]),
    ("color", "a", ["red", "green", "blue", "purple", "yellow", "brown"]),
    ("instrument", "an", ["piano", "violin", "drum", "flute", "guitar", "trumpet"]),
];

/// The synthetic fact table: invented countries with a capital and a language.
pub struct FactTable {
    /// `(country, capital, language)`, in a fixed order.
    pub rows: Vec<(String, String, String)>,
}

impl FactTable {
    pub fn value(&self, entity: &str, relation: Relation) -> Option<&str> {
        self.rows.iter().find(|r| r.0 == entity).map(|r| match relation {
            Relation::Capital => r.1.as_str(),
            Relation::Language => r.2.as_str(),
        })
    }
    pub fn values(&self, relation: Relation) -> impl Iterator<Item = &str> {
        self.rows.iter().map(move |r| match relation {
            Relation::Capital => r.1.as_str(),
            Relation::Language => r.2.as_str(),
        })
    }
}

/// The fixed fact table (40 rows, drawn once from a constant seed; never from the run seed).
pub fn facts() -> &'static FactTable {
    static TABLE: OnceLock<FactTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        const SYL: [&str; 20] = [
            "ka", "lo", "mi", "ra", "te", "zu", "vo", "pel", "dor", "sha", "ni", "bex", "qua",
            "fen", "gri", "tal", "mor", "vin", "sel", "ob",
        ];
        let mut rng = seed::rng(0x00FA_C7AB, "world/facts");
        let mut used = std::collections::BTreeSet::new();
        let mut word = |rng: &mut ChaCha8Rng, n: usize, ends: &[&str]| -> String {
            loop {
                let mut w: String = (0..n).map(|_| *SYL.choose(rng).unwrap_or(&"ka")).collect();
                w.push_str(ends.choose(rng).unwrap_or(&""));
                let w = capitalize(&w);
                if used.insert(w.clone()) {
                    return w;
                }
            }
        };
        let rows = (0..40)
            .map(|_| {
                let country = word(&mut rng, 2, &["ia", "ar", "and", "ovia"]);
                let capital = word(&mut rng, 2, &["ton", "burg", "ka", "mere"]);
                let language = word(&mut rng, 1, &["ish", "ese", "ic"]);
                (country, capital, language)
            })
            .collect();
        FactTable { rows }
    })
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

fn letter(i: usize) -> char {
    (b'A' + i as u8) as char
}

impl Task {
    /// A random task of `family`.
    pub fn generate(family: Family, rng: &mut ChaCha8Rng) -> Task {
        let pick = |rng: &mut ChaCha8Rng, n: usize| rng.random_range(0..n);
        let (prompt, detail) = match family {
            Family::Arithmetic => {
                let op = [Op::Plus, Op::Minus, Op::Times][pick(rng, 3)];
                let (a, b) = match op {
                    Op::Plus => (rng.random_range(2..60), rng.random_range(2..60)),
                    Op::Minus => {
                        let a = rng.random_range(10..100);
                        (a, rng.random_range(1..=a))
                    }
                    Op::Times => (rng.random_range(2..13), rng.random_range(2..13)),
                };
                let (pre, post) = ARITH_TEMPLATES[pick(rng, 3)];
                (format!("{pre}{a} {} {b}{post}", op.word()), Detail::Arithmetic { a, op, b })
            }
            Family::Facts => {
                let table = facts();
                let entity = table.rows[pick(rng, table.rows.len())].0.clone();
                let (relation, templates) = if rng.random_bool(0.5) {
                    (Relation::Capital, CAPITAL_TEMPLATES)
                } else {
                    (Relation::Language, LANGUAGE_TEMPLATES)
                };
                let (pre, post) = templates[pick(rng, 3)];
                (format!("{pre}{entity}{post}"), Detail::Fact { entity, relation })
            }
            Family::Compare => match pick(rng, 3) {
                k @ (0 | 1) => {
                    let x = rng.random_range(1..100);
                    let y = loop {
                        let y = rng.random_range(1..100);
                        if y != x {
                            break y;
                        }
                    };
                    let kind = if k == 0 { CompareKind::Greater } else { CompareKind::Less };
                    let word = if k == 0 { "greater" } else { "less" };
                    let detail = Detail::Compare { kind, x: x.to_string(), y: y.to_string() };
                    (format!("Is {x} {word} than {y}?"), detail)
                }
                _ => {
                    let x = WORDS[pick(rng, WORDS.len())];
                    let y = loop {
                        let y = WORDS[pick(rng, WORDS.len())];
                        if y != x {
                            break y;
                        }
                    };
                    let detail = Detail::Compare { kind: CompareKind::Before, x: x.into(), y: y.into() };
                    (format!("{}{x}{}{y}{}", BEFORE.0, BEFORE.1, BEFORE.2), detail)
                }
            },
            Family::Choice => {
                let c = pick(rng, CATEGORIES.len());
                let (category, article, members) = CATEGORIES[c];
                let right = members[pick(rng, members.len())];
                let mut others: Vec<&str> = CATEGORIES
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != c)
                    .flat_map(|(_, cat)| cat.2)
                    .filter(|w| !members.contains(w))
                    .collect();
                others.shuffle(rng);
                let mut opts: Vec<&str> = vec![right, others[0], others[1], others[2]];
                opts.shuffle(rng);
                let options: [String; 4] = std::array::from_fn(|i| opts[i].to_string());
                let listed = (0..4).map(|i| format!("{}) {}", letter(i), options[i])).collect::<Vec<_>>().join(" ");
                let prompt = if rng.random_bool(0.5) {
                    format!("{}{article} {category}{}{listed}", CHOICE_TEMPLATES[0].0, CHOICE_TEMPLATES[0].1)
                } else {
                    format!("{}{category}{}{listed}", CHOICE_TEMPLATES[1].0, CHOICE_TEMPLATES[1].1)
                };
                (prompt, Detail::Choice { category: category.into(), options })
            }
            Family::Reverse => {
                let word = WORDS[pick(rng, WORDS.len())].to_string();
                let (pre, post) = REVERSE_TEMPLATES[pick(rng, REVERSE_TEMPLATES.len())];
                (format!("{pre}{word}{post}"), Detail::Reverse { word })
            }
            Family::Sort => {
                let n = rng.random_range(4..=6);
                let mut pool: Vec<char> = ('a'..='z').collect();
                pool.shuffle(rng);
                let letters: Vec<char> = pool[..n].to_vec();
                let (pre, post) = SORT_TEMPLATES[pick(rng, 2)];
                (format!("{pre}{}{post}", join_chars(&letters)), Detail::Sort { letters })
            }
            Family::Count => {
                let word = WORDS[pick(rng, WORDS.len())].to_string();
                if rng.random_bool(0.5) {
                    (format!("{}{word}{}", LETTERS_IN.0, LETTERS_IN.1), Detail::Count { word, letter: None })
                } else {
                    // Mostly a letter of the word, sometimes one it lacks (answer 0).
                    let chars: Vec<char> = word.chars().collect();
                    let l = if rng.random_bool(0.85) {
                        chars[pick(rng, chars.len())]
                    } else {
                        (b'a' + rng.random_range(0..26u8)) as char
                    };
                    let p = format!("{}{l}{}{word}{}", TIMES_IN.0, TIMES_IN.1, TIMES_IN.2);
                    (p, Detail::Count { word, letter: Some(l) })
                }
            }
        };
        let answer = answer_of(&detail).unwrap_or_default();
        Task { family, prompt, answer, detail }
    }

    /// Recovers a task from a prompt of this world; `None` for any other text.
    pub fn parse(prompt: &str) -> Option<Task> {
        let detail = parse_detail(prompt)?;
        let answer = answer_of(&detail)?;
        let family = match &detail {
            Detail::Arithmetic { .. } => Family::Arithmetic,
            Detail::Fact { .. } => Family::Facts,
            Detail::Compare { .. } => Family::Compare,
            Detail::Choice { .. } => Family::Choice,
            Detail::Reverse { .. } => Family::Reverse,
            Detail::Sort { .. } => Family::Sort,
            Detail::Count { .. } => Family::Count,
        };
        Some(Task { family, prompt: prompt.to_string(), answer, detail })
    }

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
            if let Some(c @ 'a'..='d') = cs.next() {
                if cs.next().is_none_or(|n| !n.is_alphanumeric()) {
                    return c.to_string();
                }
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
            + 0.2 * f64::from(super::styles::filler(response).is_none() as u8);
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

fn join_chars(cs: &[char]) -> String {
    cs.iter().map(char::to_string).collect::<Vec<_>>().join(" ")
}

fn answer_of(detail: &Detail) -> Option<String> {
    Some(match detail {
        Detail::Arithmetic { a, op, b } => op.apply(*a, *b).to_string(),
        Detail::Fact { entity, relation } => facts().value(entity, *relation)?.to_string(),
        Detail::Compare { kind, x, y } => {
            let yes = match kind {
                CompareKind::Greater => x.parse::<i64>().ok()? > y.parse::<i64>().ok()?,
                CompareKind::Less => x.parse::<i64>().ok()? < y.parse::<i64>().ok()?,
                CompareKind::Before => x < y,
            };
            if yes { "yes" } else { "no" }.to_string()
        }
        Detail::Choice { category, options } => {
            let members = CATEGORIES.iter().find(|c| c.0 == category)?.2;
            let i = options.iter().position(|o| members.contains(&o.as_str()))?;
            letter(i).to_string()
        }
        Detail::Reverse { word } => word.chars().rev().collect(),
        Detail::Sort { letters } => {
            let mut l = letters.clone();
            l.sort_unstable();
            join_chars(&l)
        }
        Detail::Count { word, letter } => match letter {
            None => word.chars().count().to_string(),
            Some(l) => word.chars().filter(|c| c == l).count().to_string(),
        },
    })
}

fn strip<'a>(s: &'a str, pre: &str, post: &str) -> Option<&'a str> {
    s.strip_prefix(pre)?.strip_suffix(post)
}

fn parse_detail(p: &str) -> Option<Detail> {
    for (pre, post) in ARITH_TEMPLATES {
        if let Some(mid) = strip(p, pre, post) {
            let parts: Vec<&str> = mid.split(' ').collect();
            if let [a, op, b] = parts[..] {
                let op = match op {
                    "plus" => Op::Plus,
                    "minus" => Op::Minus,
                    "times" => Op::Times,
                    _ => continue,
                };
                if let (Ok(a), Ok(b)) = (a.parse(), b.parse()) {
                    return Some(Detail::Arithmetic { a, op, b });
                }
            }
        }
    }
    for (relation, templates) in [(Relation::Capital, CAPITAL_TEMPLATES), (Relation::Language, LANGUAGE_TEMPLATES)] {
        for (pre, post) in templates {
            if let Some(e) = strip(p, pre, post) {
                if facts().value(e, relation).is_some() {
                    return Some(Detail::Fact { entity: e.to_string(), relation });
                }
            }
        }
    }
    if let Some(mid) = strip(p, "Is ", "?") {
        for (word, kind) in [(" greater than ", CompareKind::Greater), (" less than ", CompareKind::Less)] {
            if let Some((x, y)) = mid.split_once(word) {
                if x.parse::<i64>().is_ok() && y.parse::<i64>().is_ok() {
                    return Some(Detail::Compare { kind, x: x.into(), y: y.into() });
                }
            }
        }
    }
    if let Some(mid) = strip(p, BEFORE.0, BEFORE.2) {
        let (x, y) = mid.split_once(BEFORE.1)?;
        return Some(Detail::Compare { kind: CompareKind::Before, x: x.into(), y: y.into() });
    }
    for (pre, sep) in CHOICE_TEMPLATES {
        if let Some(rest) = p.strip_prefix(pre) {
            let (head, listed) = rest.split_once(sep)?;
            let category = head.rsplit(' ').next()?;
            CATEGORIES.iter().find(|c| c.0 == category)?;
            let listed = listed.strip_prefix("A) ")?;
            let (a, rest) = listed.split_once(" B) ")?;
            let (b, rest) = rest.split_once(" C) ")?;
            let (c, d) = rest.split_once(" D) ")?;
            let options = [a, b, c, d].map(str::to_string);
            return Some(Detail::Choice { category: category.into(), options });
        }
    }
    for (pre, post) in REVERSE_TEMPLATES {
        if let Some(w) = strip(p, pre, post) {
            return Some(Detail::Reverse { word: w.into() });
        }
    }
    for (pre, post) in SORT_TEMPLATES {
        if let Some(mid) = strip(p, pre, post) {
            let letters: Vec<char> = mid.split(' ').filter_map(|t| t.chars().next()).collect();
            return (!letters.is_empty()).then_some(Detail::Sort { letters });
        }
    }
    if let Some(w) = strip(p, LETTERS_IN.0, LETTERS_IN.1) {
        return Some(Detail::Count { word: w.into(), letter: None });
    }
    if let Some(mid) = strip(p, TIMES_IN.0, TIMES_IN.2) {
        let (l, w) = mid.split_once(TIMES_IN.1)?;
        let mut lc = l.chars();
        let (Some(l), None) = (lc.next(), lc.next()) else { return None };
        return Some(Detail::Count { word: w.into(), letter: Some(l) });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tasks_parse_back_and_stay_short() {
        let mut rng = seed::rng(1, "t");
        for f in Family::ALL {
            for _ in 0..200 {
                let t = Task::generate(f, &mut rng);
                assert!(!t.answer.is_empty(), "{t:?}");
                assert!(t.prompt.chars().count() < 80, "{}", t.prompt);
                assert_eq!(Task::parse(&t.prompt).as_ref(), Some(&t), "{}", t.prompt);
            }
        }
        assert!(Task::parse("Tell me a joke.").is_none());
    }

    #[test]
    fn answers_are_right() {
        let ans = |p: &str| Task::parse(p).unwrap().answer;
        assert_eq!(ans("What is 23 plus 41?"), "64");
        assert_eq!(ans("Compute 9 times 7."), "63");
        assert_eq!(ans("Is 37 greater than 52?"), "no");
        assert_eq!(ans("Does 'apple' come before 'banana' in the alphabet?"), "yes");
        assert_eq!(ans("Which is an animal? A) saw B) fox C) pear D) bus"), "B");
        assert_eq!(ans("Spell 'planet' backwards."), "tenalp");
        assert_eq!(ans("Sort these letters: d b a c."), "a b c d");
        assert_eq!(ans("How many times does 'a' appear in 'banana'?"), "3");
        assert_eq!(ans("How many letters are in 'banana'?"), "6");
        assert_eq!(facts().rows.len(), 40);
    }

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
