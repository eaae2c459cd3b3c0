//! `mailscope explain`: predicts, without any network, what the identity platform will issue for a
//! scope list and what Exchange Online will answer, by running the simulation's own rule code
//! in-process (the token policy and the sans-IO front-door sessions), and names each rule applied
//! with its catalog case.

use mailscope_mocks::clock::Clock;
use mailscope_mocks::cloud::shared_signing_key;
use mailscope_mocks::directory::{ClientType, Directory, GraphAudience, MultiResourceScopes};
use mailscope_mocks::identity::Denial;
use mailscope_mocks::identity::admin_consent::{AdminConsentOutcome, AdminConsentRequest};
use mailscope_mocks::identity::device::{DEVICE_CODE_GRANT, POLL_INTERVAL};
use mailscope_mocks::identity::policy::{
    AuthorizeOutcome, AuthorizeRequest, Grant, IdentityState, TokenRequest,
};
use mailscope_mocks::identity::resolve::{Leg, ResolveError, resolve};
use mailscope_mocks::token::{ResourceApi, ResourceUri, Scope, ScopeKind};

mod front_door;

use front_door::authenticate;
pub use front_door::without_suffix;

use crate::scenario::types::{Endpoint, Flow, ProbeResult, ProbeSpec, Protocol};

/// What `explain` predicts for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prediction {
    /// The token's `aud` and `scp`, or the AADSTS code (or OAuth error) refusing it.
    pub token: Result<PredictedToken, String>,
    /// Each probe's predicted result and reply (Exchange's `[host time id]` suffix left out).
    pub probes: Vec<(Protocol, ProbeResult, Option<String>)>,
    /// The rules applied, each with its catalog case.
    pub rules: Vec<String>,
}

/// A predicted token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PredictedToken {
    /// `aud`.
    pub aud: String,
    /// `scp`, or `roles` for app-only tokens.
    pub permissions: Vec<String>,
}

/// What to explain.
#[derive(Debug, Clone)]
pub struct Question {
    /// The directory (defaults, or a scenario's).
    pub directory: Directory,
    /// The app's name.
    pub app: String,
    /// The flow.
    pub flow: Flow,
    /// The scopes, in order.
    pub scopes: Vec<String>,
    /// Scopes sent to `/authorize`, when not those redeemed.
    pub authorize_scopes: Option<Vec<String>>,
    /// The first sign-in's scopes (refresh-token flow).
    pub initial_scopes: Option<Vec<String>>,
    /// The authority segment.
    pub endpoint: Endpoint,
    /// Refresh-token flow: days unused.
    pub refresh_after_days: Option<u32>,
    /// Refresh-token flow: where the refresh token is redeemed.
    pub refresh_endpoint: Option<Endpoint>,
    /// Scopes a tenant administrator approves at the admin consent endpoint first.
    pub admin_consent: Option<Vec<String>>,
    /// Password flow: the v1.0 endpoint's `resource`.
    pub resource: Option<String>,
    /// The probes.
    pub probes: Vec<ProbeSpec>,
}

impl Question {
    /// The question a scenario case asks.
    pub fn from_case(scenario: &crate::scenario::Scenario, case: &crate::scenario::Case) -> Self {
        Self {
            directory: crate::scenario::directory::build(&scenario.file),
            app: crate::scenario::directory::app_name(&scenario.file),
            flow: case.flow,
            scopes: case.scopes.clone(),
            authorize_scopes: case.authorize_scopes.clone(),
            initial_scopes: case.initial_scopes.clone(),
            endpoint: case.endpoint,
            refresh_after_days: case.refresh_after_days,
            refresh_endpoint: case.refresh_endpoint,
            admin_consent: case.admin_consent.clone(),
            resource: case.resource.clone(),
            probes: case.probes.clone(),
        }
    }
}

