//! Device names as grids and the command line spell them (`cpu`, `cuda:N`), parsed in one
//! place, and the burn device each one means. Below every floor that picks a device: the grid
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
    Cuda(usize),
    /// For tests of the executor: names a device that does not exist and cannot run models.
    Fake(String),
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DeviceError {
    #[error("unknown device `{0}`; expected `cpu` or `cuda:N`")]
    Unknown(String),
    #[error("device cuda:{0} needs a build with `--features cuda`")]
    NoCuda(usize),
    #[error("fake:{0} is a test device and cannot run models")]
    Fake(String),
    #[error(transparent)]
    Driver(#[from] DriverError),
}

impl DeviceName {
    /// `cpu`, `cuda:N`, or (tests) `fake:NAME`.
    pub fn parse(s: &str) -> Result<DeviceName, DeviceError> {
        if s == "cpu" {
            return Ok(DeviceName::Cpu);
        }
        if let Some(Ok(i)) = s.strip_prefix("cuda:").map(str::parse::<usize>) {
            return Ok(DeviceName::Cuda(i));
        }
        match s.strip_prefix("fake:") {
            Some(n) => Ok(DeviceName::Fake(n.to_string())),
            None => Err(DeviceError::Unknown(s.to_string())),
        }
    }

    /// The burn device: flex on the CPU, CubeCL's CUDA backend on a GPU (with `--features cuda`).
    pub fn burn(&self) -> Result<Device, DeviceError> {
        match self {
            DeviceName::Cpu => Ok(Device::flex()),
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
            DeviceName::Cpu => {
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
        for s in ["cpu", "cuda:0", "cuda:12", "fake:a"] {
            assert_eq!(DeviceName::parse(s).unwrap().to_string(), s);
        }
        assert_eq!(DeviceName::parse("tpu:0"), Err(DeviceError::Unknown("tpu:0".into())));
        assert!(DeviceName::parse("cuda:x").is_err());
    }

    #[test]
    fn cpu_memory_comes_from_meminfo() {
        assert_eq!(mem_total("MemFree: 1 kB\nMemTotal:  24522484 kB\n"), Some(24522484 * 1024));
        assert_eq!(mem_total("MemFree: 1 kB\n"), None);
        assert!(DeviceName::Cpu.memory_bytes().unwrap() > 1 << 30);
    }
}
