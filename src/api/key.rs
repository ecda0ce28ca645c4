//! The API key: read once from the environment variable a grid names, held in a type that
//! never prints it. It goes into the `Authorization` header and nowhere else: not into grid
//! files, manifests, logs, cache entries or error messages (error texts from a server are
//! passed through [`ApiKey::redact`] before they are kept).

use std::fmt;

/// A secret bearer token. `Debug` prints `ApiKey(***)`; there is no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    /// Names the variable and the grid key that names it, never a value.
    #[error(
        "`{grid_key}`: the environment variable `{var}` is not set (the API key is read from the environment only; set `{grid_key} = \"\"` for a server that needs no key)"
    )]
    Missing { var: String, grid_key: String },
    #[error("`{grid_key}`: the environment variable `{var}` is empty or not valid UTF-8")]
    Invalid { var: String, grid_key: String },
}

impl ApiKey {
    /// Reads the key from `var`. An empty `var` means "no key" (local vLLM or llama.cpp
    /// servers); `grid_key` (e.g. `agents.judge.api_key_env`) labels errors.
    pub fn from_env(var: &str, grid_key: &str) -> Result<Option<ApiKey>, KeyError> {
        if var.is_empty() {
            return Ok(None);
        }
        match std::env::var(var) {
            Ok(v) if !v.trim().is_empty() => Ok(Some(ApiKey(v.trim().to_string()))),
            Ok(_) | Err(std::env::VarError::NotUnicode(_)) => {
                Err(KeyError::Invalid { var: var.into(), grid_key: grid_key.into() })
            }
            Err(std::env::VarError::NotPresent) => {
                Err(KeyError::Missing { var: var.into(), grid_key: grid_key.into() })
            }
        }
    }

    /// For tests and callers that hold the key already.
    pub fn new(value: impl Into<String>) -> ApiKey {
        ApiKey(value.into())
    }

    /// The `Authorization` header's value.
    pub(crate) fn bearer(&self) -> String {
        format!("Bearer {}", self.0)
    }

    /// `text` with every occurrence of the key replaced by `***` (servers echo keys back in
    /// 401 bodies).
    pub fn redact(&self, text: &str) -> String {
        if self.0.is_empty() { text.to_string() } else { text.replace(&self.0, "***") }
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_never_prints_and_is_redacted() {
        let k = ApiKey::new("sk-secret-123");
        assert_eq!(format!("{k:?}"), "ApiKey(***)");
        assert_eq!(k.redact("bad key sk-secret-123!"), "bad key ***!");
        assert_eq!(k.bearer(), "Bearer sk-secret-123");
    }

    #[test]
    fn missing_variable_names_the_variable_and_grid_key() {
        let err = ApiKey::from_env("APOGRID_SURELY_UNSET_VAR_7", "agents.judge.api_key_env").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("APOGRID_SURELY_UNSET_VAR_7") && text.contains("agents.judge.api_key_env"), "{text}");
        assert_eq!(ApiKey::from_env("", "agents.judge.api_key_env"), Ok(None));
    }
}
