//! Token acquisition through the `oauth2` crate, against any authority: the simulated identity
//! platform or login.microsoftonline.com.
//!
//! Entra's diagnostics (`error_codes`, trace and correlation ids) are kept through a custom error
//! type (STACK.md gotcha 8). A denial is an outcome, not an `Err`: `Err` means the harness or the
//! network broke.

use std::fmt;
use std::pin::Pin;

use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncReadExt as _;

use mailscope_mocks::clock::Clock;
use oauth2::basic::{BasicRevocationErrorResponse, BasicTokenIntrospectionResponse, BasicTokenResponse};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, DeviceAuthorizationUrl,
    EndpointNotSet, EndpointSet, PkceCodeChallenge, RedirectUrl, RefreshToken, RequestTokenError,
    ResourceOwnerPassword, ResourceOwnerUsername, Scope, StandardDeviceAuthorizationResponse,
    StandardRevocableToken, TokenResponse, TokenUrl,
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
    /// How the authorization code is obtained.
    pub sign_in: SignIn,
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
    },
}

impl Authority {
    fn endpoint(&self, segment: &str, name: &str) -> String {
        format!(
            "{}/{segment}/oauth2/v2.0/{name}",
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

/// What to ask for.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    /// The grant flow.
    pub flow: Flow,
    /// The scopes, in order.
    pub scopes: Vec<String>,
    /// The first sign-in's scopes (refresh-token flow); the case's scopes when absent.
    pub initial_scopes: Option<Vec<String>>,
    /// The scopes sent to `/authorize`, when not those redeemed.
    pub authorize_scopes: Option<Vec<String>>,
    /// Refresh-token flow: days the refresh token lies unused before it is redeemed.
    pub refresh_after_days: Option<u32>,
    /// Refresh-token flow: the path segment the refresh token is redeemed at, when not the sign-in's.
    pub refresh_segment: Option<String>,
    /// ROPC credentials.
    pub resource_owner: Option<ResourceOwner>,
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
    async fn wait(&self, duration: Duration) {
        match self {
            Self::Real => tokio::time::sleep(duration).await,
            Self::Simulated(clock) => clock.advance(i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)),
        }
    }

    fn now(&self) -> chrono::DateTime<chrono::Utc> {
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
    /// `authorize`, `devicecode`, `token`, or `sign-in` (a client-side precondition failed).
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

/// An HTTP client for the `oauth2` crate that remembers the last response. The crate turns
/// device-code polling errors into its own type, dropping Entra's `error_codes` (STACK.md
/// gotcha 8), and passes no status through; the raw response keeps both.
struct RecordingClient {
    http: oauth2::reqwest::Client,
    last: Mutex<Option<(u16, Vec<u8>)>>,
}

impl RecordingClient {
    fn new(http: &oauth2::reqwest::Client) -> Self {
        Self {
            http: http.clone(),
            last: Mutex::new(None),
        }
    }

    fn last(&self) -> Option<(u16, Vec<u8>)> {
        self.last.lock().map(|last| last.clone()).unwrap_or_default()
    }

    /// The last response as an Entra error, if it was one.
    fn last_error(&self) -> Option<(u16, EntraError)> {
        let (status, body) = self.last()?;
        let error = serde_json::from_slice(&body).ok()?;
        (status >= 400).then_some((status, error))
    }
}

impl<'c> oauth2::AsyncHttpClient<'c> for RecordingClient {
    type Error = oauth2::HttpClientError<oauth2::reqwest::Error>;
    type Future = Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse, Self::Error>> + Send + 'c>>;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(async move {
            // Bounded retries with backoff on throttling and server errors, honouring Retry-After.
            let mut attempt = 0u32;
            let response = loop {
                let response = self.http.call(request.clone()).await?;
                let status = response.status().as_u16();
                attempt += 1;
                if !(status == 429 || status >= 500) || attempt >= MAX_ATTEMPTS {
                    break response;
                }
                let wait = response
                    .headers()
                    .get("retry-after")
                    .and_then(|value| value.to_str().ok())
                    .and_then(|value| value.trim().parse::<u64>().ok())
                    .unwrap_or(1 << attempt)
                    .min(30);
                progress(&format!(
                    "the identity platform answered HTTP {status}; retrying in {wait} s"
                ));
                tokio::time::sleep(Duration::from_secs(wait)).await;
            };
            if let Ok(mut last) = self.last.lock() {
                *last = Some((response.status().as_u16(), response.body().clone()));
            }
            Ok(response)
        })
    }
}