fn segment(endpoint: Endpoint, directory: &Directory) -> String {
    match endpoint {
        Endpoint::Organizations => "organizations".into(),
        Endpoint::Common => "common".into(),
        Endpoint::Consumers => "consumers".into(),
        Endpoint::Tenant => directory.tenant.id.clone(),
    }
}

/// Predicts the outcome of `question` with the simulation's rules.
pub fn predict(question: &Question) -> Prediction {
    let clock = Clock::default();
    let rules = explain_scopes(question);
    let grant = issue(question, &clock);
    let token = match &grant {
        Ok(grant) => Ok(PredictedToken {
            aud: grant.claims.aud.clone(),
            permissions: grant
                .claims
                .scp
                .as_deref()
                .map(|scp| scp.split_whitespace().map(str::to_owned).collect())
                .or_else(|| grant.claims.roles.clone())
                .unwrap_or_default(),
        }),
        Err(denial) => Err(denial
            .code
            .map_or_else(|| denial.error.to_owned(), |code| format!("AADSTS{code}"))),
    };
    let mut probes = Vec::new();
    for probe in &question.probes {
        let predicted = match &grant {
            Err(_) => (probe.protocol, ProbeResult::NotAttempted, None),
            Ok(grant) => {
                let jwt = shared_signing_key().mint(&grant.claims);
                let access_token = if grant.opaque {
                    mailscope_mocks::token::jwt::wrap_opaque(&jwt)
                } else {
                    jwt
                };
                let user = probe
                    .user
                    .clone()
                    .unwrap_or_else(|| question.directory.signed_in_user().upn.clone());
                let (result, reply) = authenticate(&question.directory, &clock, probe, &user, &access_token);
                (probe.protocol, result, Some(reply))
            }
        };
        probes.push(predicted);
    }
    Prediction { token, probes, rules }
}

