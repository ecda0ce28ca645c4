//! Key stability: keys change exactly when an input of the task (or of an ancestor) changes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::inputs::{DatasetInput, PromptsInput, TaskInput};
use super::{Plan, TaskKind, build};
use crate::data::builders::BuilderKind;
use crate::data::ratings::RatingSource;
use crate::grid::parse;

const GRID: &str = r#"
[grid]
name = "k"
seed = 3
[model]
spec = "tiny"
[train]
epochs = 3
learning_rate = 1e-4
[[dataset]]
name = "clair"
builder = "clair"
[[dataset]]
name = "offp"
builder = "judge_off_policy"
[[objective]]
name = "dpo"
kind = "dpo"
[[objective]]
name = "apo_zero"
kind = "apo_zero"
[[objective]]
name = "sft"
kind = "sft"
"#;

fn plan(text: &str) -> Plan {
    build(&parse(text, Path::new("k.toml")).expect("valid grid"))
}

fn keys(p: &Plan) -> BTreeMap<String, String> {
    p.tasks.iter().map(|t| (t.id.clone(), t.key.clone())).collect()
}

fn keys_of(p: &Plan, kind: TaskKind) -> BTreeSet<String> {
    p.tasks.iter().filter(|t| t.kind() == kind).map(|t| t.key.clone()).collect()
}

#[test]
fn the_plan_has_the_expected_shape() {
    let p = plan(GRID);
    let count = |k| p.tasks.iter().filter(|t| t.kind() == k).count();
    assert_eq!(count(TaskKind::BaseModel), 1);
    assert_eq!(count(TaskKind::Dataset), 2);
    assert_eq!(count(TaskKind::ReferenceLogps), 2);
    assert_eq!(count(TaskKind::Train), 6);
    assert_eq!(count(TaskKind::Eval), 6 * 3 + 1);
    // The report is not a task: it is written from the store after every run.
    assert_eq!(count(TaskKind::Prune), 0, "keep_checkpoints is `all` by default");
    // Parents always come first.
    for (i, t) in p.tasks.iter().enumerate() {
        assert!(t.deps.iter().all(|d| *d < i), "{}", t.id);
    }
}

#[test]
fn keys_are_deterministic() {
    assert_eq!(keys(&plan(GRID)), keys(&plan(GRID)));
}

#[test]
fn learning_rate_changes_training_keys_not_dataset_keys() {
    let a = plan(GRID);
    let b = plan(&GRID.replace("learning_rate = 1e-4", "learning_rate = 2e-4"));
    for kind in [TaskKind::BaseModel, TaskKind::Prompts, TaskKind::Sample, TaskKind::Dataset, TaskKind::ReferenceLogps]
    {
        assert_eq!(keys_of(&a, kind), keys_of(&b, kind), "{kind:?} keys changed");
    }
    assert!(keys_of(&a, TaskKind::Train).is_disjoint(&keys_of(&b, TaskKind::Train)));
    // Epoch evaluations descend from training, so they change too; the base model's does not.
    let base_eval = |p: &Plan| p.tasks[p.index_of("eval/base").expect("planned")].key.clone();
    assert_eq!(base_eval(&a), base_eval(&b));
}

#[test]
fn adding_rows_adds_tasks_and_changes_no_existing_key() {
    let a = plan(GRID);
    let more = format!(
        "{GRID}\n[[dataset]]\nname = \"strong\"\nbuilder = \"stronger_preferred\"\n[[objective]]\nname = \"apo_down\"\nkind = \"apo_down\"\n"
    );
    let b = plan(&more);
    let (ka, kb) = (keys(&a), keys(&b));
    for (id, key) in &ka {
        assert_eq!(kb.get(id), Some(key), "key of {id} changed");
    }
    assert!(kb.len() > ka.len());
    assert_eq!(b.tasks.iter().filter(|t| t.kind() == TaskKind::Train).count(), 3 * 4);
}

#[test]
fn reference_logps_are_shared_by_all_objectives_on_a_dataset() {
    let p = plan(GRID);
    let reference = p.index_of("reference/clair").expect("planned");
    let users: Vec<&str> = p
        .tasks
        .iter()
        .filter(|t| t.kind() == TaskKind::Train && t.deps.contains(&reference))
        .map(|t| t.id.as_str())
        .collect();
    assert_eq!(users, vec!["train/clair/dpo", "train/clair/apo_zero"]);
    // SFT has no reference model, so its key must not depend on the reference log-probs.
    let sft = &p.tasks[p.index_of("train/clair/sft").expect("planned")];
    assert!(!sft.deps.contains(&reference));
}

#[test]
fn renaming_a_dataset_keeps_its_keys() {
    let a = plan(GRID);
    let b = plan(&GRID.replace("name = \"clair\"", "name = \"revisions\""));
    assert_eq!(keys_of(&a, TaskKind::Dataset), keys_of(&b, TaskKind::Dataset));
    assert_eq!(keys_of(&a, TaskKind::Train), keys_of(&b, TaskKind::Train));
}

