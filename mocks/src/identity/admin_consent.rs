//! The admin consent endpoint, `/{tenant}/v2.0/adminconsent` (fidelity:
//! multitenant-admin-consent-urls; Microsoft Learn, "Admin consent on the Microsoft identity
//! platform"): a tenant administrator approves an app's permissions for the whole tenant, as a
//! customer tenant does for a multi-tenant mail daemon before client credentials can work.
//!
//! "If you use the static (`/.default`) value ... it requests consent for all scopes found in the
//! required permissions (both user and app). To request app permissions, you must use the
//! `/.default` value." A named delegated permission is granted to every user.

use crate::decision::{Decision, Part, Rule};
use crate::directory::Directory;
use crate::token::{ResourceApi, ResourceUri, Scope, ScopeKind};

use super::client::{AUTHORITY, tenant_segment_known};
use super::errors;
use super::permissions::{self, PERMISSION_REGISTRATION, consent_targets};
use super::request::{AdminConsentOutcome, AdminConsentRequest};
use super::state::IdentityState;

/// Rule: the admin consent endpoint.
pub(crate) const ADMIN_CONSENT: Rule = Rule {
    id: "admin-consent",
    part: Part::Identity,
    title: "An administrator grants an app's permissions tenant-wide at /adminconsent",
    text: "A customer tenant's administrator opens `/{tenant}/v2.0/adminconsent` for a \
           multi-tenant app. `{resource}/.default` grants every permission the app lists on that \
           resource, application permissions included, for the whole tenant; a named delegated \
           permission is granted to every user. The browser returns to the redirect URI with \
           `admin_consent=True`, the tenant id and the scope. Application permissions can only be \
           granted this way, never by a user.",
    cases: &["multitenant-admin-consent-urls"],
    sources: &["https://learn.microsoft.com/en-us/entra/identity-platform/v2-admin-consent"],
};

