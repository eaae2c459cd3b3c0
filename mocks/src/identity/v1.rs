//! The v1.0 token endpoint, `/{tenant}/oauth2/token`, as older guides and clients still use it
//! (fidelity: v1-ropc-resource-graph): the client names a `resource`, not scopes; `scope` is
//! ignored; the token carries every permission consented on that resource, its `aud` is the
//! resource as the client named it, and the response spells its numbers as strings.
//!
//! Only the password grant is simulated here, the one v1 flow the catalog documents.

use serde_json::{Value, json};

use crate::decision::{Decision, Part, Rule};
use crate::directory::Directory;
use crate::token::{Scope, ScopeKind};

use super::denial::Denial;
use super::errors;
use super::grant::EXPIRES_IN;
use super::request::{Grant, GrantType, TokenRequest};
use super::state::IdentityState;

/// Rule: the v1.0 token endpoint.
pub(crate) const V1_ENDPOINT: Rule = Rule {
    id: "v1-endpoint",
    part: Part::Identity,
    title: "The v1.0 endpoint names a resource, not scopes, and returns every consented permission",
    text: "Older guides send the password grant to `/{tenant}/oauth2/token` with `resource=`. The \
           token is for that resource, with `aud` exactly as the client wrote it; `scope` is \
           ignored and `scp` lists every permission consented on the resource, `offline_access` \
           included, sorted without regard to case. A refresh token comes without asking, and the \
           response writes its numbers as strings. So `resource=https://graph.microsoft.com` gives \
           a Graph token holding SMTP.Send, which SMTP refuses. Only the password grant is \
           simulated there; other grants get a refusal that says it is the simulation's limit.",
    cases: &["v1-ropc-resource-graph"],
    sources: &["https://learn.microsoft.com/en-us/entra/identity-platform/v2-overview"],
};

impl IdentityState {
    /// Decides a v1 token request made at `now`.
    pub(crate) fn token_v1(
        &mut self,
        directory: &Directory,
        request: &TokenRequest,
        now: i64,
    ) -> Result<Grant, Denial> {
        if request.grant_type != GrantType::Password {
            let denial = errors::v1_grant_not_simulated(request.grant_type.as_str());
            return Err(self.deny(&V1_ENDPOINT, denial));
        }
        let resource = request
            .resource
            .as_deref()
            .map(str::trim)
            .filter(|resource| !resource.is_empty());
        // Unverified for v1: the v2 endpoint's missing-parameter error (AADSTS900144), since no
        // public paste of v1's answer to a missing `resource` was found.
        let Some(resource) = resource else {
            return Err(self.deny(&V1_ENDPOINT, errors::missing_parameter("resource")));
        };
        self.decide(
            Decision::new(
                &V1_ENDPOINT,
                format!("The v1.0 endpoint reads `resource`, not `scope`: the token is for {resource}, with every consented permission."),
            )
            .with("resource", resource),
        );
        // fidelity: v1-ropc-resource-graph. "resource=https://graph.microsoft.com (&scope=...
        // ignored)": every consented permission on the resource, as `.default` asks in v2, and a
        // refresh token, which v1 issues without `offline_access`.
        let as_v2 = TokenRequest {
            scope: Some(format!(
                "{}/.default offline_access",
                resource.trim_end_matches('/')
            )),
            ..request.clone()
        };
        let mut grant = self.token(directory, &as_v2, now)?;
        // The decoded token of the same thread: `aud` is the resource exactly as named, and `scp`
        // lists every consented permission, `offline_access` and the OpenID scopes included, in
        // case-insensitive order ("email Mail.ReadWrite ... offline_access openid profile SMTP.Send").
        grant.claims.aud = resource.to_owned();
        let mut scp: Vec<String> = grant
            .claims
            .scp
            .as_deref()
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        let consented_offline = |state: &Self| {
            let app = directory.app_by_client_id(request.client_id.as_deref()?)?;
            let user = directory.user(request.username.as_deref()?)?;
            let api = match Scope::parse(&format!("{resource}/.default")).kind() {
                ScopeKind::Permission { resource, .. } => resource.api()?,
                _ => return None,
            };
            state.is_consented(app, user, api, "offline_access").then_some(())
        };
        if consented_offline(self).is_some() {
            scp.push("offline_access".to_owned());
        }
        scp.sort_by_key(|name| name.to_ascii_lowercase());
        grant.scope = scp.join(" ");
        grant.claims.scp = Some(grant.scope.clone());
        Ok(grant)
    }
}

