//! The identity platform's HTTP face: a wiremock `MockServer` whose responders parse requests,
//! ask the policy, and serialise grants and denials as Entra does.
//!
//! Endpoints: `/{tenant}/oauth2/v2.0/authorize`, `/{tenant}/oauth2/v2.0/token`,
//! `/{tenant}/oauth2/v2.0/devicecode`, `/{tenant}/v2.0/.well-known/openid-configuration`,
//! `/discovery/v2.0/keys`, `/{tenant}/v2.0/adminconsent`, and the v1.0 `/{tenant}/oauth2/token`
//! (password grant only).

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::json;
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::clock::Clock;
use crate::directory::Directory;
use crate::token::SigningKey;

use super::denial::Denial;
use super::grant::EXPIRES_IN;
use super::journal::{Endpoint, IdentityJournal, RequestRecord};
use super::request::{
    AdminConsentOutcome, AdminConsentRequest, AuthorizeOutcome, AuthorizeRequest, Grant, GrantType,
    PkceMethod, TokenRequest,
};
use super::state::IdentityState;

/// A running simulated identity platform on an ephemeral loopback port.
#[derive(Debug)]
pub(crate) struct IdentityServer {
    server: Arc<MockServer>,
    platform: Arc<Slot>,
    journal: IdentityJournal,
    upstream: Arc<Rotating>,
}

/// The platform the responders answer from: replaced whole by [`IdentityServer::reset`], so one
/// set of listeners serves case after case, each from a state of its own.
#[derive(Debug)]
struct Slot(std::sync::RwLock<Arc<Platform>>);

impl Slot {
    fn get(&self) -> Arc<Platform> {
        self.0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    fn set(&self, platform: Arc<Platform>) {
        *self.0.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = platform;
    }
}

#[derive(Debug)]
struct Platform {
    directory: Directory,
    state: Mutex<IdentityState>,
    key: Arc<SigningKey>,
    clock: Clock,
    /// The base URL clients use, when a TLS front end sits before the server.
    public_base: Mutex<Option<String>>,
    journal: IdentityJournal,
}

impl Platform {
    fn state(&self) -> std::sync::MutexGuard<'_, IdentityState> {
        // A responder that panicked mid-request cannot leave the maps half-written in a way that
        // matters more than refusing every later request would: keep serving.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Signs the grant's claims: a JWT, or the opaque token personal accounts get.
    /// The platform's address as clients reach it: the HTTPS front's, or the request's own.
    fn base(&self, request: &Request) -> String {
        self.public_base
            .lock()
            .ok()
            .and_then(|base| base.clone())
            .unwrap_or_else(|| request.url.origin().ascii_serialization())
    }

    fn access_token(&self, grant: &Grant) -> String {
        let jwt = self.key.mint(&grant.claims);
        if grant.opaque {
            crate::token::jwt::wrap_opaque(&jwt)
        } else {
            jwt
        }
    }

    /// An error sent back to the app's redirect URI: `error`, `error_description`, `error_uri`.
    fn redirect_error(
        &self,
        denial: &Denial,
        state: &IdentityState,
        redirect: url::Url,
        client_state: Option<String>,
    ) -> ResponseTemplate {
        let body = denial.to_body(state.ids(), self.clock.now());
        let mut pairs = vec![
            ("error", body.error.as_str()),
            ("error_description", body.error_description.as_str()),
        ];
        if let Some(error_uri) = &body.error_uri {
            pairs.push(("error_uri", error_uri.as_str()));
        }
        redirect_to(redirect, &pairs, client_state, &[])
    }

    /// The sign-in page's error, for requests whose redirect URI cannot be trusted.
    fn error_page(&self, denial: &Denial, state: &IdentityState) -> ResponseTemplate {
        let body = denial.to_body(state.ids(), self.clock.now());
        let page = format!(
            "<!DOCTYPE html><html><head><title>Sign in to your account</title></head><body>\n<p>{}</p>\n<p>Request Id: {}<br>Correlation Id: {}<br>Timestamp: {}</p>\n</body></html>\n",
            html_escape(&denial.headline()),
            body.trace_id,
            body.correlation_id,
            body.timestamp
        );
        ResponseTemplate::new(denial.status).set_body_raw(page, "text/html; charset=utf-8")
    }

