//! What arrives at the identity platform and what it answers, as typed values: token,
//! authorization and admin consent requests, grant types, PKCE methods, and grants.
//!
//! The HTTP adapter (`server.rs`) parses the wire into these; the policy decides on them.

use crate::token::Claims;

use super::denial::Denial;

/// A `grant_type` value ([RFC 6749 §4](https://www.rfc-editor.org/rfc/rfc6749#section-4),
/// [RFC 8628 §3.4](https://www.rfc-editor.org/rfc/rfc8628#section-3.4)).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum GrantType {
    /// `authorization_code`.
    AuthorizationCode,
    /// `refresh_token`.
    RefreshToken,
    /// `client_credentials`.
    ClientCredentials,
    /// `password` (ROPC).
    Password,
    /// `urn:ietf:params:oauth:grant-type:device_code`.
    DeviceCode,
    /// No `grant_type` at all.
    #[default]
    Missing,
    /// Anything else, as sent.
    Other(String),
}

impl GrantType {
    /// The device code grant's wire name.
    pub(crate) const DEVICE_CODE: &'static str = "urn:ietf:params:oauth:grant-type:device_code";

    /// Reads a `grant_type` value as sent.
    pub(crate) fn parse(value: &str) -> Self {
        match value {
            "" => Self::Missing,
            "authorization_code" => Self::AuthorizationCode,
            "refresh_token" => Self::RefreshToken,
            "client_credentials" => Self::ClientCredentials,
            "password" => Self::Password,
            Self::DEVICE_CODE => Self::DeviceCode,
            other => Self::Other(other.to_owned()),
        }
    }

    /// Returns the wire name.
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
            Self::ClientCredentials => "client_credentials",
            Self::Password => "password",
            Self::DeviceCode => Self::DEVICE_CODE,
            Self::Missing => "",
            Self::Other(other) => other,
        }
    }
}

/// A PKCE `code_challenge_method` ([RFC 7636 §4.3](https://www.rfc-editor.org/rfc/rfc7636#section-4.3)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PkceMethod {
    /// `S256`.
    S256,
    /// `plain`: the verifier itself.
    Plain,
    /// Anything else, as sent.
    Other(String),
}

impl PkceMethod {
    /// Reads a `code_challenge_method` value as sent.
    pub(crate) fn parse(value: &str) -> Self {
        match value {
            "S256" => Self::S256,
            "plain" => Self::Plain,
            other => Self::Other(other.to_owned()),
        }
    }
}

/// A token request (`/token`), parsed from the form and the `Authorization` header.
#[derive(Clone, Default)]
pub(crate) struct TokenRequest {
    /// The authority's path segment (`organizations`, `common`, a tenant id).
    pub tenant_segment: String,
    /// `grant_type`.
    pub grant_type: GrantType,
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
    /// `client_info=1`: the response carries `client_info` (MSAL asks for it).
    pub client_info: bool,
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

impl TokenRequest {
    /// Returns `scope` trimmed, or `None` when absent or blank.
    pub(crate) fn scope_parameter(&self) -> Option<&str> {
        self.scope
            .as_deref()
            .map(str::trim)
            .filter(|scope| !scope.is_empty())
    }
}

/// An authorization request (`/authorize`), as the browser sent it.
#[derive(Debug, Clone, Default)]
pub(crate) struct AuthorizeRequest {
    /// The authority's path segment (`organizations`, `common`, `consumers`, a tenant id).
    pub tenant_segment: String,
    /// `client_id`.
    pub client_id: String,
    /// `response_type`.
    pub response_type: String,
    /// `redirect_uri`.
    pub redirect_uri: String,
    /// `scope`, space-separated.
    pub scope: String,
    /// `code_challenge`.
    pub code_challenge: Option<String>,
    /// `code_challenge_method`.
    pub code_challenge_method: Option<PkceMethod>,
    /// `nonce`: echoed in the ID token of the code's redemption (OpenID Connect Core §3.1.2.1).
    pub nonce: Option<String>,
    /// `login_hint`: the sign-in page's username is filled in with it (the simulated user who
    /// signs in is that user when the directory has one).
    pub login_hint: Option<String>,
}

/// How an authorization request ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AuthorizeOutcome {
    /// Signed in and consented: redirect with this code.
    Code(String),
    /// Redirect back with `error` and `error_description`.
    RedirectError(Denial),
    /// The platform shows an error page and does not redirect (the redirect cannot be trusted).
    ErrorPage(Denial),
}

/// An admin consent request, as the administrator's browser sent it.
#[derive(Debug, Clone, Default)]
pub(crate) struct AdminConsentRequest {
    /// The authority's path segment.
    pub tenant_segment: String,
    /// `client_id`.
    pub client_id: String,
    /// `redirect_uri`.
    pub redirect_uri: String,
    /// `scope`, space-separated.
    pub scope: String,
}

/// How an admin consent request ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AdminConsentOutcome {
    /// Granted: redirect with `admin_consent=True`, the tenant id and the scope.
    Granted,
    /// Refused: redirect back with `error` and `error_description`.
    RedirectError(Denial),
    /// Refused before a redirect can be trusted: an error page.
    ErrorPage(Denial),
}

/// A granted token request: the claims to sign and what else the response carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Grant {
    /// The access token's claims.
    pub claims: Claims,
    /// The token is for a personal account: opaque, not a JWT (fidelity: consumer-outlook-com-oauth).
    pub opaque: bool,
    /// The response's `scope`: the granted permissions with their resource prefix.
    pub scope: String,
    /// A refresh token, when `offline_access` was asked for.
    pub refresh_token: Option<String>,
    /// An ID token's claims, when `openid` was asked for; its issuer is set where the
    /// platform's address is known.
    pub id_token: Option<IdTokenClaims>,
}

/// The claims of a v2.0 ID token, as Microsoft's reference lists them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct IdTokenClaims {
    /// The app's client id.
    pub aud: String,
    /// `{authority}/{tenant id}/v2.0`.
    pub iss: String,
    /// Issued at.
    pub iat: i64,
    /// Not before.
    pub nbf: i64,
    /// Expiry.
    pub exp: i64,
    /// An opaque value Entra uses internally.
    pub aio: String,
    /// The user's display name (`profile`).
    pub name: String,
    /// The authorization request's nonce.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// The user's object id.
    pub oid: String,
    /// The user's sign-in name (`profile`).
    pub preferred_username: String,
    /// An opaque value Entra uses internally.
    pub rh: String,
    /// The pairwise subject, the same as the access token's.
    pub sub: String,
    /// The tenant id.
    pub tid: String,
    /// A token identifier.
    pub uti: String,
    /// `2.0`.
    pub ver: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grant_types_round_trip_their_wire_names() {
        for name in [
            "authorization_code",
            "refresh_token",
            "client_credentials",
            "password",
            GrantType::DEVICE_CODE,
            "",
            "urn:ietf:params:oauth:grant-type:jwt-bearer",
        ] {
            assert_eq!(GrantType::parse(name).as_str(), name);
        }
        assert_eq!(GrantType::parse(""), GrantType::Missing);
    }
}
