//! The GGUF container (versions 2 and 3): header, metadata key/values of every type (arrays
//! included), tensor infos and the aligned data section.
//!
//! Layout, all little-endian:
//!
//! ```text
//! "GGUF" u32:version u64:n_tensors u64:n_kv
//! n_kv      x { string:key  u32:value_type  value }
//! n_tensors x { string:name u32:n_dims  u64 x n_dims:dims (innermost first)  u32:ggml_type  u64:offset }
//! padding to `general.alignment` (default 32)
//! tensor data, each at data_start + offset
//! ```
//!
//! Strings are `u64 length + UTF-8 bytes`. Every read is bounds-checked and a failure names the
//! byte offset and what was being read, so a truncated download says where it stops.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::GgufError;
use super::dequant::{self, GgmlType};

/// A metadata value. Integers keep their declared width so `general.alignment` (u32) and
/// counts (u64) round-trip; use the `as_*` helpers to read them without caring.
#[derive(Debug, Clone, PartialEq)]
pub enum MetaValue {
    U8(u8),
    I8(i8),
    U16(u16),
    I16(i16),
    U32(u32),
    I32(i32),
    F32(f32),
    Bool(bool),
    String(String),
    Array(Vec<MetaValue>),
    U64(u64),
    I64(i64),
    F64(f64),
}

impl MetaValue {
    /// Any integer type (negative values give `None`) and bools.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            MetaValue::U8(v) => Some(v as u64),
            MetaValue::U16(v) => Some(v as u64),
            MetaValue::U32(v) => Some(v as u64),
            MetaValue::U64(v) => Some(v),
            MetaValue::I8(v) => u64::try_from(v).ok(),
            MetaValue::I16(v) => u64::try_from(v).ok(),
            MetaValue::I32(v) => u64::try_from(v).ok(),
            MetaValue::I64(v) => u64::try_from(v).ok(),
            MetaValue::Bool(v) => Some(v as u64),
            _ => None,
        }
    }
    /// Any integer (as i64) — token types are stored as i32 arrays.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            MetaValue::I8(v) => Some(v as i64),
            MetaValue::I16(v) => Some(v as i64),
            MetaValue::I32(v) => Some(v as i64),
            MetaValue::I64(v) => Some(v),
            _ => self.as_u64().and_then(|v| i64::try_from(v).ok()),
        }
    }
    /// Floats and integers.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            MetaValue::F32(v) => Some(v as f64),
            MetaValue::F64(v) => Some(v),
            _ => self.as_i64().map(|v| v as f64),
        }
    }
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            MetaValue::Bool(v) => Some(v),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            MetaValue::String(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_array(&self) -> Option<&[MetaValue]> {
        match self {
            MetaValue::Array(a) => Some(a),
            _ => None,
        }
    }
    /// The GGUF type name, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            MetaValue::U8(_) => "u8",
            MetaValue::I8(_) => "i8",
            MetaValue::U16(_) => "u16",
            MetaValue::I16(_) => "i16",
            MetaValue::U32(_) => "u32",
            MetaValue::I32(_) => "i32",
            MetaValue::F32(_) => "f32",
            MetaValue::Bool(_) => "bool",
            MetaValue::String(_) => "string",
            MetaValue::Array(_) => "array",
            MetaValue::U64(_) => "u64",
            MetaValue::I64(_) => "i64",
            MetaValue::F64(_) => "f64",
        }
    }
}

/// Where one tensor lives in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorInfo {
    pub name: String,
    /// GGUF order: innermost (contiguous) dimension first.
    pub dims: Vec<u64>,
    pub ggml_type: GgmlType,
    /// Absolute byte offset of the tensor's data in the file.
    pub start: usize,
}

impl TensorInfo {
    /// Row-major (PyTorch) shape: the GGUF dims reversed, so a linear weight stored with
    /// dims `[in, out]` comes out as `[out, in]`.
    pub fn shape(&self) -> Vec<usize> {
        self.dims.iter().rev().map(|&d| d as usize).collect()
    }
    pub fn n_elements(&self) -> usize {
        self.dims.iter().map(|&d| d as usize).product()
    }
}

/// A parsed GGUF file: metadata, tensor directory and the raw bytes.
pub struct GgufFile {
    pub path: PathBuf,
    pub version: u32,
    pub metadata: BTreeMap<String, MetaValue>,
    /// Tensor infos in file order.
    pub tensors: Vec<TensorInfo>,
    pub alignment: usize,
    bytes: Vec<u8>,
}

