//! Device names as grids and the command line spell them (`cpu`, `cuda:N`), parsed in one
//! place, and the burn device each one means. Below every floor that picks a device: the grid
//! validates names with [`DeviceName::parse`], the executor makes slots of them, tasks turn a
//! slot's name into a burn [`Device`] with [`DeviceName::burn`].

use std::fmt;
use std::str::FromStr;

use burn::tensor::Device;

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
            DeviceName::Cuda(i) => Ok(Device::cuda(*i)),
            #[cfg(not(feature = "cuda"))]
            DeviceName::Cuda(i) => Err(DeviceError::NoCuda(*i)),
            DeviceName::Fake(n) => Err(DeviceError::Fake(n.clone())),
        }
    }
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
}
