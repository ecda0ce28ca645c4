//! `reference_logps`: the frozen base model's summed log-probs of every pair's outputs,
//! computed once per dataset and shared by every objective trained on it.

use serde_json::{Value, json};

use super::bundle::{self, Bundle};
use crate::artifacts::{DATASET_HELDOUT, DATASET_TRAIN, JsonArtifact, ReferenceLogps};
use crate::data::triple::{PreferenceTriple, read_jsonl};
use crate::exec::TaskContext;
use crate::model::score::{ScoreBatch, Truncation, summed_logps};
use crate::plan::TaskKind;
use crate::plan::inputs::ReferenceInput;

/// Rows per forward pass when scoring.
const SCORE_BATCH: usize = 32;

pub fn run(input: &ReferenceInput, ctx: &TaskContext) -> anyhow::Result<Value> {
    let data = ctx.parent(TaskKind::Dataset)?;
    let mut base = bundle::base(ctx, &input.model)?;
    base.model = input.precision.apply(base.model);
    let t = input.truncation;
    let reference = ReferenceLogps {
        train: score_pairs(&base, &read_jsonl(&data.join(DATASET_TRAIN))?, t, &|m| ctx.progress.set(m))?,
        heldout: score_pairs(&base, &read_jsonl(&data.join(DATASET_HELDOUT))?, t, &|m| ctx.progress.set(m))?,
    };
    reference.write(&ctx.out)?;
    Ok(json!({ "train": reference.train.len(), "heldout": reference.heldout.len() }))
}

/// Token ids of a triple: prompt, chosen, rejected (TRL style, through the chat format).
pub fn tokenize(base: &Bundle, t: &PreferenceTriple) -> (Vec<u32>, Vec<u32>, Vec<u32>) {
    let e = base.encoder();
    (e.prompt(&t.prompt), e.response(&t.chosen), e.response(&t.rejected))
}

/// Summed log-probs of each pair's chosen and rejected output under `base.model`.
pub fn score_pairs(
    base: &Bundle,
    triples: &[PreferenceTriple],
    truncation: Truncation,
    progress: &dyn Fn(String),
) -> anyhow::Result<Vec<[f32; 2]>> {
    let pad = base.tokenizer.pad_id();
    let mut out = Vec::with_capacity(triples.len());
    for (i, chunk) in triples.chunks(SCORE_BATCH / 2).enumerate() {
        let rows: Vec<(Vec<u32>, Vec<u32>)> = chunk
            .iter()
            .flat_map(|t| {
                let (p, c, r) = tokenize(base, t);
                [(p.clone(), c), (p, r)]
            })
            .collect();
        let logps = summed_logps(&base.model, &ScoreBatch::from_ids(&rows, truncation, pad)?);
        out.extend(logps.chunks(2).map(|c| [c[0], c[1]]));
        progress(format!("scored {}/{} pairs", ((i + 1) * SCORE_BATCH / 2).min(triples.len()), triples.len()));
    }
    Ok(out)
}