const MAGIC: &[u8; 4] = b"GGUF";
/// Guards against absurd counts in a corrupt header allocating gigabytes before failing.
const MAX_DIMS: u32 = 8;

impl GgufFile {
    /// Reads and parses the whole file.
    pub fn open(path: &Path) -> Result<Self, GgufError> {
        let bytes = std::fs::read(path).map_err(|source| GgufError::Io { path: path.to_path_buf(), source })?;
        Self::parse(path, bytes)
    }

    /// Parses a GGUF image already in memory; `path` is only used in messages.
    pub fn parse(path: &Path, bytes: Vec<u8>) -> Result<Self, GgufError> {
        let mut cur = Cursor { bytes: &bytes, pos: 0, path };
        let magic = cur.take(4, "magic")?;
        if magic != MAGIC {
            return Err(GgufError::BadMagic { path: path.to_path_buf(), found: magic.to_vec() });
        }
        let version = cur.u32("version")?;
        if !(2..=3).contains(&version) {
            return Err(GgufError::UnsupportedVersion { path: path.to_path_buf(), version });
        }
        let n_tensors = cur.u64("tensor count")?;
        let n_kv = cur.u64("metadata count")?;

        let mut metadata = BTreeMap::new();
        for _ in 0..n_kv {
            let key = cur.string("metadata key")?;
            let ty = cur.u32(&format!("type of metadata `{key}`"))?;
            let value = cur.value(ty, &key, 0)?;
            metadata.insert(key, value);
        }

        let alignment = match metadata.get("general.alignment") {
            None => 32,
            Some(v) => match v.as_u64() {
                Some(a) if a > 0 && a.is_power_of_two() => a as usize,
                _ => {
                    return Err(GgufError::Malformed {
                        path: path.to_path_buf(),
                        offset: None,
                        msg: format!("general.alignment must be a power of two, found {v:?}"),
                    });
                }
            },
        };

        let mut raw = Vec::new();
        for _ in 0..n_tensors {
            let name = cur.string("tensor name")?;
            let n_dims = cur.u32(&format!("n_dims of tensor `{name}`"))?;
            if n_dims == 0 || n_dims > MAX_DIMS {
                return Err(cur.malformed(format!("tensor `{name}` has {n_dims} dimensions (expected 1..={MAX_DIMS})")));
            }
            let mut dims = Vec::with_capacity(n_dims as usize);
            for _ in 0..n_dims {
                dims.push(cur.u64(&format!("dims of tensor `{name}`"))?);
            }
            let ty_at = cur.pos;
            let ty = cur.u32(&format!("type of tensor `{name}`"))?;
            let ggml_type = GgmlType::from_id(ty).ok_or_else(|| GgufError::UnsupportedTensorType {
                path: path.to_path_buf(),
                tensor: name.clone(),
                type_id: ty,
                offset: ty_at,
            })?;
            let offset = cur.u64(&format!("data offset of tensor `{name}`"))?;
            raw.push((name, dims, ggml_type, offset));
        }

        let data_start = cur.pos.div_ceil(alignment) * alignment;
        let mut tensors = Vec::with_capacity(raw.len());
        for (name, dims, ggml_type, offset) in raw {
            let n: u128 = dims.iter().map(|&d| d as u128).product();
            let nbytes = ggml_type.byte_len(n).ok_or_else(|| GgufError::Malformed {
                path: path.to_path_buf(),
                offset: None,
                msg: format!(
                    "tensor `{name}` has {n} elements, not a multiple of {ggml_type:?}'s block of {}",
                    ggml_type.block_len()
                ),
            })?;
            let start = (data_start as u128) + offset as u128;
            let end = start + nbytes;
            if end > bytes.len() as u128 {
                return Err(GgufError::TensorOutOfBounds {
                    path: path.to_path_buf(),
                    tensor: name,
                    start: start as u64,
                    end: end as u64,
                    file_len: bytes.len() as u64,
                });
            }
            tensors.push(TensorInfo { name, dims, ggml_type, start: start as usize });
        }

        Ok(GgufFile { path: path.to_path_buf(), version, metadata, tensors, alignment, bytes })
    }

    pub fn tensor_info(&self, name: &str) -> Option<&TensorInfo> {
        self.tensors.iter().find(|t| t.name == name)
    }

    /// The tensor's bytes, exactly as stored (bounds were checked at parse time).
    pub fn raw_data(&self, info: &TensorInfo) -> &[u8] {
        let len = info.ggml_type.byte_len(info.n_elements() as u128).unwrap_or(0) as usize;
        &self.bytes[info.start..info.start + len]
    }

