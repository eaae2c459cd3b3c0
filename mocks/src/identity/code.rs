//! The authorization code grant with PKCE: the browser's visit to `/authorize` and the code's
//! redemption at `/token` (rule `authorization-code`; fidelity: authorize-multi-resource-then-split,
//! code-redemption-empty-scope).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::digest;

use crate::decision::{Decision, Part, Rule};
use crate::directory::{App, Directory};
use crate::token::Scope;

use super::denial::Denial;
use super::errors;
use super::request::{AuthorizeOutcome, AuthorizeRequest, Grant, PkceMethod, TokenRequest};
use super::resolve::{Leg, resolve};
use super::state::{CodeGrant, IdentityState};

/// Rule: the authorization code grant.
pub(crate) const AUTHORIZATION_CODE: Rule = Rule {
    id: "authorization-code",
    part: Part::Identity,
    title: "Authorization code with PKCE: sign in and consent at /authorize, redeem the code once at /token",
    text: "The simulated user signs in at `/authorize` (the user `login_hint` names, when the \
           directory has one: the sign-in page fills it in) and consents as the app allows; the platform \
           redirects with a single-use code bound to the app, the redirect URI and the PKCE \
           challenge (S256 or plain, RFC 7636), valid for 10 minutes (Microsoft: codes expire \
           \"after about 10 minutes\"; RFC 6749 §4.1.2 recommends at most 10). The redemption must \
           repeat the redirect URI and present the verifier; a wrong verifier gets AADSTS501481, an \
           expired code AADSTS70000 (\"The code has expired.\"), an unknown code AADSTS9002313. \
           A presentation that gets past the request's own parameters uses the code up, refused or \
           not (RFC 6749 §10.5: single-use; how Entra treats a refused redemption is not \
           documented): a wrong client, redirect URI or verifier burns it, and the next \
           presentation gets AADSTS54005. The \
           redemption's `scope` decides the token; without one, a code whose sign-in named one \
           resource is redeemed for it, and a code that named several gets AADSTS28003.",
    cases: &[
        "code-redemption-empty-scope",
        "authorize-multi-resource-then-split",
        "deleg-outlook-smtp-only",
    ],
    sources: &[
        "https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow",
        "https://www.rfc-editor.org/rfc/rfc7636",
        "https://www.rfc-editor.org/rfc/rfc6749#section-10.5",
        "https://github.com/aaronpk/oauth-v2-1/issues/82",
        "https://github.com/spencerwooo/onedrive-cf-index/issues/25",
    ],
};

/// How long a code may wait for its redemption (seconds).
pub(crate) const CODE_LIFETIME: i64 = 600;

impl IdentityState {
    /// Signs the directory's user in for `request` and, where the app allows it, records consent.
    pub(crate) fn authorize(
        &mut self,
        directory: &Directory,
        request: &AuthorizeRequest,
        now: i64,
    ) -> AuthorizeOutcome {
        // Codes nobody redeemed, and the memory of redeemed ones, go once they expire.
        self.codes
            .retain(|_, grant| now - grant.issued_at <= CODE_LIFETIME);
        self.redeemed_codes.retain(|_, at| now - *at <= CODE_LIFETIME);
        let app =
            match self.app_with_registered_redirect(directory, &request.client_id, &request.redirect_uri) {
                Ok(app) => app,
                Err(denial) => return AuthorizeOutcome::ErrorPage(denial),
            };
        let refusal = if request.response_type != "code" {
            Some(errors::unsupported_grant_type(&request.response_type))
        } else if request.scope.trim().is_empty() {
            Some(errors::missing_parameter("scope"))
        } else if let Some(PkceMethod::Other(_)) = &request.code_challenge_method {
            Some(errors::missing_parameter("code_challenge_method"))
        } else {
            None
        };
        if let Some(denial) = refusal {
            return AuthorizeOutcome::RedirectError(self.deny(&AUTHORIZATION_CODE, denial));
        }
        // The sign-in page shows `login_hint`'s account; the simulated browser signs in as that
        // user when the directory has one, else as the directory's first user.
        let user = request
            .login_hint
            .as_deref()
            .and_then(|hint| directory.user(hint))
            .unwrap_or_else(|| directory.signed_in_user());
        if let Err(denial) = self.sign_in(directory, app, user, &request.tenant_segment, &request.scope) {
            return AuthorizeOutcome::RedirectError(denial);
        }

        let code = format!("1.A{}", self.ids.credential("code", 32));
        // PKCE with `plain` keeps the verifier itself as the challenge (RFC 7636 §4.2).
        let code_challenge = match &request.code_challenge_method {
            Some(PkceMethod::Plain) => request.code_challenge.clone().map(|c| format!("plain:{c}")),
            _ => request.code_challenge.clone(),
        };
        let pkce = match (&request.code_challenge, &request.code_challenge_method) {
            (None, _) => "no PKCE",
            (Some(_), Some(PkceMethod::Plain)) => "PKCE plain",
            (Some(_), _) => "PKCE S256",
        };
        self.decide(
            Decision::new(
                &AUTHORIZATION_CODE,
                format!("{} signed in; a single-use code is issued ({pkce}).", user.upn),
            )
            .with("scope", request.scope.clone()),
        );
        self.codes.insert(
            code.clone(),
            CodeGrant {
                client_id: app.client_id.clone(),
                redirect_uri: request.redirect_uri.clone(),
                code_challenge,
                user_object_id: user.object_id.clone(),
                scopes: request.scope.clone(),
                issued_at: now,
                nonce: request.nonce.clone(),
            },
        );
        AuthorizeOutcome::Code(code)
    }

