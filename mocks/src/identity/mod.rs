//! The simulated Microsoft identity platform (Entra ID: the v2.0 endpoints, and the v1.0 token
//! endpoint for the password grant).
//!
//! `resolve` turns scopes into one resource and its permissions, `policy` decides a request
//! (grant or denial) against the directory and what was consented, with one module per grant
//! (`code`, `refresh`, `device`, `app_only`, `password`, `v1`, `admin_consent`), `errors` holds
//! the AADSTS catalog, and `server` adapts all of it to HTTP on a wiremock `MockServer`.

pub mod admin_consent;
pub mod app_only;
pub mod code;
mod denial;
pub mod device;
pub mod errors;
pub mod password;
pub mod permissions;
pub mod policy;
mod refresh;
pub mod resolve;
pub mod server;
pub mod v1;

pub use errors::Denial;
pub use policy::{Grant, IdentityState};
pub use resolve::{Resolution, ResolveError};
pub use server::IdentityServer;
