//! Token acquisition through the `oauth2` crate, against any authority: the simulated identity
//! platform or login.microsoftonline.com.
//!
//! Entra's diagnostics (`error_codes`, trace and correlation ids) are kept through a custom error
//! type (the crate's basic error type drops them). A denial is an outcome, not an `Err`: `Err` means the harness or the
//! network broke.

mod admin;
mod browser;
mod flows;
mod http;
mod polite;
mod types;

pub use admin::admin_consent;
pub use http::{http_client, pooling_http_client, progress};
pub use polite::acquire;
pub use types::{
    AcquireError, Authority, Denial, EntraError, IssuedToken, Obtained, ResourceOwner, SignIn, TokenOutcome,
    TokenRequest, Waiting,
};