/// Runs the flow against the in-process policy.
fn issue(question: &Question, clock: &Clock) -> Result<Grant, Denial> {
    let directory = &question.directory;
    let mut state = IdentityState::new(directory);
    let app = directory
        .app_by_name(&question.app)
        .expect("scenario loading checked the app name");
    let client_secret = match &app.client_type {
        ClientType::Public => None,
        ClientType::Confidential { secret } => Some(secret.clone()),
    };
    let segment = segment(question.endpoint, directory);
    if let Some(scopes) = &question.admin_consent {
        let request = AdminConsentRequest {
            tenant_segment: segment.clone(),
            client_id: app.client_id.clone(),
            redirect_uri: app.redirect_uris.first().cloned().unwrap_or_default(),
            scope: scopes.join(" "),
        };
        match state.admin_consent(directory, &request) {
            AdminConsentOutcome::Granted => {}
            AdminConsentOutcome::RedirectError(denial) | AdminConsentOutcome::ErrorPage(denial) => {
                return Err(denial);
            }
        }
    }
    let joined = |scopes: &[String]| (!scopes.is_empty()).then(|| scopes.join(" "));
    let base = TokenRequest {
        tenant_segment: segment.clone(),
        client_id: Some(app.client_id.clone()),
        client_secret: client_secret.clone(),
        ..TokenRequest::default()
    };
    let code_flow =
        |state: &mut IdentityState, authorize: &[String], redeem: &[String]| -> Result<Grant, Denial> {
            let request = AuthorizeRequest {
                tenant_segment: segment.clone(),
                client_id: app.client_id.clone(),
                response_type: "code".into(),
                redirect_uri: app.redirect_uris.first().cloned().unwrap_or_default(),
                scope: authorize.join(" "),
                ..AuthorizeRequest::default()
            };
            let code = match state.authorize(directory, &request) {
                AuthorizeOutcome::Code(code) => code,
                AuthorizeOutcome::RedirectError(denial) | AuthorizeOutcome::ErrorPage(denial) => {
                    return Err(denial);
                }
            };
            let redemption = TokenRequest {
                grant_type: "authorization_code".into(),
                code: Some(code),
                redirect_uri: Some(request.redirect_uri.clone()),
                scope: joined(redeem),
                ..base.clone()
            };
            state.token(directory, &redemption, clock.now_unix())
        };
    match question.flow {
        Flow::AuthorizationCode => {
            let authorize = question.authorize_scopes.as_ref().unwrap_or(&question.scopes);
            code_flow(&mut state, authorize, &question.scopes)
        }
        Flow::RefreshToken => {
            let initial = question.initial_scopes.as_ref().unwrap_or(&question.scopes);
            let authorize = question.authorize_scopes.as_ref().unwrap_or(initial);
            let first = code_flow(&mut state, authorize, initial)?;
            let Some(refresh_token) = first.refresh_token else {
                return Err(Denial {
                    status: 400,
                    error: "no_refresh_token",
                    code: None,
                    message: "the first sign-in returned no refresh token".into(),
                    suberror: None,
                });
            };
            if let Some(days) = question.refresh_after_days {
                clock.advance(i64::from(days) * 86_400);
            }
            let refresh = TokenRequest {
                tenant_segment: question
                    .refresh_endpoint
                    .map_or_else(|| segment.clone(), |endpoint| self::segment(endpoint, directory)),
                grant_type: "refresh_token".into(),
                refresh_token: Some(refresh_token),
                scope: joined(&question.scopes),
                ..base.clone()
            };
            state.token(directory, &refresh, clock.now_unix())
        }
        Flow::ClientCredentials | Flow::Password => {
            let user = directory.signed_in_user();
            let request = TokenRequest {
                grant_type: if question.flow == Flow::Password {
                    "password".into()
                } else {
                    "client_credentials".into()
                },
                scope: joined(&question.scopes),
                username: Some(user.upn.clone()),
                password: Some(user.password.clone()),
                resource: question.resource.clone(),
                ..base.clone()
            };
            if question.resource.is_some() {
                return state.token_v1(directory, &request, clock.now_unix());
            }
            state.token(directory, &request, clock.now_unix())
        }
        Flow::DeviceCode => {
            let start = clock.now_unix();
            let authorization = state.device_authorization(
                directory,
                &segment,
                Some(&app.client_id),
                joined(&question.scopes).as_deref(),
                start,
            )?;
            let mut interval = POLL_INTERVAL;
            let mut at = start;
            loop {
                let poll = TokenRequest {
                    grant_type: DEVICE_CODE_GRANT.into(),
                    device_code: Some(authorization.device_code.clone()),
                    ..base.clone()
                };
                match state.token(directory, &poll, at) {
                    Err(denial) if denial.error == "authorization_pending" => {}
                    Err(denial) if denial.error == "slow_down" => interval += 5,
                    result => return result,
                }
                at += interval;
            }
        }
    }
}

