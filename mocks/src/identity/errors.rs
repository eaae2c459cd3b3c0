//! The AADSTS errors the simulated identity platform answers with, each with its source.
//!
//! Every error has the v2 JSON shape (rule `error-shape`, fidelity: token-error-json-shape):
//! `error`, `error_description` (`AADSTSnnnn: text` then `\r\nTrace ID: …\r\nCorrelation ID: …
//! \r\nTimestamp: …`), `error_codes`, `timestamp`, `trace_id`, `correlation_id`, `error_uri`.
//! Wording no public source confirms is marked *unverified* here, in one place.

use super::denial::{Denial, OAuthError};

// fidelity: mixed-resources-at-token-endpoint-28000 (the `error` value was not captured in any
// source; `invalid_scope` is the simulation's choice).
/// AADSTS28000: the scopes name more than one resource.
pub(crate) fn multiple_resources(scope_parameter: &str) -> Denial {
    Denial::new(
        400,
        OAuthError::InvalidScope,
        28000,
        format!(
            "Provided value for the input parameter scope is not valid because it contains more than one resource. Scope {scope_parameter} is not valid."
        ),
    )
}

// fidelity: code-redemption-empty-scope
/// AADSTS28003: a code spanning resources redeemed without `scope`.
pub(crate) fn code_redemption_without_scope() -> Denial {
    Denial::new(
        400,
        OAuthError::InvalidScope,
        28003,
        "Provided value for the input parameter scope can't be empty when requesting an access token using the provided authorization code. Specify a valid scope.",
    )
}

// fidelity: token-error-json-shape (Microsoft's own example)
/// AADSTS70011: a scope that names no known permission or resource.
pub(crate) fn invalid_scope(scope: &str) -> Denial {
    Denial::new(
        400,
        OAuthError::InvalidScope,
        70011,
        format!(
            "The provided value for the input parameter 'scope' isn't valid. The scope {scope} isn't valid."
        ),
    )
}

// fidelity: dot-default-plus-dynamic-scope. Microsoft documents the rule but no source quotes the
// reply: the code and the wording are unverified, and the description says so.
/// `.default` combined with other permissions (wording unverified).
pub(crate) fn default_with_other_scopes(scope_parameter: &str) -> Denial {
    Denial::new(
        400,
        OAuthError::InvalidScope,
        70011,
        format!(
            "The provided value for the input parameter 'scope' isn't valid. The scope {scope_parameter} isn't valid. [mailscope: .default cannot be combined with other scopes; Microsoft's exact wording for this case is unverified]"
        ),
    )
}

// fidelity: consent-missing-65001
/// AADSTS65001: no consent for a requested permission.
pub(crate) fn consent_missing(client_id: &str, app_display_name: &str) -> Denial {
    Denial::new(
        400,
        OAuthError::InvalidGrant,
        65001,
        format!(
            "The user or administrator has not consented to use the application with ID '{client_id}' named '{app_display_name}'. Send an interactive authorization request for this user and resource."
        ),
    )
}

// fidelity: refresh-without-scope, device-code-flow (AADSTS900144)
/// AADSTS900144: a required parameter is missing.
pub(crate) fn missing_parameter(name: &str) -> Denial {
    Denial::new(
        400,
        OAuthError::InvalidRequest,
        900_144,
        format!("The request body must contain the following parameter: '{name}'."),
    )
}

// Source: AADSTS9002313 pasted in MSAL issues (msal-js #3088, MSAL Android #558) for malformed or
// unknown codes and refresh tokens.
/// AADSTS9002313: a code or refresh token the platform does not know.
pub(crate) fn malformed_grant() -> Denial {
    Denial::new(
        400,
        OAuthError::InvalidGrant,
        9_002_313,
        "Invalid request. Request is malformed or invalid.",
    )
}

// Source: pasted in MSAL and Microsoft.Identity.Web issues (microsoft-identity-web #2328, msal-js
// #4217, 2021–2023), `invalid_grant`.
/// AADSTS54005: the code was redeemed already.
pub(crate) fn code_already_redeemed() -> Denial {
    Denial::new(
        400,
        OAuthError::InvalidGrant,
        54005,
        "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
    )
}

// Source: pasted in spencerwooo/onedrive-cf-index #25 (2020), the whole JSON error: a code
// redeemed after it expired.
/// AADSTS70000: the code has expired.
pub(crate) fn code_expired() -> Denial {
    Denial::new(
        400,
        OAuthError::InvalidGrant,
        70000,
        "The provided value for the 'code' parameter is not valid. The code has expired.",
    )
}

// Source: Microsoft's error-code table lists AADSTS501481 for a PKCE mismatch; the wording here is
// unverified.
/// AADSTS501481: the PKCE verifier does not match the challenge.
pub(crate) fn pkce_mismatch() -> Denial {
    Denial::new(
        400,
        OAuthError::InvalidGrant,
        501_481,
        "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
    )
}