/// The v1 response body: `expires_in`, `ext_expires_in`, `expires_on` and `not_before` are
/// strings, and `resource` echoes the request (fidelity: v1-ropc-resource-graph, "v1: numbers as
/// strings").
pub(crate) fn response_body(grant: &Grant, access_token: String) -> Value {
    let mut body = json!({
        "token_type": "Bearer",
        "scope": grant.scope,
        "expires_in": EXPIRES_IN.to_string(),
        "ext_expires_in": EXPIRES_IN.to_string(),
        "expires_on": grant.claims.exp.to_string(),
        "not_before": grant.claims.nbf.to_string(),
        "resource": grant.claims.aud,
        "access_token": access_token,
    });
    if let Some(refresh_token) = &grant.refresh_token {
        body["refresh_token"] = refresh_token.clone().into();
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::{ADELE, ADELE_PASSWORD, Consent, MAIL_CLIENT_ID};

    fn v1_ropc(directory: &Directory, resource: Option<&str>) -> Result<Grant, Denial> {
        let mut state = IdentityState::new(directory);
        let request = TokenRequest {
            tenant_segment: directory.tenant.id.clone(),
            grant_type: GrantType::Password,
            client_id: Some(MAIL_CLIENT_ID.into()),
            username: Some(ADELE.into()),
            password: Some(ADELE_PASSWORD.into()),
            scope: Some("https://outlook.office.com/SMTP.Send".into()),
            resource: resource.map(str::to_owned),
            ..TokenRequest::default()
        };
        state.token_v1(directory, &request, 1_000)
    }

    #[test]
    fn a_graph_resource_gives_a_graph_token_whatever_the_scope_says() {
        // fidelity: v1-ropc-resource-graph
        let mut directory = Directory::contoso();
        directory.app_by_name_mut("mail-client").unwrap().consent = Consent::Admin;

        let grant = v1_ropc(&directory, Some("https://graph.microsoft.com")).unwrap();

        assert_eq!(grant.claims.aud, "https://graph.microsoft.com");
        let scp = grant.claims.scp.clone().unwrap();
        assert_eq!(
            scp, "IMAP.AccessAsUser.All Mail.Send offline_access POP.AccessAsUser.All SMTP.Send User.Read",
            "every consented Graph permission, offline_access too, in case-insensitive order"
        );
        assert_eq!(
            grant.scope, scp,
            "the response's scope is the bare permission list"
        );
        assert!(grant.refresh_token.is_some());
        let body = response_body(&grant, "token".into());
        assert_eq!(body["expires_in"], "3599");
        assert_eq!(body["resource"], "https://graph.microsoft.com");
        assert_eq!(body["expires_on"], grant.claims.exp.to_string());
    }

    #[test]
    fn resource_is_required_and_only_the_password_grant_is_simulated() {
        let mut directory = Directory::contoso();
        directory.app_by_name_mut("mail-client").unwrap().consent = Consent::Admin;

        assert_eq!(v1_ropc(&directory, None).unwrap_err().code, Some(900_144));
        assert_eq!(
            v1_ropc(&directory, Some("https://outlook.office.com"))
                .unwrap()
                .claims
                .aud,
            "https://outlook.office.com"
        );
        let mut state = IdentityState::new(&directory);
        let code_grant = TokenRequest {
            grant_type: GrantType::AuthorizationCode,
            resource: Some("https://graph.microsoft.com".into()),
            ..TokenRequest::default()
        };
        assert_eq!(
            state
                .token_v1(&directory, &code_grant, 1_000)
                .unwrap_err()
                .error
                .as_str(),
            "unsupported_grant_type"
        );
    }
}
