//! What the identity platform remembers between requests (consents, outstanding codes, refresh
//! tokens, device codes, administrators' grants), and the decisions of the request in progress.

use std::collections::{BTreeSet, HashMap};

use crate::decision::{Decision, Rule};
use crate::directory::{App, Consent, Directory, User};
use crate::ids::IdSource;
use crate::token::ResourceApi;

use super::denial::Denial;
use super::permissions::consent_targets;

/// A consented delegated permission: which app, for which user, on which resource.
pub(crate) type ConsentKey = (String, String, ResourceApi, String);

/// The device-code polling interval Entra asks for, in seconds (rule `device-code`).
pub(crate) const POLL_INTERVAL: i64 = 5;

/// How long a device code lives, in seconds: 15 minutes (rule `device-code`).
pub(crate) const DEVICE_CODE_LIFETIME: i64 = 900;

/// A code waiting for its redemption.
#[derive(Debug, Clone)]
pub(crate) struct CodeGrant {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    /// The PKCE challenge; `plain:` marks a plain one.
    pub(crate) code_challenge: Option<String>,
    pub(crate) user_object_id: String,
    pub(crate) scopes: String,
    /// When the code was issued (Unix seconds, simulated clock).
    pub(crate) issued_at: i64,
    /// The authorization request's nonce, for the ID token.
    pub(crate) nonce: Option<String>,
}

/// An issued refresh token.
#[derive(Debug, Clone)]
pub(crate) struct RefreshGrant {
    pub(crate) client_id: String,
    pub(crate) user_object_id: String,
    pub(crate) scopes: String,
    pub(crate) issued_at: i64,
    pub(crate) last_used: i64,
    pub(crate) consumers: bool,
}

/// An outstanding device code.
#[derive(Debug, Clone)]
pub(crate) struct DeviceGrant {
    pub(crate) client_id: String,
    pub(crate) segment: String,
    pub(crate) scope: String,
    pub(crate) user_object_id: String,
    pub(crate) issued_at: i64,
    pub(crate) polls: u32,
}

/// What the identity platform remembers between requests.
#[derive(Debug)]
pub(crate) struct IdentityState {
    pub(crate) consents: BTreeSet<ConsentKey>,
    pub(crate) codes: HashMap<String, CodeGrant>,
    /// Codes already presented at `/token`, with when: kept for a code's lifetime.
    pub(crate) redeemed_codes: HashMap<String, i64>,
    pub(crate) refresh_tokens: HashMap<String, RefreshGrant>,
    pub(crate) device_codes: HashMap<String, DeviceGrant>,
    /// Application permissions an administrator granted at the admin consent endpoint, per app
    /// and resource.
    pub(crate) app_role_grants: BTreeSet<(String, ResourceApi)>,
    pub(crate) ids: IdSource,
    /// The device-code polling interval handed out, in seconds (Entra's 5 unless a test sets it).
    pub(crate) poll_interval: i64,
    /// How long a device code lives, in seconds (Entra's 900 unless a test sets it).
    pub(crate) device_code_lifetime: i64,
    decisions: Vec<Decision>,
}

impl IdentityState {
    /// Returns the state of a directory nobody has used yet: admin consents granted.
    pub(crate) fn new(directory: &Directory) -> Self {
        let mut consents = BTreeSet::new();
        for app in directory.apps.iter().filter(|app| app.consent == Consent::Admin) {
            for user in &directory.users {
                for permission in &app.delegated {
                    for api in consent_targets(permission.api, &permission.name) {
                        consents.insert((
                            app.client_id.clone(),
                            user.object_id.clone(),
                            api,
                            permission.name.clone(),
                        ));
                    }
                }
            }
        }
        Self {
            consents,
            codes: HashMap::new(),
            redeemed_codes: HashMap::new(),
            refresh_tokens: HashMap::new(),
            device_codes: HashMap::new(),
            app_role_grants: BTreeSet::new(),
            ids: IdSource::new("identity"),
            poll_interval: POLL_INTERVAL,
            device_code_lifetime: DEVICE_CODE_LIFETIME,
            decisions: Vec::new(),
        }
    }

    /// Returns the ids used for trace and correlation ids of this platform.
    pub(crate) fn ids(&self) -> &IdSource {
        &self.ids
    }

    /// Records a decision of the request in progress.
    pub(crate) fn decide(&mut self, decision: Decision) {
        self.decisions.push(decision);
    }

    /// Records that `rule` refused the request with `denial`, and returns the denial.
    pub(crate) fn deny(&mut self, rule: &'static Rule, denial: Denial) -> Denial {
        let outcome = format!("Refused with {}: {}", denial.code_name(), denial.message);
        self.decisions
            .push(Decision::new(rule, outcome).with("error", denial.error.as_str()));
        denial
    }

    /// Returns the decisions recorded since the last call, oldest first.
    pub(crate) fn take_decisions(&mut self) -> Vec<Decision> {
        std::mem::take(&mut self.decisions)
    }

    /// Returns true when `user` consented to `name` on `api` for `app`.
    pub(crate) fn is_consented(&self, app: &App, user: &User, api: ResourceApi, name: &str) -> bool {
        self.consents.contains(&(
            app.client_id.clone(),
            user.object_id.clone(),
            api,
            name.to_owned(),
        ))
    }

    /// Records that `user` consented to `name` on `api` for `app`.
    pub(crate) fn consent(&mut self, app: &App, user: &User, api: ResourceApi, name: &str) {
        self.consents.insert((
            app.client_id.clone(),
            user.object_id.clone(),
            api,
            name.to_owned(),
        ));
    }
}
