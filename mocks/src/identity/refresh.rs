//! The refresh token grant: bound to user and client, not to a resource; refused after 90 days
//! unused, past a sign-in frequency, or at the other tenant alias (fidelity: refresh-cross-resource,
//! refresh-multi-resource-first-wins, refresh-without-scope, refresh-expired-inactivity,
//! refresh-ca-signin-frequency, refresh-wrong-tenant-alias).

use super::errors::{self, Denial};
use super::policy::{Grant, IdentityState, REFRESH_TOKEN_INACTIVITY, TokenRequest, resolve_for};
use super::resolve::Leg;
use crate::directory::{App, Directory, RefreshWithoutScope, User};
use crate::token::Scope;

/// An issued refresh token.
#[derive(Debug, Clone)]
pub(super) struct RefreshGrant {
    pub(super) client_id: String,
    pub(super) user_object_id: String,
    pub(super) scopes: String,
    pub(super) issued_at: i64,
    pub(super) last_used: i64,
    pub(super) consumers: bool,
}

impl IdentityState {
    pub(super) fn redeem_refresh_token(
        &mut self,
        directory: &Directory,
        app: &App,
        request: &TokenRequest,
        now: i64,
    ) -> Result<Grant, Denial> {
        let token = request
            .refresh_token
            .as_deref()
            .ok_or_else(|| errors::missing_parameter("refresh_token"))?;
        // Bound to user and client, not to a resource (fidelity: refresh-cross-resource).
        let grant = self
            .refresh_tokens
            .get(token)
            .filter(|grant| grant.client_id == app.client_id)
            .cloned()
            .ok_or_else(errors::malformed_grant)?;
        if grant.consumers != is_consumers_segment(&request.tenant_segment) {
            return Err(errors::grant_for_another_tenant());
        }
        if let Some(hours) = directory.tenant.sign_in_frequency_hours {
            let max_seconds = i64::from(hours) * 3600;
            if now - grant.issued_at > max_seconds {
                return Err(errors::sign_in_frequency_expired(
                    &format_iso(grant.issued_at),
                    max_seconds,
                ));
            }
        }
        if now - grant.last_used > REFRESH_TOKEN_INACTIVITY {
            return Err(errors::refresh_token_inactive(
                &format_date(grant.issued_at),
                &format_duration(now - grant.last_used),
            ));
        }
        if let Some(entry) = self.refresh_tokens.get_mut(token) {
            entry.last_used = now;
        }
        let user = directory
            .user_by_object_id(&grant.user_object_id)
            .ok_or_else(errors::malformed_grant)?;
        // Sources disagree on a refresh without `scope` (fidelity: refresh-without-scope); Microsoft's
        // current page makes it optional without saying which resource follows, so by default the
        // first sign-in's scopes apply.
        let scope_parameter = match request.scope.as_deref().map(str::trim) {
            Some(scope) if !scope.is_empty() => scope.to_owned(),
            _ => match directory.tenant.refresh_without_scope {
                RefreshWithoutScope::FirstSignInScopes => grant.scopes.clone(),
                RefreshWithoutScope::RequireScope => return Err(errors::missing_parameter("scope")),
                RefreshWithoutScope::TokenForItself => return Err(errors::token_for_itself(&app.client_id)),
            },
        };
        let resolution = resolve_for(
            user,
            &Scope::parse_list(&scope_parameter),
            Leg::Refresh,
            directory,
            &scope_parameter,
        )?;
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

    pub(super) fn issue_refresh_token(
        &mut self,
        app: &App,
        user: &User,
        scopes: &str,
        segment: &str,
        now: i64,
    ) -> String {
        let token = format!("1.A{}", self.ids.base64url("refresh", 32));
        self.refresh_tokens.insert(
            token.clone(),
            RefreshGrant {
                client_id: app.client_id.clone(),
                user_object_id: user.object_id.clone(),
                scopes: scopes.to_owned(),
                issued_at: now,
                last_used: now,
                consumers: is_consumers_segment(segment),
            },
        );
        token
    }
}

/// `/consumers` issues grants a work tenant does not honour, and the other way round
/// (fidelity: refresh-wrong-tenant-alias).
fn is_consumers_segment(segment: &str) -> bool {
    segment == "consumers"
}

fn format_date(unix: i64) -> String {
    format_time(
        unix,
        time::macros::format_description!("[month]/[day]/[year] [hour]:[minute]:[second]"),
    )
}

/// `2023-06-02T14:27:05.0000000Z`, the form AADSTS70043 quotes.
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

fn format_duration(seconds: i64) -> String {
    let days = seconds / 86_400;
    let rest = seconds % 86_400;
    format!(
        "{days}.{:02}:{:02}:{:02}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}
