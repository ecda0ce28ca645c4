//! A finished dataset: the kept triples split into train and held-out parts, with a manifest
//! that records how it was made (builder, models, filter counts, contrastiveness). The store
//! (a higher floor) decides where it lives; [`write_dir`] writes it into a directory atomically
//! file by file: `train.jsonl`, `heldout.jsonl`, `manifest.json`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::builders::Built;
use super::contrast::{ContrastStats, contrast};
use super::filters::{self, FilterConfig, FilterCounts};
use super::split::split_heldout;
use super::triple::{PreferenceTriple, TripleError, read_jsonl, write_atomic, write_jsonl};
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

/// The `file` dataset kind: a user's JSONL of triples (see [`read_jsonl`]), through the
/// `empty`/`identical` filters and, where `config` sets one, the length-ratio filter.
pub fn import_file(path: &Path, config: &FilterConfig, heldout: usize, seed: u64) -> Result<Dataset, TripleError> {
    let mut counts = FilterCounts::default();
    let mut kept = Vec::new();
    for t in read_jsonl(path)? {
        let outcome = filters::check(config, &t.chosen, &t.rejected);
        counts.record(outcome);
        if outcome.is_ok() {
            kept.push(t);
        }
    }
    Ok(Dataset::from_triples("file", kept, counts, heldout, seed))
}

/// A dataset folder's files.
pub const TRAIN_FILE: &str = "train.jsonl";
pub const HELDOUT_FILE: &str = "heldout.jsonl";
pub const MANIFEST_FILE: &str = "manifest.json";

/// Writes [`TRAIN_FILE`], [`HELDOUT_FILE`] and [`MANIFEST_FILE`] (pretty, trailing newline)
/// into `dir`, creating it; each file is written atomically.
pub fn write_dir(dir: &Path, dataset: &Dataset) -> Result<(), TripleError> {
    std::fs::create_dir_all(dir).map_err(|source| TripleError::Io { path: dir.to_path_buf(), source })?;
    write_jsonl(&dir.join(TRAIN_FILE), &dataset.train)?;
    write_jsonl(&dir.join(HELDOUT_FILE), &dataset.heldout)?;
    let path = dir.join(MANIFEST_FILE);
    let mut json = serde_json::to_string_pretty(&dataset.manifest)
        .map_err(|e| TripleError::Io { path: path.clone(), source: std::io::Error::other(e) })?;
    json.push('\n');
    write_atomic(&path, json.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_a_user_file_through_the_filters_and_writes_a_dataset() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("user.jsonl");
        let mut lines = String::new();
        for i in 0..10 {
            lines.push_str(&format!("{{\"prompt\":\"p{i}\",\"chosen\":\"good {i}\",\"rejected\":\"bad {i}\"}}\n"));
        }
        lines.push_str("{\"prompt\":\"p\",\"chosen\":\"same\",\"rejected\":\"same\"}\n");
        lines.push_str("{\"prompt\":\"p\",\"chosen\":\"\",\"rejected\":\"x\"}\n");
        std::fs::write(&src, lines).unwrap();
        let d = import_file(&src, &FilterConfig::NONE, 3, 1).unwrap();
        let f = d.manifest.filters;
        assert_eq!((f.considered, f.kept, f.identical, f.empty), (12, 10, 1, 1));
        assert_eq!((d.manifest.train, d.manifest.heldout), (7, 3));
        assert_eq!(d.manifest.builder, "file");
        assert!(d.train.iter().all(|t| t.metadata.builder == "file"));
        // Levenshtein("good 0", "bad 0") = 3 (substitute g->b, o->a, delete o; d stays).
        assert!((d.manifest.contrast.mean_jaccard - 100.0 / 3.0).abs() < 1e-9);
        assert_eq!(d.manifest.contrast.mean_levenshtein, 3.0);

        let out = dir.path().join("out");
        write_dir(&out, &d).unwrap();
        assert_eq!(read_jsonl(&out.join("train.jsonl")).unwrap(), d.train);
        assert_eq!(read_jsonl(&out.join("heldout.jsonl")).unwrap(), d.heldout);
        let m: DatasetManifest = serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
        assert_eq!(m, d.manifest);
    }
}
