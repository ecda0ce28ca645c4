//! The task families of the embedded world, each a tiny stand-in for one of MixEval's
//! sub-benchmarks, with seeded prompts, verifiable answers and two scorers:
//!
//! | family | stands for | example prompt | answer |
//! |---|---|---|---|
//! | `arithmetic` | GSM8k, MATH | `What is 7 plus 8?` | `15` |
//! | `facts` | TriviaQA (a fixed synthetic fact table) | `Name the capital of Dorvia.` | `Melkot` |
//! | `compare` | BoolQ | `Is 37 greater than 52?` | `no` |
//! | `choice` | MMLU, ARC | `Which is an animal? A) saw B) fox C) pear D) bus` | `B` |
//! | `reverse` | string manipulation | `Spell 'frog' backwards.` | `gorf` |
//! | `sort` | string manipulation | `Sort these letters: d b a.` | `a b d` |
//! | `count` | string manipulation | `How many times does 'a' appear in 'banana'?` | `3` |
//!
//! The tasks are sized for the embedded tiny char-level model, which must learn them from a few
//! hundred updates within the dataset stage's time budget: single-digit operands (small times
//! tables), short words to reverse, three letters from `a`..`j` to sort, 24 rows of facts.
//! Everything is synthetic and says so: the fact table is made of invented names drawn from a
//! fixed seed. A task can be recovered from its prompt text ([`Task::parse`]), which is how the
//! oracle "knows the answers" to any prompt of this world.
//!
//! The scorers (exact match for the benchmark, graded quality for the judge) are in
//! [`super::scoring`]; the fact table in [`super::facts`].

use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

pub use super::facts::{FactTable, facts};

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
    pub const ALL: [Family; 7] =
        [Self::Arithmetic, Self::Facts, Self::Compare, Self::Choice, Self::Reverse, Self::Sort, Self::Count];

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

const ARITH_TEMPLATES: [(&str, &str); 3] = [("What is ", "?"), ("Compute ", "."), ("How much is ", "?")];
const CAPITAL_TEMPLATES: [(&str, &str); 4] = [
    ("What is the capital of ", "?"),
    ("Which city is the capital of ", "?"),
    ("Name the capital of ", "."),
    ("Tell me the capital of ", "."),
];
const LANGUAGE_TEMPLATES: [(&str, &str); 4] = [
    ("What language is spoken in ", "?"),
    ("Which language do people speak in ", "?"),
    ("Name the language of ", "."),
    ("Tell me the language of ", "."),
];
const REVERSE_TEMPLATES: [(&str, &str); 3] =
    [("Reverse the word '", "'."), ("Spell '", "' backwards."), ("Write '", "' in reverse.")];
const SORT_TEMPLATES: [(&str, &str); 2] = [("Sort these letters: ", "."), ("Put these letters in order: ", ".")];
const LETTERS_IN: (&str, &str) = ("How many letters are in '", "'?");
const TIMES_IN: (&str, &str, &str) = ("How many times does '", "' appear in '", "'?");
const BEFORE: (&str, &str, &str) = ("Does '", "' come before '", "' in the alphabet?");
const CHOICE_TEMPLATES: [(&str, &str); 2] = [("Which is ", "? "), ("Pick the ", ": ")];

/// Common short English words (reverse, count, compare).
pub const WORDS: [&str; 100] = [
    "apple", "planet", "garden", "window", "river", "candle", "silver", "market", "pencil", "forest", "orange",
    "bridge", "cotton", "rocket", "summer", "winter", "button", "castle", "dragon", "finger", "guitar", "hunter",
    "island", "jacket", "kitten", "ladder", "mirror", "needle", "pepper", "rabbit", "saddle", "tunnel", "violin",
    "wallet", "yellow", "zipper", "banana", "cherry", "doctor", "engine", "flower", "ginger", "helmet", "insect",
    "jungle", "kettle", "lemon", "magnet", "number", "office", "parrot", "quartz", "ribbon", "sister", "ticket",
    "umpire", "velvet", "walnut", "bottle", "coffee", "letter", "summit", "puzzle", "tomato", "anchor", "basket",
    "carpet", "desert", "easel", "fabric", "goblet", "harbor", "iron", "jelly", "kernel", "lantern", "meadow",
    "napkin", "oyster", "pillow", "quiver", "rafter", "shadow", "timber", "uncle", "vessel", "wagon", "yogurt",
    "zebra", "blanket", "cabin", "dinner", "feather", "glove", "hollow", "marble", "nickel", "paddle", "saucer",
    "thimble",
];

