//! A simulated Microsoft cloud for OAuth 2.0 mail: Entra ID's v2.0 endpoints on a wiremock server,
//! and Exchange Online's SMTP front door, each reproducing the behaviours the fidelity catalog
//! documents, reply for reply.
//!
//! This crate knows protocols, not scenarios: it is configured with plain structs
//! ([`directory::Directory`], [`clock::Clock`]) and can serve another project's tests on its own.

pub mod clock;
pub mod cloud;
pub mod directory;
pub mod exchange;
pub mod identity;
pub mod ids;
pub mod journal;
pub mod net;
pub mod sasl;
pub mod tls;
pub mod token;