// fidelity: refresh-expired-inactivity. The issue time in .NET's round-trip form and the limit,
// not the time elapsed, as Microsoft's Partner Center page quotes the error: "The token was issued
// on 2019-01-02T09:19:53.5422744Z and was inactive for 90.00:00:00."
/// AADSTS700082: the refresh token was unused for 90 days.
pub(crate) fn refresh_token_inactive(issued: &str) -> Denial {
    Denial::new(
        400,
        OAuthError::InvalidGrant,
        700_082,
        format!(
            "The refresh token has expired due to inactivity. The token was issued on {issued} and was inactive for 90.00:00:00."
        ),
    )
}

// fidelity: public-client-secret-missing (401 for invalid_client: token-error-json-shape)
/// AADSTS7000218: a confidential client sent no secret.
pub(crate) fn client_secret_missing() -> Denial {
    Denial::new(
        401,
        OAuthError::InvalidClient,
        7_000_218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    )
}

// Source: AADSTS7000215 as widely pasted; wording unverified in the catalog.
/// AADSTS7000215: the client secret is wrong.
pub(crate) fn client_secret_invalid(client_id: &str) -> Denial {
    Denial::new(
        401,
        OAuthError::InvalidClient,
        7_000_215,
        format!(
            "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."
        ),
    )
}

// Source: AADSTS700016 as widely pasted; wording unverified in the catalog.
/// AADSTS700016: no app with that client id.
pub(crate) fn unknown_client(client_id: &str, tenant: &str) -> Denial {
    Denial::new(
        400,
        OAuthError::UnauthorizedClient,
        700_016,
        format!(
            "Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
        ),
    )
}

// Source: AADSTS50011 as widely pasted; wording unverified in the catalog.
/// AADSTS50011: the redirect URI is not registered.
pub(crate) fn redirect_uri_mismatch(redirect_uri: &str, client_id: &str) -> Denial {
    Denial::new(
        400,
        OAuthError::InvalidRequest,
        50011,
        format!(
            "The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs configured for the application '{client_id}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this."
        ),
    )
}

// Source: AADSTS90002 as widely pasted; wording unverified in the catalog.
/// AADSTS90002: the authority names no tenant the platform knows.
pub(crate) fn unknown_tenant(tenant: &str) -> Denial {
    Denial::new(
        400,
        OAuthError::InvalidRequest,
        90002,
        format!(
            "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
        ),
    )
}

// Source: AADSTS70003 as widely pasted; wording unverified in the catalog.
/// AADSTS70003: a grant type the platform does not support here.
pub(crate) fn unsupported_grant_type(grant_type: &str) -> Denial {
    Denial::new(
        400,
        OAuthError::UnsupportedGrantType,
        70003,
        format!("The app requested an unsupported grant type '{grant_type}'."),
    )
}

// Not Microsoft's: the simulation's own refusal, and its description says so.
/// A grant the simulated v1 endpoint does not implement.
pub(crate) fn v1_grant_not_simulated(grant_type: &str) -> Denial {
    Denial::without_code(
        400,
        OAuthError::UnsupportedGrantType,
        format!(
            "[mailscope: the simulated v1.0 token endpoint implements grant_type=password only (fidelity: v1-ropc-resource-graph); '{grant_type}' is not simulated there]"
        ),
    )
}

// fidelity: ropc-exchange
/// AADSTS9001023: ROPC on `/common` or `/consumers`.
pub(crate) fn grant_type_not_on_this_endpoint() -> Denial {
    Denial::new(
        400,
        OAuthError::InvalidRequest,
        9_001_023,
        "The grant type isn't supported over the /common or /consumers endpoints. Please use the /organizations or tenant-specific endpoint.",
    )
}

// fidelity: ccg-non-default-scope
/// AADSTS1002012: client credentials without a `/.default` scope.
pub(crate) fn client_credentials_need_default(scope_parameter: &str) -> Denial {
    Denial::new(
        400,
        OAuthError::InvalidScope,
        1_002_012,
        format!(
            "The provided value for scope {scope_parameter} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
        ),
    )
}

// Source: AADSTS50126 as widely pasted; wording unverified in the catalog.
/// AADSTS50126: wrong user name or password (ROPC).
pub(crate) fn invalid_credentials() -> Denial {
    Denial::new(
        400,
        OAuthError::InvalidGrant,
        50126,
        "Error validating credentials due to invalid username or password.",
    )
}