impl IdentityState {
    /// The simulated tenant administrator signs in and approves `request.scope` tenant-wide.
    pub(crate) fn admin_consent(
        &mut self,
        directory: &Directory,
        request: &AdminConsentRequest,
    ) -> AdminConsentOutcome {
        if !tenant_segment_known(directory, &request.tenant_segment) {
            let denial = errors::unknown_tenant(&request.tenant_segment);
            return AdminConsentOutcome::ErrorPage(self.deny(&AUTHORITY, denial));
        }
        let app =
            match self.app_with_registered_redirect(directory, &request.client_id, &request.redirect_uri) {
                Ok(app) => app,
                Err(denial) => return AdminConsentOutcome::ErrorPage(denial),
            };
        if request.scope.trim().is_empty() {
            let denial = errors::missing_parameter("scope");
            return AdminConsentOutcome::RedirectError(self.deny(&ADMIN_CONSENT, denial));
        }
        let mut delegated = Vec::new();
        let mut app_roles = Vec::new();
        for scope in Scope::parse_list(&request.scope) {
            let ScopeKind::Permission { resource, name } = scope.kind() else {
                continue;
            };
            let api = match resource {
                ResourceUri::Bare => ResourceApi::Graph,
                explicit => match explicit.api() {
                    Some(api) => api,
                    None => {
                        let denial = errors::invalid_scope(scope.as_str());
                        return AdminConsentOutcome::RedirectError(
                            self.deny(&PERMISSION_REGISTRATION, denial),
                        );
                    }
                },
            };
            if name == ".default" {
                for permission in &app.delegated {
                    for target in consent_targets(permission.api, &permission.name) {
                        if target == api {
                            delegated.push((api, permission.name.clone()));
                        }
                    }
                }
                if app.application.iter().any(|permission| permission.api == api) {
                    app_roles.push(api);
                }
                continue;
            }
            match permissions::canonical_delegated(api, name) {
                Some(canonical) => delegated.push((api, canonical.to_owned())),
                None => {
                    let denial = errors::invalid_scope(scope.as_str());
                    return AdminConsentOutcome::RedirectError(self.deny(&PERMISSION_REGISTRATION, denial));
                }
            }
        }
        for user in &directory.users {
            for (api, name) in &delegated {
                self.consents
                    .insert((app.client_id.clone(), user.object_id.clone(), *api, name.clone()));
            }
        }
        let mut granted: Vec<String> = delegated
            .iter()
            .map(|(api, name)| format!("{name} ({})", api.display_name()))
            .collect();
        granted.extend(
            app_roles
                .iter()
                .map(|api| format!("the application permissions on {}", api.display_name())),
        );
        self.decide(
            Decision::new(
                &ADMIN_CONSENT,
                format!(
                    "The administrator grants {} for the whole tenant.",
                    granted.join(", ")
                ),
            )
            .with("scope", request.scope.clone()),
        );
        for api in app_roles {
            self.app_role_grants.insert((app.client_id.clone(), api));
        }
        AdminConsentOutcome::Granted
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::{Consent, MAIL_DAEMON_ID};
    use crate::identity::request::{GrantType, TokenRequest};

    fn roles_after(consent_scope: Option<&str>) -> Option<Vec<String>> {
        let mut directory = Directory::contoso();
        directory.app_by_name_mut("mail-daemon").unwrap().consent = Consent::None;
        let mut state = IdentityState::new(&directory);
        if let Some(scope) = consent_scope {
            let request = AdminConsentRequest {
                tenant_segment: directory.tenant.id.clone(),
                client_id: MAIL_DAEMON_ID.into(),
                redirect_uri: "http://localhost".into(),
                scope: scope.into(),
            };
            assert_eq!(
                state.admin_consent(&directory, &request),
                AdminConsentOutcome::Granted
            );
        }
        let secret = match &directory.app_by_name("mail-daemon").unwrap().client_type {
            crate::directory::ClientType::Confidential { secret } => secret.clone(),
            crate::directory::ClientType::Public => unreachable!("mail-daemon is confidential"),
        };
        let request = TokenRequest {
            tenant_segment: directory.tenant.id.clone(),
            grant_type: GrantType::ClientCredentials,
            client_id: Some(MAIL_DAEMON_ID.into()),
            client_secret: Some(secret),
            scope: Some("https://outlook.office365.com/.default".into()),
            ..TokenRequest::default()
        };
        state.token(&directory, &request, 1_000).unwrap().claims.roles
    }

    #[test]
    fn app_roles_need_an_administrators_default_consent() {
        // fidelity: multitenant-admin-consent-urls
        assert_eq!(roles_after(None), None, "no consent yet: a token without roles");
        let expected = Some(vec![
            "SMTP.SendAsApp".to_owned(),
            "IMAP.AccessAsApp".to_owned(),
            "POP.AccessAsApp".to_owned(),
        ]);
        assert_eq!(
            roles_after(Some("https://outlook.office365.com/.default")),
            expected
        );
        assert_eq!(
            roles_after(Some("https://ps.outlook.com/.default")),
            expected,
            "both URLs of the page name Office 365 Exchange Online"
        );
        assert_eq!(
            roles_after(Some("https://graph.microsoft.com/.default")),
            None,
            "consent on Graph grants nothing on Exchange"
        );
    }

    #[test]
    fn refuses_what_it_cannot_trust_or_read() {
        let directory = Directory::contoso();
        let mut state = IdentityState::new(&directory);
        let request = AdminConsentRequest {
            tenant_segment: directory.tenant.id.clone(),
            client_id: MAIL_DAEMON_ID.into(),
            redirect_uri: "https://evil.example".into(),
            scope: "https://outlook.office365.com/.default".into(),
        };
        assert!(matches!(
            state.admin_consent(&directory, &request),
            AdminConsentOutcome::ErrorPage(_)
        ));
        let unknown_scope = AdminConsentRequest {
            redirect_uri: "http://localhost".into(),
            scope: "https://outlook.office365.com/No.Such.Permission".into(),
            ..request
        };
        assert!(matches!(
            state.admin_consent(&directory, &unknown_scope),
            AdminConsentOutcome::RedirectError(denial) if denial.error.as_str() == "invalid_scope"
        ));
    }
}
