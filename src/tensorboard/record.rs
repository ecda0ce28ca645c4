//! TFRecord framing, the container of TensorBoard event files: each record is
//!
//! ```text
//! u64 little-endian length | u32 masked CRC-32C of those 8 bytes | data | u32 masked CRC-32C of data
//! ```
//!
//! The CRC is masked (rotated and offset) because a CRC of data that holds CRCs is weak; the
//! mask is TFRecord's, so TensorBoard reads these files as it reads TensorFlow's and PyTorch's.

/// TFRecord's mask of a CRC-32C.
pub fn masked_crc(data: &[u8]) -> u32 {
    let crc = crc32c::crc32c(data);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// Appends one framed record holding `data` to `out`.
pub fn append(out: &mut Vec<u8>, data: &[u8]) {
    let length = (data.len() as u64).to_le_bytes();
    out.extend_from_slice(&length);
    out.extend_from_slice(&masked_crc(&length).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&masked_crc(data).to_le_bytes());
}

/// Why framed bytes could not be split into records.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RecordError {
    #[error("record {index} at byte {offset} is cut short")]
    Truncated { index: usize, offset: usize },
    #[error("record {index} at byte {offset}: its {what} checksum does not match")]
    Checksum { index: usize, offset: usize, what: &'static str },
}

/// The records of `bytes`, each checked against both of its checksums.
pub fn split(bytes: &[u8]) -> Result<Vec<&[u8]>, RecordError> {
    let mut records = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let (index, offset) = (records.len(), at);
        let header = bytes.get(at..at + 12).ok_or(RecordError::Truncated { index, offset })?;
        let (length, crc) = header.split_at(8);
        if masked_crc(length).to_le_bytes() != crc {
            return Err(RecordError::Checksum { index, offset, what: "length" });
        }
        let n = u64::from_le_bytes(length.try_into().expect("8 bytes")) as usize;
        let end = at.checked_add(12 + n + 4).filter(|e| *e <= bytes.len());
        let end = end.ok_or(RecordError::Truncated { index, offset })?;
        let (data, crc) = bytes[at + 12..end].split_at(n);
        if masked_crc(data).to_le_bytes() != crc {
            return Err(RecordError::Checksum { index, offset, what: "data" });
        }
        records.push(data);
        at = end;
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_masked_crc_is_tfrecords() {
        // CRC-32C("123456789") is 0xe3069283 (the standard check value); masked by hand:
        // rotate right 15 gives 0x2507c60d, plus 0xa282ead8 gives 0xc78ab0e5.
        assert_eq!(crc32c::crc32c(b"123456789"), 0xe306_9283);
        assert_eq!(masked_crc(b"123456789"), 0xc78a_b0e5);
    }

    #[test]
    fn records_round_trip_and_damage_is_named() {
        let mut bytes = Vec::new();
        append(&mut bytes, b"first");
        append(&mut bytes, b"");
        append(&mut bytes, b"third record");
        assert_eq!(bytes.len(), 3 * 16 + 5 + 12);
        let records = split(&bytes).unwrap();
        assert_eq!(records, vec![&b"first"[..], &b""[..], &b"third record"[..]]);

        let mut flipped = bytes.clone();
        flipped[12] ^= 1; // first byte of "first"
        assert_eq!(split(&flipped), Err(RecordError::Checksum { index: 0, offset: 0, what: "data" }));
        let mut long = bytes.clone();
        long[21] ^= 1; // the second record's length
        assert_eq!(split(&long), Err(RecordError::Checksum { index: 1, offset: 21, what: "length" }));
        assert_eq!(split(&bytes[..bytes.len() - 1]), Err(RecordError::Truncated { index: 2, offset: 37 }));
    }
}