    fn error_response(&self, denial: &Denial, state: &IdentityState) -> ResponseTemplate {
        let body = denial.to_body(state.ids(), self.clock.now());
        ResponseTemplate::new(denial.status).set_body_json(body)
    }

    /// Moves the request's decisions to the journal, and to the log as events of the request's
    /// span. Decisions carry no secret, so every level may show them.
    fn record(
        &self,
        state: &mut IdentityState,
        endpoint: Endpoint,
        tenant_segment: &str,
        grant_type: Option<&GrantType>,
        status: u16,
    ) {
        let decisions = state.take_decisions();
        for decision in &decisions {
            tracing::info!(rule = decision.rule.id, "{}", decision.outcome);
        }
        tracing::debug!(status, "answered");
        self.journal.record(RequestRecord {
            endpoint,
            tenant_segment: tenant_segment.to_owned(),
            grant_type: grant_type.map(|grant_type| grant_type.as_str().to_owned()),
            status,
            decisions,
        });
    }
}

impl IdentityServer {
    /// Starts the platform for `directory`, signing with `key`, telling time by `clock`.
    pub(crate) async fn start(directory: Directory, key: Arc<SigningKey>, clock: Clock) -> Self {
        let server = MockServer::builder().disable_request_recording().start().await;
        Self::mount(server, directory, key, clock).await
    }

    /// Mounts the platform's endpoints on an already started server (for example one behind a
    /// TLS terminator, whose public URL differs from `server.uri()`).
    pub(crate) async fn mount(
        server: MockServer,
        directory: Directory,
        key: Arc<SigningKey>,
        clock: Clock,
    ) -> Self {
        let journal = IdentityJournal::default();
        let platform = Arc::new(Slot(std::sync::RwLock::new(Arc::new(Platform {
            state: Mutex::new(IdentityState::new(&directory)),
            directory,
            key,
            clock,
            public_base: Mutex::new(None),
            journal: journal.clone(),
        }))));
        register(&server, &platform).await;
        // The first generation behind an HTTPS front is the server itself: a cloud that never
        // gets a front (every case's own) starts one wiremock server, not two.
        let server = Arc::new(server);
        let upstream = Arc::new(Rotating {
            platform: platform.clone(),
            current: Arc::new(Mutex::new(Generation {
                server: server.clone(),
                requests: 0,
                bytes: 0,
                replacing: false,
            })),
        });
        Self {
            server,
            platform,
            journal,
            upstream,
        }
    }

    /// Starts afresh for `directory` on `clock`: a new state, an empty journal, the same listener.
    /// Connections still open keep the platform they started with.
    pub(crate) async fn reset(&self, directory: Directory, clock: Clock) {
        // wiremock keeps each request a mock matched: remounting the mocks lets them go.
        self.server.reset().await;
        register(&self.server, &self.platform).await;
        let old = self.platform.get();
        let mut state = IdentityState::new(&directory);
        state.poll_interval = old.state().poll_interval;
        state.device_code_lifetime = old.state().device_code_lifetime;
        self.journal.clear();
        self.platform.set(Arc::new(Platform {
            state: Mutex::new(state),
            directory,
            key: old.key.clone(),
            clock,
            public_base: Mutex::new(lock(&old.public_base).clone()),
            journal: self.journal.clone(),
        }));
    }

