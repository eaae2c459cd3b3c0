//! What every delegated grant shares: reading the scopes for the user, the sign-in with its
//! dynamic consent, the permissions that go into `scp`, and the claims of the token.

use crate::decision::{Decision, Part, Rule};
use crate::directory::{
    AccountKind, App, CONSUMERS_TENANT_ID, Consent, Directory, GraphAudience, MultiResourceScopes, User,
};
use crate::token::{Claims, ResourceApi, Scope, ScopeKind};

use super::client::{app_authentication_class, pairwise_subject};
use super::denial::Denial;
use super::errors;
use super::permissions::{self, consent_targets};
use super::request::{Grant, IdTokenClaims};
use super::resolve::{
    self, AUDIENCE, FIRST_SCOPE_WINS, Leg, Resolution, ResolveError, SCOPE_RESOURCE, SCOPE_SYNTAX,
};
use super::state::{IdentityState, RefreshGrant};

/// `expires_in` of every access token (rule `token-lifetime`).
pub(crate) const EXPIRES_IN: i64 = 3599;
/// `exp - iat`: Entra draws 60–90 minutes; the simulation fixes one observed value, 4346 s
/// (fidelity: token-lifetime, an outlook.office.com token in imapsync #250).
pub(crate) const ACCESS_TOKEN_LIFETIME: i64 = 4346;
/// `exp - iat` of an ID token: one hour (Microsoft's ID token reference: "one hour").
pub(crate) const ID_TOKEN_LIFETIME: i64 = 3600;

/// Rule: an ID token for `openid`, and `client_info` for MSAL.
pub(crate) const ID_TOKEN: Rule = Rule {
    id: "id-token",
    part: Part::Identity,
    title: "openid brings an ID token; client_info=1 brings client_info",
    text: "A delegated grant whose scopes include `openid` carries an `id_token` signed like the            access token, with Microsoft's v2.0 claims: `aud` the client id, `iss`            `{authority}/{tenant}/v2.0` as the discovery document gives it, `name`, `oid`,            `preferred_username`, the access token's pairwise `sub`, `tid`, and the authorization            request's `nonce`. A token request with `client_info=1` (MSAL sends it) also gets            `client_info`: base64url of `{\"uid\": oid, \"utid\": tid}`, which MSAL needs to keep an            account and refresh silently.",
    cases: &["id-token-client-info"],
    sources: &[],
};

/// Rule: `scp` holds the consented permissions asked for, or all of them for `.default`.
pub(crate) const GRANTED_PERMISSIONS: Rule = Rule {
    id: "granted-permissions",
    part: Part::Identity,
    title: "scp holds the requested permissions consented on the token's resource; .default gives all of them",
    text: "A delegated token's `scp` lists the permissions asked for, read on the token's \
           resource, when each is consented; one that is not consented refuses the whole request \
           (rule `consent`). `{resource}/.default` asks for every permission consented on that \
           resource. `.default` together with named permissions is an error (Microsoft documents \
           the rule; the exact text of the refusal is unverified and the simulation says so).",
    cases: &[
        "dot-default-delegated-outlook365",
        "dot-default-plus-dynamic-scope",
        "deleg-outlook-smtp-only",
    ],
    sources: &["https://learn.microsoft.com/en-us/entra/identity-platform/scopes-oidc#the-default-scope"],
};

/// Rule: consent, given at sign-in or by an administrator, gates every permission.
pub(crate) const CONSENT: Rule = Rule {
    id: "consent",
    part: Part::Identity,
    title: "A permission needs consent: the user's at sign-in, or an administrator's",
    text: "With `app.consent = \"user\"` the user consents at sign-in to every permission asked \
           for that exists on the token's resource, and on each resource the sign-in named. With \
           `\"admin\"` the permissions listed in the registration are consented for every user. \
           With `\"none\"`, or when a flow has no sign-in page (ROPC, a refresh), a permission \
           without consent is refused with AADSTS65001.",
    cases: &[
        "consent-missing-65001",
        "authorize-multi-resource-then-split",
        "portal-permission-listing",
    ],
    sources: &["https://learn.microsoft.com/en-us/entra/identity-platform/consent-types-developer"],
};

/// Rule: tokens for Exchange and Graph are v1-shaped; personal accounts get opaque ones.
pub(crate) const TOKEN_SHAPE: Rule = Rule {
    id: "token-shape",
    part: Part::Identity,
    title: "Exchange and Graph access tokens are v1 JWTs signed RS256; personal accounts get opaque tokens",
    text: "Access tokens for Exchange and Graph have the v1 shape: `ver` `1.0`, `iss` \
           `https://sts.windows.net/{tid}/`, `appid`, `appidacr`, `tid` and `oid`; delegated tokens \
           add `scp`, `upn`, `unique_name` and `name`; app-only tokens carry `roles` and `idtyp` \
           `app`, and no `scp`. They are signed RS256 with `kid` and `x5t` naming a key of the \
           published JWKS. A personal account's access token is opaque: it is not a JWT and cannot \
           be decoded.",
    cases: &[
        "deleg-outlook-smtp-only",
        "ccg-outlook365-default-imap-pop",
        "consumer-outlook-com-oauth",
    ],
    sources: &["https://learn.microsoft.com/en-us/entra/identity-platform/access-token-claims-reference"],
};

