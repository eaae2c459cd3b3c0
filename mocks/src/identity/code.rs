//! The authorization code grant with PKCE: the browser's visit to `/authorize` and the code's
//! redemption at `/token` (FIDELITY.md rules 1-7; fidelity: authorize-multi-resource-then-split,
//! code-redemption-empty-scope).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::digest;

use super::errors::{self, Denial};
use super::policy::{
    Grant, IdentityState, TokenRequest, app_with_registered_redirect, resolve_denial, resolve_for,
};
use super::resolve::{Leg, resolve};
use crate::directory::{App, Directory};
use crate::token::Scope;

/// An authorization request (`/authorize`), as the browser sent it.
#[derive(Debug, Clone, Default)]
pub struct AuthorizeRequest {
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
    pub code_challenge_method: Option<String>,
}

/// How an authorization request ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeOutcome {
    /// Signed in and consented: redirect with this code.
    Code(String),
    /// Redirect back with `error` and `error_description`.
    RedirectError(Denial),
    /// The platform shows an error page and does not redirect (the redirect cannot be trusted).
    ErrorPage(Denial),
}

/// A code waiting for its redemption.
#[derive(Debug, Clone)]
pub(super) struct CodeGrant {
    pub(super) client_id: String,
    pub(super) redirect_uri: String,
    pub(super) code_challenge: Option<String>,
    pub(super) user_object_id: String,
    pub(super) scopes: String,
}

impl IdentityState {
    /// Signs the directory's user in for `request` and, where the app allows it, records consent.
    pub fn authorize(&mut self, directory: &Directory, request: &AuthorizeRequest) -> AuthorizeOutcome {
        let app = match app_with_registered_redirect(directory, &request.client_id, &request.redirect_uri) {
            Ok(app) => app,
            Err(denial) => return AuthorizeOutcome::ErrorPage(denial),
        };
        if request.response_type != "code" {
            return AuthorizeOutcome::RedirectError(errors::unsupported_grant_type(&request.response_type));
        }
        if request.scope.trim().is_empty() {
            return AuthorizeOutcome::RedirectError(errors::missing_parameter("scope"));
        }
        if let Some(method) = &request.code_challenge_method
            && method != "S256"
            && method != "plain"
        {
            return AuthorizeOutcome::RedirectError(errors::missing_parameter("code_challenge_method"));
        }
        let user = directory.signed_in_user();
        if let Err(denial) = self.sign_in(directory, app, user, &request.tenant_segment, &request.scope) {
            return AuthorizeOutcome::RedirectError(denial);
        }

        let code = format!("1.A{}", self.ids.base64url("code", 32));
        // PKCE with `plain` keeps the verifier itself as the challenge (RFC 7636 §4.2).
        let code_challenge = match request.code_challenge_method.as_deref() {
            Some("plain") => request.code_challenge.clone().map(|c| format!("plain:{c}")),
            _ => request.code_challenge.clone(),
        };
        self.codes.insert(
            code.clone(),
            CodeGrant {
                client_id: app.client_id.clone(),
                redirect_uri: request.redirect_uri.clone(),
                code_challenge,
                user_object_id: user.object_id.clone(),
                scopes: request.scope.clone(),
            },
        );
        AuthorizeOutcome::Code(code)
    }

    pub(super) fn redeem_code(
        &mut self,
        directory: &Directory,
        app: &App,
        request: &TokenRequest,
        now: i64,
    ) -> Result<Grant, Denial> {
        let code = request
            .code
            .as_deref()
            .ok_or_else(|| errors::missing_parameter("code"))?;
        if self.redeemed_codes.contains(code) {
            return Err(errors::code_already_redeemed());
        }
        let grant = self
            .codes
            .get(code)
            .filter(|grant| grant.client_id == app.client_id)
            .cloned()
            .ok_or_else(errors::malformed_grant)?;
        if request.redirect_uri.as_deref() != Some(grant.redirect_uri.as_str()) {
            return Err(errors::redirect_uri_mismatch(
                request.redirect_uri.as_deref().unwrap_or_default(),
                &app.client_id,
            ));
        }
        if let Some(challenge) = &grant.code_challenge {
            let verifier = request
                .code_verifier
                .as_deref()
                .ok_or_else(|| errors::missing_parameter("code_verifier"))?;
            if !pkce_matches(challenge, verifier) {
                return Err(errors::pkce_mismatch());
            }
        }
        let user = directory
            .user_by_object_id(&grant.user_object_id)
            .ok_or_else(errors::malformed_grant)?;
        let scope_parameter = match request.scope.as_deref().map(str::trim) {
            Some(scope) if !scope.is_empty() => scope.to_owned(),
            _ => {
                // fidelity: code-redemption-empty-scope: works for a code of one resource only.
                let resolution = resolve(
                    &Scope::parse_list(&grant.scopes),
                    Leg::Authorize,
                    directory.tenant.multi_resource_scopes,
                )
                .map_err(|error| resolve_denial(error, &grant.scopes))?;
                if !resolution.other_resources.is_empty() {
                    return Err(errors::code_redemption_without_scope());
                }
                grant.scopes.clone()
            }
        };
        self.codes.remove(code);
        self.redeemed_codes.insert(code.to_owned());
        let resolution = resolve_for(
            user,
            &Scope::parse_list(&scope_parameter),
            Leg::Redeem,
            directory,
            &scope_parameter,
        )?;
        self.delegated_grant(
            directory,
            app,
            user,
            &resolution,
            &request.tenant_segment,
            &scope_parameter,
            now,
        )
    }
}

/// Checks a PKCE verifier against the stored challenge ([RFC 7636 §4.6](https://www.rfc-editor.org/rfc/rfc7636#section-4.6)).
fn pkce_matches(challenge: &str, verifier: &str) -> bool {
    match challenge.strip_prefix("plain:") {
        Some(plain) => plain == verifier,
        None => {
            let hash = digest::digest(&digest::SHA256, verifier.as_bytes());
            URL_SAFE_NO_PAD.encode(hash.as_ref()) == challenge
        }
    }
}