    /// Redeems an authorization code.
    pub(crate) fn redeem_code(
        &mut self,
        directory: &Directory,
        app: &App,
        request: &TokenRequest,
        now: i64,
    ) -> Result<Grant, Denial> {
        let grant = self.check_code(app, request, now)?;
        let user = match directory.user_by_object_id(&grant.user_object_id) {
            Some(user) => user,
            None => return Err(self.deny(&AUTHORIZATION_CODE, errors::malformed_grant())),
        };
        let scope_parameter = match request.scope_parameter() {
            Some(scope) => scope.to_owned(),
            None => {
                // fidelity: code-redemption-empty-scope: works for a code of one resource only.
                let resolution = match resolve(
                    &Scope::parse_list(&grant.scopes),
                    Leg::Authorize,
                    directory.tenant.multi_resource_scopes,
                ) {
                    Ok(resolution) => resolution,
                    Err(error) => return Err(self.refuse_resolution(error, user.account, &grant.scopes)),
                };
                if !resolution.other_resources.is_empty() {
                    return Err(self.deny(&AUTHORIZATION_CODE, errors::code_redemption_without_scope()));
                }
                self.decide(Decision::new(
                    &AUTHORIZATION_CODE,
                    "The redemption names no scope: the sign-in's scopes, of one resource, apply.",
                ));
                grant.scopes.clone()
            }
        };
        // The code and the request agree: this presentation uses the code up, whatever follows.
        self.use_up(request.code.as_deref().unwrap_or_default(), now);
        let resolution = self.resolve_scopes(directory, user, &scope_parameter, Leg::Redeem)?;
        let mut issued = self.delegated_grant(
            directory,
            app,
            user,
            &resolution,
            &request.tenant_segment,
            &scope_parameter,
            now,
        )?;
        if let Some(id_token) = issued.id_token.as_mut() {
            id_token.nonce = grant.nonce;
        }
        Ok(issued)
    }

    /// The code's checks: present, unused, unexpired, this app's, the same redirect URI, the PKCE
    /// verifier. A known code is used up by being presented, whatever the checks say.
    fn check_code(&mut self, app: &App, request: &TokenRequest, now: i64) -> Result<CodeGrant, Denial> {
        let Some(code) = request.code.as_deref() else {
            return Err(self.deny(&AUTHORIZATION_CODE, errors::missing_parameter("code")));
        };
        if self.redeemed_codes.contains_key(code) {
            return Err(self.deny(&AUTHORIZATION_CODE, errors::code_already_redeemed()));
        }
        let Some(grant) = self.codes.get(code).cloned() else {
            return Err(self.deny(&AUTHORIZATION_CODE, errors::malformed_grant()));
        };
        if now - grant.issued_at > CODE_LIFETIME {
            self.use_up(code, now);
            return Err(self.deny(&AUTHORIZATION_CODE, errors::code_expired()));
        }
        if grant.client_id != app.client_id {
            self.use_up(code, now);
            return Err(self.deny(&AUTHORIZATION_CODE, errors::malformed_grant()));
        }
        if request.redirect_uri.as_deref() != Some(grant.redirect_uri.as_str()) {
            let denial = errors::redirect_uri_mismatch(
                request.redirect_uri.as_deref().unwrap_or_default(),
                &app.client_id,
            );
            self.use_up(code, now);
            return Err(self.deny(&super::client::REDIRECT_URI, denial));
        }
        if let Some(challenge) = &grant.code_challenge {
            let Some(verifier) = request.code_verifier.as_deref() else {
                return Err(self.deny(&AUTHORIZATION_CODE, errors::missing_parameter("code_verifier")));
            };
            if !pkce_matches(challenge, verifier) {
                self.use_up(code, now);
                return Err(self.deny(&AUTHORIZATION_CODE, errors::pkce_mismatch()));
            }
        }
        Ok(grant)
    }

    /// Marks `code` as presented: it cannot be redeemed again.
    fn use_up(&mut self, code: &str, now: i64) {
        self.codes.remove(code);
        self.redeemed_codes.insert(code.to_owned(), now);
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
