//! A finished dataset: the kept triples split into train and held-out parts, with a manifest
//! that records how it was made (builder, models, filter counts, contrastiveness). The store
//! (a higher floor) decides where it lives; [`write_dir`] writes it into a directory atomically
//! file by file: `train.jsonl`, `heldout.jsonl`, `manifest.json`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::builders::Built;
use super::contrast::{ContrastStats, contrast};
use super::filters::FilterCounts;
use super::split::split_heldout;
use super::triple::{PreferenceTriple, TripleError, write_atomic, write_jsonl};
use super::winner_vs_model::WinnerVsModel;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetManifest {
    /// `clair`, `judge_on_policy`, `judge_off_policy`, `stronger_preferred` or `file`.
    pub builder: String,
    pub seed: u64,
    /// The models named in the triples' metadata, sorted, without repeats.
    pub source_models: Vec<String>,
    pub filters: FilterCounts,
    pub train: usize,
    pub heldout: usize,
    /// Table 1 numbers over all kept pairs (train and held-out).
    pub contrast: ContrastStats,
    /// SPEC.md section 5, where it was measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub winner_vs_model: Option<WinnerVsModel>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub manifest: DatasetManifest,
    pub train: Vec<PreferenceTriple>,
    pub heldout: Vec<PreferenceTriple>,
}

impl Dataset {
    /// Splits a builder's output (seeded held-out split of `heldout` pairs) and measures it.
    pub fn from_built(built: Built, heldout: usize, seed: u64) -> Self {
        Self::from_triples(built.kind.as_str(), built.triples, built.counts, heldout, seed)
    }

    /// The same for any triples (e.g. an imported file, whose counts are all "kept").
    pub fn from_triples(
        builder: &str,
        triples: Vec<PreferenceTriple>,
        filters: FilterCounts,
        heldout: usize,
        seed: u64,
    ) -> Self {
        let stats = contrast(&triples);
        let mut models: Vec<String> = triples
            .iter()
            .flat_map(|t| [t.metadata.chosen_model.clone(), t.metadata.rejected_model.clone()])
            .flatten()
            .collect();
        models.sort();
        models.dedup();
        let (train, held) = split_heldout(triples, heldout, seed);
        let manifest = DatasetManifest {
            builder: builder.to_string(),
            seed,
            source_models: models,
            filters,
            train: train.len(),
            heldout: held.len(),
            contrast: stats,
            winner_vs_model: None,
        };
        Self { manifest, train, heldout: held }
    }
}

/// Writes `train.jsonl`, `heldout.jsonl` and `manifest.json` (pretty, trailing newline) into
/// `dir`, creating it; each file is written atomically.
pub fn write_dir(dir: &Path, dataset: &Dataset) -> Result<(), TripleError> {
    std::fs::create_dir_all(dir).map_err(|source| TripleError::Io { path: dir.to_path_buf(), source })?;
    write_jsonl(&dir.join("train.jsonl"), &dataset.train)?;
    write_jsonl(&dir.join("heldout.jsonl"), &dataset.heldout)?;
    let path = dir.join("manifest.json");
    let mut json = serde_json::to_string_pretty(&dataset.manifest)
        .map_err(|e| TripleError::Io { path: path.clone(), source: std::io::Error::other(e) })?;
    json.push('\n');
    write_atomic(&path, json.as_bytes())
}
