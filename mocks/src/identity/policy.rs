//! Decides authorization and token requests against the directory: a grant, or a denial.
//!
//! Pure apart from the state it is handed (consents given, codes and refresh tokens issued); time
//! comes in as a value. The HTTP adapter is `server.rs`.

use std::collections::{BTreeSet, HashMap};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::digest;

use super::code::CodeGrant;
pub use super::code::{AuthorizeOutcome, AuthorizeRequest};
use super::errors::{self, Denial};
use super::permissions::{self, MAIL_PROTOCOL_PERMISSIONS};
use super::refresh::RefreshGrant;
use super::resolve::{Leg, Resolution, ResolveError, resolve};
use crate::directory::{
    AccountKind, App, CONSUMERS_TENANT_ID, ClientType, Consent, Directory, MultiResourceScopes,
    SignInAudience, User,
};
use crate::ids::IdSource;
use crate::token::{Claims, ResourceApi, Scope, ScopeKind};

/// `expires_in` of every access token (FIDELITY.md rule 10, fidelity: token-lifetime).
pub const EXPIRES_IN: i64 = 3599;
/// `exp - iat`: Entra draws 60–90 minutes; the simulation fixes one observed value, 4346 s
/// (fidelity: token-lifetime, an outlook.office.com token in imapsync #250).
pub const ACCESS_TOKEN_LIFETIME: i64 = 4346;
/// Refresh tokens unused this long are refused (fidelity: refresh-expired-inactivity).
pub const REFRESH_TOKEN_INACTIVITY: i64 = 90 * 24 * 3600;

/// A consented delegated permission: which app, for which user, on which resource.
type ConsentKey = (String, String, ResourceApi, String);

/// What the identity platform remembers between requests.
#[derive(Debug)]
pub struct IdentityState {
    pub(super) consents: BTreeSet<ConsentKey>,
    pub(super) codes: HashMap<String, CodeGrant>,
    pub(super) redeemed_codes: BTreeSet<String>,
    pub(super) refresh_tokens: HashMap<String, RefreshGrant>,
    pub(super) device_codes: HashMap<String, super::device::DeviceGrant>,
    /// Application permissions an administrator granted at the admin consent endpoint, per app
    /// and resource.
    pub(super) app_role_grants: BTreeSet<(String, ResourceApi)>,
    pub(super) ids: IdSource,
}

/// A token request (`/token`), parsed from the form and the `Authorization` header.
#[derive(Clone, Default)]
pub struct TokenRequest {
    /// The authority's path segment (`organizations`, `common`, a tenant id).
    pub tenant_segment: String,
    /// `grant_type`.
    pub grant_type: String,
    /// `client_id`, from the body or HTTP Basic.
    pub client_id: Option<String>,
    /// `client_secret`, from the body or HTTP Basic.
    pub client_secret: Option<String>,
    /// `scope`.
    pub scope: Option<String>,
    /// `code`.
    pub code: Option<String>,
    /// `redirect_uri`.
    pub redirect_uri: Option<String>,
    /// `code_verifier`.
    pub code_verifier: Option<String>,
    /// `refresh_token`.
    pub refresh_token: Option<String>,
    /// `username` (ROPC).
    pub username: Option<String>,
    /// `password` (ROPC).
    pub password: Option<String>,
    /// `device_code` (device authorization grant).
    pub device_code: Option<String>,
    /// `resource` (the v1.0 endpoint).
    pub resource: Option<String>,
}

impl std::fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenRequest")
            .field("tenant_segment", &self.tenant_segment)
            .field("grant_type", &self.grant_type)
            .field("client_id", &self.client_id)
            .field("scope", &self.scope)
            .field("resource", &self.resource)
            .finish_non_exhaustive()
    }
}

/// A granted token request: the claims to sign and what else the response carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The access token's claims.
    pub claims: Claims,
    /// The token is for a personal account: opaque, not a JWT (fidelity: consumer-outlook-com-oauth).
    pub opaque: bool,
    /// The response's `scope`: the granted permissions with their resource prefix.
    pub scope: String,
    /// A refresh token, when `offline_access` was asked for.
    pub refresh_token: Option<String>,
}

impl IdentityState {
    /// Returns the state of a directory nobody has used yet: admin consents granted.
    pub fn new(directory: &Directory) -> Self {
        let mut consents = BTreeSet::new();
        for app in directory.apps.iter().filter(|app| app.consent == Consent::Admin) {
            for user in &directory.users {
                for permission in &app.delegated {
                    for api in consent_targets(permission.api, &permission.name) {
                        consents.insert((
                            app.client_id.clone(),
                            user.object_id.clone(),
                            api,
                            permission.name.clone(),
                        ));
                    }
                }
            }
        }
        Self {
            consents,
            codes: HashMap::new(),
            redeemed_codes: BTreeSet::new(),
            refresh_tokens: HashMap::new(),
            device_codes: HashMap::new(),
            app_role_grants: BTreeSet::new(),
            ids: IdSource::new("identity"),
        }
    }

