//! The device authorization grant ([RFC 8628](https://www.rfc-editor.org/rfc/rfc8628); fidelity:
//! device-code-flow): `/devicecode` hands out a code, the client polls `/token`, and the simulated
//! user answers on "another device" as the directory says, a few simulated seconds later.

use serde::Serialize;

use crate::decision::{Decision, Part, Rule};
use crate::directory::{App, DeviceCodeAnswer, Directory};

use super::denial::Denial;
use super::errors;
use super::request::{Grant, TokenRequest};
use super::resolve::Leg;
use super::state::{DeviceGrant, IdentityState};

use super::state::POLL_INTERVAL;
/// How long after the code is shown the simulated user has answered.
pub(crate) const USER_ANSWERS_AFTER: i64 = 8;
/// Where the user enters the code.
pub(crate) const VERIFICATION_URI: &str = "https://microsoft.com/devicelogin";

/// Rule: the device authorization grant.
pub(crate) const DEVICE_CODE: Rule = Rule {
    id: "device-code",
    part: Part::Identity,
    title: "Device code: authorization_pending until the user answers on another device",
    text: "`/devicecode` checks the app and the scopes and returns a user code, a device code, \
           `https://microsoft.com/devicelogin`, a 900-second lifetime and a 5-second interval (no \
           `verification_uri_complete`). Polls get `authorization_pending` (AADSTS70016) until the \
           simulated user answers, eight simulated seconds later: approval signs in and consents as \
           at `/authorize` and returns the token; `user.device_code = \"decline\"` gives \
           `authorization_declined`; `\"ignore\"` lets the code expire (`expired_token`, AADSTS70020). \
           `tenant.device_code_slow_down` answers the first poll `slow_down` (RFC 8628 section 3.5).",
    cases: &["device-code-flow", "deleg-outlook-imap-pop-smtp-one-token"],
    sources: &[
        "https://www.rfc-editor.org/rfc/rfc8628",
        "https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-device-code",
    ],
};

/// The `/devicecode` response. `verification_uri_complete` is not returned (fidelity: device-code-flow).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct DeviceAuthorization {
    /// The code the user types.
    pub user_code: String,
    /// The code the client polls with.
    pub device_code: String,
    /// Where the user types it.
    pub verification_uri: String,
    /// Seconds until the codes expire.
    pub expires_in: i64,
    /// Seconds between polls.
    pub interval: i64,
    /// What the client shows the user.
    pub message: String,
}

impl IdentityState {
    /// Answers `/devicecode`: checks the client and the scopes, and issues the codes.
    pub(crate) fn device_authorization(
        &mut self,
        directory: &Directory,
        segment: &str,
        client_id: Option<&str>,
        scope: Option<&str>,
        now: i64,
    ) -> Result<DeviceAuthorization, Denial> {
        self.check_authority(directory, segment)?;
        let app = self.find_app(directory, client_id)?;
        let Some(scope) = scope.map(str::trim).filter(|scope| !scope.is_empty()) else {
            return Err(self.deny(&DEVICE_CODE, errors::missing_parameter("scope")));
        };
        let user = directory.signed_in_user();
        self.resolve_scopes(directory, user, scope, Leg::Authorize)?;

        let device_code = format!("DAQABIQEAAAD{}", self.ids.credential("device-code", 32));
        let user_code: String = self
            .ids
            .hex_upper("user-code", 16)
            .chars()
            .map(|c| {
                if c.is_ascii_digit() {
                    (b'K' + c as u8 - b'0') as char
                } else {
                    c
                }
            })
            .take(9)
            .collect();
        self.device_codes.insert(
            device_code.clone(),
            DeviceGrant {
                client_id: app.client_id.clone(),
                segment: segment.to_owned(),
                scope: scope.to_owned(),
                user_object_id: user.object_id.clone(),
                issued_at: now,
                polls: 0,
            },
        );
        self.decide(
            Decision::new(
                &DEVICE_CODE,
                format!(
                    "A device code is issued; the user may enter it for {} seconds.",
                    self.device_code_lifetime
                ),
            )
            .with("scope", scope),
        );
        Ok(DeviceAuthorization {
            message: format!(
                "To sign in, use a web browser to open the page {VERIFICATION_URI} and enter the code {user_code} to authenticate."
            ),
            user_code,
            device_code,
            verification_uri: VERIFICATION_URI.to_owned(),
            expires_in: self.device_code_lifetime,
            interval: self.poll_interval,
        })
    }