// fidelity: ropc-exchange (MFA users fail ROPC). The wording, the resource's application id and
// `suberror` `basic_action` as pasted in DougHennig/SFMail #15 (2026-04) and MSAL objc #1391.
/// AADSTS50076: the user must pass MFA, which a non-interactive leg cannot do.
pub(crate) fn mfa_required(resource_app_id: &str) -> Denial {
    Denial {
        suberror: Some("basic_action"),
        ..Denial::new(
            400,
            OAuthError::InvalidGrant,
            50076,
            format!(
                "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '{resource_app_id}'."
            ),
        )
    }
}

// Source: AADSTS70016 as pasted in public logs (squarephish #3, 2023; ESPTeamsPresence #49, 2025).
/// `authorization_pending`: the user has not finished signing in on the other device.
pub(crate) fn authorization_pending() -> Denial {
    Denial::new(
        400,
        OAuthError::AuthorizationPending,
        70016,
        "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
    )
}

// fidelity: device-code-flow (Microsoft lists `authorization_declined`); the AADSTS number and
// wording are unverified.
/// `authorization_declined`: the user declined on the other device.
pub(crate) fn authorization_declined() -> Denial {
    Denial::new(
        400,
        OAuthError::AuthorizationDeclined,
        70018,
        "OAuth 2.0 device flow error. The end user denied the authorization request. [mailscope: wording unverified]",
    )
}

// Source: AADSTS70020 as pasted in azure-cli #22251 and azure-docs #92366 (2022).
/// `expired_token`: the device code's 15 minutes passed.
pub(crate) fn device_code_expired() -> Denial {
    Denial::new(
        400,
        OAuthError::ExpiredToken,
        70020,
        "The provided value for the input parameter 'device_code' is not valid. This device code has expired.",
    )
}

// fidelity: device-code-flow (`bad_verification_code`); the AADSTS number and wording are unverified.
/// `bad_verification_code`: a device code the platform never issued.
pub(crate) fn bad_verification_code() -> Denial {
    Denial::new(
        400,
        OAuthError::BadVerificationCode,
        70019,
        "The device_code sent to the token endpoint wasn't recognized. [mailscope: wording unverified]",
    )
}

// RFC 8628 §3.5 defines `slow_down`; no Entra paste of it was found, so it carries no AADSTS code.
/// `slow_down`: the client polls faster than the platform allows.
pub(crate) fn slow_down() -> Denial {
    Denial::without_code(
        400,
        OAuthError::SlowDown,
        "OAuth 2.0 device flow error. Polling too frequently: add 5 seconds to the interval (RFC 8628 §3.5). [mailscope: wording unverified]",
    )
}

// fidelity: consumer-app-not-enabled (no AADSTS number in the quoted reply)
/// A personal account at an app registered for organisational accounts only.
pub(crate) fn not_enabled_for_consumers() -> Denial {
    Denial::without_code(
        400,
        OAuthError::UnauthorizedClient,
        "The client does not exist or is not enabled for consumers. If you are the application developer, configure a new application through the App Registrations in the Azure Portal at https://go.microsoft.com/fwlink/?linkid=2083908.",
    )
}

// Source: AADSTS50020 as widely pasted; wording unverified in the catalog.
/// A personal account signing in at an organisations-only authority.
pub(crate) fn personal_account_at_organizations(upn: &str) -> Denial {
    Denial::new(
        400,
        OAuthError::InvalidRequest,
        50020,
        format!(
            "User account '{upn}' from identity provider 'live.com' does not exist in tenant 'Microsoft Services' and cannot access the application in that tenant. [mailscope: wording unverified]"
        ),
    )
}

// Source: AADSTS50034 as widely pasted; wording unverified in the catalog.
/// ROPC for a user the tenant does not have.
pub(crate) fn unknown_user(upn: &str, tenant: &str) -> Denial {
    Denial::new(
        400,
        OAuthError::InvalidGrant,
        50034,
        format!(
            "The user account {upn} does not exist in the {tenant} directory. To sign into this application, the account must be added to the directory."
        ),
    )
}

// fidelity: refresh-wrong-tenant-alias
/// AADSTS7000012: a refresh token redeemed at another tenant alias.
pub(crate) fn grant_for_another_tenant() -> Denial {
    Denial::new(
        400,
        OAuthError::InvalidGrant,
        7_000_012,
        "The grant was obtained for a different tenant.",
    )
}

// fidelity: refresh-ca-signin-frequency (email-oauth2-proxy #181)
/// AADSTS70043: Conditional Access sign-in frequency ended the refresh token's life.
pub(crate) fn sign_in_frequency_expired(issued: &str, max_seconds: i64) -> Denial {
    Denial {
        suberror: Some("token_expired"),
        ..Denial::new(
            400,
            OAuthError::InvalidGrant,
            70043,
            format!(
                "The refresh token has expired or is invalid due to sign-in frequency checks by conditional access. The token was issued on {issued} and the maximum allowed lifetime for this request is {max_seconds}."
            ),
        )
    }
}

