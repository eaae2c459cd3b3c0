//! The client credentials grant: an app acting as itself (FIDELITY.md rule 8; fidelity:
//! ccg-outlook365-default-imap-pop, ccg-non-default-scope, ccg-smtp-sendasapp).
//!
//! The scope must be `{resource}/.default`; `roles` are the admin-consented application
//! permissions on that resource; there is no `scp` and no refresh token.

use super::errors::{self, Denial};
use super::policy::{
    ACCESS_TOKEN_LIFETIME, Grant, IdentityState, TokenRequest, app_authentication_class, pairwise_subject,
};
use super::resolve::audience;
use crate::directory::{App, ClientType, Consent, Directory};
use crate::token::{Claims, Scope, ScopeKind};

impl IdentityState {
    /// Decides a client credentials request made at `now`.
    pub(super) fn client_credentials(
        &mut self,
        directory: &Directory,
        app: &App,
        request: &TokenRequest,
        now: i64,
    ) -> Result<Grant, Denial> {
        // A public client has no credential to present (fidelity: public-client-secret-missing).
        if app.client_type == ClientType::Public {
            return Err(errors::client_secret_missing());
        }
        let scope_parameter = request
            .scope
            .as_deref()
            .map(str::trim)
            .filter(|scope| !scope.is_empty())
            .ok_or_else(|| errors::missing_parameter("scope"))?;
        let scopes = Scope::parse_list(scope_parameter);
        let mut resources = Vec::new();
        for scope in &scopes {
            match scope.kind() {
                ScopeKind::Permission { resource, name } if name == ".default" && resource.is_explicit() => {
                    let api = resource
                        .api()
                        .ok_or_else(|| errors::invalid_scope(scope.as_str()))?;
                    if !resources.iter().any(|(known, _)| *known == api) {
                        resources.push((api, resource.clone()));
                    }
                }
                _ => return Err(errors::client_credentials_need_default(scope_parameter)),
            }
        }
        let [(api, uri)] = resources.as_slice() else {
            return Err(errors::multiple_resources(scope_parameter));
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
        let claims = Claims {
            aud: audience(uri, *api, directory.tenant.graph_audience),
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
            grant_type: "client_credentials".into(),
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
