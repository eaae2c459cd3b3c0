//! Tokens for tests: the authorization code flow run in process, through the same policy the
//! HTTP endpoints call, signed with the platform's key. No HTTP, no browser.

use crate::directory::Directory;
use crate::token::SigningKey;
use crate::token::jwt::wrap_opaque;

use super::denial::Denial;
use super::request::{AuthorizeOutcome, AuthorizeRequest, GrantType, TokenRequest};
use super::state::IdentityState;

/// Signs the directory's user in to its first app that has a redirect URI, with `scopes`, redeems
/// the code at `now`, and returns the signed access token (opaque for a personal account).
pub(crate) fn issue_token(
    state: &mut IdentityState,
    directory: &Directory,
    key: &SigningKey,
    now: i64,
    client_id: &str,
    scopes: &str,
) -> Result<String, Denial> {
    let redirect_uri = directory
        .app_by_client_id(client_id)
        .and_then(|app| app.redirect_uris.first().cloned())
        .unwrap_or_else(|| "http://localhost".into());
    let segment = match directory.signed_in_user().account {
        crate::directory::AccountKind::Work => "organizations",
        crate::directory::AccountKind::Personal => "consumers",
    };
    let request = AuthorizeRequest {
        tenant_segment: segment.into(),
        client_id: client_id.into(),
        response_type: "code".into(),
        redirect_uri: redirect_uri.clone(),
        scope: scopes.into(),
        ..AuthorizeRequest::default()
    };
    let code = match state.authorize(directory, &request, now) {
        AuthorizeOutcome::Code(code) => code,
        AuthorizeOutcome::RedirectError(denial) | AuthorizeOutcome::ErrorPage(denial) => return Err(denial),
    };
    let redemption = TokenRequest {
        tenant_segment: segment.into(),
        grant_type: GrantType::AuthorizationCode,
        client_id: Some(client_id.into()),
        code: Some(code),
        redirect_uri: Some(redirect_uri),
        scope: Some(scopes.into()),
        ..TokenRequest::default()
    };
    let grant = state.token(directory, &redemption, now)?;
    let jwt = key.mint(&grant.claims);
    Ok(if grant.opaque { wrap_opaque(&jwt) } else { jwt })
}