    /// Dequantizes one tensor to f32 in row-major (PyTorch) order; its shape is `info.shape()`.
    pub fn dequantize(&self, info: &TensorInfo) -> Vec<f32> {
        dequant::dequantize(info.ggml_type, self.raw_data(info), info.n_elements())
    }

    pub fn get(&self, key: &str) -> Option<&MetaValue> {
        self.metadata.get(key)
    }
}

/// A bounds-checked little-endian reader over the file bytes.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
    path: &'a Path,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], GgufError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        match end {
            Some(end) => {
                let s = &self.bytes[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => Err(GgufError::Truncated {
                path: self.path.to_path_buf(),
                offset: self.pos as u64,
                what: what.to_string(),
                needed: n as u64,
                file_len: self.bytes.len() as u64,
            }),
        }
    }
    fn arr<const N: usize>(&mut self, what: &str) -> Result<[u8; N], GgufError> {
        let s = self.take(N, what)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }
    fn u32(&mut self, what: &str) -> Result<u32, GgufError> {
        Ok(u32::from_le_bytes(self.arr(what)?))
    }
    fn u64(&mut self, what: &str) -> Result<u64, GgufError> {
        Ok(u64::from_le_bytes(self.arr(what)?))
    }
    fn malformed(&self, msg: String) -> GgufError {
        GgufError::Malformed { path: self.path.to_path_buf(), offset: Some(self.pos as u64), msg }
    }
    fn string(&mut self, what: &str) -> Result<String, GgufError> {
        let at = self.pos;
        let len = self.u64(what)?;
        if len > (self.bytes.len() - self.pos) as u64 {
            return Err(GgufError::Truncated {
                path: self.path.to_path_buf(),
                offset: self.pos as u64,
                what: format!("{what} ({len} bytes)"),
                needed: len,
                file_len: self.bytes.len() as u64,
            });
        }
        let raw = self.take(len as usize, what)?;
        String::from_utf8(raw.to_vec()).map_err(|_| GgufError::Malformed {
            path: self.path.to_path_buf(),
            offset: Some(at as u64),
            msg: format!("{what} is not valid UTF-8"),
        })
    }
    fn value(&mut self, ty: u32, key: &str, depth: u32) -> Result<MetaValue, GgufError> {
        let what = format!("value of metadata `{key}`");
        Ok(match ty {
            0 => MetaValue::U8(u8::from_le_bytes(self.arr(&what)?)),
            1 => MetaValue::I8(i8::from_le_bytes(self.arr(&what)?)),
            2 => MetaValue::U16(u16::from_le_bytes(self.arr(&what)?)),
            3 => MetaValue::I16(i16::from_le_bytes(self.arr(&what)?)),
            4 => MetaValue::U32(u32::from_le_bytes(self.arr(&what)?)),
            5 => MetaValue::I32(i32::from_le_bytes(self.arr(&what)?)),
            6 => MetaValue::F32(f32::from_le_bytes(self.arr(&what)?)),
            7 => {
                let [b] = self.arr::<1>(&what)?;
                match b {
                    0 => MetaValue::Bool(false),
                    1 => MetaValue::Bool(true),
                    _ => return Err(self.malformed(format!("bool {what} is {b} (expected 0 or 1)"))),
                }
            }
            8 => MetaValue::String(self.string(&what)?),
            9 => {
                if depth > 4 {
                    return Err(self.malformed(format!("arrays nested too deep in `{key}`")));
                }
                let elem_ty = self.u32(&format!("array element type of `{key}`"))?;
                let len = self.u64(&format!("array length of `{key}`"))?;
                // Every element takes at least one byte: a longer array cannot fit in the file.
                if len > (self.bytes.len() - self.pos) as u64 {
                    return Err(GgufError::Truncated {
                        path: self.path.to_path_buf(),
                        offset: self.pos as u64,
                        what: format!("array `{key}` of {len} elements"),
                        needed: len,
                        file_len: self.bytes.len() as u64,
                    });
                }
                let mut items = Vec::with_capacity(len as usize);
                for _ in 0..len {
                    items.push(self.value(elem_ty, key, depth + 1)?);
                }
                MetaValue::Array(items)
            }
            10 => MetaValue::U64(u64::from_le_bytes(self.arr(&what)?)),
            11 => MetaValue::I64(i64::from_le_bytes(self.arr(&what)?)),
            12 => MetaValue::F64(f64::from_le_bytes(self.arr(&what)?)),
            other => {
                return Err(self.malformed(format!("metadata `{key}` has unknown value type {other}")));
            }
        })
    }
}
