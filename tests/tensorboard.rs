//! TensorBoard views of a real run (issue 17), read back with `apogrid::tensorboard` (which
//! checks every record's CRC): a run killed (SIGKILL) once its first view is written and then
//! resumed leaves one event file per run, holding every logged update exactly once with the
//! values of `steps.csv` and the run's `log.jsonl`, and every evaluated epoch with the values
//! of `epochs.csv`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use apogrid::tensorboard::{Event, generations, read_view};

mod common;

use common::*;

/// `(tag, step) -> value` of a view; panics on a (tag, step) seen twice.
fn scalars(events: &[Event]) -> BTreeMap<(String, i64), f32> {
    let mut out = BTreeMap::new();
    for e in events {
        for v in e.summary.iter().flat_map(|s| &s.value) {
            let value = v.simple_value.expect("a scalar");
            assert!(out.insert((v.tag.clone(), e.step), value).is_none(), "{} at step {} twice", v.tag, e.step);
        }
    }
    out
}

/// `(key columns..., metric) -> value` of a tidy CSV's lines for clair/dpo.
fn tidy(path: &Path, step_column: usize) -> BTreeMap<(i64, String), f64> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|c| c[0] == "clair" && c[1] == "dpo")
        .map(|c| ((c[step_column].parse().unwrap(), c[c.len() - 2].to_string()), c[c.len() - 1].parse().unwrap()))
        .collect()
}

#[test]
fn a_killed_and_resumed_run_has_one_view_with_every_step_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let g = micro_grid(dir.path(), "tb", 3, WORLD_EVAL, "");
    let view = dir.path().join("results/tb/tensorboard/clair/dpo");

    // SIGKILL as soon as the first epoch's view is on disk.
    let mut child = Command::new(BIN).arg("run").arg(&g).arg("--quiet").spawn().expect("spawn");
    let clock = Instant::now();
    while generations(&view).map(|g| g.is_empty()).unwrap_or(true) {
        assert!(clock.elapsed() < Duration::from_secs(300), "no view was ever written");
        assert!(child.try_wait().expect("wait").is_none(), "the run ended before writing a view");
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("wait");
    let early = scalars(&read_view(&view).expect("the view written before the kill reads"));
    assert!(early.keys().any(|(tag, _)| tag == "train/loss"), "{early:?}");

    let resumed = run(&g, &[]);
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    assert_eq!(generations(&view).expect("view").len(), 1, "one event file per run");
    let seen = scalars(&read_view(&view).expect("view"));

    // Every update once, with steps.csv's values.
    let steps = tidy(&dir.path().join("results/tb/steps.csv"), 4);
    assert!(steps.len() >= 3 * 10, "3 epochs of updates: {}", steps.len());
    let trained: BTreeMap<(i64, String), f32> = seen
        .iter()
        .filter_map(|((tag, step), v)| tag.strip_prefix("train/").map(|m| ((*step, m.to_string()), *v)))
        .collect();
    assert_eq!(trained.len(), steps.len(), "the same (step, metric) pairs as steps.csv");
    for (key, v) in &steps {
        assert_eq!(trained.get(key), Some(&(*v as f32)), "{key:?}");
    }
    // ... which are the run's log.jsonl, update by update.
    let plan = Command::new(BIN).arg("plan").arg(&g).arg("--json").output().expect("plan");
    let tasks: serde_json::Value = serde_json::from_slice(&plan.stdout).expect("plan json");
    let key = tasks.as_array().expect("tasks").iter().find(|t| t["id"] == "train/clair/dpo").expect("train")["key"]
        .as_str()
        .expect("key")
        .to_string();
    let log = apogrid::artifacts::read_step_log(&dir.path().join("store").join(key)).expect("log.jsonl");
    assert_eq!(log.iter().map(|s| s.step as i64).collect::<Vec<_>>(), (1..=log.len() as i64).collect::<Vec<_>>());
    for s in &log {
        assert_eq!(trained[&(s.step as i64, "loss".to_string())], s.loss as f32);
        assert_eq!(trained[&(s.step as i64, "lr".to_string())], s.lr as f32);
    }
    let times: Vec<f64> = read_view(&view).unwrap().iter().filter(|e| e.step >= 1).map(|e| e.wall_time).collect();
    assert!(times.iter().all(|t| *t > 1.7e9), "wall times are real: {times:?}");

    // Every evaluated epoch (0 = base model and reference) with epochs.csv's values.
    let epochs = tidy(&dir.path().join("results/tb/epochs.csv"), 3);
    let evaluated: BTreeMap<(i64, String), f32> = seen
        .iter()
        .filter_map(|((tag, step), v)| {
            let m = tag
                .strip_prefix("eval/world/")
                .or_else(|| tag.strip_prefix("eval/").filter(|m| m.starts_with("heldout/")));
            m.map(|m| ((*step, m.to_string()), *v))
        })
        .collect();
    assert_eq!(evaluated.len(), epochs.len(), "the same (epoch, metric) pairs as epochs.csv");
    for (key, v) in &epochs {
        assert_eq!(evaluated.get(key), Some(&(*v as f32)), "{key:?}");
    }
    for epoch in 0..=3 {
        assert!(evaluated.contains_key(&(epoch, "score".to_string())), "epoch {epoch}'s score");
    }

    // A report of the unchanged store leaves the view alone.
    let before = generations(&view).unwrap();
    let table = Command::new(BIN).arg("table").arg(&g).output().expect("table");
    assert!(table.status.success(), "{}", stderr(&table));
    assert_eq!(generations(&view).unwrap(), before);
}
