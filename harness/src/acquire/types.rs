//! The vocabulary of token requests: Entra's error body, the authority and the sign-in, what is
//! asked, how it ended, and the harness's own errors.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use mailscope_mocks::clock::Clock;
use oauth2::basic::{BasicRevocationErrorResponse, BasicTokenIntrospectionResponse, BasicTokenResponse};
use oauth2::{EndpointNotSet, EndpointSet, StandardRevocableToken};
use serde::{Deserialize, Serialize};

use crate::scenario::Request;
use crate::secret::Secret;

/// Entra ID's v2 error body (rule `error-shape`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntraError {
    /// The OAuth `error`.
    pub error: String,
    /// `AADSTSnnnn: text` and the trace lines.
    #[serde(default)]
    pub error_description: Option<String>,
    /// The AADSTS numbers.
    #[serde(default)]
    pub error_codes: Vec<u32>,
    /// Trace id.
    #[serde(default)]
    pub trace_id: Option<String>,
    /// Correlation id.
    #[serde(default)]
    pub correlation_id: Option<String>,
    /// `yyyy-mm-dd hh:mm:ssZ`.
    #[serde(default)]
    pub timestamp: Option<String>,
    /// A finer reason, on some errors (`token_expired`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suberror: Option<String>,
}

impl fmt::Display for EntraError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.error)?;
        if let Some(description) = &self.error_description {
            write!(f, ": {}", description.lines().next().unwrap_or_default())?;
        }
        Ok(())
    }
}

impl oauth2::ErrorResponse for EntraError {}

pub(super) type EntraClient = oauth2::Client<
    EntraError,
    BasicTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// Where and as whom to ask for a token.
#[derive(Debug, Clone)]
pub struct Authority {
    /// `https://login.microsoftonline.com` or the simulated platform's base URL.
    pub base: url::Url,
    /// The path segment: `organizations`, `common`, `consumers` or a tenant id.
    pub segment: String,
    /// The app's client id.
    pub client_id: String,
    /// The app's secret, for a confidential client.
    pub client_secret: Option<Secret>,
    /// The registered redirect URI.
    pub redirect_uri: String,
    /// How the authorization code is obtained.
    pub sign_in: SignIn,
    /// `login_hint` on the authorize URL: the account the sign-in page is filled in with, so a
    /// browser's single sign-on does not pick another one.
    pub login_hint: Option<String>,
    /// Live runs: refresh tokens kept between cases and runs, with the user they belong to.
    pub cache: Option<(Arc<crate::cache::TokenCache>, String)>,
}

/// How the user's sign-in in a browser is played.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignIn {
    /// The simulated platform signs its user in without a person: the harness reads the redirect
    /// from the authorize response.
    Simulated,
    /// A loopback redirect listener on `http://localhost:PORT` (RFC 8252 §7.3) receives the code.
    Loopback {
        /// What shows the authorize URL to a person.
        browser: crate::live::Browser,
        /// The listener's port; 0 picks a free one.
        port: u16,
        /// How long a person has to sign in.
        sign_in_timeout: std::time::Duration,
    },
}

impl Authority {
    pub(super) fn endpoint(&self, segment: &str, name: &str) -> String {
        format!(
            "{}/{segment}/oauth2/v2.0/{name}",
            self.base.as_str().trim_end_matches('/')
        )
    }

    /// The admin consent endpoint, `{base}/{segment}/v2.0/adminconsent`.
    pub(super) fn admin_consent_endpoint(&self) -> String {
        format!(
            "{}/{}/v2.0/adminconsent",
            self.base.as_str().trim_end_matches('/'),
            self.segment
        )
    }

    /// The v1.0 token endpoint, `{base}/{segment}/oauth2/token`.
    pub(super) fn v1_token_endpoint(&self, segment: &str) -> String {
        format!(
            "{}/{segment}/oauth2/token",
            self.base.as_str().trim_end_matches('/')
        )
    }
}