/// Rule: lifetimes.
pub(crate) const TOKEN_LIFETIME: Rule = Rule {
    id: "token-lifetime",
    part: Part::Identity,
    title: "expires_in is 3599; the token lives 60 to 90 minutes; a refresh token lives while used",
    text: "Every access token response says `expires_in` 3599. Entra draws the real lifetime \
           (`exp` minus `iat`) between 60 and 90 minutes; the simulation fixes one observed value, \
           4,346 seconds, so snapshots are stable. A refresh token stays valid while it is used at \
           least every 90 days (rule `refresh-token`).",
    cases: &["token-lifetime"],
    sources: &["https://learn.microsoft.com/en-us/entra/identity-platform/configurable-token-lifetimes"],
};

impl IdentityState {
    /// Resolves `scope_parameter` for `user` on `leg` and records how (rules `scope-resource`,
    /// `first-scope-wins`); personal accounts may not name two resources at all
    /// (fidelity: consumer-graph-scopes-imap).
    pub(crate) fn resolve_scopes(
        &mut self,
        directory: &Directory,
        user: &User,
        scope_parameter: &str,
        leg: Leg,
    ) -> Result<Resolution, Denial> {
        let scopes = Scope::parse_list(scope_parameter);
        let setting = match user.account {
            AccountKind::Work => directory.tenant.multi_resource_scopes,
            AccountKind::Personal => MultiResourceScopes::Reject,
        };
        let personal_leg = match (user.account, leg) {
            (AccountKind::Personal, Leg::Authorize) => Leg::Redeem,
            (_, leg) => leg,
        };
        match resolve::resolve(&scopes, personal_leg, setting) {
            Ok(resolution) => {
                for decision in resolve::decisions(&scopes, &resolution, leg) {
                    self.decide(decision);
                }
                Ok(resolution)
            }
            Err(error) => Err(self.refuse_resolution(error, user.account, scope_parameter)),
        }
    }

    /// The denial for scopes that do not resolve, recorded with its rule.
    pub(crate) fn refuse_resolution(
        &mut self,
        error: ResolveError,
        account: AccountKind,
        scope_parameter: &str,
    ) -> Denial {
        match (account, error) {
            (AccountKind::Personal, ResolveError::MultipleResources) => {
                self.deny(&FIRST_SCOPE_WINS, errors::incompatible_scopes(scope_parameter))
            }
            (_, ResolveError::MultipleResources) => {
                self.deny(&FIRST_SCOPE_WINS, errors::multiple_resources(scope_parameter))
            }
            (_, ResolveError::UnknownResource(scope)) => {
                self.deny(&SCOPE_RESOURCE, errors::invalid_scope(&scope))
            }
            (_, ResolveError::DefaultWithOthers) => self.deny(
                &GRANTED_PERMISSIONS,
                errors::default_with_other_scopes(scope_parameter),
            ),
        }
    }

    /// The simulated user signs in at `segment` and consents to `scope` as the app allows: the
    /// shared step of the authorization-code and device-code flows.
    pub(crate) fn sign_in(
        &mut self,
        directory: &Directory,
        app: &App,
        user: &User,
        segment: &str,
        scope: &str,
    ) -> Result<(), Denial> {
        self.check_account_and_authority(app, user, segment)?;
        self.check_conditional_access(directory, user, true, None)?;
        let resolution = self.resolve_scopes(directory, user, scope, Leg::Authorize)?;
        if app.consent == Consent::User {
            self.consent_at_sign_in(app, user, &Scope::parse_list(scope), &resolution)?;
        }
        Ok(())
    }

