//! Device names as grids and the command line spell them (`cpu`, `tch-cpu`, `cuda:N`), parsed
//! in one place, and the burn device each one means. Below every floor that picks a device: the grid
//! validates names with [`DeviceName::parse`], the executor makes slots of them, tasks turn a
//! slot's name into a burn [`Device`] with [`DeviceName::burn`].

pub mod cuda_driver;

use std::fmt;
use std::str::FromStr;

use burn::tensor::Device;

use cuda_driver::DriverError;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DeviceName {
    Cpu,
    /// The CPU through libtorch (burn's `tch` backend, `--features tch`): the same device as
    /// `cpu`, another set of kernels, measured against flex in README "Speed on the CPU".
    TchCpu,
    Cuda(usize),
    /// For tests of the executor: names a device that does not exist and cannot run models.
    Fake(String),
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DeviceError {
    #[error("unknown device `{0}`; expected `cpu`, `tch-cpu` or `cuda:N`")]
    Unknown(String),
    #[error("device cuda:{0} needs a build with `--features cuda`")]
    NoCuda(usize),
    #[error("device tch-cpu needs a build with `--features tch` (libtorch; README \"Backends\")")]
    NoTch,
    #[error("fake:{0} is a test device and cannot run models")]
    Fake(String),
    #[error(transparent)]
    Driver(#[from] DriverError),
}

impl DeviceName {
    /// `cpu`, `tch-cpu`, `cuda:N`, or (tests) `fake:NAME`. Every build knows every name, so a
    /// grid reads the same everywhere; [`DeviceName::burn`] says what this build cannot run.
    pub fn parse(s: &str) -> Result<DeviceName, DeviceError> {
        match s {
            "cpu" => return Ok(DeviceName::Cpu),
            "tch-cpu" => return Ok(DeviceName::TchCpu),
            _ => {}
        }
        if let Some(Ok(i)) = s.strip_prefix("cuda:").map(str::parse::<usize>) {
            return Ok(DeviceName::Cuda(i));
        }
        match s.strip_prefix("fake:") {
            Some(n) => Ok(DeviceName::Fake(n.to_string())),
            None => Err(DeviceError::Unknown(s.to_string())),
        }
    }

    /// Whether the device is this machine's CPU (`cpu`, `tch-cpu`): its slots share the cores
    /// (`exec::slots`) and its memory is the machine's RAM.
    pub fn is_cpu(&self) -> bool {
        matches!(self, DeviceName::Cpu | DeviceName::TchCpu)
    }

    /// The burn device: flex on the CPU, libtorch's CPU kernels for `tch-cpu` (with
    /// `--features tch`), CubeCL's CUDA backend on a GPU (with `--features cuda`).
    ///
    /// For `tch-cpu` this also sizes libtorch's intra-op thread pool to the rayon pool the
    /// caller runs in: a task's slot share of the cores (`exec::slots`) and the benches'
    /// `--threads` then bound both backends alike, where libtorch alone would take every core.
    /// libtorch applies the size to the calling thread (OpenMP, MKL) and to threads that start
    /// work later, so call this on the thread that runs the model, as tasks do.
    pub fn burn(&self) -> Result<Device, DeviceError> {
        match self {
            DeviceName::Cpu => Ok(Device::flex()),
            #[cfg(feature = "tch")]
            DeviceName::TchCpu => {
                tch::set_num_threads(rayon::current_num_threads().try_into().unwrap_or(i32::MAX));
                // burn marks its libtorch backend deprecated in favour of CubeCL's; it is here to
                // be measured against flex (issue 16), not as the default.
                #[allow(deprecated)]
                let device = Device::libtorch();
                Ok(device)
            }
            #[cfg(not(feature = "tch"))]
            DeviceName::TchCpu => Err(DeviceError::NoTch),
            #[cfg(feature = "cuda")]
            DeviceName::Cuda(i) => {
                // burn would panic on its device thread without a driver: ask first.
                cuda_driver::probe(*i)?;
                Ok(Device::cuda(*i))
            }
            #[cfg(not(feature = "cuda"))]
            DeviceName::Cuda(i) => Err(DeviceError::NoCuda(*i)),
            DeviceName::Fake(n) => Err(DeviceError::Fake(n.clone())),
        }
    }

    /// The device's memory in bytes: the machine's RAM for `cpu` (from /proc/meminfo), what the
    /// driver reports for `cuda:N`. `Err` says why it is unknown.
    pub fn memory_bytes(&self) -> Result<u64, String> {
        match self {
            DeviceName::Cpu | DeviceName::TchCpu => {
                let text = std::fs::read_to_string("/proc/meminfo").map_err(|e| format!("/proc/meminfo: {e}"))?;
                mem_total(&text).ok_or_else(|| "/proc/meminfo has no MemTotal line".to_string())
            }
            DeviceName::Cuda(i) => cuda_driver::probe(*i).map(|d| d.total_memory).map_err(|e| e.to_string()),
            DeviceName::Fake(n) => Err(format!("fake:{n} is a test device")),
        }
    }
}

/// `MemTotal:  24522484 kB` -> bytes.
fn mem_total(meminfo: &str) -> Option<u64> {
    proc_kib_field(meminfo, "MemTotal:")
}

/// The value of a `KEY:  N kB` line of a /proc file (`/proc/meminfo`, `/proc/self/status`), in
/// bytes.
pub fn proc_kib_field(text: &str, key: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(key))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

impl FromStr for DeviceName {
    type Err = DeviceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DeviceName::parse(s)
    }
}

impl fmt::Display for DeviceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceName::Cpu => write!(f, "cpu"),
            DeviceName::TchCpu => write!(f, "tch-cpu"),
            DeviceName::Cuda(i) => write!(f, "cuda:{i}"),
            DeviceName::Fake(n) => write!(f, "fake:{n}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_ones_are_named() {
        for s in ["cpu", "tch-cpu", "cuda:0", "cuda:12", "fake:a"] {
            assert_eq!(DeviceName::parse(s).unwrap().to_string(), s);
        }
        assert_eq!(DeviceName::parse("tpu:0"), Err(DeviceError::Unknown("tpu:0".into())));
        assert!(DeviceName::parse("cuda:x").is_err());
    }

    #[cfg(not(feature = "tch"))]
    #[test]
    fn tch_cpu_without_the_feature_is_one_clear_error() {
        let err = DeviceName::TchCpu.burn().map(|_| ()).unwrap_err();
        assert_eq!(err, DeviceError::NoTch);
        assert!(err.to_string().contains("--features tch"), "{err}");
    }

    #[test]
    fn cpu_memory_comes_from_meminfo() {
        assert_eq!(mem_total("MemFree: 1 kB\nMemTotal:  24522484 kB\n"), Some(24522484 * 1024));
        assert_eq!(mem_total("MemFree: 1 kB\n"), None);
        assert!(DeviceName::Cpu.memory_bytes().unwrap() > 1 << 30);
        assert_eq!(DeviceName::TchCpu.memory_bytes(), DeviceName::Cpu.memory_bytes());
    }
}
