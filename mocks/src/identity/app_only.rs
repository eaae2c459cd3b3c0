//! The client credentials grant: an app acting as itself (rule `client-credentials`; fidelity:
//! ccg-outlook365-default-imap-pop, ccg-non-default-scope, ccg-smtp-sendasapp).
//!
//! The scope must be `{resource}/.default`; `roles` are the admin-consented application
//! permissions on that resource; there is no `scp` and no refresh token.

use crate::decision::{Decision, Part, Rule};
use crate::directory::{App, ClientType, Consent, Directory};
use crate::token::{Claims, Scope, ScopeKind};

use super::client::{CLIENT_AUTHENTICATION, app_authentication_class, pairwise_subject};
use super::denial::Denial;
use super::errors;
use super::grant::ACCESS_TOKEN_LIFETIME;
use super::request::{Grant, TokenRequest};
use super::resolve::audience;
use super::state::IdentityState;

/// Rule: the client credentials grant.
pub(crate) const CLIENT_CREDENTIALS: Rule = Rule {
    id: "client-credentials",
    part: Part::Identity,
    title: "Client credentials: {resource}/.default only; roles are the administrator-consented app permissions",
    text: "An app acting as itself presents its secret and asks for `{resource}/.default`; a named \
           permission is refused with AADSTS1002012, two resources with AADSTS28000. The token's \
           `roles` are the application permissions the app lists on that resource, once an \
           administrator has consented (in the registration, or at the admin consent endpoint); \
           without consent the token has no roles. There is no `scp`, `idtyp` is `app`, `appidacr` \
           is `1`, and no refresh token comes with it.",
    cases: &[
        "ccg-outlook365-default-imap-pop",
        "ccg-non-default-scope",
        "ccg-smtp-sendasapp",
        "ccg-graph-default-to-imap",
        "ccg-ps-outlook-default",
        "launch-flows-2020",
    ],
    sources: &["https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow"],
};

