//! The resource owner password credentials grant, ROPC (FIDELITY.md rule 8; fidelity:
//! ropc-exchange): `/organizations` or a tenant only, no MFA, no personal accounts, and no consent
//! prompt, so permissions must have been consented before.

use super::errors::{self, Denial};
use super::policy::{Grant, IdentityState, TokenRequest, resolve_for};
use super::resolve::Leg;
use crate::directory::{AccountKind, App, Directory};
use crate::token::Scope;

impl IdentityState {
    /// Decides a ROPC request made at `now`.
    pub(super) fn password(
        &mut self,
        directory: &Directory,
        app: &App,
        request: &TokenRequest,
        now: i64,
    ) -> Result<Grant, Denial> {
        if matches!(request.tenant_segment.as_str(), "common" | "consumers") {
            return Err(errors::grant_type_not_on_this_endpoint());
        }
        let username = request
            .username
            .as_deref()
            .ok_or_else(|| errors::missing_parameter("username"))?;
        let password = request
            .password
            .as_deref()
            .ok_or_else(|| errors::missing_parameter("password"))?;
        let scope_parameter = request
            .scope
            .as_deref()
            .map(str::trim)
            .filter(|scope| !scope.is_empty())
            .ok_or_else(|| errors::missing_parameter("scope"))?;
        // "The Microsoft identity platform only supports the ROPC grant within Microsoft Entra
        // tenants, not personal accounts."
        let user = directory
            .user(username)
            .filter(|user| user.account == AccountKind::Work)
            .ok_or_else(|| errors::unknown_user(username, &directory.tenant.domain))?;
        if user.password != password {
            return Err(errors::invalid_credentials());
        }
        if user.mfa {
            return Err(errors::mfa_required());
        }
        let resolution = resolve_for(
            user,
            &Scope::parse_list(scope_parameter),
            Leg::Redeem,
            directory,
            scope_parameter,
        )?;
        self.delegated_grant(
            directory,
            app,
            user,
            &resolution,
            &request.tenant_segment,
            scope_parameter,
            now,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::{ADELE, ADELE_PASSWORD, Consent, MAIL_CLIENT_ID};

    fn ropc(directory: &Directory, segment: &str, password: &str) -> Result<Grant, Denial> {
        let mut state = IdentityState::new(directory);
        let request = TokenRequest {
            tenant_segment: segment.into(),
            grant_type: "password".into(),
            client_id: Some(MAIL_CLIENT_ID.into()),
            username: Some(ADELE.into()),
            password: Some(password.into()),
            scope: Some("https://outlook.office.com/SMTP.Send".into()),
            ..TokenRequest::default()
        };
        state.token(directory, &request, 1_000)
    }

    #[test]
    fn follows_the_ropc_rules() {
        // fidelity: ropc-exchange, consent-missing-65001
        let mut directory = Directory::contoso();
        let code = |result: Result<Grant, Denial>| {
            result.map(|grant| grant.claims.aud).map_err(|denial| denial.code)
        };

        assert_eq!(
            code(ropc(&directory, "common", ADELE_PASSWORD)),
            Err(Some(9_001_023))
        );
        assert_eq!(
            code(ropc(&directory, "consumers", ADELE_PASSWORD)),
            Err(Some(9_001_023))
        );
        assert_eq!(
            code(ropc(&directory, "organizations", ADELE_PASSWORD)),
            Err(Some(65001)),
            "no prompt, so no dynamic consent"
        );
        directory.app_by_name_mut("mail-client").unwrap().consent = Consent::Admin;
        assert_eq!(
            code(ropc(&directory, "organizations", ADELE_PASSWORD)),
            Ok("https://outlook.office.com".into())
        );
        assert_eq!(code(ropc(&directory, "organizations", "wrong")), Err(Some(50126)));
        directory.signed_in_user_mut().mfa = true;
        assert_eq!(
            code(ropc(&directory, "organizations", ADELE_PASSWORD)),
            Err(Some(50076))
        );
        directory.signed_in_user_mut().mfa = false;
        directory.signed_in_user_mut().account = AccountKind::Personal;
        assert_eq!(
            code(ropc(&directory, "organizations", ADELE_PASSWORD)),
            Err(Some(50034))
        );
    }
}
