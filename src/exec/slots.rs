//! Device slots: where a task runs. `--jobs N` gives N CPU slots; `--devices cuda:0,cuda:1`
//! one slot per GPU (one training task per GPU at a time). Tests use fake devices.

pub use crate::device::DeviceName;

/// One place a task can run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub index: usize,
    pub device: DeviceName,
    /// The size of the rayon pool this slot's task runs in (flex's kernels use it): the cores
    /// divided among the CPU slots, at least one. Measured on 2 cores (issue 16): the tiny
    /// model's kernels gain nothing from a second thread, and two slots each spanning both
    /// cores ran four busy threads on two cores (1.1 million involuntary context switches in
    /// one grid run). Numbers do not depend on it: flex's kernels give the same bits on any
    /// pool size, and a task's explicit parallel work is cut into a fixed number of shards
    /// (the base model's pretraining brings its own threads for those, see
    /// `train::pretrain`).
    pub threads: usize,
}

/// The pool's slots: each listed device once, or `jobs` CPU slots when none is listed. A CPU
/// device (`cpu`, `tch-cpu`: flex or libtorch kernels on the same cores) honours `--jobs` and
/// its slots share the cores among them.
pub fn slots(devices: &[DeviceName], jobs: usize) -> Vec<Slot> {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let jobs = jobs.max(1);
    let cpu_devices = if devices.is_empty() { 1 } else { devices.iter().filter(|d| d.is_cpu()).count() };
    let cpu_threads = (cores / (jobs * cpu_devices).max(1)).max(1);
    if devices.is_empty() {
        return (0..jobs).map(|index| Slot { index, device: DeviceName::Cpu, threads: cpu_threads }).collect();
    }
    let mut out = Vec::new();
    for d in devices {
        let copies = if d.is_cpu() { jobs } else { 1 };
        for _ in 0..copies {
            out.push(Slot { index: out.len(), device: d.clone(), threads: if d.is_cpu() { cpu_threads } else { 1 } });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_cpu_devices_honour_jobs_and_share_the_cores() {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        let s = slots(&[DeviceName::Cpu, DeviceName::TchCpu, DeviceName::Cuda(0)], 2);
        let names: Vec<String> = s.iter().map(|s| s.device.to_string()).collect();
        assert_eq!(names, ["cpu", "cpu", "tch-cpu", "tch-cpu", "cuda:0"]);
        assert!(s[..4].iter().all(|s| s.threads == (cores / 4).max(1)));
        assert_eq!(s[4].threads, 1);
    }
}
