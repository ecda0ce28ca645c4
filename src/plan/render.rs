//! Ways to show a plan: a table for people, Graphviz dot, and JSON for scripts.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde_json::json;

use super::{Plan, TaskKind};

/// A table of every task with its state, then counts per kind (Snakemake's dry-run, roughly).
pub fn table(plan: &Plan, cached: &[bool]) -> String {
    let mut out = String::new();
    let width = plan.tasks.iter().map(|t| t.id.len()).max().unwrap_or(4).max(4);
    let _ = writeln!(out, "{:<8} {:<16} {:<width$} {:<12} DEPS", "STATE", "KIND", "TASK", "KEY");
    for (t, c) in plan.tasks.iter().zip(cached) {
        let deps: Vec<&str> = t.deps.iter().map(|d| plan.tasks[*d].id.as_str()).collect();
        let deps = if deps.len() > 3 { format!("{} tasks", deps.len()) } else { deps.join(", ") };
        let state = if *c { "cached" } else { "to run" };
        let _ = writeln!(out, "{state:<8} {:<16} {:<width$} {:<12} {deps}", t.kind().name(), t.id, &t.key[..12]);
    }
    let mut per_kind: BTreeMap<TaskKind, (usize, usize)> = BTreeMap::new();
    for (t, c) in plan.tasks.iter().zip(cached) {
        let e = per_kind.entry(t.kind()).or_default();
        e.0 += 1;
        e.1 += usize::from(*c);
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "{:<16} {:>6} {:>7} {:>7}", "KIND", "TASKS", "CACHED", "TO RUN");
    for (k, (n, c)) in &per_kind {
        let _ = writeln!(out, "{:<16} {n:>6} {c:>7} {:>7}", k.name(), n - c);
    }
    let total_cached = cached.iter().filter(|c| **c).count();
    let _ = writeln!(
        out,
        "{:<16} {:>6} {total_cached:>7} {:>7}",
        "total",
        plan.tasks.len(),
        plan.tasks.len() - total_cached
    );
    out
}

/// Graphviz: `apogrid plan GRID --dot | dot -Tsvg > plan.svg`. Cached tasks are grey.
pub fn dot(plan: &Plan, cached: &[bool]) -> String {
    let mut out = String::from("digraph plan {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n");
    for (i, (t, c)) in plan.tasks.iter().zip(cached).enumerate() {
        let style = if *c { ", style=filled, fillcolor=lightgrey" } else { "" };
        let _ = writeln!(out, "  n{i} [label=\"{}\\n{}\"{style}];", t.id, &t.key[..8]);
    }
    for (i, t) in plan.tasks.iter().enumerate() {
        for d in &t.deps {
            let _ = writeln!(out, "  n{d} -> n{i};");
        }
    }
    out.push_str("}\n");
    out
}

/// `[{"id", "kind", "key", "deps": [ids], "cached": bool}, ...]`
pub fn json(plan: &Plan, cached: &[bool]) -> serde_json::Value {
    let tasks: Vec<_> = plan
        .tasks
        .iter()
        .zip(cached)
        .map(|(t, c)| {
            let deps: Vec<&str> = t.deps.iter().map(|d| plan.tasks[*d].id.as_str()).collect();
            json!({ "id": t.id, "kind": t.kind().name(), "key": t.key, "deps": deps, "cached": c })
        })
        .collect();
    serde_json::Value::Array(tasks)
}
