//! Token acquisition through the `oauth2` crate, against any authority: the simulated identity
//! platform or login.microsoftonline.com.
//!
//! Entra's diagnostics (`error_codes`, trace and correlation ids) are kept through a custom error
//! type (STACK.md gotcha 8). A denial is an outcome, not an `Err`: `Err` means the harness or the
//! network broke.

use std::fmt;
use std::time::Duration;

use oauth2::basic::{BasicRevocationErrorResponse, BasicTokenIntrospectionResponse, BasicTokenResponse};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    PkceCodeChallenge, RedirectUrl, RefreshToken, RequestTokenError, Scope, StandardRevocableToken,
    TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};

use crate::scenario::types::Flow;
use crate::secret::Secret;

/// Entra ID's v2 error body (FIDELITY.md rule 9).
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

type EntraClient = oauth2::Client<
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
}

/// What to ask for.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    /// The grant flow.
    pub flow: Flow,
    /// The scopes, in order.
    pub scopes: Vec<String>,
    /// The first sign-in's scopes (refresh-token flow); the case's scopes when absent.
    pub initial_scopes: Option<Vec<String>>,
}

/// How a token request ended.
#[derive(Debug, Clone)]
pub enum TokenOutcome {
    /// A token was issued.
    Issued(IssuedToken),
    /// The platform refused, at the named stage.
    Denied(Denial),
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
}

/// A refusal by the identity platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Denial {
    /// `authorize`, `token`, or `sign-in` (a client-side precondition failed).
    pub stage: &'static str,
    /// The HTTP status, when the harness saw it (an error page; the token endpoint's status is
    /// not passed through by the `oauth2` crate).
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
    /// The flow is not implemented by this harness yet.
    #[error("flow `{0}` is not supported yet")]
    Unsupported(&'static str),
}

/// Builds the HTTP client every flow uses: no redirects (the runner plays the browser and reads
/// them), a timeout, and the given extra trust roots on top of the web PKI.
pub fn http_client(extra_roots: &[Vec<u8>]) -> Result<oauth2::reqwest::Client, AcquireError> {
    let mut builder = oauth2::reqwest::Client::builder()
        .redirect(oauth2::reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30));
    for der in extra_roots {
        let certificate = oauth2::reqwest::Certificate::from_der(der)
            .map_err(|error| AcquireError::Http(error.to_string()))?;
        builder = builder.add_root_certificate(certificate);
    }
    builder
        .build()
        .map_err(|error| AcquireError::Http(error.to_string()))
}

/// Obtains a token for `request` from `authority`.
pub async fn acquire(
    http: &oauth2::reqwest::Client,
    authority: &Authority,
    request: &TokenRequest,
) -> Result<TokenOutcome, AcquireError> {
    let client = client(authority)?;
    match request.flow {
        Flow::AuthorizationCode => authorization_code(http, &client, &request.scopes, true).await,
        Flow::RefreshToken => {
            let initial = request.initial_scopes.as_ref().unwrap_or(&request.scopes);
            let first = match authorization_code(http, &client, initial, true).await? {
                TokenOutcome::Issued(token) => token,
                denied @ TokenOutcome::Denied(_) => return Ok(denied),
            };
            let Some(refresh_token) = first.refresh_token else {
                return Ok(TokenOutcome::Denied(Denial {
                    stage: "sign-in",
                    http_status: None,
                    error: EntraError {
                        error: "no_refresh_token".into(),
                        error_description: Some(
                            "the first sign-in returned no refresh token: `offline_access` was not among its scopes".into(),
                        ),
                        error_codes: Vec::new(),
                        trace_id: None,
                        correlation_id: None,
                        timestamp: None,
                    },
                }));
            };
            let refresh_token = RefreshToken::new(refresh_token.secret().to_owned());
            let response = client
                .exchange_refresh_token(&refresh_token)
                .add_scopes(request.scopes.iter().map(|scope| Scope::new(scope.clone())))
                .request_async(http)
                .await;
            token_outcome(response)
        }
        Flow::DeviceCode => Err(AcquireError::Unsupported("device_code")),
        Flow::ClientCredentials => Err(AcquireError::Unsupported("client_credentials")),
        Flow::Password => Err(AcquireError::Unsupported("password")),
    }
}

fn client(authority: &Authority) -> Result<EntraClient, AcquireError> {
    let base = authority.base.as_str().trim_end_matches('/');
    let segment = &authority.segment;
    let mut client = oauth2::Client::new(ClientId::new(authority.client_id.clone()))
        .set_auth_uri(AuthUrl::new(format!("{base}/{segment}/oauth2/v2.0/authorize"))?)
        .set_token_uri(TokenUrl::new(format!("{base}/{segment}/oauth2/v2.0/token"))?)
        .set_redirect_uri(RedirectUrl::new(authority.redirect_uri.clone())?)
        .set_auth_type(AuthType::RequestBody);
    if let Some(secret) = &authority.client_secret {
        client = client.set_client_secret(ClientSecret::new(secret.secret().to_owned()));
    }
    Ok(client)
}

