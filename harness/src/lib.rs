//! mailscope: reproducible scenarios for Microsoft 365's OAuth 2.0 behaviour with SMTP, IMAP and
//! POP, run against a simulated Microsoft cloud or a live tenant.
//!
//! A [`scenario`] file becomes cases; the [`runner`] prepares a [`target`] for each, obtains a
//! token ([`acquire`]), authenticates with real clients ([`probe`]), and records an [`outcome`]
//! that [`report`] prints and the tests snapshot.

pub mod acquire;
pub mod cache;
pub mod claims;
pub mod decode;
pub mod drift;
pub mod explain;
pub mod live;
pub mod logging;
pub mod outcome;
pub mod privacy;
pub mod probe;
pub mod project;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod secret;
pub mod serve;
pub mod snapshot;
pub mod target;