    /// Returns where the HTTPS front sends requests: wiremock servers that are replaced every
    /// so often, so that the requests wiremock keeps do not pile up in a long-running `serve`.
    pub(crate) fn upstream(&self) -> Arc<dyn crate::net::http::Upstream> {
        self.upstream.clone()
    }
}

/// Requests, or body bytes, after which the HTTPS front's wiremock server is replaced.
const GENERATION_REQUESTS: usize = 500;
/// See [`GENERATION_REQUESTS`].
const GENERATION_BYTES: usize = 4 * 1024 * 1024;

/// The wiremock servers behind the HTTPS front, one generation at a time, all answering from the
/// one platform state.
#[derive(Debug)]
struct Rotating {
    platform: Arc<Slot>,
    current: Arc<Mutex<Generation>>,
}

#[derive(Debug)]
struct Generation {
    server: Arc<MockServer>,
    requests: usize,
    bytes: usize,
    replacing: bool,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl crate::net::http::Upstream for Rotating {
    fn next(&self, body: usize) -> (std::net::SocketAddr, Arc<dyn std::any::Any + Send + Sync>) {
        let mut current = lock(&self.current);
        current.requests += 1;
        current.bytes += body;
        let worn = current.requests >= GENERATION_REQUESTS || current.bytes >= GENERATION_BYTES;
        if worn
            && !current.replacing
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            current.replacing = true;
            let platform = self.platform.clone();
            let slot = self.current.clone();
            // The replacement starts beside the current one; requests in flight keep the old
            // server alive through their handle, and it stops when the last of them ends.
            runtime.spawn(async move {
                let server = MockServer::builder().disable_request_recording().start().await;
                register(&server, &platform).await;
                *lock(&slot) = Generation {
                    server: Arc::new(server),
                    requests: 0,
                    bytes: 0,
                    replacing: false,
                };
            });
        }
        let server = current.server.clone();
        (*server.address(), server)
    }
}

/// Mounts every endpoint of `platform` on `server`.
async fn register(server: &MockServer, platform: &Arc<Slot>) {
    Mock::given(method("GET"))
        .and(path_regex(r"^/[^/]+/oauth2/v2\.0/authorize$"))
        .respond_with(AuthorizeResponder(platform.clone()))
        .named("authorize endpoint")
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path_regex(r"^/[^/]+/oauth2/v2\.0/token$"))
        .respond_with(TokenResponder(platform.clone()))
        .named("token endpoint")
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/[^/]+/v2\.0/adminconsent$"))
        .respond_with(AdminConsentResponder(platform.clone()))
        .named("admin consent endpoint")
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path_regex(r"^/[^/]+/oauth2/token$"))
        .respond_with(V1TokenResponder(platform.clone()))
        .named("v1.0 token endpoint")
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path_regex(r"^/[^/]+/oauth2/v2\.0/devicecode$"))
        .respond_with(DeviceCodeResponder(platform.clone()))
        .named("device authorization endpoint")
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/[^/]+/v2\.0/\.well-known/openid-configuration$"))
        .respond_with(MetadataResponder(platform.clone()))
        .named("OpenID Connect metadata")
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(r"^(/[^/]+)?/discovery/v2\.0/keys$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(platform.get().key.jwks()))
        .named("JWKS")
        .mount(server)
        .await;
}

impl IdentityServer {
    /// Returns the base URL clients use: `http://127.0.0.1:PORT`, or the HTTPS front's.
    pub(crate) fn uri(&self) -> String {
        self.platform
            .get()
            .public_base
            .lock()
            .ok()
            .and_then(|base| base.clone())
            .unwrap_or_else(|| self.server.uri())
    }

    /// Sets the device-code polling interval handed out, and the codes' lifetime.
    pub(crate) fn set_device_code_timing(
        &self,
        interval: std::time::Duration,
        lifetime: std::time::Duration,
    ) {
        let platform = self.platform.get();
        let mut state = platform.state();
        state.poll_interval = i64::try_from(interval.as_secs()).unwrap_or(i64::MAX);
        state.device_code_lifetime = i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX).max(1);
    }

    /// Sets the base URL the OpenID metadata advertises (`https://127.0.0.1:PORT` behind TLS).
    pub(crate) fn set_public_base(&self, base: &str) {
        if let Ok(mut public_base) = self.platform.get().public_base.lock() {
            *public_base = Some(base.trim_end_matches('/').to_owned());
        }
    }

    /// Issues a token for the directory's user by the authorization code flow run in process,
    /// against this platform's own state (consent given, refresh tokens known), as `client_id`.
    pub(crate) fn issue_token(&self, client_id: &str, scopes: &str) -> Result<String, Denial> {
        let platform = self.platform.get();
        let mut state = platform.state();
        let issued = super::mint::issue_token(
            &mut state,
            &platform.directory,
            &platform.key,
            platform.clock.now_unix(),
            client_id,
            scopes,
        );
        let decisions = state.take_decisions();
        platform.journal.record(RequestRecord {
            endpoint: Endpoint::Token,
            tenant_segment: "organizations".into(),
            grant_type: Some(GrantType::AuthorizationCode.as_str().to_owned()),
            status: if issued.is_ok() { 200 } else { 400 },
            decisions,
        });
        issued
    }

    /// Returns the decision journal: every request answered, with its decisions.
    pub(crate) fn journal(&self) -> &IdentityJournal {
        &self.journal
    }
}

