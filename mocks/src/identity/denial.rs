//! A refusal of the identity platform and the v2 error body it becomes (FIDELITY.md rule 9,
//! fidelity: token-error-json-shape). The refusals themselves, with their sources, are in
//! `errors.rs`.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::macros::format_description;

use crate::ids::IdSource;

/// A refused token or authorization request: what the error body will say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    /// HTTP status: 400, or 401 for `invalid_client`.
    pub status: u16,
    /// The OAuth `error` value.
    pub error: &'static str,
    /// The AADSTS number; a few errors (a personal account at an organisations-only app) carry none.
    pub code: Option<u32>,
    /// The text after `AADSTSnnnn: `.
    pub message: String,
    /// A finer reason some errors carry (`token_expired`).
    pub suberror: Option<&'static str>,
}

impl Denial {
    pub(super) fn new(status: u16, error: &'static str, code: u32, message: impl Into<String>) -> Self {
        Self {
            status,
            error,
            code: Some(code),
            message: message.into(),
            suberror: None,
        }
    }

    pub(super) fn without_code(status: u16, error: &'static str, message: impl Into<String>) -> Self {
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
            error: self.error.to_owned(),
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