/// Obtains a token for `request` from `authority`.
pub async fn acquire(
    http: &oauth2::reqwest::Client,
    authority: &Authority,
    request: &TokenRequest,
    waiting: &Waiting,
) -> Result<TokenOutcome, AcquireError> {
    let recording = RecordingClient::new(http);
    let client = client(authority, &authority.segment)?;
    let scopes = || request.scopes.iter().map(|scope| Scope::new(scope.clone()));
    match request.flow {
        Flow::AuthorizationCode => {
            if let Some(outcome) = from_cache(&recording, authority, request).await? {
                return Ok(outcome);
            }
            let authorize = request.authorize_scopes.as_ref().unwrap_or(&request.scopes);
            let outcome = authorization_code(http, &recording, authority, authorize, &request.scopes).await?;
            remember(authority, &outcome);
            Ok(outcome)
        }
        Flow::RefreshToken => refresh_token(http, &recording, authority, request, waiting).await,
        Flow::ClientCredentials => {
            let response = client
                .exchange_client_credentials()
                .add_scopes(scopes())
                .request_async(&recording)
                .await;
            token_outcome(response, &recording)
        }
        Flow::Password => {
            let owner = request.resource_owner.as_ref().ok_or(AcquireError::Unsupported(
                "the password flow needs the user's password",
            ))?;
            let username = ResourceOwnerUsername::new(owner.username.clone());
            let password = ResourceOwnerPassword::new(owner.password.secret().to_owned());
            let response = client
                .exchange_password(&username, &password)
                .add_scopes(scopes())
                .request_async(&recording)
                .await;
            token_outcome(response, &recording)
        }
        Flow::DeviceCode => device_code(&recording, authority, request, waiting).await,
    }
}

fn cache_key(authority: &Authority, user: &str) -> String {
    format!(
        "{}|{}|{}|{user}",
        authority.base, authority.segment, authority.client_id
    )
}

/// Saves the refresh token an interactive sign-in returned.
fn remember(authority: &Authority, outcome: &TokenOutcome) {
    if let (
        Some((cache, user)),
        TokenOutcome::Issued(IssuedToken {
            refresh_token: Some(token),
            ..
        }),
    ) = (&authority.cache, outcome)
        && let Err(error) = cache.put(&cache_key(authority, user), token)
    {
        progress(&format!("the token cache could not be written: {error}"));
    }
}

/// Serves an authorization-code case from the cached refresh token when Microsoft allows it: the
/// scopes name one resource (a redemption and a refresh then answer alike), and the user has
/// consented already. Anything else, or any refusal, falls back to an interactive sign-in.
async fn from_cache(
    recording: &RecordingClient,
    authority: &Authority,
    request: &TokenRequest,
) -> Result<Option<TokenOutcome>, AcquireError> {
    let Some((cache, user)) = &authority.cache else {
        return Ok(None);
    };
    if request.authorize_scopes.is_some() || !names_one_resource(&request.scopes) {
        return Ok(None);
    }
    let Some(refresh_token) = cache.get(&cache_key(authority, user)) else {
        return Ok(None);
    };
    let client = client(authority, &authority.segment)?;
    let response = client
        .exchange_refresh_token(&RefreshToken::new(refresh_token.secret().to_owned()))
        .add_scopes(request.scopes.iter().map(|scope| Scope::new(scope.clone())))
        .request_async(recording)
        .await;
    match token_outcome(response, recording)? {
        issued @ TokenOutcome::Issued(_) => {
            remember(authority, &issued);
            Ok(Some(issued))
        }
        TokenOutcome::Denied(_) => Ok(None),
    }
}

