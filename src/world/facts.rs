//! The fixed synthetic fact table behind the `facts` family (the TriviaQA stand-in): 24
//! invented countries (few enough that the tiny model sees each fact a few dozen times in its
//! pretraining), each with an invented capital and language. It is drawn once from a
//! constant seed, never from the run seed, so every run of the tool knows the same "world".

use std::sync::OnceLock;

use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;

use super::families::Relation;
use crate::data::seed;

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

/// The fixed fact table (24 rows, drawn once from a constant seed; never from the run seed).
pub fn facts() -> &'static FactTable {
    static TABLE: OnceLock<FactTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        const SYL: [&str; 20] = [
            "ka", "lo", "mi", "ra", "te", "zu", "vo", "pel", "dor", "sha", "ni", "bex", "qua", "fen", "gri", "tal",
            "mor", "vin", "sel", "ob",
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
        let rows = (0..24)
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