/// Names the rules a scope list meets, each with its catalog case.
fn explain_scopes(question: &Question) -> Vec<String> {
    let directory = &question.directory;
    let mut rules = Vec::new();
    if question.admin_consent.is_some() {
        rules.push(
            "Admin consent first: `{resource}/.default` at /adminconsent grants every permission the app lists on that \
             resource tenant-wide, application permissions included (multitenant-admin-consent-urls)."
                .into(),
        );
    }
    if let Some(resource) = &question.resource {
        rules.push(format!(
            "The v1.0 token endpoint names a resource, not scopes: the token is for `{resource}`, its `aud` is \
             `{resource}` as written, `scp` is every permission consented on it, and `scope` is ignored \
             (v1-ropc-resource-graph)."
        ));
        return rules;
    }
    if question.flow == Flow::ClientCredentials {
        rules.push(
            "Client credentials: the scope must be {resource}/.default; roles are the admin-consented application \
             permissions; no scp, no refresh token (FIDELITY.md rule 8; ccg-non-default-scope, ccg-outlook365-default-imap-pop)."
                .into(),
        );
    }
    let scopes: Vec<Scope> = question.scopes.iter().map(|scope| Scope::parse(scope)).collect();
    for scope in &scopes {
        match scope.kind() {
            ScopeKind::Oidc(oidc) if oidc.as_str() == "offline_access" => rules.push(
                "`offline_access` names no resource; it asks for a refresh token (rule 1; deleg-outlook-imap-pop-smtp-one-token).".into(),
            ),
            ScopeKind::Permission { resource: ResourceUri::Bare, name } => rules.push(format!(
                "`{name}` has no resource prefix, so it means Microsoft Graph when it decides the resource (rule 2; deleg-graph-prefixed-smtp)."
            )),
            _ => {}
        }
    }
    let leg = if question.flow == Flow::RefreshToken {
        Leg::Refresh
    } else {
        Leg::Redeem
    };
    match resolve(&scopes, leg, directory.tenant.multi_resource_scopes) {
        Ok(resolution) => {
            let first = scopes
                .iter()
                .find(|scope| matches!(scope.kind(), ScopeKind::Permission { .. }))
                .map_or_else(|| "(no permission scope)".to_owned(), |scope| scope.as_str().to_owned());
            let api = match resolution.api {
                ResourceApi::Graph => "Microsoft Graph",
                ResourceApi::Exchange => "Office 365 Exchange Online",
            };
            rules.push(format!(
                "The first resource-bearing scope, `{first}`, decides the resource: {api}; the other permissions are read as its own \
                 permissions (rule 3; deleg-mixed-graph-first, deleg-mixed-outlook-first)."
            ));
            let audience = resolution.audience(directory.tenant.graph_audience);
            let graph_form = match directory.tenant.graph_audience {
                GraphAudience::Guid => "the GUID form",
                GraphAudience::Uri => "the URI form",
            };
            if resolution.api == ResourceApi::Graph {
                rules.push(format!("aud will be {audience}, {graph_form} of Graph (rule 4; deleg-graph-prefixed-smtp)."));
                rules.push(
                    "Exchange Online refuses Graph audiences: 535 5.7.3 on SMTP, NO AUTHENTICATE failed. on IMAP \
                     (rule 12; exchange-accepted-audiences)."
                        .into(),
                );
            } else {
                rules.push(format!("aud will be {audience} (rule 4; deleg-outlook-smtp-only, exchange-accepted-audiences)."));
            }
        }
        Err(ResolveError::MultipleResources) => rules.push(match directory.tenant.multi_resource_scopes {
            MultiResourceScopes::Reject => "The tenant setting refuses any second resource: AADSTS28000 (rule 3; mixed-resources-at-token-endpoint-28000).".into(),
            MultiResourceScopes::FirstWins => "Two explicitly prefixed resources in one redemption: AADSTS28000 (rule 3; mixed-resources-at-token-endpoint-28000).".into(),
        }),
        Err(ResolveError::DefaultWithOthers) => rules.push(
            "`.default` cannot be combined with other permissions (rule 6; dot-default-plus-dynamic-scope; wording unverified).".into(),
        ),
        Err(ResolveError::UnknownResource(scope)) => {
            rules.push(format!("`{scope}` names no resource the simulation knows: invalid_scope (rule 7)."));
        }
    }
    rules
}

/// Renders a prediction for a terminal.
pub fn render(prediction: &Prediction) -> String {
    let mut text = String::new();
    match &prediction.token {
        Ok(token) => text.push_str(&format!(
            "token: aud {}  [{}]\n",
            token.aud,
            token.permissions.join(" ")
        )),
        Err(code) => text.push_str(&format!("token: refused, {code}\n")),
    }
    for (protocol, result, reply) in &prediction.probes {
        text.push_str(&format!(
            "{:<5} {}{}\n",
            crate::outcome::protocol_name(*protocol),
            result.as_str(),
            reply
                .as_deref()
                .map(|reply| format!(": {reply}"))
                .unwrap_or_default()
        ));
    }
    text.push_str("\nrules applied:\n");
    for rule in &prediction.rules {
        text.push_str(&format!("  - {rule}\n"));
    }
    text.trim_end().to_owned()
}