    /// Returns the ids used for trace and correlation ids of this platform.
    pub fn ids(&self) -> &IdSource {
        &self.ids
    }

    /// The simulated user signs in at `segment` and consents to `scope` as the app allows: the
    /// shared step of the authorization-code and device-code flows.
    pub(super) fn sign_in(
        &mut self,
        directory: &Directory,
        app: &App,
        user: &User,
        segment: &str,
        scope: &str,
    ) -> Result<(), Denial> {
        check_account_and_authority(app, user, segment)?;
        let scopes = Scope::parse_list(scope);
        let resolution = resolve_for(user, &scopes, Leg::Authorize, directory, scope)?;
        if app.consent == Consent::User {
            self.consent_at_sign_in(app, user, &scopes, &resolution)?;
        }
        Ok(())
    }

    /// Dynamic consent: the user consents to every requested permission as read on the token's
    /// resource, and as read on its own resource, so that consent covers every resource the
    /// authorize leg named (FIDELITY.md rule 7, fidelity: authorize-multi-resource-then-split).
    fn consent_at_sign_in(
        &mut self,
        app: &App,
        user: &User,
        scopes: &[Scope],
        resolution: &Resolution,
    ) -> Result<(), Denial> {
        let mut wanted = Vec::new();
        for scope in scopes {
            let ScopeKind::Permission { resource, name } = scope.kind() else {
                continue;
            };
            let own_api = resource.api().unwrap_or(resolution.api);
            if name == ".default" {
                for permission in &app.delegated {
                    if consent_targets(permission.api, &permission.name).contains(&own_api) {
                        wanted.push((own_api, permission.name.clone()));
                    }
                }
                continue;
            }
            let on_first = permissions::canonical_delegated(resolution.api, name);
            let on_own = permissions::canonical_delegated(own_api, name);
            if on_first.is_none() && on_own.is_none() {
                return Err(errors::invalid_scope(scope.as_str()));
            }
            wanted.extend(on_first.map(|canonical| (resolution.api, canonical.to_owned())));
            wanted.extend(on_own.map(|canonical| (own_api, canonical.to_owned())));
        }
        for (api, name) in wanted {
            self.consents
                .insert((app.client_id.clone(), user.object_id.clone(), api, name));
        }
        Ok(())
    }

    pub(super) fn is_consented(&self, app: &App, user: &User, api: ResourceApi, name: &str) -> bool {
        self.consents.contains(&(
            app.client_id.clone(),
            user.object_id.clone(),
            api,
            name.to_owned(),
        ))
    }