/// The path segment naming the tenant: `/{segment}/oauth2/v2.0/...`.
fn tenant_segment(request: &Request) -> String {
    request
        .url
        .path_segments()
        .and_then(|mut segments| segments.next())
        .unwrap_or_default()
        .to_owned()
}

/// A GET request's query parameter.
fn query(request: &Request, name: &str) -> Option<String> {
    request
        .url
        .query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

struct AuthorizeResponder(Arc<Slot>);

impl Respond for AuthorizeResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let platform = self.0.get();
        let query = |name: &str| query(request, name);
        let authorize_request = AuthorizeRequest {
            tenant_segment: tenant_segment(request),
            client_id: query("client_id").unwrap_or_default(),
            response_type: query("response_type").unwrap_or_default(),
            redirect_uri: query("redirect_uri").unwrap_or_default(),
            scope: query("scope").unwrap_or_default(),
            code_challenge: query("code_challenge"),
            code_challenge_method: query("code_challenge_method").map(|method| PkceMethod::parse(&method)),
            nonce: query("nonce"),
            login_hint: query("login_hint"),
        };
        let span = tracing::info_span!("identity", endpoint = "authorize", tenant = %authorize_request.tenant_segment);
        let _entered = span.enter();
        let mut state = platform.state();
        let outcome = state.authorize(&platform.directory, &authorize_request, platform.clock.now_unix());
        let redirect = url::Url::parse(&authorize_request.redirect_uri);
        let (response, status) = match (outcome, redirect) {
            (AuthorizeOutcome::Code(code), Ok(redirect)) => {
                let session_state = state.ids().guid("session");
                let response = redirect_to(
                    redirect,
                    &[("code", code.as_str())],
                    query("state"),
                    &[("session_state", session_state.as_str())],
                );
                (response, 302)
            }
            (AuthorizeOutcome::RedirectError(denial), Ok(redirect)) => (
                platform.redirect_error(&denial, &state, redirect, query("state")),
                302,
            ),
            (AuthorizeOutcome::ErrorPage(denial), _) | (AuthorizeOutcome::RedirectError(denial), Err(_)) => {
                (platform.error_page(&denial, &state), denial.status)
            }
            (AuthorizeOutcome::Code(_), Err(_)) => (ResponseTemplate::new(400), 400),
        };
        platform.record(
            &mut state,
            Endpoint::Authorize,
            &authorize_request.tenant_segment,
            None,
            status,
        );
        response
    }
}

struct AdminConsentResponder(Arc<Slot>);

impl Respond for AdminConsentResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let platform = self.0.get();
        let query = |name: &str| query(request, name);
        let consent_request = AdminConsentRequest {
            tenant_segment: tenant_segment(request),
            client_id: query("client_id").unwrap_or_default(),
            redirect_uri: query("redirect_uri").unwrap_or_default(),
            scope: query("scope").unwrap_or_default(),
        };
        let span = tracing::info_span!("identity", endpoint = "adminconsent", tenant = %consent_request.tenant_segment);
        let _entered = span.enter();
        let mut state = platform.state();
        let outcome = state.admin_consent(&platform.directory, &consent_request);
        let (response, status) = match (outcome, url::Url::parse(&consent_request.redirect_uri)) {
            // Microsoft Learn, "Admin consent on the Microsoft identity platform", successful
            // response: `?admin_consent=True&tenant={tenant id}&scope=...&state=...`.
            (AdminConsentOutcome::Granted, Ok(redirect)) => {
                let response = redirect_to(
                    redirect,
                    &[
                        ("admin_consent", "True"),
                        ("tenant", platform.directory.tenant.id.as_str()),
                        ("scope", consent_request.scope.as_str()),
                    ],
                    query("state"),
                    &[],
                );
                (response, 302)
            }
            (AdminConsentOutcome::RedirectError(denial), Ok(redirect)) => (
                platform.redirect_error(&denial, &state, redirect, query("state")),
                302,
            ),
            (AdminConsentOutcome::ErrorPage(denial), _)
            | (AdminConsentOutcome::RedirectError(denial), Err(_)) => {
                (platform.error_page(&denial, &state), denial.status)
            }
            (AdminConsentOutcome::Granted, Err(_)) => (ResponseTemplate::new(400), 400),
        };
        platform.record(
            &mut state,
            Endpoint::AdminConsent,
            &consent_request.tenant_segment,
            None,
            status,
        );
        response
    }
}