/// True when every permission scope names the same resource (bare scopes mean Graph).
fn names_one_resource(scopes: &[String]) -> bool {
    use mailscope_mocks::token::{Scope as Parsed, ScopeKind};
    let mut apis = scopes
        .iter()
        .filter_map(|scope| match Parsed::parse(scope).kind() {
            ScopeKind::Permission { resource, .. } => Some(resource.api()),
            ScopeKind::Oidc(_) => None,
        });
    match apis.next() {
        Some(Some(first)) => apis.all(|api| api == Some(first)),
        _ => false,
    }
}

async fn refresh_token(
    http: &oauth2::reqwest::Client,
    recording: &RecordingClient,
    authority: &Authority,
    request: &TokenRequest,
    waiting: &Waiting,
) -> Result<TokenOutcome, AcquireError> {
    let initial = request.initial_scopes.as_ref().unwrap_or(&request.scopes);
    let authorize = request.authorize_scopes.as_ref().unwrap_or(initial);
    let first = match authorization_code(http, recording, authority, authorize, initial).await? {
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
                    "the first sign-in returned no refresh token: `offline_access` was not among its scopes"
                        .into(),
                ),
                error_codes: Vec::new(),
                trace_id: None,
                correlation_id: None,
                timestamp: None,
                suberror: None,
            },
        }));
    };
    if let Some(days) = request.refresh_after_days {
        if matches!(waiting, Waiting::Real) {
            return Err(AcquireError::Unsupported(
                "`refresh_after_days` needs the simulated target",
            ));
        }
        waiting.wait(Duration::from_secs(u64::from(days) * 86_400)).await;
    }
    let segment = request.refresh_segment.as_deref().unwrap_or(&authority.segment);
    let refresh_client = self::client(authority, segment)?;
    let refresh_token = RefreshToken::new(refresh_token.secret().to_owned());
    let response = refresh_client
        .exchange_refresh_token(&refresh_token)
        .add_scopes(request.scopes.iter().map(|scope| Scope::new(scope.clone())))
        .request_async(recording)
        .await;
    token_outcome(response, recording)
}

/// The device authorization grant: the simulated user answers on "another device"; the harness
/// polls at the interval the platform asks for (RFC 8628 §3.4, §3.5).
async fn device_code(
    recording: &RecordingClient,
    authority: &Authority,
    request: &TokenRequest,
    waiting: &Waiting,
) -> Result<TokenOutcome, AcquireError> {
    let device_url = DeviceAuthorizationUrl::new(authority.endpoint(&authority.segment, "devicecode"))?;
    let client = client(authority, &authority.segment)?.set_device_authorization_url(device_url);
    let details: StandardDeviceAuthorizationResponse = match client
        .exchange_device_code()
        .add_scopes(request.scopes.iter().map(|scope| Scope::new(scope.clone())))
        .request_async(recording)
        .await
    {
        Ok(details) => details,
        Err(RequestTokenError::ServerResponse(error)) => {
            return Ok(TokenOutcome::Denied(Denial {
                stage: "devicecode",
                http_status: recording.last().map(|(status, _)| status),
                error,
            }));
        }
        Err(error) => return Err(AcquireError::Http(error_chain(&error))),
    };
    if matches!(waiting, Waiting::Real) {
        // A person must enter the code: show the platform's own message (it names the URL).
        progress(&format!(
            "To sign in, open {} and enter the code {} (polling every {} s).",
            details.verification_uri().as_str(),
            details.user_code().secret(),
            details.interval().as_secs()
        ));
    }
    let clock = waiting.clone();
    let response = client
        .exchange_device_access_token(&details)
        .set_time_fn(move || clock.now())
        .request_async(recording, |interval| waiting.wait(interval), None)
        .await;
    match response {
        Ok(token) => Ok(issued(&token)),
        Err(RequestTokenError::ServerResponse(_)) => match recording.last_error() {
            Some((status, error)) => Ok(TokenOutcome::Denied(Denial {
                stage: "token",
                http_status: Some(status),
                error,
            })),
            None => Err(AcquireError::Http(
                "the device code expired before the platform answered".into(),
            )),
        },
        Err(error) => Err(AcquireError::Http(error_chain(&error))),
    }
}

