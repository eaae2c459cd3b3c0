//! What a run owes a real tenant around each token request: a token an earlier case got for the
//! same request is used again, a password Entra refused is not sent again, and Entra's loop
//! detection stops the run's requests. Throttling itself is handled where requests are sent
//! (`http.rs`).

use std::time::Duration;

use super::flows::run_flow;
use super::http::{RecordingClient, run_stopped, stop_run};
use super::types::{AcquireError, Authority, IssuedToken, Obtained, TokenOutcome, TokenRequest, Waiting};
use crate::scenario::types::Flow;

/// Obtains a token for `request` from `authority`.
pub async fn acquire(
    http: &oauth2::reqwest::Client,
    authority: &Authority,
    request: &TokenRequest,
    waiting: &Waiting,
) -> Result<TokenOutcome, AcquireError> {
    if let Some(why) = run_stopped(authority.base.as_str()) {
        return Err(AcquireError::Throttled(why));
    }
    // Live: a password Entra refused is not sent again in this run. Smart lockout ignores a
    // repeated bad password only for cloud-only accounts; federated and pass-through users'
    // directories count every try.
    let password_key = match (&request.asked.flow, &request.resource_owner, waiting) {
        (Flow::Password, Some(owner), Waiting::Real) => {
            Some(format!("{}|{}", authority.base, owner.username))
        }
        _ => None,
    };
    if let Some(key) = &password_key
        && refused_password(key)
    {
        return Err(AcquireError::Throttled(
            "the password was refused earlier in this run (AADSTS50126): it is not sent again, so that \
             smart lockout does not count it once per case; correct the variable live.toml's \
             `password_env` names"
                .into(),
        ));
    }
    // Live: a token an earlier case got for exactly the same request is used again while it is
    // valid, rather than asking Entra (and a person) again.
    let reuse_key = matches!(waiting, Waiting::Real).then(|| {
        format!(
            "{}|{}|{}|{:?}|{:?}",
            authority.base, authority.segment, authority.client_id, authority.login_hint, request.asked
        )
    });
    if let Some(key) = &reuse_key
        && let Some(token) = reusable(key)
    {
        return Ok(TokenOutcome::Issued(token));
    }
    let recording = RecordingClient::new(http);
    let outcome = run_flow(http, &recording, authority, request, waiting).await?;
    if let (Some(key), TokenOutcome::Issued(token)) = (&reuse_key, &outcome) {
        keep_for_reuse(key, token);
    }
    if let (Some(key), TokenOutcome::Denied(denial)) = (&password_key, &outcome)
        && denial.error.error_codes.contains(&WRONG_PASSWORD)
    {
        remember_refused_password(key);
    }
    if let Some(why) = recording.gave_up() {
        return Err(AcquireError::Throttled(why));
    }
    if let TokenOutcome::Denied(denial) = &outcome
        && denial.error.error_codes.contains(&LOOP_DETECTED)
    {
        // Entra's loop detection: too many identical requests in a short time. It is about the
        // run, not the case; going on would only make it worse.
        let why = format!(
            "Entra detected a loop (AADSTS{LOOP_DETECTED}: too many identical token requests in a short \
             time): the run's token requests stop here; wait some minutes, and run fewer cases at once"
        );
        stop_run(authority.base.as_str(), why.clone());
        return Err(AcquireError::Throttled(why));
    }
    Ok(outcome)
}

/// AADSTS50196: "The server terminated an operation because it encountered a client request loop."
const LOOP_DETECTED: u32 = 50196;

/// Tokens of this run by request, with when they stop being reused.
type Issued = Vec<(String, IssuedToken, tokio::time::Instant)>;
static ISSUED: std::sync::Mutex<Issued> = std::sync::Mutex::new(Vec::new());

/// A token is reused until five minutes before it expires.
const REUSE_MARGIN: Duration = Duration::from_secs(300);

fn reusable(key: &str) -> Option<IssuedToken> {
    let issued = ISSUED.lock().ok()?;
    issued
        .iter()
        .find(|(known, _, until)| known == key && tokio::time::Instant::now() < *until)
        .map(|(_, token, _)| IssuedToken {
            obtained: Obtained::Reused,
            ..token.clone()
        })
}

fn keep_for_reuse(key: &str, token: &IssuedToken) {
    let lifetime = Duration::from_secs(token.expires_in.unwrap_or(0));
    if lifetime <= REUSE_MARGIN {
        return;
    }
    if let Ok(mut issued) = ISSUED.lock() {
        let until = tokio::time::Instant::now() + (lifetime - REUSE_MARGIN);
        issued.retain(|(known, _, _)| known != key);
        issued.push((key.to_owned(), token.clone(), until));
    }
}

/// AADSTS50126: "Error validating credentials due to invalid username or password."
const WRONG_PASSWORD: u32 = 50126;

/// The accounts (authority and username) whose password Entra refused in this run.
static REFUSED_PASSWORDS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

fn refused_password(key: &str) -> bool {
    REFUSED_PASSWORDS
        .lock()
        .is_ok_and(|refused| refused.iter().any(|known| known == key))
}

fn remember_refused_password(key: &str) {
    if let Ok(mut refused) = REFUSED_PASSWORDS.lock() {
        refused.push(key.to_owned());
    }
}
