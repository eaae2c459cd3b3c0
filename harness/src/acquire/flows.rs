//! The grant flows through the `oauth2` crate, and the live token cache's use.

use std::time::Duration;

use oauth2::basic::BasicTokenResponse;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, DeviceAuthorizationUrl,
    PkceCodeChallenge, RedirectUrl, RefreshToken, RequestTokenError, ResourceOwnerPassword,
    ResourceOwnerUsername, Scope, StandardDeviceAuthorizationResponse, TokenResponse, TokenUrl,
};

use super::browser::{RedirectListener, authorize_redirect, loopback_redirect, read_code};
use super::http::{RecordingClient, error_chain, progress};
use super::types::{
    AcquireError, Authority, Denial, EntraClient, EntraError, IssuedToken, Obtained, SignIn, TokenOutcome,
    TokenRequest, Waiting,
};
use crate::scenario::types::Flow;
use crate::secret::Secret;

/// Runs the case's flow (the token cache first, for an authorization-code case).
pub(super) async fn run_flow(
    http: &oauth2::reqwest::Client,
    recording: &RecordingClient,
    authority: &Authority,
    request: &TokenRequest,
    waiting: &Waiting,
) -> Result<TokenOutcome, AcquireError> {
    let client = client(authority, &authority.segment)?;
    let scopes = || request.asked.scopes.iter().map(|scope| Scope::new(scope.clone()));
    match request.asked.flow {
        Flow::AuthorizationCode => {
            if let Some(outcome) = from_cache(recording, authority, request).await? {
                return Ok(outcome);
            }
            let authorize = request
                .asked
                .authorize_scopes
                .as_ref()
                .unwrap_or(&request.asked.scopes);
            let outcome =
                authorization_code(http, recording, authority, authorize, &request.asked.scopes).await?;
            remember(authority, &outcome);
            Ok(outcome)
        }
        Flow::RefreshToken => refresh_token(http, recording, authority, request, waiting).await,
        Flow::ClientCredentials => {
            let response = client
                .exchange_client_credentials()
                .add_scopes(scopes())
                .request_async(recording)
                .await;
            token_outcome(response, recording)
        }
        Flow::Password => {
            let owner = request.resource_owner.as_ref().ok_or(AcquireError::Unsupported(
                "the password flow needs the user's password",
            ))?;
            let username = ResourceOwnerUsername::new(owner.username.clone());
            let password = ResourceOwnerPassword::new(owner.password.secret().to_owned());
            if let Some(resource) = &request.asked.resource {
                let v1 =
                    client.set_token_uri(TokenUrl::new(authority.v1_token_endpoint(&authority.segment))?);
                let response = v1
                    .exchange_password(&username, &password)
                    .add_scopes(scopes())
                    .add_extra_param("resource", resource.clone())
                    .request_async(recording)
                    .await;
                return v1_token_outcome(response, recording);
            }
            let response = client
                .exchange_password(&username, &password)
                .add_scopes(scopes())
                .request_async(recording)
                .await;
            token_outcome(response, recording)
        }
        Flow::DeviceCode => device_code(recording, authority, request, waiting).await,
        Flow::None => Ok(TokenOutcome::NotRequested),
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
    if request.asked.authorize_scopes.is_some() || !names_one_resource(&request.asked.scopes) {
        return Ok(None);
    }
    let Some(refresh_token) = cache.get(&cache_key(authority, user)) else {
        return Ok(None);
    };
    let client = client(authority, &authority.segment)?;
    let response = client
        .exchange_refresh_token(&RefreshToken::new(refresh_token.secret().to_owned()))
        .add_scopes(request.asked.scopes.iter().map(|scope| Scope::new(scope.clone())))
        .request_async(recording)
        .await;
    match token_outcome(response, recording)? {
        TokenOutcome::Issued(mut issued) => {
            issued.obtained = Obtained::CachedRefresh;
            let issued = TokenOutcome::Issued(issued);
            remember(authority, &issued);
            Ok(Some(issued))
        }
        TokenOutcome::Denied(denial) => {
            let code = denial.code();
            if request.expected_error.as_deref() == Some(code.as_str()) {
                // The refusal this case is about: Entra's answer, which a sign-in must not hide.
                return Ok(Some(TokenOutcome::Denied(denial)));
            }
            if denial
                .error
                .error_codes
                .iter()
                .any(|code| REFRESH_TOKEN_GONE.contains(code))
            {
                if let Err(error) = cache.remove(&cache_key(authority, user)) {
                    progress(&format!("the token cache could not be written: {error}"));
                }
                progress(&format!(
                    "the token cache's refresh token was refused ({code}): it is removed, and the case signs in again"
                ));
            }
            Ok(None)
        }
        TokenOutcome::NotRequested => Ok(None),
    }
}

/// Refusals that mean a refresh token will never work again: revoked or the password changed
/// (AADSTS50173), unused too long (700082), older than a sign-in frequency policy allows (70043),
/// not a token Entra knows (9002313), expired (70008). The cache forgets such a token at once.
const REFRESH_TOKEN_GONE: [u32; 5] = [50173, 700082, 70043, 9002313, 70008];

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
    let initial = request
        .asked
        .initial_scopes
        .as_ref()
        .unwrap_or(&request.asked.scopes);
    let authorize = request.asked.authorize_scopes.as_ref().unwrap_or(initial);
    let first = match authorization_code(http, recording, authority, authorize, initial).await? {
        TokenOutcome::Issued(token) => token,
        other @ (TokenOutcome::Denied(_) | TokenOutcome::NotRequested) => return Ok(other),
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
    if let Some(days) = request.asked.refresh_after_days {
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
        .add_scopes(request.asked.scopes.iter().map(|scope| Scope::new(scope.clone())))
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
        .add_scopes(request.asked.scopes.iter().map(|scope| Scope::new(scope.clone())))
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
    // The crate's own deadline (its first poll plus `expires_in`) falls a round trip after the
    // platform's (from its answer at /devicecode): polling a little past it lets Entra say
    // `expired_token` itself, so the outcome is Entra's answer and not the crate's timer.
    let past_expiry = details.expires_in() + details.interval() * 2 + Duration::from_secs(5);
    let response = client
        .exchange_device_access_token(&details)
        .set_time_fn(move || clock.now())
        .request_async(recording, |interval| waiting.wait(interval), Some(past_expiry))
        .await;
    match response {
        Ok(token) => Ok(issued(&token)),
        Err(RequestTokenError::ServerResponse(error)) => match recording.last_error() {
            Some((status, last))
                if *error.error() != oauth2::DeviceCodeErrorResponseType::ExpiredToken
                    || last.error == "expired_token" =>
            {
                Ok(TokenOutcome::Denied(Denial {
                    stage: "token",
                    http_status: Some(status),
                    error: last,
                }))
            }
            _ => Err(AcquireError::Http(format!(
                "the device code was still pending {} s after its expiry, and the platform never said `expired_token`",
                past_expiry.saturating_sub(details.expires_in()).as_secs()
            ))),
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
    let (listener, redirect_uri) = redirect_listener(authority).await?;
    let client = self::client(
        &Authority {
            redirect_uri,
            ..authority.clone()
        },
        &authority.segment,
    )?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut authorize = client
        .authorize_url(CsrfToken::new_random)
        .add_scopes(authorize_scopes.iter().map(|scope| Scope::new(scope.clone())))
        .set_pkce_challenge(challenge);
    if let Some(hint) = &authority.login_hint {
        authorize = authorize.add_extra_param("login_hint", hint.clone());
    }
    let (url, state) = authorize.url();
    let signed_in = match browse(http, authority, url, listener, &state).await? {
        Ok(redirect) => read_code(&redirect, &state)?,
        Err(denial) => Err(denial),
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

/// Where the browser is sent back to: the registered redirect URI when the harness plays the
/// browser, or a loopback listener bound first, since the redirect URI names its port.
pub(super) async fn redirect_listener(
    authority: &Authority,
) -> Result<(Option<RedirectListener>, String), AcquireError> {
    match authority.sign_in {
        SignIn::Simulated => Ok((None, authority.redirect_uri.clone())),
        SignIn::Loopback { port, .. } => {
            let listener = RedirectListener::bind(port).await?;
            let port = listener.port;
            Ok((Some(listener), format!("http://localhost:{port}")))
        }
    }
}

/// Sends the browser (a person's, or the harness playing one) to `url`; returns the redirect back.
pub(super) async fn browse(
    http: &oauth2::reqwest::Client,
    authority: &Authority,
    url: url::Url,
    listener: Option<RedirectListener>,
    state: &CsrfToken,
) -> Result<Result<url::Url, Denial>, AcquireError> {
    match (authority.sign_in, listener) {
        (
            SignIn::Loopback {
                browser,
                sign_in_timeout,
                ..
            },
            Some(listener),
        ) => loopback_redirect(http, url, browser, sign_in_timeout, listener, state.secret()).await,
        _ => authorize_redirect(http, &url).await,
    }
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

/// The v1.0 endpoint's answer. Its numbers are strings (`"expires_in": "3599"`), which RFC 6749
/// §5.1 clients such as the `oauth2` crate refuse to parse; the body is read here instead.
fn v1_token_outcome(
    response: TokenResult,
    recording: &RecordingClient,
) -> Result<TokenOutcome, AcquireError> {
    #[derive(serde::Deserialize)]
    struct V1Response {
        access_token: String,
        scope: Option<String>,
        refresh_token: Option<String>,
        expires_in: Option<String>,
    }
    let Err(RequestTokenError::Parse(_, body)) = response else {
        return token_outcome(response, recording);
    };
    let v1: V1Response = serde_json::from_slice(&body)
        .map_err(|error| AcquireError::Http(format!("the v1.0 token response: {error}")))?;
    Ok(TokenOutcome::Issued(IssuedToken {
        access_token: Secret::new("access-token", v1.access_token),
        scope: v1.scope,
        refresh_token: v1
            .refresh_token
            .map(|refresh| Secret::new("refresh-token", refresh)),
        expires_in: v1.expires_in.and_then(|seconds| seconds.parse().ok()),
        obtained: Obtained::Flow,
    }))
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
        obtained: Obtained::Flow,
    })
}