/// The user's name and password, for ROPC.
#[derive(Debug, Clone)]
pub struct ResourceOwner {
    /// The user principal name.
    pub username: String,
    /// The password.
    pub password: Secret,
}

/// What to ask for: the case's request, and what the target adds to it.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    /// What the case asks for.
    pub asked: Request,
    /// Refresh-token flow: the path segment the refresh token is redeemed at, when not the sign-in's.
    pub refresh_segment: Option<String>,
    /// ROPC credentials.
    pub resource_owner: Option<ResourceOwner>,
    /// The refusal the case expects (`AADSTS65001`), if any: a cached refresh token that gets
    /// it has given the case its answer, and no new sign-in replaces it.
    pub expected_error: Option<String>,
}

/// How the harness waits: for real, or by moving the simulated cloud's clock.
#[derive(Debug, Clone)]
pub enum Waiting {
    /// Sleep on the wall clock (live targets).
    Real,
    /// Advance the simulated clock instead of sleeping: a device-code poll interval or 90 days of
    /// refresh-token inactivity take no time.
    Simulated(Clock),
}

impl Waiting {
    pub(super) async fn wait(&self, duration: Duration) {
        match self {
            Self::Real => tokio::time::sleep(duration).await,
            Self::Simulated(clock) => clock.advance(i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)),
        }
    }

    pub(super) fn now(&self) -> chrono::DateTime<chrono::Utc> {
        match self {
            Self::Real => chrono::Utc::now(),
            Self::Simulated(clock) => {
                chrono::DateTime::from_timestamp_millis(clock.now_millis()).unwrap_or_default()
            }
        }
    }
}

/// How a token request ended.
#[derive(Debug, Clone)]
pub enum TokenOutcome {
    /// A token was issued.
    Issued(IssuedToken),
    /// The platform refused, at the named stage.
    Denied(Denial),
    /// The case asked for no token (`flow = "none"`): its probes send passwords.
    NotRequested,
}

/// An issued access token and what came with it.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The access token.
    pub access_token: Secret,
    /// The response's `scope`.
    pub scope: Option<String>,
    /// A refresh token came too.
    pub refresh_token: Option<Secret>,
    /// `expires_in`.
    pub expires_in: Option<u64>,
    /// How it was obtained.
    pub obtained: Obtained,
}

/// How a live case's token was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Obtained {
    /// Through the case's own flow.
    Flow,
    /// By redeeming the token cache's refresh token.
    CachedRefresh,
    /// An earlier case of the run asked for the same and got it; the token is still valid.
    Reused,
}

/// A refusal by the identity platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Denial {
    /// `adminconsent`, `authorize`, `devicecode`, `token`, or `sign-in` (a client-side
    /// precondition failed).
    pub stage: &'static str,
    /// The HTTP status of the refusal, when it was an HTTP response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    /// The error body.
    pub error: EntraError,
}

impl Denial {
    /// Returns `AADSTS28000`, or the OAuth `error` when there is no code.
    pub fn code(&self) -> String {
        match self.error.error_codes.first() {
            Some(code) => format!("AADSTS{code}"),
            None => self.error.error.clone(),
        }
    }
}

/// Errors of the harness itself while asking for a token.
#[derive(Debug, thiserror::Error)]
pub enum AcquireError {
    /// A URL could not be built.
    #[error("invalid authority or redirect URL")]
    Url(#[from] url::ParseError),
    /// The HTTP exchange failed.
    #[error("token request failed: {0}")]
    Http(String),
    /// The authorize endpoint answered something a browser could not follow.
    #[error("the authorize endpoint answered {0}")]
    Authorize(String),
    /// The case needs something this target cannot give.
    #[error("{0}")]
    Unsupported(&'static str),
    /// The identity platform asked the run to slow down or stop (throttling, loop detection):
    /// no answer about the case.
    #[error("{0}")]
    Throttled(String),
}