/// Authorization code with PKCE (S256). The runner plays the browser: it follows the authorize
/// URL without a person, reads the redirect, and checks the `state`.
async fn authorization_code(
    http: &oauth2::reqwest::Client,
    client: &EntraClient,
    scopes: &[String],
    send_scope_on_redemption: bool,
) -> Result<TokenOutcome, AcquireError> {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state) = client
        .authorize_url(CsrfToken::new_random)
        .add_scopes(scopes.iter().map(|scope| Scope::new(scope.clone())))
        .set_pkce_challenge(challenge)
        .url();
    let code = match follow_authorize(http, url, &state).await? {
        Ok(code) => code,
        Err(denial) => return Ok(TokenOutcome::Denied(denial)),
    };
    let mut exchange = client
        .exchange_code(AuthorizationCode::new(code.secret().to_owned()))
        .set_pkce_verifier(verifier);
    if send_scope_on_redemption {
        // Entra's v2 redemption takes `scope`; the crate's code request has no add_scope.
        exchange = exchange.add_extra_param("scope", scopes.join(" "));
    }
    token_outcome(exchange.request_async(http).await)
}

async fn follow_authorize(
    http: &oauth2::reqwest::Client,
    url: url::Url,
    state: &CsrfToken,
) -> Result<Result<Secret, Denial>, AcquireError> {
    let response = http
        .get(url.as_str())
        .send()
        .await
        .map_err(|error| AcquireError::Http(error.to_string()))?;
    let status = response.status();
    let location = response
        .headers()
        .get("location")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let Some(location) = location else {
        let body = response.text().await.unwrap_or_default();
        return match error_from_page(&body) {
            Some(error) => Ok(Err(Denial {
                stage: "authorize",
                http_status: Some(status.as_u16()),
                error,
            })),
            None => Err(AcquireError::Authorize(format!(
                "HTTP {status} without a redirect"
            ))),
        };
    };
    let redirect = url::Url::parse(&location)?;
    let parameter = |name: &str| {
        redirect
            .query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    };
    if parameter("state").as_deref() != Some(state.secret().as_str()) {
        return Err(AcquireError::Authorize(
            "a redirect whose state does not match the request".into(),
        ));
    }
    if let Some(error) = parameter("error") {
        let description = parameter("error_description");
        return Ok(Err(Denial {
            stage: "authorize",
            http_status: None,
            error: EntraError {
                error,
                error_codes: description.as_deref().and_then(aadsts_code).into_iter().collect(),
                error_description: description,
                trace_id: None,
                correlation_id: None,
                timestamp: None,
            },
        }));
    }
    let code =
        parameter("code").ok_or_else(|| AcquireError::Authorize("a redirect without a code".into()))?;
    Ok(Ok(Secret::new("authorization-code", code)))
}

/// Reads `AADSTSnnnn: text` out of an error page.
fn error_from_page(body: &str) -> Option<EntraError> {
    let start = body.find("AADSTS")?;
    let headline: String = body[start..]
        .chars()
        .take_while(|&c| c != '<' && c != '\n')
        .collect();
    Some(EntraError {
        error: "error_page".into(),
        error_codes: aadsts_code(&headline).into_iter().collect(),
        error_description: Some(headline),
        trace_id: None,
        correlation_id: None,
        timestamp: None,
    })
}

fn aadsts_code(text: &str) -> Option<u32> {
    let digits: String = text
        .strip_prefix("AADSTS")?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

type TokenResult = Result<
    BasicTokenResponse,
    RequestTokenError<oauth2::HttpClientError<oauth2::reqwest::Error>, EntraError>,
>;

fn token_outcome(response: TokenResult) -> Result<TokenOutcome, AcquireError> {
    match response {
        Ok(token) => Ok(TokenOutcome::Issued(IssuedToken {
            access_token: Secret::new("access-token", token.access_token().secret().clone()),
            scope: token.scopes().map(|scopes| {
                scopes
                    .iter()
                    .map(|scope| scope.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            }),
            refresh_token: token
                .refresh_token()
                .map(|refresh| Secret::new("refresh-token", refresh.secret().clone())),
            expires_in: token.expires_in().map(|duration| duration.as_secs()),
        })),
        Err(RequestTokenError::ServerResponse(error)) => Ok(TokenOutcome::Denied(Denial {
            stage: "token",
            http_status: None,
            error,
        })),
        Err(error) => Err(AcquireError::Http(error_chain(&error))),
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_codes_from_descriptions_and_pages() {
        assert_eq!(aadsts_code("AADSTS28000: Provided value"), Some(28000));
        let error = error_from_page("<p>AADSTS50011: The redirect URI 'x' ...</p>").unwrap();
        assert_eq!(error.error_codes, vec![50011]);
        assert_eq!(
            error.error_description.as_deref(),
            Some("AADSTS50011: The redirect URI 'x' ...")
        );
    }
}
