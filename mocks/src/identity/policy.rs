//! Decides token requests against the directory: a grant, or a denial. The dispatcher over the
//! grant types; each grant lives in its own module.
//!
//! Pure apart from the state it is handed (consents given, codes and refresh tokens issued); time
//! comes in as a value. The HTTP adapter is `server.rs`.

use crate::decision::{Part, Rule};
use crate::directory::Directory;

use super::denial::Denial;
use super::errors;
use super::request::{Grant, GrantType, TokenRequest};
use super::state::IdentityState;

/// Rule: the grant types the token endpoint answers.
pub(crate) const GRANT_TYPES: Rule = Rule {
    id: "grant-types",
    part: Part::Identity,
    title: "The token endpoint answers five grant types",
    text: "`/token` answers the authorization code, refresh token, client credentials, password \
           (ROPC) and device code grants, after checking the authority and the client. A request \
           without `grant_type` gets AADSTS900144; any other grant type gets AADSTS70003 \
           (`unsupported_grant_type`).",
    cases: &["launch-flows-2020", "device-code-flow"],
    sources: &["https://www.rfc-editor.org/rfc/rfc6749#section-4"],
};

impl IdentityState {
    /// Decides a token request made at `now`.
    pub(crate) fn token(
        &mut self,
        directory: &Directory,
        request: &TokenRequest,
        now: i64,
    ) -> Result<Grant, Denial> {
        self.check_authority(directory, &request.tenant_segment)?;
        let app = self.find_app(directory, request.client_id.as_deref())?;
        self.authenticate_client(app, request.client_secret.as_deref())?;

        match &request.grant_type {
            GrantType::AuthorizationCode => self.redeem_code(directory, app, request, now),
            GrantType::RefreshToken => self.redeem_refresh_token(directory, app, request, now),
            GrantType::ClientCredentials => self.client_credentials(directory, app, request, now),
            GrantType::Password => self.password(directory, app, request, now),
            GrantType::DeviceCode => self.poll_device_code(directory, app, request, now),
            GrantType::Missing => Err(self.deny(&GRANT_TYPES, errors::missing_parameter("grant_type"))),
            GrantType::Other(other) => Err(self.deny(&GRANT_TYPES, errors::unsupported_grant_type(other))),
        }
    }
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