fn client(authority: &Authority, segment: &str) -> Result<EntraClient, AcquireError> {
    let mut client = oauth2::Client::new(ClientId::new(authority.client_id.clone()))
        .set_auth_uri(AuthUrl::new(authority.endpoint(segment, "authorize"))?)
        .set_token_uri(TokenUrl::new(authority.endpoint(segment, "token"))?)
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
    recording: &RecordingClient,
    authority: &Authority,
    authorize_scopes: &[String],
    redeem_scopes: &[String],
) -> Result<TokenOutcome, AcquireError> {
    // A loopback sign-in binds its listener first: the redirect URI names its port.
    let (listener, client) = match authority.sign_in {
        SignIn::Simulated => (None, client(authority, &authority.segment)?),
        SignIn::Loopback { port, .. } => {
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
                .await
                .map_err(|error| AcquireError::Http(format!("binding the redirect listener: {error}")))?;
            let port = listener
                .local_addr()
                .map_err(|error| AcquireError::Http(error.to_string()))?
                .port();
            let loopback = Authority {
                redirect_uri: format!("http://localhost:{port}"),
                ..authority.clone()
            };
            (Some(listener), self::client(&loopback, &authority.segment)?)
        }
    };
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state) = client
        .authorize_url(CsrfToken::new_random)
        .add_scopes(authorize_scopes.iter().map(|scope| Scope::new(scope.clone())))
        .set_pkce_challenge(challenge)
        .url();
    let signed_in = match (authority.sign_in, listener) {
        (SignIn::Loopback { browser, .. }, Some(listener)) => {
            loopback_sign_in(http, url, &state, browser, listener).await?
        }
        _ => follow_authorize(http, url, &state).await?,
    };
    let code = match signed_in {
        Ok(code) => code,
        Err(denial) => return Ok(TokenOutcome::Denied(denial)),
    };
    let mut exchange = client
        .exchange_code(AuthorizationCode::new(code.secret().to_owned()))
        .set_pkce_verifier(verifier);
    // Entra's v2 redemption takes `scope`; the crate's code request has no add_scope. No scopes
    // means no parameter, as clients that omit it send (fidelity: code-redemption-empty-scope).
    if !redeem_scopes.is_empty() {
        exchange = exchange.add_extra_param("scope", redeem_scopes.join(" "));
    }
    token_outcome(exchange.request_async(recording).await, recording)
}

/// Token requests are tried at most this many times on HTTP 429 and 5xx.
const MAX_ATTEMPTS: u32 = 3;

/// How long a person has to sign in before the harness gives up.
const SIGN_IN_TIMEOUT: Duration = Duration::from_secs(300);

/// Shows the authorize URL (or, with `follow`, plays the browser against a simulated platform),
/// then waits for the redirect on the loopback listener.
async fn loopback_sign_in(
    http: &oauth2::reqwest::Client,
    url: url::Url,
    state: &CsrfToken,
    browser: crate::live::Browser,
    listener: tokio::net::TcpListener,
) -> Result<Result<Secret, Denial>, AcquireError> {
    use crate::live::Browser;
    let waiting = tokio::spawn(async move { receive_redirect(listener).await });
    progress("signing in through the loopback redirect listener");
    match browser {
        Browser::Follow => {
            let location = match authorize_redirect(http, &url).await {
                Ok(Ok(location)) => location,
                Ok(Err(denial)) => {
                    waiting.abort();
                    return Ok(Err(denial));
                }
                Err(error) => {
                    waiting.abort();
                    return Err(error);
                }
            };
            // Deliver the redirect to our own listener, as the browser would.
            let _ = http.get(location.as_str()).send().await;
        }
        Browser::Print | Browser::System => {
            progress(&format!(
                "Sign in at this address; the harness waits for the redirect:\n  {url}"
            ));
            if browser == Browser::System {
                let _ = std::process::Command::new(if cfg!(target_os = "macos") {
                    "open"
                } else {
                    "xdg-open"
                })
                .arg(url.as_str())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn();
            }
        }
    }
    let redirect = tokio::time::timeout(SIGN_IN_TIMEOUT, waiting)
        .await
        .map_err(|_| AcquireError::Authorize(format!("no sign-in within {SIGN_IN_TIMEOUT:?}")))?
        .map_err(|error| AcquireError::Authorize(error.to_string()))??;
    read_redirect(&redirect, state)
}