#[test]
fn beta_changes_only_its_objective() {
    let a = plan(GRID);
    let b = plan(&GRID.replace("kind = \"dpo\"", "kind = \"dpo\"\nbeta = 0.2"));
    let k = |p: &Plan, id: &str| p.tasks[p.index_of(id).expect("planned")].key.clone();
    assert_ne!(k(&a, "train/clair/dpo"), k(&b, "train/clair/dpo"));
    assert_eq!(k(&a, "train/clair/apo_zero"), k(&b, "train/clair/apo_zero"));
}

#[test]
fn seeds_replicate_training_but_share_data() {
    let p = plan(&GRID.replace("seed = 3", "seeds = [3, 4]"));
    assert_eq!(p.tasks.iter().filter(|t| t.kind() == TaskKind::Train).count(), 12);
    assert_eq!(p.tasks.iter().filter(|t| t.kind() == TaskKind::Dataset).count(), 2);
    assert!(p.index_of("train/clair/dpo/s4").is_some());
}

#[test]
fn the_paper_grid_has_the_papers_shape() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("grids/paper.toml");
    let p = build(&crate::grid::load(&path).expect("paper grid"));
    let count = |k| p.tasks.iter().filter(|t| t.kind() == k).count();
    assert_eq!(count(TaskKind::Train), 20);
    assert_eq!(count(TaskKind::Dataset), 4);
    assert_eq!(count(TaskKind::ReferenceLogps), 4);
    assert_eq!(count(TaskKind::Eval), 20 * 18 + 1);
    // The off-policy dataset is UltraFeedback's ratings binarized, not re-judged.
    let off = p.index_of("dataset/judge_off_policy").expect("off-policy dataset");
    let TaskInput::Dataset(DatasetInput::Built(b)) = &p.tasks[off].input else { panic!("a built dataset") };
    assert_eq!((b.builder, b.rating), (BuilderKind::OffPolicyRatings, Some(RatingSource::OverallScore)));
    let prompts = p.index_of("prompts").expect("prompts");
    assert!(matches!(&p.tasks[prompts].input, TaskInput::Prompts(PromptsInput::File { ratings: true, .. })));
}

/// `apo_auto` makes its dataset compare every pair (a new dataset key), and only its own; a
/// prompted agent's key holds the paper prompts' digest, an oracle's none.
#[test]
fn apo_auto_and_prompts_reach_the_dataset_keys_they_change() {
    let auto = format!("{GRID}[[objective]]\nname = \"auto\"\nkind = \"apo_auto\"\n");
    let (before, after) = (plan(GRID), plan(&auto));
    let compare_all = |p: &Plan, id: &str| match &p.tasks[p.index_of(id).expect(id)].input {
        TaskInput::Dataset(DatasetInput::Built(b)) => b.compare_all,
        other => panic!("{other:?}"),
    };
    assert!(!compare_all(&before, "dataset/clair") && compare_all(&after, "dataset/clair"));
    assert_ne!(keys(&before)["dataset/clair"], keys(&after)["dataset/clair"]);
    let params = |p: &Plan, id: &str| p.tasks[p.index_of(id).expect(id)].input.params().to_string();
    assert!(!params(&before, "dataset/clair").contains("template"));
    let judge = "[agents.judge]\nkind = \"api\"\nbase_url = \"http://localhost:1/v1\"\nmodel = \"m\"\n";
    let prompted = plan(&format!("{GRID}{judge}"));
    let paper_judge = crate::digest::sha256_bytes(crate::data::prompts::JUDGE_TEMPLATE.as_bytes());
    assert!(params(&prompted, "dataset/offp").contains(&paper_judge));
}

