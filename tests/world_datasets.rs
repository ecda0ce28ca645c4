//! The four builders on the embedded world, with rule-based stand-ins for the target model
//! (until the tiny Llama is wired in): Table 1 and the winners-vs-model check, determinism per
//! seed. Run with `--nocapture` to see the table.

use apogrid::data::agents::Generator;
use apogrid::data::builders::{self, BuildOptions, BuilderKind, Built};
use apogrid::data::dataset::{Dataset, write_dir};
use apogrid::data::winner_vs_model::winner_vs_model;
use apogrid::world::corpus::preference_prompts;
use apogrid::world::oracle::{OracleJudge, OracleReviser};
use apogrid::world::policies::{RulePolicy, StrongerModel};

fn build_all(seed: u64, n: usize) -> Vec<Dataset> {
    let prompts = preference_prompts(seed, n);
    let mut target = RulePolicy::target_standin();
    let mut judge = OracleJudge { seed };
    let opts = |k| BuildOptions::new(k, seed);
    let built: Vec<Built> = vec![
        builders::clair(&prompts, &mut target, &mut OracleReviser, &opts(BuilderKind::Clair)).unwrap(),
        builders::judge_on_policy(&prompts, &mut target, &mut judge, &opts(BuilderKind::JudgeOnPolicy)).unwrap(),
        {
            let (mut weak, mut noisy) = (RulePolicy::weak_checkpoint(), RulePolicy::noisy_rules());
            let mut pool: Vec<&mut dyn Generator> = vec![&mut weak, &mut noisy];
            builders::judge_off_policy(&prompts, &mut pool, &mut judge, &opts(BuilderKind::JudgeOffPolicy)).unwrap()
        },
        builders::stronger_preferred(&prompts, &mut target, &mut StrongerModel, &opts(BuilderKind::StrongerPreferred))
            .unwrap(),
    ];
    built
        .into_iter()
        .map(|b| {
            let mut d = Dataset::from_built(b, 50, seed);
            let all: Vec<_> = d.train.iter().chain(&d.heldout).cloned().collect();
            d.manifest.winner_vs_model = Some(winner_vs_model(&all, &mut target, &mut judge, seed, None).unwrap());
            d
        })
        .collect()
}

#[test]
fn table1_on_the_world_with_stand_ins() {
    let sets = build_all(17, 700);
    println!(
        "{:<20} {:>5} {:>8} {:>8} {:>12} {:>8} {:>8} {:>9}",
        "dataset", "pairs", "Jaccard", "Leven.", "dropped", "w>model", "model>w", "variant"
    );
    for d in &sets {
        let m = &d.manifest;
        let w = m.winner_vs_model.as_ref().unwrap();
        println!(
            "{:<20} {:>5} {:>8.2} {:>8.1} {:>12} {:>8.3} {:>8.3} {:>9}",
            m.builder, m.contrast.pairs, m.contrast.mean_jaccard, m.contrast.mean_levenshtein,
            format!("{}/{}", m.filters.dropped(), m.filters.considered), w.fraction, w.model_fraction, w.suggested
        );
        println!("    {}", m.filters.summary());
        assert_eq!(m.filters.considered, 700);
        assert_eq!(m.heldout, 50);
        assert_eq!(m.train + m.heldout, m.filters.kept);
    }
    let by = |k: BuilderKind| sets.iter().find(|d| d.manifest.builder == k.as_str()).unwrap();
    let clair = &by(BuilderKind::Clair).manifest;
    for other in [BuilderKind::JudgeOnPolicy, BuilderKind::JudgeOffPolicy, BuilderKind::StrongerPreferred] {
        let o = &by(other).manifest;
        assert!(clair.contrast.mean_jaccard > o.contrast.mean_jaccard, "{other:?}");
        assert!(clair.contrast.mean_levenshtein < o.contrast.mean_levenshtein, "{other:?}");
    }
    let w = |k| by(k).manifest.winner_vs_model.clone().unwrap();
    let off = w(BuilderKind::JudgeOffPolicy);
    assert!(off.model_fraction > off.fraction, "off-policy winners are mostly worse than the target's own answers");
    assert_eq!(off.suggested, "apo_down");
    for k in [BuilderKind::Clair, BuilderKind::StrongerPreferred] {
        assert_eq!(w(k).suggested, "apo_zero", "{k:?}");
    }
    // Every CLAIR pair has a right winner: the oracle fixed the answer.
    assert!(by(BuilderKind::Clair).train.iter().all(|t| t.metadata.chosen_model.as_deref() == Some("world-oracle")));
}

#[test]
fn same_seed_same_bytes_other_seed_other_data() {
    let files = |seed: u64| -> Vec<Vec<u8>> {
        let dir = tempfile::tempdir().unwrap();
        let mut out = Vec::new();
        for d in build_all(seed, 150) {
            let sub = dir.path().join(&d.manifest.builder);
            write_dir(&sub, &d).unwrap();
            for f in ["train.jsonl", "heldout.jsonl", "manifest.json"] {
                out.push(std::fs::read(sub.join(f)).unwrap());
            }
        }
        out
    };
    let a = files(5);
    assert_eq!(a, files(5));
    let b = files(6);
    for (x, y) in a.iter().zip(&b) {
        assert_ne!(x, y);
    }
}
