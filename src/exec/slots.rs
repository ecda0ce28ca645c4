//! Device slots: where a task runs. `--jobs N` gives N CPU slots; `--devices cuda:0,cuda:1`
//! one slot per GPU (one training task per GPU at a time). Tests use fake devices.

pub use crate::device::DeviceName;

/// One place a task can run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub index: usize,
    pub device: DeviceName,
    /// The size of the rayon pool this slot's task runs in: every core, for every CPU slot.
    /// A task's explicit parallel work is cut into a fixed number of shards (so its numbers do
    /// not depend on the machine), and most tasks are single-threaded on the tiny model's small
    /// matrices; when two tasks overlap the OS shares the cores, and when one runs alone (the
    /// base model's pretraining, which every other task waits for) it gets them all. Splitting
    /// the cores between slots instead left one of two cores idle during that stage.
    pub threads: usize,
}

/// The pool's slots: each listed device once, or `jobs` CPU slots when none is listed.
pub fn slots(devices: &[DeviceName], jobs: usize) -> Vec<Slot> {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    if devices.is_empty() {
        let jobs = jobs.max(1);
        return (0..jobs).map(|index| Slot { index, device: DeviceName::Cpu, threads: cores }).collect();
    }
    let mut out = Vec::new();
    for d in devices {
        // `cpu` listed among devices still honours --jobs.
        let copies = if *d == DeviceName::Cpu { jobs.max(1) } else { 1 };
        for _ in 0..copies {
            out.push(Slot {
                index: out.len(),
                device: d.clone(),
                threads: if *d == DeviceName::Cpu { cores } else { 1 },
            });
        }
    }
    out
}