/// Accepts the browser's one request on the redirect listener and answers it with a page.
async fn receive_redirect(listener: tokio::net::TcpListener) -> Result<url::Url, AcquireError> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    loop {
        let (stream, _) = listener
            .accept()
            .await
            .map_err(|error| AcquireError::Http(error.to_string()))?;
        let mut reader = tokio::io::BufReader::new(stream);
        let mut request_line = String::new();
        let read = (&mut reader).take(8192).read_line(&mut request_line).await;
        let target = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        let page = "<!DOCTYPE html><html><body><p>mailscope received the sign-in. You can close this window.</p></body></html>";
        let _ = reader
            .get_mut()
            .write_all(
                format!("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}", page.len())
                    .as_bytes(),
            )
            .await;
        // Browsers also ask for /favicon.ico; only the redirect carries a query.
        if read.is_ok() && target.contains('?') {
            return Ok(url::Url::parse(&format!("http://localhost{target}"))?);
        }
    }
}

/// Reports progress on the terminal for interactive runs.
#[expect(clippy::print_stderr, reason = "interactive progress goes to standard error")]
pub fn progress(message: &str) {
    eprintln!("{message}");
}

async fn follow_authorize(
    http: &oauth2::reqwest::Client,
    url: url::Url,
    state: &CsrfToken,
) -> Result<Result<Secret, Denial>, AcquireError> {
    match authorize_redirect(http, &url).await? {
        Ok(location) => read_redirect(&location, state),
        Err(denial) => Ok(Err(denial)),
    }
}

/// Requests the authorize URL as a browser would, without following: the redirect's target, or
/// the denial an error page shows.
async fn authorize_redirect(
    http: &oauth2::reqwest::Client,
    url: &url::Url,
) -> Result<Result<url::Url, Denial>, AcquireError> {
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
    if let Some(location) = location {
        return Ok(Ok(url::Url::parse(&location)?));
    }
    let body = response.text().await.unwrap_or_default();
    match error_from_page(&body) {
        Some(error) => Ok(Err(Denial {
            stage: "authorize",
            http_status: Some(status.as_u16()),
            error,
        })),
        None => Err(AcquireError::Authorize(format!(
            "HTTP {status} without a redirect"
        ))),
    }
}

/// Reads the code, or the error, from the redirect back to the app.
fn read_redirect(redirect: &url::Url, state: &CsrfToken) -> Result<Result<Secret, Denial>, AcquireError> {
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
        let description = parameter("error_description").unwrap_or_default();
        // The redirect carries only the description; its trailing lines hold the ids.
        let line = |label: &str| {
            description.lines().find_map(|line| {
                line.trim()
                    .strip_prefix(label)
                    .map(|value| value.trim().to_owned())
            })
        };
        return Ok(Err(Denial {
            stage: "authorize",
            http_status: None,
            error: EntraError {
                error,
                error_codes: aadsts_code(&description).into_iter().collect(),
                trace_id: line("Trace ID:"),
                correlation_id: line("Correlation ID:"),
                timestamp: line("Timestamp:"),
                suberror: None,
                error_description: Some(description),
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
        suberror: None,
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

fn token_outcome(response: TokenResult, recording: &RecordingClient) -> Result<TokenOutcome, AcquireError> {
    match response {
        Ok(token) => Ok(issued(&token)),
        Err(RequestTokenError::ServerResponse(error)) => Ok(TokenOutcome::Denied(Denial {
            stage: "token",
            http_status: recording.last().map(|(status, _)| status),
            error,
        })),
        Err(error) => Err(AcquireError::Http(error_chain(&error))),
    }
}

fn issued(token: &BasicTokenResponse) -> TokenOutcome {
    TokenOutcome::Issued(IssuedToken {
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
    })
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