    /// Dynamic consent: the user consents to every requested permission as read on the token's
    /// resource, and as read on its own resource, so that consent covers every resource the
    /// authorize leg named (rule `consent`).
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
                let denial = errors::unknown_permission(&app.display_name, name, own_api.app_id());
                return Err(self.deny(&permissions::PERMISSION_REGISTRATION, denial));
            }
            wanted.extend(on_first.map(|canonical| (resolution.api, canonical.to_owned())));
            wanted.extend(on_own.map(|canonical| (own_api, canonical.to_owned())));
        }
        wanted.sort();
        wanted.dedup();
        if !wanted.is_empty() {
            let described: Vec<String> = wanted
                .iter()
                .map(|(api, name)| format!("{name} ({})", api.display_name()))
                .collect();
            self.decide(
                Decision::new(
                    &CONSENT,
                    format!("{} consents at sign-in to {}.", user.upn, described.join(", ")),
                )
                .with("app.consent", "user"),
            );
        }
        for (api, name) in wanted {
            self.consent(app, user, api, &name);
        }
        Ok(())
    }

    /// Grants a delegated token for `resolution` (rules `granted-permissions`, `audience`,
    /// `token-shape`, `scope-syntax`).
    #[expect(
        clippy::too_many_arguments,
        reason = "one grant needs every one of these, and only here"
    )]
    pub(crate) fn delegated_grant(
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
        self.decide(audience_decision(
            resolution,
            &audience,
            directory.tenant.graph_audience,
        ));
        self.decide(
            Decision::new(
                &GRANTED_PERMISSIONS,
                format!(
                    "scp is `{}`: the permissions asked for, consented on {}.",
                    granted.join(" "),
                    resolution.api.display_name()
                ),
            )
            .with("default_scope", resolution.default_scope.to_string()),
        );
        // The response's `scope` names Exchange permissions with their resource; Graph's are bare.
        let prefix = match resolution.api {
            ResourceApi::Graph => String::new(),
            ResourceApi::Exchange => format!("{audience}/"),
        };
        let claims = self.delegated_claims(directory, app, user, audience, granted.join(" "), now);
        let refresh_token = if resolution.wants_refresh_token() {
            self.decide(Decision::new(
                &SCOPE_SYNTAX,
                "offline_access was asked for: the response carries a refresh token.",
            ));
            Some(self.issue_refresh_token(app, user, scope_parameter, tenant_segment, now))
        } else {
            None
        };
        let opaque = user.account == AccountKind::Personal;
        if opaque {
            self.decide(Decision::new(
                &TOKEN_SHAPE,
                "The user has a personal account: the access token is opaque, not a JWT.",
            ));
        }
        // fidelity: id-token-client-info: `openid` asks for an ID token (Microsoft's v2.0 claims).
        let id_token = resolution
            .oidc
            .iter()
            .any(|scope| scope.as_str() == "openid")
            .then(|| IdTokenClaims {
                aud: app.client_id.clone(),
                iss: String::new(),
                iat: now,
                nbf: now,
                exp: now + ID_TOKEN_LIFETIME,
                aio: self.ids.base64url("aio", 48),
                name: user.display_name(),
                nonce: None,
                oid: user.object_id.clone(),
                preferred_username: user.upn.clone(),
                rh: format!("1.A{}.", self.ids.base64url("rh", 24)),
                sub: claims.sub.clone(),
                tid: claims.tid.clone(),
                uti: self.ids.base64url("uti", 16),
                ver: "2.0".into(),
            });
        Ok(Grant {
            claims,
            opaque,
            id_token,
            scope: granted
                .iter()
                .map(|name| format!("{prefix}{name}"))
                .collect::<Vec<_>>()
                .join(" "),
            refresh_token,
        })
    }

    /// Returns `scp` (rule `granted-permissions`): the requested permissions consented on the
    /// resource, or every consented one for `.default`.
    fn granted_permissions(
        &mut self,
        app: &App,
        user: &User,
        resolution: &Resolution,
    ) -> Result<Vec<String>, Denial> {
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
                Err(self.deny(
                    &CONSENT,
                    errors::consent_missing(&app.client_id, &app.display_name),
                ))
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
                Err(self.deny(&SCOPE_SYNTAX, errors::invalid_scope("offline_access")))
            } else {
                Ok(oidc)
            };
        }
        let mut granted = Vec::new();
        for name in &resolution.permissions {
            let Some(canonical) = permissions::canonical_delegated(resolution.api, name) else {
                let denial = errors::unknown_permission(&app.display_name, name, resolution.api.app_id());
                return Err(self.deny(&permissions::PERMISSION_REGISTRATION, denial));
            };
            if !self.is_consented(app, user, resolution.api, canonical) {
                // A refresh cannot ask for consent: AADSTS70000, not 65001 (audit F6).
                let denial = if resolution.leg == Leg::Refresh {
                    errors::scopes_unauthorized()
                } else {
                    errors::consent_missing(&app.client_id, &app.display_name)
                };
                return Err(self.deny(&CONSENT, denial));
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

    /// Issues a refresh token bound to `app` and `user`, remembering the scopes it was issued for.
    pub(crate) fn issue_refresh_token(
        &mut self,
        app: &App,
        user: &User,
        scopes: &str,
        segment: &str,
        now: i64,
    ) -> String {
        let token = format!("1.A{}", self.ids.credential("refresh", 32));
        self.refresh_tokens.insert(
            token.clone(),
            RefreshGrant {
                client_id: app.client_id.clone(),
                user_object_id: user.object_id.clone(),
                scopes: scopes.to_owned(),
                issued_at: now,
                last_used: now,
                consumers: segment == "consumers",
            },
        );
        token
    }
}

/// The decision naming a token's `aud` (rule `audience`).
pub(crate) fn audience_decision(
    resolution: &Resolution,
    audience: &str,
    graph_audience: GraphAudience,
) -> Decision {
    let form = match (resolution.api, graph_audience) {
        (ResourceApi::Graph, GraphAudience::Guid) => {
            " (Microsoft Graph's application id; tenant.graph_audience = \"guid\")"
        }
        (ResourceApi::Graph, GraphAudience::Uri) => {
            " (Microsoft Graph's URI; tenant.graph_audience = \"uri\")"
        }
        (ResourceApi::Exchange, _) => "",
    };
    Decision::new(&AUDIENCE, format!("aud is {audience}{form}."))
        .with("resource", resolution.api.display_name())
}
