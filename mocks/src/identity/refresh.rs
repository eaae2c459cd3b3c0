//! The refresh token grant: bound to user and client, not to a resource; refused after 90 days
//! unused, past a sign-in frequency, or at the other tenant alias (rule `refresh-token`).

use crate::decision::{Decision, Part, Rule};
use crate::directory::{App, Directory, RefreshWithoutScope};

use super::denial::Denial;
use super::errors;
use super::request::{Grant, TokenRequest};
use super::resolve::Leg;
use super::state::IdentityState;

/// Refresh tokens unused this long are refused (fidelity: refresh-expired-inactivity).
pub(crate) const REFRESH_TOKEN_INACTIVITY: i64 = 90 * 24 * 3600;

/// Rule: the refresh token grant.
pub(crate) const REFRESH_TOKEN: Rule = Rule {
    id: "refresh-token",
    part: Part::Identity,
    title: "A refresh token is bound to the user and the app, not to a resource",
    text: "A refresh token can be redeemed for any resource the user consented to, not only the \
           one it came with; each redemption returns a new refresh token. It is refused with \
           AADSTS700082 after 90 days unused, with AADSTS70043 once a Conditional Access sign-in \
           frequency has passed, and with AADSTS7000012 at the other tenant alias (`/consumers` \
           against a work grant, or the other way round). A refresh cannot ask for consent: a \
           permission never consented is refused. Without `scope`, sources disagree; \
           `tenant.refresh_without_scope` picks the first sign-in's scopes (Microsoft's current \
           page), AADSTS900144, or AADSTS90009.",
    cases: &[
        "refresh-cross-resource",
        "refresh-multi-resource-first-wins",
        "refresh-without-scope",
        "refresh-expired-inactivity",
        "refresh-wrong-tenant-alias",
        "refresh-ca-signin-frequency",
    ],
    sources: &[
        "https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow#refresh-the-access-token",
    ],
};

impl IdentityState {
    pub(crate) fn redeem_refresh_token(
        &mut self,
        directory: &Directory,
        app: &App,
        request: &TokenRequest,
        now: i64,
    ) -> Result<Grant, Denial> {
        let Some(token) = request.refresh_token.as_deref() else {
            return Err(self.deny(&REFRESH_TOKEN, errors::missing_parameter("refresh_token")));
        };
        // Bound to user and client, not to a resource (fidelity: refresh-cross-resource).
        let Some(grant) = self
            .refresh_tokens
            .get(token)
            .filter(|grant| grant.client_id == app.client_id)
            .cloned()
        else {
            return Err(self.deny(&REFRESH_TOKEN, errors::malformed_grant()));
        };
        if grant.consumers != (request.tenant_segment == "consumers") {
            return Err(self.deny(&REFRESH_TOKEN, errors::grant_for_another_tenant()));
        }
        if let Some(hours) = directory.tenant.sign_in_frequency_hours {
            let max_seconds = i64::from(hours) * 3600;
            if now - grant.issued_at > max_seconds {
                let denial = errors::sign_in_frequency_expired(&format_iso(grant.issued_at), max_seconds);
                return Err(self.deny(&REFRESH_TOKEN, denial));
            }
        }
        if now - grant.last_used > REFRESH_TOKEN_INACTIVITY {
            let denial = errors::refresh_token_inactive(&format_iso(grant.issued_at));
            return Err(self.deny(&REFRESH_TOKEN, denial));
        }
        if let Some(entry) = self.refresh_tokens.get_mut(token) {
            entry.last_used = now;
        }
        let Some(user) = directory.user_by_object_id(&grant.user_object_id) else {
            return Err(self.deny(&REFRESH_TOKEN, errors::malformed_grant()));
        };
        // Sources disagree on a refresh without `scope` (fidelity: refresh-without-scope); Microsoft's
        // current page makes it optional without saying which resource follows, so by default the
        // first sign-in's scopes apply.
        let scope_parameter = match request.scope_parameter() {
            Some(scope) => scope.to_owned(),
            None => match directory.tenant.refresh_without_scope {
                RefreshWithoutScope::FirstSignInScopes => {
                    self.decide(
                        Decision::new(
                            &REFRESH_TOKEN,
                            "The refresh names no scope: the first sign-in's scopes apply.",
                        )
                        .with("tenant.refresh_without_scope", "first-sign-in-scopes"),
                    );
                    grant.scopes.clone()
                }
                RefreshWithoutScope::RequireScope => {
                    return Err(self.deny(&REFRESH_TOKEN, errors::missing_parameter("scope")));
                }
                RefreshWithoutScope::TokenForItself => {
                    let denial = errors::token_for_itself(&app.client_id, &app.display_name);
                    return Err(self.deny(&REFRESH_TOKEN, denial));
                }
            },
        };
        self.decide(Decision::new(
            &REFRESH_TOKEN,
            "The refresh token is this app's and this user's, and was used within 90 days: it is redeemed.",
        ));
        let resolution = self.resolve_scopes(directory, user, &scope_parameter, Leg::Refresh)?;
        self.check_conditional_access(directory, user, false, Some(resolution.api))?;
        let mut granted = self.delegated_grant(
            directory,
            app,
            user,
            &resolution,
            &request.tenant_segment,
            &scope_parameter,
            now,
        )?;
        // Each use returns a new refresh token; the old one stays valid (fidelity: refresh-cross-resource).
        if granted.refresh_token.is_none() {
            granted.refresh_token =
                Some(self.issue_refresh_token(app, user, &grant.scopes, &request.tenant_segment, now));
        }
        Ok(granted)
    }
}

/// `2023-06-02T14:27:05.0000000Z`: .NET's round-trip form, as AADSTS70043 and AADSTS700082 quote it.
fn format_iso(unix: i64) -> String {
    format_time(
        unix,
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].0000000Z"),
    )
}

fn format_time(unix: i64, format: &[time::format_description::BorrowedFormatItem<'_>]) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|date| date.format(format).ok())
        .unwrap_or_default()
}
