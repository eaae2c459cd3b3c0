//! Admin consent through `/{tenant}/v2.0/adminconsent`: a tenant administrator approves an app's
//! permissions for the whole tenant before its cases run (fidelity: multitenant-admin-consent-urls).
//! Live, a person signs in as an administrator in the browser; simulated, the harness plays the
//! browser and the simulated administrator approves.

use oauth2::CsrfToken;

use super::browser::read_admin_consent;
use super::flows::{browse, redirect_listener};
use super::http::progress;
use super::types::{AcquireError, Authority, Denial, SignIn};

/// Sends the tenant's administrator to the admin consent endpoint for `scopes`; `None` when
/// consent was granted, the refusal otherwise.
pub async fn admin_consent(
    http: &oauth2::reqwest::Client,
    authority: &Authority,
    scopes: &[String],
) -> Result<Option<Denial>, AcquireError> {
    let (listener, redirect_uri) = redirect_listener(authority).await?;
    let state = CsrfToken::new_random();
    let url = url::Url::parse_with_params(
        &authority.admin_consent_endpoint(),
        [
            ("client_id", authority.client_id.as_str()),
            ("scope", scopes.join(" ").as_str()),
            ("redirect_uri", redirect_uri.as_str()),
            ("state", state.secret().as_str()),
        ],
    )?;
    if matches!(authority.sign_in, SignIn::Loopback { .. }) {
        progress("an administrator of the tenant must approve the app's permissions");
    }
    match browse(http, authority, url, listener, &state).await? {
        Ok(redirect) => read_admin_consent(&redirect, &state).map(|refused| {
            refused.map(|denial| Denial {
                stage: "adminconsent",
                ..denial
            })
        }),
        Err(denial) => Ok(Some(Denial {
            stage: "adminconsent",
            ..denial
        })),
    }
}