/// A 302 to `redirect` with `first` parameters, the client's `state`, then `last` ones.
fn redirect_to(
    mut redirect: url::Url,
    first: &[(&str, &str)],
    client_state: Option<String>,
    last: &[(&str, &str)],
) -> ResponseTemplate {
    {
        let mut pairs = redirect.query_pairs_mut();
        pairs.extend_pairs(first);
        if let Some(client_state) = &client_state {
            pairs.append_pair("state", client_state);
        }
        pairs.extend_pairs(last);
    }
    ResponseTemplate::new(302).insert_header("Location", redirect.as_str())
}

struct TokenResponder(Arc<Slot>);

impl TokenResponder {
    fn parse(request: &Request) -> TokenRequest {
        let mut token_request = TokenRequest {
            tenant_segment: tenant_segment(request),
            ..TokenRequest::default()
        };
        for (key, value) in url::form_urlencoded::parse(&request.body) {
            if key == "grant_type" {
                token_request.grant_type = GrantType::parse(&value);
                continue;
            }
            let value = Some(value.into_owned());
            match key.as_ref() {
                "client_id" => token_request.client_id = value,
                "client_secret" => token_request.client_secret = value,
                "scope" => token_request.scope = value,
                "code" => token_request.code = value,
                "redirect_uri" => token_request.redirect_uri = value,
                "code_verifier" => token_request.code_verifier = value,
                "refresh_token" => token_request.refresh_token = value,
                "username" => token_request.username = value,
                "password" => token_request.password = value,
                "device_code" => token_request.device_code = value,
                "resource" => token_request.resource = value,
                "client_info" => token_request.client_info = value.as_deref() == Some("1"),
                _ => {}
            }
        }
        // HTTP Basic client authentication, RFC 6749 §2.3.1: both parts form-urlencoded first.
        let basic = request
            .headers
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Basic "))
            .and_then(|encoded| STANDARD.decode(encoded.trim()).ok())
            .and_then(|decoded| String::from_utf8(decoded).ok());
        if let Some((id, secret)) = basic.as_deref().and_then(|text| text.split_once(':')) {
            let decode = |part: &str| {
                url::form_urlencoded::parse(format!("x={part}").as_bytes())
                    .next()
                    .map(|(_, value)| value.into_owned())
            };
            token_request.client_id = token_request.client_id.or_else(|| decode(id));
            token_request.client_secret = token_request.client_secret.or_else(|| decode(secret));
        }
        token_request
    }
}

