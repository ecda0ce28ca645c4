//! Key stability: keys change exactly when an input of the task (or of an ancestor) changes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::{Plan, TaskKind, build};
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
    p.tasks.iter().filter(|t| t.kind == kind).map(|t| t.key.clone()).collect()
}

#[test]
fn the_plan_has_the_expected_shape() {
    let p = plan(GRID);
    let count = |k| p.tasks.iter().filter(|t| t.kind == k).count();
    assert_eq!(count(TaskKind::BaseModel), 1);
    assert_eq!(count(TaskKind::Dataset), 2);
    assert_eq!(count(TaskKind::ReferenceLogps), 2);
    assert_eq!(count(TaskKind::Train), 6);
    assert_eq!(count(TaskKind::Eval), 6 * 3 + 1);
    assert_eq!(count(TaskKind::Tables), 1);
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
        if id == "tables" {
            continue; // the report covers every cell by design
        }
        assert_eq!(kb.get(id), Some(key), "key of {id} changed");
    }
    assert!(kb.len() > ka.len());
    assert_eq!(b.tasks.iter().filter(|t| t.kind == TaskKind::Train).count(), 3 * 4);
}

#[test]
fn reference_logps_are_shared_by_all_objectives_on_a_dataset() {
    let p = plan(GRID);
    let reference = p.index_of("reference/clair").expect("planned");
    let users: Vec<&str> = p
        .tasks
        .iter()
        .filter(|t| t.kind == TaskKind::Train && t.deps.contains(&reference))
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
    assert_eq!(p.tasks.iter().filter(|t| t.kind == TaskKind::Train).count(), 12);
    assert_eq!(p.tasks.iter().filter(|t| t.kind == TaskKind::Dataset).count(), 2);
    assert!(p.index_of("train/clair/dpo/s4").is_some());
}

#[test]
fn the_paper_grid_has_the_papers_shape() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("grids/paper.toml");
    let p = build(&crate::grid::load(&path).expect("paper grid"));
    let count = |k| p.tasks.iter().filter(|t| t.kind == k).count();
    assert_eq!(count(TaskKind::Train), 20);
    assert_eq!(count(TaskKind::Dataset), 4);
    assert_eq!(count(TaskKind::ReferenceLogps), 4);
    assert_eq!(count(TaskKind::Eval), 20 * 18 + 1);
}