/// Short words (3-4 letters, no palindromes) for the reverse family: a tiny char model can
/// learn to reverse these within its few hundred pretraining updates, not six-letter ones.
pub const SHORT_WORDS: [&str; 60] = [
    "cat", "dog", "sun", "map", "cup", "hat", "pen", "box", "fan", "jam", "key", "lip", "mud", "net", "owl", "pig",
    "rug", "sky", "toy", "van", "web", "yak", "zip", "bed", "car", "egg", "fig", "gum", "ink", "jar", "kit", "log",
    "milk", "nest", "frog", "lamp", "desk", "rain", "ship", "tree", "bird", "cake", "drum", "fish", "gold", "hill",
    "king", "leaf", "moon", "nose", "park", "road", "salt", "tent", "wind", "wolf", "yarn", "corn", "bell", "ring",
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

pub(crate) fn letter(i: usize) -> char {
    (b'A' + i as u8) as char
}

impl Task {
    /// A random task of `family`.
    pub fn generate(family: Family, rng: &mut ChaCha8Rng) -> Task {
        let (prompt, detail) = match family {
            Family::Arithmetic => arithmetic(rng),
            Family::Facts => facts_task(rng),
            Family::Compare => compare(rng),
            Family::Choice => choice(rng),
            Family::Reverse => reverse(rng),
            Family::Sort => sort(rng),
            Family::Count => count(rng),
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
            if let Some(e) = strip(p, pre, post)
                && facts().value(e, relation).is_some()
            {
                return Some(Detail::Fact { entity: e.to_string(), relation });
            }
        }
    }
    if let Some(mid) = strip(p, "Is ", "?") {
        for (word, kind) in [(" greater than ", CompareKind::Greater), (" less than ", CompareKind::Less)] {
            if let Some((x, y)) = mid.split_once(word)
                && x.parse::<i64>().is_ok()
                && y.parse::<i64>().is_ok()
            {
                return Some(Detail::Compare { kind, x: x.into(), y: y.into() });
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

// One generator per family, each drawing from the task's stream in a fixed order.

/// A uniform index below `n`.
fn pick(rng: &mut ChaCha8Rng, n: usize) -> usize {
    rng.random_range(0..n)
}

fn arithmetic(rng: &mut ChaCha8Rng) -> (String, Detail) {
    let op = [Op::Plus, Op::Minus, Op::Times][pick(rng, 3)];
    let (a, b) = match op {
        Op::Plus => (rng.random_range(1..10), rng.random_range(1..10)),
        // The inverse of a single-digit sum: a result and operand below 10.
        Op::Minus => {
            let b = rng.random_range(1..10);
            (b + rng.random_range(0..10), b)
        }
        Op::Times => (rng.random_range(2..6), rng.random_range(2..6)),
    };
    let (pre, post) = ARITH_TEMPLATES[pick(rng, 3)];
    (format!("{pre}{a} {} {b}{post}", op.word()), Detail::Arithmetic { a, op, b })
}

fn facts_task(rng: &mut ChaCha8Rng) -> (String, Detail) {
    let table = facts();
    let entity = table.rows[pick(rng, table.rows.len())].0.clone();
    let (relation, templates) = if rng.random_bool(0.5) {
        (Relation::Capital, CAPITAL_TEMPLATES)
    } else {
        (Relation::Language, LANGUAGE_TEMPLATES)
    };
    let (pre, post) = templates[pick(rng, templates.len())];
    (format!("{pre}{entity}{post}"), Detail::Fact { entity, relation })
}

fn compare(rng: &mut ChaCha8Rng) -> (String, Detail) {
    match pick(rng, 3) {
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
    }
}

fn choice(rng: &mut ChaCha8Rng) -> (String, Detail) {
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

fn reverse(rng: &mut ChaCha8Rng) -> (String, Detail) {
    let word = SHORT_WORDS[pick(rng, SHORT_WORDS.len())].to_string();
    let (pre, post) = REVERSE_TEMPLATES[pick(rng, REVERSE_TEMPLATES.len())];
    (format!("{pre}{word}{post}"), Detail::Reverse { word })
}

fn sort(rng: &mut ChaCha8Rng) -> (String, Detail) {
    let n = 3;
    let mut pool: Vec<char> = ('a'..='j').collect();
    pool.shuffle(rng);
    let letters: Vec<char> = pool[..n].to_vec();
    let (pre, post) = SORT_TEMPLATES[pick(rng, 2)];
    (format!("{pre}{}{post}", join_chars(&letters)), Detail::Sort { letters })
}

fn count(rng: &mut ChaCha8Rng) -> (String, Detail) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::seed;

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
        assert_eq!(ans("Spell 'frog' backwards."), "gorf");
        let e = &facts().rows[3].0;
        assert_eq!(ans(&format!("Tell me the capital of {e}.")), facts().rows[3].1);
        assert_eq!(ans(&format!("Tell me the language of {e}.")), facts().rows[3].2);
        assert_eq!(facts().rows.len(), 24);
    }
}
