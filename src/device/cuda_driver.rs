//! Asks the NVIDIA driver (`libcuda.so.1`, loaded at run time) whether a CUDA device exists and
//! how much memory it has, before burn touches it.
//!
//! Why: burn's CUDA backend initialises the driver on its own device thread, and on a machine
//! without a driver that thread panics (a long backtrace, then `RecvError` in the task). Probing
//! first turns that into one line naming the problem. It also lets `apogrid plan` check memory
//! estimates against the real device, even from a build without the `cuda` feature.

use libloading::{Library, Symbol};

/// What the driver reports about one device.
#[derive(Debug, Clone, PartialEq)]
pub struct CudaDeviceInfo {
    pub index: usize,
    pub name: String,
    pub total_memory: u64,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DriverError {
    #[error("no NVIDIA driver: cannot load libcuda.so.1 ({0})")]
    NoDriver(String),
    #[error("the NVIDIA driver is present but `{call}` failed with CUDA error {code}")]
    Call { call: &'static str, code: u32 },
    #[error("cuda:{index} does not exist: the driver sees {count} device(s)")]
    NoSuchDevice { index: usize, count: usize },
}

type CuResult = u32;
const CUDA_SUCCESS: CuResult = 0;

/// Probes device `index` through the driver API (cuInit, cuDeviceGetCount, cuDeviceGet,
/// cuDeviceGetName, cuDeviceTotalMem_v2).
pub fn probe(index: usize) -> Result<CudaDeviceInfo, DriverError> {
    // SAFETY: loading the system's CUDA driver library runs its initialisers, which is what
    // every CUDA program does; the library stays loaded for the call's duration.
    let lib = unsafe { Library::new("libcuda.so.1") }.map_err(|e| DriverError::NoDriver(e.to_string()))?;
    let check = |call: &'static str, code: CuResult| {
        if code == CUDA_SUCCESS { Ok(()) } else { Err(DriverError::Call { call, code }) }
    };
    let missing = |name: &str, e: libloading::Error| DriverError::NoDriver(format!("{name}: {e}"));
    // SAFETY: the signatures below are those of the CUDA driver API (cuda.h), stable since
    // CUDA 3.2 for the `_v2` entry; the pointers passed are valid for the calls.
    unsafe {
        let init: Symbol<unsafe extern "C" fn(u32) -> CuResult> =
            lib.get(b"cuInit\0").map_err(|e| missing("cuInit", e))?;
        let count_fn: Symbol<unsafe extern "C" fn(*mut i32) -> CuResult> =
            lib.get(b"cuDeviceGetCount\0").map_err(|e| missing("cuDeviceGetCount", e))?;
        let get: Symbol<unsafe extern "C" fn(*mut i32, i32) -> CuResult> =
            lib.get(b"cuDeviceGet\0").map_err(|e| missing("cuDeviceGet", e))?;
        let name_fn: Symbol<unsafe extern "C" fn(*mut std::ffi::c_char, i32, i32) -> CuResult> =
            lib.get(b"cuDeviceGetName\0").map_err(|e| missing("cuDeviceGetName", e))?;
        let mem: Symbol<unsafe extern "C" fn(*mut usize, i32) -> CuResult> =
            lib.get(b"cuDeviceTotalMem_v2\0").map_err(|e| missing("cuDeviceTotalMem_v2", e))?;
        check("cuInit", init(0))?;
        let mut count = 0i32;
        check("cuDeviceGetCount", count_fn(&mut count))?;
        if index >= count.max(0) as usize {
            return Err(DriverError::NoSuchDevice { index, count: count.max(0) as usize });
        }
        let mut device = 0i32;
        check("cuDeviceGet", get(&mut device, index as i32))?;
        let mut name = [0 as std::ffi::c_char; 256];
        check("cuDeviceGetName", name_fn(name.as_mut_ptr(), name.len() as i32, device))?;
        let mut total = 0usize;
        check("cuDeviceTotalMem_v2", mem(&mut total, device))?;
        let name = std::ffi::CStr::from_ptr(name.as_ptr()).to_string_lossy().into_owned();
        Ok(CudaDeviceInfo { index, name, total_memory: total as u64 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On a machine without the driver the probe must fail cleanly (and name why); with one,
    /// it must report memory. Either way it must not panic.
    #[test]
    fn probing_reports_a_device_or_says_why_not() {
        match probe(0) {
            Ok(info) => assert!(info.total_memory > 0 && !info.name.is_empty()),
            Err(e) => assert!(!e.to_string().is_empty()),
        }
        if let Err(DriverError::NoSuchDevice { index, .. }) = probe(10_000) {
            assert_eq!(index, 10_000);
        }
    }
}
