//! The simulated Microsoft identity platform (Entra ID: the v2.0 endpoints, and the v1.0 token
//! endpoint for the password grant).
//!
//! `request` holds what arrives, `state` what the platform remembers, `resolve` turns scopes into
//! one resource, `client` checks who asks and where, `grant` builds delegated grants, one module
//! per grant (`code`, `refresh`, `device`, `app_only`, `password`, `v1`, `admin_consent`),
//! `policy` dispatches token requests, `errors` holds the AADSTS catalog, `journal` records each
//! request's decisions, and `server` adapts all of it to HTTP on a wiremock `MockServer`.

pub(crate) mod admin_consent;
pub(crate) mod app_only;
pub(crate) mod client;
pub(crate) mod code;
pub mod denial;
pub(crate) mod device;
pub(crate) mod errors;
pub(crate) mod grant;
pub mod journal;
pub(crate) mod mint;
pub(crate) mod password;
pub(crate) mod permissions;
pub(crate) mod policy;
pub(crate) mod refresh;
pub(crate) mod request;
pub(crate) mod resolve;
pub(crate) mod server;
pub(crate) mod state;
pub(crate) mod v1;

pub use denial::{Denial, OAuthError};
pub use journal::{Endpoint, IdentityJournal, RequestRecord};

#[cfg(test)]
mod generative_tests;