    /// Answers a poll: pending until the simulated user has answered, then the token.
    pub(crate) fn poll_device_code(
        &mut self,
        directory: &Directory,
        app: &App,
        request: &TokenRequest,
        now: i64,
    ) -> Result<Grant, Denial> {
        let Some(code) = request.device_code.as_deref() else {
            return Err(self.deny(&DEVICE_CODE, errors::missing_parameter("device_code")));
        };
        let grant = match self.device_codes.get_mut(code) {
            Some(grant) if grant.client_id == app.client_id => {
                grant.polls += 1;
                grant.clone()
            }
            _ => return Err(self.deny(&DEVICE_CODE, errors::bad_verification_code())),
        };
        if now - grant.issued_at >= self.device_code_lifetime {
            self.device_codes.remove(code);
            return Err(self.deny(&DEVICE_CODE, errors::device_code_expired()));
        }
        if grant.polls == 1 && directory.tenant.device_code_slow_down {
            return Err(self.deny(&DEVICE_CODE, errors::slow_down()));
        }
        let Some(user) = directory.user_by_object_id(&grant.user_object_id) else {
            return Err(self.deny(&DEVICE_CODE, errors::bad_verification_code()));
        };
        // With Entra's interval the user answers 8 s on; with an interval a test shortened, by
        // the second poll (the first is still pending, as with a person).
        let answered = now - grant.issued_at >= USER_ANSWERS_AFTER
            || (self.poll_interval < POLL_INTERVAL && grant.polls >= 2);
        match user.device_code {
            DeviceCodeAnswer::Approve if answered => {
                self.device_codes.remove(code);
                self.decide(Decision::new(
                    &DEVICE_CODE,
                    format!("{} entered the code and approved on the other device.", user.upn),
                ));
                self.sign_in(directory, app, user, &grant.segment, &grant.scope)?;
                let resolution = self.resolve_scopes(directory, user, &grant.scope, Leg::Redeem)?;
                self.delegated_grant(
                    directory,
                    app,
                    user,
                    &resolution,
                    &request.tenant_segment,
                    &grant.scope,
                    now,
                )
            }
            DeviceCodeAnswer::Decline if answered => {
                self.device_codes.remove(code);
                Err(self.deny(&DEVICE_CODE, errors::authorization_declined()))
            }
            _ => Err(self.deny(&DEVICE_CODE, errors::authorization_pending())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::{MAIL_CLIENT_ID, MAIL_DAEMON_ID};

    const NOW: i64 = 1_745_690_893;
    const SCOPE: &str = "offline_access https://outlook.office.com/SMTP.Send";

    fn poll(
        state: &mut IdentityState,
        directory: &Directory,
        device_code: &str,
        at: i64,
    ) -> Result<Grant, Denial> {
        let request = TokenRequest {
            tenant_segment: "organizations".into(),
            grant_type: super::super::request::GrantType::DeviceCode,
            client_id: Some(MAIL_CLIENT_ID.into()),
            device_code: Some(device_code.into()),
            ..TokenRequest::default()
        };
        state.token(directory, &request, at)
    }

    fn error_of(result: Result<Grant, Denial>) -> &'static str {
        result
            .map(|_| "granted")
            .unwrap_or_else(|denial| denial.error.as_str())
    }

    #[test]
    fn pending_until_the_user_approves_then_a_token() {
        // fidelity: device-code-flow
        let directory = Directory::contoso();
        let mut state = IdentityState::new(&directory);
        let authorization = state
            .device_authorization(
                &directory,
                "organizations",
                Some(MAIL_CLIENT_ID),
                Some(SCOPE),
                NOW,
            )
            .unwrap();

        assert_eq!(authorization.interval, 5);
        assert_eq!(authorization.expires_in, 900);
        assert_eq!(authorization.user_code.len(), 9);
        assert!(authorization.message.starts_with("To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code "));
        assert_eq!(
            error_of(poll(&mut state, &directory, &authorization.device_code, NOW + 5)),
            "authorization_pending"
        );
        let grant = poll(&mut state, &directory, &authorization.device_code, NOW + 10).unwrap();
        assert_eq!(grant.claims.aud, "https://outlook.office.com");
        assert!(grant.refresh_token.is_some());
        assert_eq!(
            error_of(poll(&mut state, &directory, &authorization.device_code, NOW + 15)),
            "bad_verification_code"
        );
    }

    #[test]
    fn declined_ignored_and_throttled_codes() {
        let mut directory = Directory::contoso();
        directory.signed_in_user_mut().device_code = DeviceCodeAnswer::Decline;
        let mut state = IdentityState::new(&directory);
        let code = state
            .device_authorization(
                &directory,
                "organizations",
                Some(MAIL_CLIENT_ID),
                Some(SCOPE),
                NOW,
            )
            .unwrap()
            .device_code;
        assert_eq!(
            error_of(poll(&mut state, &directory, &code, NOW + 10)),
            "authorization_declined"
        );

        directory.signed_in_user_mut().device_code = DeviceCodeAnswer::Ignore;
        directory.tenant.device_code_slow_down = true;
        let mut state = IdentityState::new(&directory);
        let code = state
            .device_authorization(
                &directory,
                "organizations",
                Some(MAIL_CLIENT_ID),
                Some(SCOPE),
                NOW,
            )
            .unwrap()
            .device_code;
        assert_eq!(
            error_of(poll(&mut state, &directory, &code, NOW + 5)),
            "slow_down"
        );
        assert_eq!(
            error_of(poll(&mut state, &directory, &code, NOW + 15)),
            "authorization_pending"
        );
        let expired = poll(&mut state, &directory, &code, NOW + 900).unwrap_err();
        assert_eq!(
            (expired.error.as_str(), expired.code),
            ("expired_token", Some(70020))
        );
    }

    #[test]
    fn a_request_without_scope_is_aadsts900144() {
        // fidelity: device-code-flow (azure-docs #60942)
        let directory = Directory::contoso();
        let mut state = IdentityState::new(&directory);
        let denial = state
            .device_authorization(&directory, "organizations", Some(MAIL_CLIENT_ID), None, NOW)
            .unwrap_err();
        assert_eq!(
            denial.headline(),
            "AADSTS900144: The request body must contain the following parameter: 'scope'."
        );

        let confidential = state
            .device_authorization(
                &directory,
                "organizations",
                Some(MAIL_DAEMON_ID),
                Some(SCOPE),
                NOW,
            )
            .unwrap();
        let request = TokenRequest {
            tenant_segment: "organizations".into(),
            grant_type: super::super::request::GrantType::DeviceCode,
            client_id: Some(MAIL_DAEMON_ID.into()),
            device_code: Some(confidential.device_code),
            ..TokenRequest::default()
        };
        assert_eq!(
            state.token(&directory, &request, NOW + 10).unwrap_err().code,
            Some(7_000_218),
            "fidelity: public-client-secret-missing"
        );
    }
}
