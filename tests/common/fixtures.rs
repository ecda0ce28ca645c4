//! Reference fixtures (`tests/fixtures/`, made by scripts in `scripts/` from transformers and
//! independent implementations) and how tests compare against them.

use std::path::{Path, PathBuf};

use serde_json::Value;

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// `tests/fixtures/NAME` parsed as JSON; a missing or malformed file panics naming it.
pub fn read_fixture(name: &str) -> Value {
    let path = fixtures().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn ids(v: &Value) -> Vec<u32> {
    v.as_array().expect("id array").iter().map(|x| x.as_u64().expect("id") as u32).collect()
}

pub fn floats(v: &Value) -> Vec<f64> {
    v.as_array().expect("float array").iter().map(|x| x.as_f64().expect("float")).collect()
}

/// Log-probs agree within 1e-3 relative (absolute below |logp| = 0.1, where relative error of a
/// near-certain token's log-prob is meaningless).
pub fn assert_logps_close(got: &[f64], want: &[f64], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let tol = 1e-3 * w.abs().max(0.1);
        assert!((g - w).abs() <= tol, "{what}[{i}]: {g} vs {w} (tolerance {tol})");
    }
}
