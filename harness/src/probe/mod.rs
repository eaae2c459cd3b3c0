//! Mail clients that authenticate with a bearer token and report what the server answered.

pub mod imap;
pub mod pop3;
pub mod smtp;
pub mod tls;

use serde::Serialize;

use crate::scenario::types::ProbeResult;

/// SASL PLAIN's response for a password, remembered by the log scrubber first: a dependency
/// logging at `trace` (async-imap) prints the command line that carries it.
pub(crate) fn encode_plain(user: &str, password: &crate::secret::Secret) -> String {
    let encoded = mailscope_mocks::sasl::encode_plain(user, password.secret());
    crate::logging::remember(&encoded);
    encoded
}

/// A password in base64, as `AUTH LOGIN` sends it, remembered by the log scrubber first.
pub(crate) fn encode_password(password: &crate::secret::Secret) -> String {
    let encoded = mailscope_mocks::sasl::encode_base64(password.secret().as_bytes());
    crate::logging::remember(&encoded);
    encoded
}

/// Where a probe connects, and whom it trusts.
#[derive(Debug, Clone)]
pub struct ServerAddress {
    /// The host name, also the TLS server name.
    pub host: String,
    /// The port.
    pub port: u16,
    /// Extra trust roots (DER) on top of the web PKI: how the simulated cloud is trusted.
    pub extra_roots: Vec<Vec<u8>>,
}

/// What a probe observed, as the client saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProbeReport {
    /// Authenticated or rejected.
    pub result: ProbeResult,
    /// The server's final reply to the authentication.
    pub reply: Option<String>,
    /// The reply to the test message, when one was sent.
    pub send_reply: Option<String>,
}
