//! The `generic` server profile's replies: RFC behaviour, never Exchange's.

use crate::decision::{Part, Rule};

/// Rule: the RFC profile beside Exchange's.
pub(crate) const GENERIC_PROFILE: Rule = Rule {
    id: "generic-profile",
    part: Part::Exchange,
    title: "The generic profile answers as the RFCs describe, never as Exchange does",
    text: "`tenant.server_profile = \"generic\"` makes the front doors behave as an RFC-minded \
           server: OAUTHBEARER (RFC 7628) is offered beside XOAUTH2, a refused token gets a base64 \
           JSON error challenge that the client answers with an empty line, and the failures are \
           the RFCs' (`535 5.7.8`, `NO [AUTHENTICATIONFAILED]`, `-ERR [AUTH]`). It exists to test \
           clients against the standards; Exchange Online never answers this way.",
    cases: &["oauthbearer-not-offered"],
    sources: &[
        "https://www.rfc-editor.org/rfc/rfc7628#section-3.2.2",
        "https://www.rfc-editor.org/rfc/rfc5530",
        "https://www.rfc-editor.org/rfc/rfc3206",
    ],
};

use std::time::Duration;

use base64::Engine as _;

/// How long a server waits for the client's answer to an error challenge before failing the
/// exchange anyway (some clients, mbsync among them, never answer).
pub(crate) const CHALLENGE_WAIT: Duration = Duration::from_secs(10);

/// The base64 error challenge: Gmail's XOAUTH2 form, or RFC 7628 §3.2.2's for OAUTHBEARER.
pub(crate) fn error_challenge(mechanism: &str, scope: &str) -> String {
    let json = if mechanism.eq_ignore_ascii_case("OAUTHBEARER") {
        format!(
            r#"{{"status":"invalid_token","scope":"{scope}","openid-configuration":"https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration"}}"#
        )
    } else {
        format!(r#"{{"status":"401","schemes":"bearer","scope":"{scope}"}}"#)
    };
    base64::engine::general_purpose::STANDARD.encode(json)
}

/// SMTP: RFC 4954 §6's `535 5.7.8`.
pub(crate) const SMTP_FAILED: &str = "535 5.7.8 Authentication credentials invalid";
/// IMAP: RFC 5530's `AUTHENTICATIONFAILED`.
pub(crate) const IMAP_FAILED: &str = "NO [AUTHENTICATIONFAILED] Authentication failed.";
/// POP3: RFC 3206's `[AUTH]`.
pub(crate) const POP3_FAILED: &str = "-ERR [AUTH] Authentication failed.";
/// SMTP's EHLO mechanisms.
pub(crate) const SMTP_AUTH: &str = "AUTH XOAUTH2 OAUTHBEARER";
