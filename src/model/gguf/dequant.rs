//! ggml tensor encodings and their decoders to f32.
//!
//! Written here rather than taken from a crate: each decoder is a few lines with a fixed,
//! documented block layout (ggml-common.h), they are checked against values computed by the
//! Python `gguf` package in tests, and owning them keeps errors in our own types and avoids a
//! dependency for ~100 lines. K-quants are not supported (SmolLM2's file uses none); adding one
//! means adding a variant here.
//!
//! Block layouts (32 values per block, `d`/`m` are IEEE half floats):
//! - `Q4_0`: `d`, 16 bytes of nibbles; `x[j] = (lo(q[j]) - 8) * d`, `x[j+16] = (hi(q[j]) - 8) * d`.
//! - `Q4_1`: `d`, `m`, 16 bytes of nibbles; `x[j] = lo(q[j]) * d + m`, `x[j+16] = hi(q[j]) * d + m`.
//! - `Q8_0`: `d`, 32 signed bytes; `x[j] = q[j] * d`.

use half::{bf16, f16};

/// The tensor encodings this loader reads (ggml type ids in comments).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GgmlType {
    F32,  // 0
    F16,  // 1
    Q4_0, // 2
    Q4_1, // 3
    Q8_0, // 8
    BF16, // 30
}

const QK: usize = 32;

impl GgmlType {
    pub fn from_id(id: u32) -> Option<Self> {
        Some(match id {
            0 => GgmlType::F32,
            1 => GgmlType::F16,
            2 => GgmlType::Q4_0,
            3 => GgmlType::Q4_1,
            8 => GgmlType::Q8_0,
            30 => GgmlType::BF16,
            _ => return None,
        })
    }

    /// Values per block.
    pub fn block_len(self) -> usize {
        match self {
            GgmlType::F32 | GgmlType::F16 | GgmlType::BF16 => 1,
            GgmlType::Q4_0 | GgmlType::Q4_1 | GgmlType::Q8_0 => QK,
        }
    }

    /// Bytes per block.
    pub fn block_bytes(self) -> usize {
        match self {
            GgmlType::F32 => 4,
            GgmlType::F16 | GgmlType::BF16 => 2,
            GgmlType::Q4_0 => 2 + QK / 2,
            GgmlType::Q4_1 => 4 + QK / 2,
            GgmlType::Q8_0 => 2 + QK,
        }
    }

    /// Bytes taken by `n` values, or `None` when `n` is not a whole number of blocks.
    pub fn byte_len(self, n: u128) -> Option<u128> {
        let bl = self.block_len() as u128;
        n.is_multiple_of(bl).then(|| n / bl * self.block_bytes() as u128)
    }
}

/// Decodes `n` values of type `ty` from `data` (exactly `ty.byte_len(n)` bytes).
pub fn dequantize(ty: GgmlType, data: &[u8], n: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(n);
    match ty {
        GgmlType::F32 => out.extend(data.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))),
        GgmlType::F16 => out.extend(data.chunks_exact(2).map(|c| f16::from_le_bytes([c[0], c[1]]).to_f32())),
        GgmlType::BF16 => out.extend(data.chunks_exact(2).map(|c| bf16::from_le_bytes([c[0], c[1]]).to_f32())),
        GgmlType::Q4_0 => {
            for b in data.chunks_exact(ty.block_bytes()) {
                let d = f16::from_le_bytes([b[0], b[1]]).to_f32();
                let qs = &b[2..];
                out.extend(qs.iter().map(|&q| ((q & 0x0f) as i32 - 8) as f32 * d));
                out.extend(qs.iter().map(|&q| ((q >> 4) as i32 - 8) as f32 * d));
            }
        }
        GgmlType::Q4_1 => {
            for b in data.chunks_exact(ty.block_bytes()) {
                let d = f16::from_le_bytes([b[0], b[1]]).to_f32();
                let m = f16::from_le_bytes([b[2], b[3]]).to_f32();
                let qs = &b[4..];
                out.extend(qs.iter().map(|&q| (q & 0x0f) as f32 * d + m));
                out.extend(qs.iter().map(|&q| (q >> 4) as f32 * d + m));
            }
        }
        GgmlType::Q8_0 => {
            for b in data.chunks_exact(ty.block_bytes()) {
                let d = f16::from_le_bytes([b[0], b[1]]).to_f32();
                out.extend(b[2..].iter().map(|&q| (q as i8) as f32 * d));
            }
        }
    }
    debug_assert_eq!(out.len(), n);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(v: f32) -> [u8; 2] {
        f16::from_f32(v).to_le_bytes()
    }

    #[test]
    fn q4_0_block_decodes_low_nibbles_then_high() {
        let mut b = h(0.5).to_vec();
        // q[j] = lo j%16, hi 15 - j%16
        b.extend((0..16u8).map(|j| j | ((15 - j) << 4)));
        let x = dequantize(GgmlType::Q4_0, &b, 32);
        for j in 0..16 {
            assert_eq!(x[j], (j as f32 - 8.0) * 0.5);
            assert_eq!(x[j + 16], ((15 - j) as f32 - 8.0) * 0.5);
        }
    }

    #[test]
    fn q4_1_block_adds_min() {
        let mut b = h(0.25).to_vec();
        b.extend(h(-1.0));
        b.extend((0..16u8).map(|j| j | (3 << 4)));
        let x = dequantize(GgmlType::Q4_1, &b, 32);
        assert_eq!(x[5], 5.0 * 0.25 - 1.0);
        assert_eq!(x[20], 3.0 * 0.25 - 1.0);
    }

    #[test]
    fn q8_0_block_is_signed() {
        let mut b = h(2.0).to_vec();
        b.extend((0..32i32).map(|j| (j - 16) as i8 as u8));
        let x = dequantize(GgmlType::Q8_0, &b, 32);
        assert_eq!(x[0], -32.0);
        assert_eq!(x[31], 30.0);
    }

    #[test]
    fn partial_blocks_are_rejected() {
        assert_eq!(GgmlType::Q4_1.byte_len(33), None);
        assert_eq!(GgmlType::Q4_1.byte_len(64), Some(40));
        assert_eq!(GgmlType::F16.byte_len(3), Some(6));
    }
}