/// Each field a task reads, changed in the grid, changes that task's key: directly, or through
/// the parent whose key holds it (the `#[serde(skip)]` fields of `plan::inputs`).
#[test]
fn every_input_a_task_reads_changes_its_key() {
    let base = format!(
        "{GRID}[model.pretrain]\nexamples = 100\n[agents.sampling]\ntemperature = 0.7\n[eval]\ncount = 30\nmax_new_tokens = 40\nheldout_pairs = 10\n"
    );
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "examples = 100",
            "examples = 101",
            &["base_model", "sample", "dataset/clair", "train/clair/dpo", "eval/base"],
        ),
        ("seed = 3", "seed = 4", &["base_model", "prompts", "dataset/offp", "train/clair/sft"]),
        ("temperature = 0.7", "temperature = 0.8", &["sample", "dataset/clair", "dataset/offp"]),
        ("count = 30", "count = 31", &["eval/base", "eval/clair/dpo/e01"]),
        ("max_new_tokens = 40", "max_new_tokens = 41", &["eval/base", "eval/offp/sft/e03"]),
        ("heldout_pairs = 10", "heldout_pairs = 11", &["dataset/clair", "reference/clair", "eval/clair/dpo/e01"]),
        ("builder = \"clair\"", "builder = \"clair\"\nmin_length_ratio = 0.4", &["dataset/clair"]),
        (
            "learning_rate = 1e-4",
            "learning_rate = 1e-4\nmax_response_tokens = 64",
            &["reference/clair", "train/clair/sft", "eval/clair/dpo/e02"],
        ),
        ("kind = \"dpo\"", "kind = \"dpo\"\nbeta = 0.3", &["train/clair/dpo", "eval/clair/dpo/e01"]),
        ("epochs = 3", "epochs = 3\nbatch_size = 8", &["train/clair/apo_zero"]),
        ("epochs = 3", "epochs = 3\nmax_grad_norm = 1.0", &["train/clair/apo_zero", "eval/clair/dpo/e01"]),
        ("epochs = 3", "epochs = 3\nwarmup_ratio = 0.1", &["train/clair/apo_zero", "eval/clair/dpo/e01"]),
        (
            "epochs = 3",
            "epochs = 3\nprecision = \"bf16\"",
            &["reference/clair", "train/clair/apo_zero", "eval/base", "eval/clair/dpo/e01"],
        ),
    ];
    let before = keys(&plan(&base));
    for (from, to, changed) in cases {
        assert!(base.contains(from), "{from}");
        let after = keys(&plan(&base.replacen(from, to, 1)));
        for id in *changed {
            assert_ne!(before[*id], after[*id], "`{to}` left the key of {id} unchanged");
        }
    }
    // Inputs a builder does not use leave its dataset alone; the judge is clair's comparison judge.
    let judge = "[agents.judge]\nkind = \"api\"\nbase_url = \"http://localhost:1/v1\"\nmodel = \"m\"\n";
    let with_judge = keys(&plan(&format!("{base}{judge}")));
    assert_ne!(before["dataset/offp"], with_judge["dataset/offp"]);
    assert_ne!(before["dataset/clair"], with_judge["dataset/clair"]);
    assert_eq!(before["base_model"], with_judge["base_model"]);
    // What changes no output is no input: an API's timeout and concurrency.
    let slower = keys(&plan(&format!("{base}{judge}timeout_s = 999\nconcurrency = 3\n")));
    assert_eq!(with_judge, slower);
    // Nor activation checkpointing (same numbers, bit for bit: `train::tests`), and a bf16 run
    // shares its datasets with the f32 one.
    let checkpointed = keys(&plan(&base.replacen("epochs = 3", "epochs = 3\nactivation_checkpointing = true", 1)));
    assert_eq!(before, checkpointed);
    let bf16 = keys(&plan(&base.replacen("epochs = 3", "epochs = 3\nprecision = \"bf16\"", 1)));
    assert_eq!(before["dataset/clair"], bf16["dataset/clair"]);
}

/// Where the reports and TensorBoard views go is no input: another results folder or grid name
/// keeps every key (the runs stay cached), and each run's view folder follows them.
#[test]
fn the_results_folder_changes_no_key_but_moves_the_views() {
    let a = plan(GRID);
    let b = plan(&GRID.replace("name = \"k\"", "name = \"k2\"\nresults = \"elsewhere\""));
    assert_eq!(keys(&a), keys(&b));
    let view = |p: &Plan, id: &str| match &p.tasks[p.index_of(id).expect("planned")].input {
        super::TaskInput::Train(t) => t.tensorboard.clone(),
        other => panic!("{id} is no training run: {other:?}"),
    };
    assert_eq!(view(&b, "train/offp/sft"), Path::new("elsewhere/k2/tensorboard/offp/sft"));
    let seeds = plan(&GRID.replace("seed = 3", "seeds = [3, 4]"));
    assert_eq!(view(&seeds, "train/clair/dpo/s4"), Path::new("results/k/tensorboard/clair/dpo/s4"));
}

/// `grids/tiny-seeds.toml` is `grids/tiny.toml` with three seeds: the same file but for its
/// `[grid]` name and seeds (comments aside), and every task of the one-seed grid is a task of the
/// three-seed grid under the same key, so running `tiny.toml` first leaves only seeds 1 and 2.
#[test]
fn the_three_seed_tiny_grid_is_the_tiny_grid_replicated() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("grids");
    let settings = |f: &str| -> Vec<String> {
        let text = std::fs::read_to_string(dir.join(f)).expect(f);
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter(|l| !l.starts_with("name = \"tiny") && !l.starts_with("seed = ") && !l.starts_with("seeds = "))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(settings("tiny.toml"), settings("tiny-seeds.toml"), "the two tiny grids differ beyond [grid]");
    let one = crate::grid::load(&dir.join("tiny.toml")).expect("tiny grid");
    let three = crate::grid::load(&dir.join("tiny-seeds.toml")).expect("three-seed tiny grid");
    assert_eq!((one.seeds.clone(), three.seeds.clone()), (vec![0], vec![0, 1, 2]));
    let (one, three) = (build(&one), build(&three));
    let three_keys: BTreeSet<&str> = three.tasks.iter().map(|t| t.key.as_str()).collect();
    let missing: Vec<&str> =
        one.tasks.iter().filter(|t| !three_keys.contains(t.key.as_str())).map(|t| t.id.as_str()).collect();
    assert!(missing.is_empty(), "one-seed tasks the three-seed grid would redo: {missing:?}");
    let trains = |p: &Plan| p.tasks.iter().filter(|t| t.kind() == TaskKind::Train).count();
    assert_eq!(trains(&three), 3 * trains(&one));
}