impl Respond for TokenResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let platform = self.0.get();
        let token_request = Self::parse(request);
        let span = tracing::info_span!(
            "identity",
            endpoint = "token",
            tenant = %token_request.tenant_segment,
            grant_type = token_request.grant_type.as_str()
        );
        let _entered = span.enter();
        let mut state = platform.state();
        let (response, status) =
            match state.token(&platform.directory, &token_request, platform.clock.now_unix()) {
                Ok(grant) => {
                    let access_token = platform.access_token(&grant);
                    let mut body = json!({
                        "token_type": "Bearer",
                        "expires_in": EXPIRES_IN,
                        "ext_expires_in": EXPIRES_IN,
                        "access_token": access_token,
                    });
                    if !grant.scope.is_empty() {
                        body["scope"] = grant.scope.into();
                    }
                    if let Some(refresh_token) = grant.refresh_token {
                        body["refresh_token"] = refresh_token.into();
                    }
                    if let Some(mut id_token) = grant.id_token {
                        // fidelity: id-token-client-info: the issuer is the discovery document's.
                        id_token.iss = format!("{}/{}/v2.0", platform.base(request), id_token.tid);
                        if token_request.client_info {
                            let info = json!({"uid": id_token.oid, "utid": id_token.tid});
                            body["client_info"] = URL_SAFE_NO_PAD.encode(info.to_string()).into();
                        }
                        body["id_token"] = platform.key.mint_json(&id_token).into();
                    }
                    (ResponseTemplate::new(200).set_body_json(body), 200)
                }
                Err(denial) => (platform.error_response(&denial, &state), denial.status),
            };
        let grant_type = Some(&token_request.grant_type);
        platform.record(
            &mut state,
            Endpoint::Token,
            &token_request.tenant_segment,
            grant_type,
            status,
        );
        response
    }
}

struct V1TokenResponder(Arc<Slot>);

impl Respond for V1TokenResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let platform = self.0.get();
        let token_request = TokenResponder::parse(request);
        let span = tracing::info_span!(
            "identity",
            endpoint = "token (v1.0)",
            tenant = %token_request.tenant_segment,
            grant_type = token_request.grant_type.as_str()
        );
        let _entered = span.enter();
        let mut state = platform.state();
        let (response, status) =
            match state.token_v1(&platform.directory, &token_request, platform.clock.now_unix()) {
                Ok(grant) => {
                    let access_token = platform.access_token(&grant);
                    let body = super::v1::response_body(&grant, access_token);
                    (ResponseTemplate::new(200).set_body_json(body), 200)
                }
                Err(denial) => (platform.error_response(&denial, &state), denial.status),
            };
        let grant_type = Some(&token_request.grant_type);
        platform.record(
            &mut state,
            Endpoint::TokenV1,
            &token_request.tenant_segment,
            grant_type,
            status,
        );
        response
    }
}

struct DeviceCodeResponder(Arc<Slot>);

impl Respond for DeviceCodeResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let platform = self.0.get();
        let form: Vec<(String, String)> = url::form_urlencoded::parse(&request.body).into_owned().collect();
        let field = |name: &str| {
            form.iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.as_str())
        };
        let segment = tenant_segment(request);
        let span = tracing::info_span!("identity", endpoint = "devicecode", tenant = %segment);
        let _entered = span.enter();
        let mut state = platform.state();
        let answer = state.device_authorization(
            &platform.directory,
            &segment,
            field("client_id"),
            field("scope"),
            platform.clock.now_unix(),
        );
        let (response, status) = match answer {
            Ok(authorization) => (ResponseTemplate::new(200).set_body_json(authorization), 200),
            Err(denial) => (platform.error_response(&denial, &state), denial.status),
        };
        platform.record(&mut state, Endpoint::DeviceCode, &segment, None, status);
        response
    }
}

struct MetadataResponder(Arc<Slot>);

impl Respond for MetadataResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let platform = self.0.get();
        let base = platform.base(request);
        let segment = tenant_segment(request);
        let tenant_id = &platform.directory.tenant.id;
        let issuer_tenant = if ["common", "organizations", "consumers"].contains(&segment.as_str()) {
            "{tenantid}".to_owned()
        } else {
            tenant_id.clone()
        };
        ResponseTemplate::new(200).set_body_json(json!({
            "token_endpoint": format!("{base}/{segment}/oauth2/v2.0/token"),
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": format!("{base}/{segment}/discovery/v2.0/keys"),
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": format!("{base}/{issuer_tenant}/v2.0"),
            "request_uri_parameter_supported": false,
            "authorization_endpoint": format!("{base}/{segment}/oauth2/v2.0/authorize"),
            "device_authorization_endpoint": format!("{base}/{segment}/oauth2/v2.0/devicecode"),
            "http_logout_supported": true,
            "frontchannel_logout_supported": true,
            "end_session_endpoint": format!("{base}/{segment}/oauth2/v2.0/logout"),
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
            "tenant_region_scope": "EU",
        }))
    }
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