    /// Decides a token request made at `now`.
    pub fn token(
        &mut self,
        directory: &Directory,
        request: &TokenRequest,
        now: i64,
    ) -> Result<Grant, Denial> {
        if !tenant_segment_known(directory, &request.tenant_segment) {
            return Err(errors::unknown_tenant(&request.tenant_segment));
        }
        let client_id = request
            .client_id
            .as_deref()
            .ok_or_else(|| errors::missing_parameter("client_id"))?;
        let app = directory
            .app_by_client_id(client_id)
            .ok_or_else(|| errors::unknown_client(client_id, &directory.tenant.id))?;
        authenticate_client(app, request.client_secret.as_deref())?;

        match request.grant_type.as_str() {
            "authorization_code" => self.redeem_code(directory, app, request, now),
            "refresh_token" => self.redeem_refresh_token(directory, app, request, now),
            "client_credentials" => self.client_credentials(directory, app, request, now),
            "password" => self.password(directory, app, request, now),
            super::device::DEVICE_CODE_GRANT => self.poll_device_code(directory, app, request, now),
            "" => Err(errors::missing_parameter("grant_type")),
            other => Err(errors::unsupported_grant_type(other)),
        }
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one grant needs every one of these, and only here"
    )]
    pub(super) fn delegated_grant(
        &mut self,
        directory: &Directory,
        app: &App,
        user: &User,
        resolution: &Resolution,
        tenant_segment: &str,
        scope_parameter: &str,
        now: i64,
    ) -> Result<Grant, Denial> {
        let granted = self.granted_permissions(app, user, resolution)?;
        let audience = resolution.audience(directory.tenant.graph_audience);
        // The response's `scope` names Exchange permissions with their resource; Graph's are bare.
        let prefix = match resolution.api {
            ResourceApi::Graph => String::new(),
            ResourceApi::Exchange => format!("{audience}/"),
        };
        let claims = self.delegated_claims(directory, app, user, audience, granted.join(" "), now);
        let refresh_token = resolution
            .wants_refresh_token()
            .then(|| self.issue_refresh_token(app, user, scope_parameter, tenant_segment, now));
        Ok(Grant {
            claims,
            opaque: user.account == AccountKind::Personal,
            scope: granted
                .iter()
                .map(|name| format!("{prefix}{name}"))
                .collect::<Vec<_>>()
                .join(" "),
            refresh_token,
        })
    }

    /// Returns `scp` (FIDELITY.md rule 6): the requested permissions consented on the resource,
    /// or every consented one for `.default`.
    fn granted_permissions(
        &self,
        app: &App,
        user: &User,
        resolution: &Resolution,
    ) -> Result<Vec<String>, Denial> {
        let consent_missing = || errors::consent_missing(&app.client_id, &app.display_name);
        if resolution.default_scope {
            let all: Vec<String> = self
                .consents
                .iter()
                .filter(|(client, object_id, api, _)| {
                    *client == app.client_id && *object_id == user.object_id && *api == resolution.api
                })
                .map(|(_, _, _, name)| name.clone())
                .filter(|name| name != "offline_access")
                .collect();
            return if all.is_empty() {
                Err(consent_missing())
            } else {
                Ok(all)
            };
        }
        if resolution.permissions.is_empty() {
            // OpenID Connect scopes alone: a Graph token for the sign-in's own scopes.
            let oidc: Vec<String> = resolution
                .oidc
                .iter()
                .map(|scope| scope.as_str().to_owned())
                .filter(|name| name != "offline_access")
                .collect();
            return if oidc.is_empty() {
                Err(errors::invalid_scope("offline_access"))
            } else {
                Ok(oidc)
            };
        }
        let mut granted = Vec::new();
        for name in &resolution.permissions {
            let canonical = permissions::canonical_delegated(resolution.api, name)
                .ok_or_else(|| errors::invalid_scope(name))?;
            if !self.is_consented(app, user, resolution.api, canonical) {
                return Err(consent_missing());
            }
            granted.push(canonical.to_owned());
        }
        Ok(granted)
    }

    fn delegated_claims(
        &self,
        directory: &Directory,
        app: &App,
        user: &User,
        audience: String,
        scp: String,
        now: i64,
    ) -> Claims {
        let mut amr = vec!["pwd".to_owned()];
        if user.mfa {
            amr.push("mfa".to_owned());
        }
        let tenant_id = match user.account {
            AccountKind::Work => directory.tenant.id.clone(),
            AccountKind::Personal => CONSUMERS_TENANT_ID.to_owned(),
        };
        Claims {
            aud: audience,
            iss: format!("https://sts.windows.net/{tenant_id}/"),
            iat: now,
            nbf: now,
            exp: now + ACCESS_TOKEN_LIFETIME,
            acr: Some("1".into()),
            aio: Some(self.ids.base64url("aio", 48)),
            amr: Some(amr),
            app_displayname: Some(app.display_name.clone()),
            appid: app.client_id.clone(),
            appidacr: app_authentication_class(app).into(),
            family_name: Some(user.surname.clone()),
            given_name: Some(user.given_name.clone()),
            idtyp: Some("user".into()),
            name: Some(user.display_name()),
            oid: user.object_id.clone(),
            rh: Some(format!("1.A{}.", self.ids.base64url("rh", 24))),
            roles: None,
            scp: Some(scp),
            sub: pairwise_subject(&user.object_id, &app.client_id),
            tid: tenant_id,
            unique_name: Some(user.upn.clone()),
            upn: Some(user.upn.clone()),
            uti: Some(self.ids.base64url("uti", 16)),
            ver: "1.0".into(),
        }
    }
}

/// Registered under Graph, the mail protocol permissions also count for Exchange
/// (FIDELITY.md rule 7, fidelity: portal-permission-listing).
pub(super) fn consent_targets(api: ResourceApi, name: &str) -> Vec<ResourceApi> {
    let is_mail_protocol = MAIL_PROTOCOL_PERMISSIONS
        .iter()
        .any(|known| known.eq_ignore_ascii_case(name));
    if is_mail_protocol {
        vec![ResourceApi::Graph, ResourceApi::Exchange]
    } else {
        vec![api]
    }
}

