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
    text: "The simulated user signs in at `/authorize` and consents as the app allows; the platform \
           redirects with a single-use code bound to the app, the redirect URI and the PKCE \
           challenge (S256 or plain, RFC 7636). The redemption must repeat the redirect URI and \
           present the verifier; a code redeemed twice gets AADSTS54005, a wrong verifier \
           AADSTS501481, an unknown code AADSTS9002313. The redemption's `scope` decides the token; \
           without one, a code whose sign-in named one resource is redeemed for it, and a code that \
           named several gets AADSTS28003.",
    cases: &[
        "code-redemption-empty-scope",
        "authorize-multi-resource-then-split",
        "deleg-outlook-smtp-only",
    ],
    sources: &[
        "https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow",
        "https://www.rfc-editor.org/rfc/rfc7636",
    ],
};

impl IdentityState {
    /// Signs the directory's user in for `request` and, where the app allows it, records consent.
    pub(crate) fn authorize(
        &mut self,
        directory: &Directory,
        request: &AuthorizeRequest,
    ) -> AuthorizeOutcome {
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
        let user = directory.signed_in_user();
        if let Err(denial) = self.sign_in(directory, app, user, &request.tenant_segment, &request.scope) {
            return AuthorizeOutcome::RedirectError(denial);
        }

        let code = format!("1.A{}", self.ids.base64url("code", 32));
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
        let grant = self.check_code(app, request)?;
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
        let code = request.code.as_deref().unwrap_or_default();
        self.codes.remove(code);
        self.redeemed_codes.insert(code.to_owned());
        let resolution = self.resolve_scopes(directory, user, &scope_parameter, Leg::Redeem)?;
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

    /// The code's checks: present, unused, this app's, the same redirect URI, the PKCE verifier.
    fn check_code(&mut self, app: &App, request: &TokenRequest) -> Result<CodeGrant, Denial> {
        let Some(code) = request.code.as_deref() else {
            return Err(self.deny(&AUTHORIZATION_CODE, errors::missing_parameter("code")));
        };
        if self.redeemed_codes.contains(code) {
            return Err(self.deny(&AUTHORIZATION_CODE, errors::code_already_redeemed()));
        }
        let Some(grant) = self
            .codes
            .get(code)
            .filter(|grant| grant.client_id == app.client_id)
            .cloned()
        else {
            return Err(self.deny(&AUTHORIZATION_CODE, errors::malformed_grant()));
        };
        if request.redirect_uri.as_deref() != Some(grant.redirect_uri.as_str()) {
            let denial = errors::redirect_uri_mismatch(
                request.redirect_uri.as_deref().unwrap_or_default(),
                &app.client_id,
            );
            return Err(self.deny(&super::client::REDIRECT_URI, denial));
        }
        if let Some(challenge) = &grant.code_challenge {
            let Some(verifier) = request.code_verifier.as_deref() else {
                return Err(self.deny(&AUTHORIZATION_CODE, errors::missing_parameter("code_verifier")));
            };
            if !pkce_matches(challenge, verifier) {
                return Err(self.deny(&AUTHORIZATION_CODE, errors::pkce_mismatch()));
            }
        }
        Ok(grant)
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
