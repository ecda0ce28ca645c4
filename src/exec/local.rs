//! The local executor backend: each ready task runs on a thread of this process, one per free
//! slot (`--jobs N` CPU slots, or one per listed GPU).

use std::sync::mpsc;

use serde_json::Value;

use super::run_one::run_one;
use super::scheduler::Scheduler;
use super::slots::Slot;
use super::{Executor, Runner};
use crate::store::StoreError;

pub struct LocalExecutor {
    pub slots: Vec<Slot>,
}

impl Executor for LocalExecutor {
    fn execute(&self, sched: &mut Scheduler, runner: &dyn Runner) -> Result<(), StoreError> {
        let (plan, store) = (sched.plan, sched.store);
        let mut free: Vec<&Slot> = self.slots.iter().rev().collect();
        let (tx, rx) = mpsc::channel::<(usize, usize, Result<Value, String>, f64)>();
        std::thread::scope(|scope| -> Result<(), StoreError> {
            loop {
                while !free.is_empty() {
                    let Some(i) = sched.next_ready() else { break };
                    let slot = free.pop().expect("checked non-empty");
                    let progress = sched.progress.start(&plan.tasks[i].id);
                    let tx = tx.clone();
                    scope.spawn(move || {
                        let (result, seconds) = match run_one(plan, store, runner, i, slot, progress) {
                            Ok(done) => done,
                            Err(e) => (Err(format!("the store failed: {e}")), 0.0),
                        };
                        let _ = tx.send((i, slot.index, result, seconds));
                    });
                }
                if sched.running() == 0 {
                    return Ok(());
                }
                let (i, slot_index, result, seconds) = rx.recv().expect("a running task always reports");
                free.push(&self.slots[slot_index]);
                sched.finished(i, result, seconds);
            }
        })
    }
}