/// Resolves scopes for `user`: personal accounts may not name two resources at all
/// (fidelity: consumer-graph-scopes-imap: "... is not valid").
pub(super) fn resolve_for(
    user: &User,
    scopes: &[Scope],
    leg: Leg,
    directory: &Directory,
    scope_parameter: &str,
) -> Result<Resolution, Denial> {
    let setting = match user.account {
        AccountKind::Work => directory.tenant.multi_resource_scopes,
        AccountKind::Personal => MultiResourceScopes::Reject,
    };
    let leg = match (user.account, leg) {
        (AccountKind::Personal, Leg::Authorize) => Leg::Redeem,
        (_, leg) => leg,
    };
    resolve(scopes, leg, setting).map_err(|error| match (user.account, error) {
        (AccountKind::Personal, ResolveError::MultipleResources) => errors::invalid_scope(scope_parameter),
        (_, error) => resolve_denial(error, scope_parameter),
    })
}

/// Which accounts may sign in where (fidelity: consumer-app-not-enabled, ropc-exchange).
fn check_account_and_authority(app: &App, user: &User, segment: &str) -> Result<(), Denial> {
    match user.account {
        AccountKind::Work => Ok(()),
        AccountKind::Personal if !matches!(segment, "common" | "consumers") => {
            Err(errors::personal_account_at_organizations(&user.upn))
        }
        AccountKind::Personal if app.sign_in_audience != SignInAudience::OrganizationsAndPersonal => {
            Err(errors::not_enabled_for_consumers())
        }
        AccountKind::Personal => Ok(()),
    }
}

pub(super) fn resolve_denial(error: ResolveError, scope_parameter: &str) -> Denial {
    match error {
        ResolveError::MultipleResources => errors::multiple_resources(scope_parameter),
        ResolveError::UnknownResource(scope) => errors::invalid_scope(&scope),
        ResolveError::DefaultWithOthers => errors::default_with_other_scopes(scope_parameter),
    }
}

/// The app a browser request names, if its redirect URI can be trusted; otherwise the error page's
/// denial (the platform does not redirect to an unregistered URI).
pub(super) fn app_with_registered_redirect<'d>(
    directory: &'d Directory,
    client_id: &str,
    redirect_uri: &str,
) -> Result<&'d App, Denial> {
    let app = directory
        .app_by_client_id(client_id)
        .ok_or_else(|| errors::unknown_client(client_id, &directory.tenant.id))?;
    if !redirect_uri_registered(app, redirect_uri) {
        return Err(errors::redirect_uri_mismatch(redirect_uri, &app.client_id));
    }
    Ok(app)
}

/// Loopback redirect URIs match on any port ([RFC 8252 §7.3](https://www.rfc-editor.org/rfc/rfc8252#section-7.3);
/// Microsoft's redirect URI page: "the port component is ignored" for localhost).
fn redirect_uri_registered(app: &App, redirect_uri: &str) -> bool {
    let without_port = |uri: &str| -> Option<String> {
        let url = url::Url::parse(uri).ok()?;
        let host = url.host_str()?.to_owned();
        if url.scheme() == "http" && matches!(host.as_str(), "localhost" | "127.0.0.1") {
            Some(format!("http://{host}{}", url.path()))
        } else {
            Some(url.to_string())
        }
    };
    let wanted = without_port(redirect_uri);
    wanted.is_some()
        && app
            .redirect_uris
            .iter()
            .any(|registered| without_port(registered) == wanted)
}

pub(super) fn tenant_segment_known(directory: &Directory, segment: &str) -> bool {
    let tenant = &directory.tenant;
    ["organizations", "common", "consumers"].contains(&segment)
        || segment.eq_ignore_ascii_case(&tenant.id)
        || segment.eq_ignore_ascii_case(&tenant.domain)
}

pub(super) fn authenticate_client(app: &App, secret: Option<&str>) -> Result<(), Denial> {
    match (&app.client_type, secret) {
        (_, None) if app.public_client_flows => Ok(()),
        (_, None) => Err(errors::client_secret_missing()),
        (ClientType::Confidential { secret: expected }, Some(sent)) if sent == expected => Ok(()),
        (_, Some(_)) => Err(errors::client_secret_invalid(&app.client_id)),
    }
}

pub(super) fn app_authentication_class(app: &App) -> &'static str {
    match app.client_type {
        ClientType::Public => "0",
        ClientType::Confidential { .. } => "1",
    }
}

/// `sub` is pairwise: the same user has a different `sub` in each app.
pub(super) fn pairwise_subject(object_id: &str, client_id: &str) -> String {
    let hash = digest::digest(&digest::SHA256, format!("{object_id}/{client_id}").as_bytes());
    URL_SAFE_NO_PAD.encode(hash.as_ref())
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
