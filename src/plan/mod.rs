//! The plan: every task of a grid with its content key, as a petgraph DAG.

pub mod agent_input;
pub mod build;
pub mod inputs;
pub mod memory;
pub mod render;
pub mod task;

use petgraph::graph::{DiGraph, NodeIndex};

pub use build::build;
pub use inputs::TaskInput;
pub use task::{Labels, Task, TaskKind, task_key};

/// Tasks in dependency order (every task comes after its parents) plus their DAG.
#[derive(Debug, Clone)]
pub struct Plan {
    pub tasks: Vec<Task>,
    /// Node `i` is `tasks[i]`; edges run parent -> child.
    pub graph: DiGraph<usize, ()>,
}

impl Plan {
    /// Tasks must be given parents-first (the builder adds them that way).
    pub fn new(tasks: Vec<Task>) -> Plan {
        let mut graph = DiGraph::new();
        for i in 0..tasks.len() {
            graph.add_node(i);
        }
        for (i, t) in tasks.iter().enumerate() {
            for &d in &t.deps {
                assert!(d < i, "task `{}` is listed before its parent `{}`", t.id, tasks[d].id);
                graph.add_edge(NodeIndex::new(d), NodeIndex::new(i), ());
            }
        }
        Plan { tasks, graph }
    }

    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.tasks.iter().position(|t| t.id == id)
    }

    /// Direct children of a task.
    pub fn children(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        self.graph.neighbors_directed(NodeIndex::new(i), petgraph::Direction::Outgoing).map(|n| n.index())
    }

    /// The tasks needed to produce `targets`: the targets and all their ancestors, as a mask.
    pub fn ancestors_of(&self, targets: &[usize]) -> Vec<bool> {
        let mut keep = vec![false; self.tasks.len()];
        let mut stack: Vec<usize> = targets.to_vec();
        while let Some(i) = stack.pop() {
            if !keep[i] {
                keep[i] = true;
                stack.extend(self.tasks[i].deps.iter().copied());
            }
        }
        keep
    }

    /// All tasks downstream of `i` (not including `i`).
    pub fn descendants_of(&self, i: usize) -> Vec<usize> {
        let mut seen = vec![false; self.tasks.len()];
        let mut stack: Vec<usize> = self.children(i).collect();
        let mut out = Vec::new();
        while let Some(c) = stack.pop() {
            if !seen[c] {
                seen[c] = true;
                out.push(c);
                stack.extend(self.children(c));
            }
        }
        out.sort_unstable();
        out
    }
}

#[cfg(test)]
mod tests;
