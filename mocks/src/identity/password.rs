//! The resource owner password credentials grant, ROPC (rule `ropc`; fidelity: ropc-exchange):
//! `/organizations` or a tenant only, no MFA, no personal accounts, and no consent prompt, so
//! permissions must have been consented before.

use crate::decision::{Decision, Part, Rule};
use crate::directory::{AccountKind, App, Directory};

use super::denial::Denial;
use super::errors;
use super::request::{Grant, TokenRequest};
use super::resolve::Leg;
use super::state::IdentityState;

/// Rule: the password grant.
pub(crate) const ROPC: Rule = Rule {
    id: "ropc",
    part: Part::Identity,
    title: "The password grant works only at /organizations or a tenant, for work accounts without MFA",
    text: "ROPC sends the user's name and password to the token endpoint. At `/common` or \
           `/consumers` it is refused with AADSTS9001023. Personal accounts cannot use it \
           (AADSTS50034: no such user in the tenant), a wrong password gets AADSTS50126, and a user \
           who must pass MFA gets AADSTS50076. There is no page to consent on, so every permission \
           must have been consented already (else AADSTS65001).",
    cases: &["ropc-exchange", "consent-missing-65001"],
    sources: &["https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth-ropc"],
};

impl IdentityState {
    /// Decides a ROPC request made at `now`.
    pub(crate) fn password(
        &mut self,
        directory: &Directory,
        app: &App,
        request: &TokenRequest,
        now: i64,
    ) -> Result<Grant, Denial> {
        if matches!(request.tenant_segment.as_str(), "common" | "consumers") {
            return Err(self.deny(&ROPC, errors::grant_type_not_on_this_endpoint()));
        }
        let Some(username) = request.username.as_deref() else {
            return Err(self.deny(&ROPC, errors::missing_parameter("username")));
        };
        let Some(password) = request.password.as_deref() else {
            return Err(self.deny(&ROPC, errors::missing_parameter("password")));
        };
        let Some(scope_parameter) = request.scope_parameter() else {
            return Err(self.deny(&ROPC, errors::missing_parameter("scope")));
        };
        // "The Microsoft identity platform only supports the ROPC grant within Microsoft Entra
        // tenants, not personal accounts."
        let Some(user) = directory
            .user(username)
            .filter(|user| user.account == AccountKind::Work)
        else {
            return Err(self.deny(&ROPC, errors::unknown_user(username, &directory.tenant.domain)));
        };
        if user.password != password {
            return Err(self.deny(&ROPC, errors::invalid_credentials()));
        }
        self.decide(Decision::new(
            &ROPC,
            format!("{}'s password is right: the password grant proceeds.", user.upn),
        ));
        let resolution = self.resolve_scopes(directory, user, scope_parameter, Leg::Redeem)?;
        // The password grant cannot pass MFA (fidelity: ropc-exchange).
        self.check_conditional_access(directory, user, false, Some(resolution.api))?;
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
            grant_type: super::super::request::GrantType::Password,
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
