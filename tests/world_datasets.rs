//! The four builders on the embedded world, with rule-based stand-ins for the target model
//! (until the tiny Llama is wired in): Table 1 and the winners-vs-model check, determinism per
//! seed. Run with `--nocapture` to see the table.

use apogrid::data::builders::BuilderKind;
use apogrid::data::dataset::{Dataset, write_dir};
use apogrid::world::build::{WorldDataConfig, build_world_dataset};
use apogrid::world::policies::RulePolicy;

fn build_all(seed: u64, n: usize) -> Vec<Dataset> {
    let mut config = WorldDataConfig::new(seed, n);
    config.heldout = 50;
    let mut target = RulePolicy::target_standin();
    // The world stores no rated completions, so `off_policy_ratings` is not one of its builders.
    let kinds = BuilderKind::ALL.into_iter().filter(|k| *k != BuilderKind::OffPolicyRatings);
    kinds.map(|k| build_world_dataset(k, &config, &mut target, None).unwrap()).collect()
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
            m.builder,
            m.contrast.pairs,
            m.contrast.mean_jaccard,
            m.contrast.mean_levenshtein,
            format!("{}/{}", m.filters.dropped(), m.filters.considered),
            w.fraction,
            w.model_fraction,
            w.suggested
        );
        println!("    {}", m.filters.summary());
        assert_eq!(m.filters.considered, 700);
        assert_eq!(m.heldout, 50);
        assert_eq!(m.train + m.heldout, m.filters.kept);
        let t = &d.train[0];
        println!("    e.g. {:?}\n      chosen   {:?}\n      rejected {:?}", t.prompt, t.chosen, t.rejected);
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
    // Every CLAIR winner is right (the oracle fixed the answer) and the loser is the target's.
    for t in &by(BuilderKind::Clair).train {
        let task = apogrid::world::families::Task::parse(&t.prompt).unwrap();
        assert!(task.exact(&t.chosen), "{t:?}");
        assert_eq!(t.metadata.rejected_model.as_deref(), Some("world-target-standin"));
    }
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