impl IdentityState {
    /// Decides a client credentials request made at `now`.
    pub(crate) fn client_credentials(
        &mut self,
        directory: &Directory,
        app: &App,
        request: &TokenRequest,
        now: i64,
    ) -> Result<Grant, Denial> {
        // A public client has no credential to present (fidelity: public-client-secret-missing).
        if app.client_type == ClientType::Public {
            return Err(self.deny(&CLIENT_AUTHENTICATION, errors::client_secret_missing()));
        }
        let Some(scope_parameter) = request.scope_parameter() else {
            return Err(self.deny(&CLIENT_CREDENTIALS, errors::missing_parameter("scope")));
        };
        let scopes = Scope::parse_list(scope_parameter);
        let mut resources = Vec::new();
        for scope in &scopes {
            match scope.kind() {
                ScopeKind::Permission { resource, name } if name == ".default" && resource.is_explicit() => {
                    let Some(api) = resource.api() else {
                        return Err(self.deny(&CLIENT_CREDENTIALS, errors::invalid_scope(scope.as_str())));
                    };
                    if !resources.iter().any(|(known, _)| *known == api) {
                        resources.push((api, resource.clone()));
                    }
                }
                _ => {
                    let denial = errors::client_credentials_need_default(scope_parameter);
                    return Err(self.deny(&CLIENT_CREDENTIALS, denial));
                }
            }
        }
        let [(api, uri)] = resources.as_slice() else {
            return Err(self.deny(&CLIENT_CREDENTIALS, errors::multiple_resources(scope_parameter)));
        };
        // App roles need an administrator's consent, in the registration or at the admin consent
        // endpoint (fidelity: multitenant-admin-consent-urls); without it the token has no roles.
        let admin_consented =
            app.consent == Consent::Admin || self.app_role_grants.contains(&(app.client_id.clone(), *api));
        let roles: Vec<String> = if admin_consented {
            app.application
                .iter()
                .filter(|permission| permission.api == *api)
                .map(|permission| permission.name.clone())
                .collect()
        } else {
            Vec::new()
        };
        let aud = audience(uri, *api, directory.tenant.graph_audience);
        let described = if roles.is_empty() {
            "no roles: no administrator consented to the app's application permissions there".to_owned()
        } else {
            format!("roles {}", roles.join(", "))
        };
        self.decide(
            Decision::new(
                &CLIENT_CREDENTIALS,
                format!(
                    "An app-only token for {}: aud {aud}, {described}; no scp, no refresh token.",
                    api.display_name()
                ),
            )
            .with("scope", scope_parameter),
        );
        let claims = Claims {
            aud,
            iss: directory.v1_issuer(),
            iat: now,
            nbf: now,
            exp: now + ACCESS_TOKEN_LIFETIME,
            acr: None,
            aio: Some(self.ids.base64url("aio", 48)),
            amr: None,
            app_displayname: Some(app.display_name.clone()),
            appid: app.client_id.clone(),
            appidacr: app_authentication_class(app).into(),
            family_name: None,
            given_name: None,
            idtyp: Some("app".into()),
            name: None,
            oid: app.service_principal_id.clone(),
            rh: Some(format!("1.A{}.", self.ids.base64url("rh", 24))),
            roles: (!roles.is_empty()).then_some(roles),
            scp: None,
            sub: pairwise_subject(&app.service_principal_id, &app.client_id),
            tid: directory.tenant.id.clone(),
            unique_name: None,
            upn: None,
            uti: Some(self.ids.base64url("uti", 16)),
            ver: "1.0".into(),
        };
        Ok(Grant {
            claims,
            opaque: false,
            scope: String::new(),
            refresh_token: None,
            id_token: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::{MAIL_CLIENT_ID, MAIL_DAEMON_ID, MAIL_DAEMON_SECRET};

    fn request(client_id: &str, secret: Option<&str>, scope: &str) -> TokenRequest {
        TokenRequest {
            tenant_segment: crate::directory::CONTOSO_TENANT_ID.into(),
            grant_type: super::super::request::GrantType::ClientCredentials,
            client_id: Some(client_id.into()),
            client_secret: secret.map(str::to_owned),
            scope: Some(scope.into()),
            ..TokenRequest::default()
        }
    }

    #[test]
    fn default_scope_gives_roles_and_no_scp_or_refresh_token() {
        // fidelity: ccg-outlook365-default-imap-pop
        let directory = Directory::contoso();
        let mut state = IdentityState::new(&directory);

        let grant = state
            .token(
                &directory,
                &request(
                    MAIL_DAEMON_ID,
                    Some(MAIL_DAEMON_SECRET),
                    "https://outlook.office365.com/.default",
                ),
                1_000,
            )
            .unwrap();

        assert_eq!(grant.claims.aud, "https://outlook.office365.com");
        assert_eq!(
            grant.claims.roles.as_deref(),
            Some(
                &[
                    "SMTP.SendAsApp".to_owned(),
                    "IMAP.AccessAsApp".into(),
                    "POP.AccessAsApp".into()
                ][..]
            )
        );
        assert_eq!(grant.claims.scp, None);
        assert_eq!(grant.claims.idtyp.as_deref(), Some("app"));
        assert_eq!(grant.claims.appidacr, "1");
        assert_eq!(grant.refresh_token, None);
    }

    #[test]
    fn refuses_named_scopes_wrong_secrets_and_public_clients() {
        // fidelity: ccg-non-default-scope, public-client-secret-missing
        let directory = Directory::contoso();
        let mut state = IdentityState::new(&directory);
        let code = |state: &mut IdentityState, request: TokenRequest| {
            state.token(&directory, &request, 1_000).unwrap_err().code
        };

        assert_eq!(
            code(
                &mut state,
                request(
                    MAIL_DAEMON_ID,
                    Some(MAIL_DAEMON_SECRET),
                    "https://outlook.office365.com/IMAP.AccessAsApp"
                )
            ),
            Some(1_002_012)
        );
        assert_eq!(
            code(
                &mut state,
                request(
                    MAIL_DAEMON_ID,
                    Some("wrong"),
                    "https://outlook.office365.com/.default"
                )
            ),
            Some(7_000_215)
        );
        assert_eq!(
            code(
                &mut state,
                request(MAIL_CLIENT_ID, None, "https://outlook.office365.com/.default")
            ),
            Some(7_000_218)
        );
        let graph = state
            .token(
                &directory,
                &request(
                    MAIL_DAEMON_ID,
                    Some(MAIL_DAEMON_SECRET),
                    "https://graph.microsoft.com/.default",
                ),
                1_000,
            )
            .unwrap();
        assert_eq!(
            graph.claims.roles, None,
            "no Graph application permissions are registered"
        );
    }
}
