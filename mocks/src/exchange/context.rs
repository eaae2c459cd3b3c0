//! What every connection of a front door shares: the directory, the key verifier, the clock,
//! the stamp that dates and numbers replies, and the mailboxes. Built once per listener.

use std::sync::Arc;

use crate::clock::Clock;
use crate::directory::{Directory, ServerProfile};
use crate::store::shared::Store;
use crate::tls::TestPki;
use crate::token::{Jwks, TokenVerifier};

use super::replies::stamp::ReplyStamp;

/// What the front doors need: the directory, the identity platform's keys, a clock, and TLS.
#[derive(Debug, Clone)]
pub(crate) struct ExchangeConfig {
    /// The tenant, its mailboxes and apps.
    pub directory: Directory,
    /// The identity platform's published keys.
    pub jwks: Jwks,
    /// The clock tokens are checked against.
    pub clock: Clock,
    /// The certificates presented.
    pub pki: Arc<TestPki>,
    /// Deadlines and sizes every connection is held to.
    pub limits: crate::net::Limits,
    /// The mailboxes behind the front doors.
    pub store: Arc<Store>,
}

/// Shared, read-only state of all connections of one front door.
#[derive(Debug)]
pub(crate) struct ExchangeContext {
    pub(crate) directory: Directory,
    pub(crate) verifier: TokenVerifier,
    pub(crate) clock: Clock,
    pub(crate) stamp: ReplyStamp,
    pub(crate) store: Arc<Store>,
    pub(crate) limits: crate::net::Limits,
    /// `AUTH` commands still to be answered with a transient reply (`Limits::transient_smtp_auth`).
    transient_auth: std::sync::atomic::AtomicU32,
}

impl ExchangeContext {
    /// True when this `AUTH` is one a test asked to be answered with a transient reply.
    pub(crate) fn take_transient_auth(&self) -> bool {
        use std::sync::atomic::Ordering;
        self.transient_auth
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| left.checked_sub(1))
            .is_ok()
    }

    /// Builds the context, decoding the JWKS once.
    pub(crate) fn new(config: &ExchangeConfig) -> Self {
        Self {
            directory: config.directory.clone(),
            verifier: TokenVerifier::new(&config.jwks),
            clock: config.clock.clone(),
            stamp: ReplyStamp::new(config.clock.clone()),
            store: config.store.clone(),
            limits: config.limits,
            transient_auth: std::sync::atomic::AtomicU32::new(config.limits.transient_smtp_auth),
        }
    }

    /// Returns true for the `generic` profile: OAUTHBEARER too, and RFC error challenges.
    pub(crate) fn is_generic(&self) -> bool {
        self.directory.tenant.server_profile == ServerProfile::Generic
    }
}
