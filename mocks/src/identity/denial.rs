//! A refusal of the identity platform and the v2 error body it becomes (rule `error-shape`).
//! The refusals themselves, with their sources, are in `errors.rs`.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::macros::format_description;

use crate::decision::{Part, Rule};
use crate::ids::IdSource;

/// Rule: errors have Entra's v2 JSON shape.
pub const ERROR_SHAPE: Rule = Rule {
    id: "error-shape",
    part: Part::Identity,
    title: "Refusals are Entra's v2 error JSON, with deterministic ids",
    text: "Every refusal of the token endpoint is an HTTP 400 (401 for a client that failed to \
           authenticate) with a JSON body: `error`, `error_description` (`AADSTSnnnn: text`, then \
           `Trace ID`, `Correlation ID` and `Timestamp` lines separated by CRLF), `error_codes`, \
           `timestamp`, `trace_id`, `correlation_id` and `error_uri`. Browser legs carry `error` and \
           `error_description` back to the redirect URI, or show an error page when the redirect \
           URI cannot be trusted. The simulation derives trace and correlation ids from a counter, \
           so a snapshot is the same in every run.",
    cases: &["token-error-json-shape"],
    sources: &["https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes"],
};

/// An OAuth 2.0 `error` value ([RFC 6749 §5.2](https://www.rfc-editor.org/rfc/rfc6749#section-5.2),
/// [RFC 8628 §3.5](https://www.rfc-editor.org/rfc/rfc8628#section-3.5)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OAuthError {
    /// `invalid_request`.
    InvalidRequest,
    /// `invalid_client`.
    InvalidClient,
    /// `invalid_grant`.
    InvalidGrant,
    /// `unauthorized_client`.
    UnauthorizedClient,
    /// `unsupported_grant_type`.
    UnsupportedGrantType,
    /// `invalid_scope`.
    InvalidScope,
    /// `interaction_required`.
    InteractionRequired,
    /// `authorization_pending` (device code).
    AuthorizationPending,
    /// `authorization_declined` (device code).
    AuthorizationDeclined,
    /// `expired_token` (device code).
    ExpiredToken,
    /// `bad_verification_code` (device code).
    BadVerificationCode,
    /// `slow_down` (device code).
    SlowDown,
}

impl OAuthError {
    /// Returns the wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::InteractionRequired => "interaction_required",
            Self::AuthorizationPending => "authorization_pending",
            Self::AuthorizationDeclined => "authorization_declined",
            Self::ExpiredToken => "expired_token",
            Self::BadVerificationCode => "bad_verification_code",
            Self::SlowDown => "slow_down",
        }
    }
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refused token or authorization request: what the error body will say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    /// HTTP status: 400, or 401 for `invalid_client`.
    pub status: u16,
    /// The OAuth `error` value.
    pub error: OAuthError,
    /// The AADSTS number; a few errors (a personal account at an organisations-only app) carry none.
    pub code: Option<u32>,
    /// The text after `AADSTSnnnn: `.
    pub message: String,
    /// A finer reason some errors carry (`token_expired`, `basic_action`).
    pub suberror: Option<&'static str>,
}

impl Denial {
    pub(crate) fn new(status: u16, error: OAuthError, code: u32, message: impl Into<String>) -> Self {
        Self {
            status,
            error,
            code: Some(code),
            message: message.into(),
            suberror: None,
        }
    }

    pub(crate) fn without_code(status: u16, error: OAuthError, message: impl Into<String>) -> Self {
        Self {
            status,
            error,
            code: None,
            message: message.into(),
            suberror: None,
        }
    }

    /// Returns the description's first line: `AADSTSnnnn: text`, or the text alone.
    pub fn headline(&self) -> String {
        match self.code {
            Some(code) => format!("AADSTS{code}: {}", self.message),
            None => self.message.clone(),
        }
    }

    /// Returns `AADSTS28000`, or the OAuth `error` when there is no code.
    pub fn code_name(&self) -> String {
        self.code
            .map_or_else(|| self.error.as_str().to_owned(), |code| format!("AADSTS{code}"))
    }

    /// Builds the v2 error body, with the next trace and correlation ids of `ids`.
    pub fn to_body(&self, ids: &IdSource, now: OffsetDateTime) -> ErrorBody {
        let timestamp = now
            .format(format_description!(
                "[year]-[month]-[day] [hour]:[minute]:[second]Z"
            ))
            .unwrap_or_default();
        let trace_id = ids.guid("trace");
        let correlation_id = ids.guid("correlation");
        ErrorBody {
            error: self.error.as_str().to_owned(),
            error_description: format!(
                "{}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {timestamp}",
                self.headline()
            ),
            error_codes: self.code.into_iter().collect(),
            timestamp,
            trace_id,
            correlation_id,
            error_uri: self
                .code
                .map(|code| format!("https://login.microsoftonline.com/error?code={code}")),
            suberror: self.suberror.map(str::to_owned),
        }
    }
}

/// The v2 error body, field for field as Entra sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The OAuth `error` value.
    pub error: String,
    /// `AADSTSnnnn: text` plus trace, correlation and timestamp lines.
    pub error_description: String,
    /// The AADSTS numbers.
    pub error_codes: Vec<u32>,
    /// `yyyy-mm-dd hh:mm:ssZ`.
    pub timestamp: String,
    /// Trace id, a GUID.
    pub trace_id: String,
    /// Correlation id, a GUID.
    pub correlation_id: String,
    /// A link to the error's page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_uri: Option<String>,
    /// A finer reason, on some errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suberror: Option<String>,
}