// fidelity: refresh-without-scope (open-webui PR #22357); the `'{appId}'({appName})` form as
// pasted in azure-search-openai-demo #1534.
/// AADSTS90009: the app asks for a token for itself.
pub(crate) fn token_for_itself(client_id: &str, app_name: &str) -> Denial {
    Denial::new(
        400,
        OAuthError::InvalidRequest,
        90009,
        format!(
            "Application '{client_id}'({app_name}) is requesting a token for itself. This scenario is supported only if resource is specified using the GUID based App Identifier."
        ),
    )
}

// Source: fluent-smtp #154 and FriendsOfFlarum/passport #22, at /authorize with `invalid_client`.
// Both pastes show a bare scope ('user.read\n'). For a scope prefixed with its resource the
// message names the permission alone, since it names the resource beside it: an inference, as
// no public paste shows a prefixed one.
/// AADSTS650053: a permission the (known) resource does not define.
pub(crate) fn unknown_permission(app_name: &str, scope: &str, resource_app_id: &str) -> Denial {
    Denial::new(
        400,
        OAuthError::InvalidClient,
        650_053,
        format!(
            "The application '{app_name}' asked for scope '{scope}' that doesn't exist on the resource '{resource_app_id}'. Contact the app vendor."
        ),
    )
}

// Source: ZeroPointSix/outlookEmailPlus #107 (2026-07): a refresh asking for scopes the grant
// never had.
/// AADSTS70000: a refresh names a permission that was never consented.
pub(crate) fn scopes_unauthorized() -> Denial {
    Denial::new(
        400,
        OAuthError::InvalidGrant,
        70000,
        "The request was denied because one or more scopes requested are unauthorized or expired.",
    )
}

// Source: MartinIngesen/MSOLSpray #5 (the whole body of a password grant: `interaction_required`,
// `suberror` `message_only`); MSAL Java #597, AzureAD-LDAP-wrapper #115 (the text).
/// AADSTS53003: Conditional Access blocks the sign-in.
pub(crate) fn conditional_access_blocked() -> Denial {
    Denial {
        suberror: Some("message_only"),
        ..Denial::new(
            400,
            OAuthError::InteractionRequired,
            53003,
            "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.",
        )
    }
}

// Source: assast/outlookEmail #58 (2026-07), a personal account mixing Graph and Outlook scopes.
/// AADSTS70011, personal accounts: the scopes name resources that cannot go together.
pub(crate) fn incompatible_scopes(scope_parameter: &str) -> Denial {
    Denial::new(
        400,
        OAuthError::InvalidScope,
        70011,
        format!(
            "The provided value for the input parameter 'scope' is not valid. One or more scopes in '{scope_parameter}' are not compatible with each other."
        ),
    )
}

#[cfg(test)]
mod tests {
    use time::OffsetDateTime;

    use super::*;
    use crate::ids::IdSource;

    #[test]
    fn error_body_has_the_v2_shape() {
        // fidelity: token-error-json-shape
        let ids = IdSource::new("test");
        let now = OffsetDateTime::from_unix_timestamp(1_452_304_932).unwrap();

        let body = invalid_scope("https://example.contoso.com/activity.read").to_body(&ids, now);

        assert_eq!(body.error, "invalid_scope");
        assert_eq!(body.error_codes, vec![70011]);
        assert_eq!(body.timestamp, "2016-01-09 02:02:12Z");
        assert!(body.error_description.starts_with(
            "AADSTS70011: The provided value for the input parameter 'scope' isn't valid. The scope https://example.contoso.com/activity.read isn't valid.\r\nTrace ID: "
        ));
        assert!(
            body.error_description
                .ends_with("\r\nTimestamp: 2016-01-09 02:02:12Z")
        );
        assert_eq!(
            body.error_uri.as_deref(),
            Some("https://login.microsoftonline.com/error?code=70011")
        );
        let json = serde_json::to_value(&body).unwrap();
        let keys: Vec<_> = json.as_object().unwrap().keys().cloned().collect();
        assert_eq!(
            keys,
            [
                "correlation_id",
                "error",
                "error_codes",
                "error_description",
                "error_uri",
                "timestamp",
                "trace_id"
            ]
        );
    }

    #[test]
    fn aadsts28000_quotes_the_scopes() {
        // fidelity: mixed-resources-at-token-endpoint-28000
        let denial = multiple_resources(
            "https://outlook.office.com/IMAP.AccessAsUser.All https://graph.microsoft.com/User.Read",
        );
        assert_eq!(
            denial.headline(),
            "AADSTS28000: Provided value for the input parameter scope is not valid because it contains more than one resource. Scope https://outlook.office.com/IMAP.AccessAsUser.All https://graph.microsoft.com/User.Read is not valid."
        );
    }
}
