//! Secrets as newtypes: a redacted `Debug`, one accessor, and a marker that stands in for the
//! value wherever a run records something (ARCHITECTURE.md, invariants).

use ring::digest;

/// A secret string: an access or refresh token, a client secret, a password.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    kind: &'static str,
    value: String,
}

impl Secret {
    /// Wraps `value`; `kind` names it in markers (`access-token`).
    pub fn new(kind: &'static str, value: impl Into<String>) -> Self {
        let value = value.into();
        // Tokens have shapes the log scrubber knows; passwords and client secrets do not.
        if matches!(kind, "password" | "client-secret") {
            crate::logging::remember(&value);
        }
        Self { kind, value }
    }

    /// Returns the secret itself. The one way to read it.
    pub fn secret(&self) -> &str {
        &self.value
    }

    /// Returns `<access-token sha256:1a2b3c4d>`: the same secret gives the same marker, so two
    /// runs can be compared without showing either value.
    pub fn marker(&self) -> String {
        let hash = digest::digest(&digest::SHA256, self.value.as_bytes());
        let hex: String = hash.as_ref()[..4]
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        format!("<{} sha256:{hex}>", self.kind)
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.marker())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_shows_the_value_and_marks_it_stably() {
        let token = Secret::new("access-token", "eyJ0eXAiOiJKV1QifQ.payload.signature");

        assert_eq!(format!("{token:?}"), token.marker());
        assert!(!token.marker().contains("eyJ"));
        assert_eq!(
            token.marker(),
            Secret::new("access-token", token.secret()).marker()
        );
        assert!(token.marker().starts_with("<access-token sha256:"));
    }
}
