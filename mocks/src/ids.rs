//! Deterministic identifiers: trace ids, correlation ids, reply suffix ids, codes.
//!
//! Each server owns an [`IdSource`]; the n-th id it hands out is the same in every run, so
//! snapshots need no redaction. The values look like the real ones (GUIDs, 16 hex digits) but are
//! derived from a counter through SHA-256, not drawn at random.
//!
//! Credentials are the exception ([`IdSource::credential`]): authorization codes, refresh tokens
//! and device codes also mix in a secret drawn at random when the process starts, so nobody can
//! compute the next one from the counter (they never appear in a snapshot).

use std::sync::atomic::{AtomicU64, Ordering};

use ring::digest;
use ring::rand::SecureRandom as _;

/// A counter-backed source of identifiers, namespaced by a label.
#[derive(Debug)]
pub struct IdSource {
    namespace: &'static str,
    next: AtomicU64,
}

impl IdSource {
    /// Returns a source whose ids are derived from `namespace` and a counter starting at 0.
    pub const fn new(namespace: &'static str) -> Self {
        Self {
            namespace,
            next: AtomicU64::new(0),
        }
    }

    fn next_digest(&self, purpose: &str) -> [u8; 32] {
        let count = self.next.fetch_add(1, Ordering::Relaxed);
        let input = format!("{}/{purpose}/{count}", self.namespace);
        let digest = digest::digest(&digest::SHA256, input.as_bytes());
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(digest.as_ref());
        bytes
    }

    /// Returns the next id as a lowercase GUID (`8-4-4-4-12` hex digits).
    pub fn guid(&self, purpose: &str) -> String {
        format_guid(&self.next_digest(purpose))
    }

    /// Returns the next id as `len` uppercase hex digits (at most 64).
    pub fn hex_upper(&self, purpose: &str, len: usize) -> String {
        let hex = to_hex(&self.next_digest(purpose)).to_uppercase();
        hex[..len.min(hex.len())].to_owned()
    }

    /// Returns the next credential (a code, a refresh token, a device code) as unpadded base64url
    /// of `len` bytes (at most 32): the counter's digest mixed with the process's random secret.
    pub fn credential(&self, purpose: &str, len: usize) -> String {
        use base64::Engine as _;
        let derived = self.next_digest(purpose);
        let mut keyed = digest::Context::new(&digest::SHA256);
        keyed.update(process_secret());
        keyed.update(&derived);
        let bytes = keyed.finish();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes.as_ref()[..len.min(32)])
    }

    /// Returns the next id as unpadded base64url of `len` bytes (at most 32): `uti`, `aio`.
    pub fn base64url(&self, purpose: &str, len: usize) -> String {
        use base64::Engine as _;
        let bytes = self.next_digest(purpose);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes[..len.min(bytes.len())])
    }
}

/// 32 random bytes, drawn once per process.
fn process_secret() -> &'static [u8; 32] {
    static SECRET: std::sync::OnceLock<[u8; 32]> = std::sync::OnceLock::new();
    SECRET.get_or_init(|| {
        let mut bytes = [0u8; 32];
        // The system's generator does not fail on a working system; were it to, the counter's
        // digest alone still makes credentials unique.
        let _ = ring::rand::SystemRandom::new().fill(&mut bytes);
        bytes
    })
}

/// Formats the first 16 bytes as a lowercase GUID.
pub(crate) fn format_guid(bytes: &[u8; 32]) -> String {
    let hex = to_hex(&bytes[..16]);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Lowercase hex of `bytes`.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut out, byte| {
        let _ = write!(out, "{byte:02x}");
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_repeat_across_sources_with_the_same_namespace() {
        let first = IdSource::new("identity");
        let second = IdSource::new("identity");

        assert_eq!(first.guid("trace"), second.guid("trace"));
        assert_eq!(first.guid("trace"), second.guid("trace"));
    }

    #[test]
    fn successive_ids_differ_and_have_the_real_shapes() {
        let source = IdSource::new("exchange");

        let first = source.hex_upper("reply", 16);
        let second = source.hex_upper("reply", 16);
        let guid = source.guid("trace");

        assert_ne!(first, second);
        assert_eq!(first.len(), 16);
        assert!(
            first
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())
        );
        assert_eq!(guid.len(), 36);
        assert_eq!(guid.matches('-').count(), 4);
    }
}
