//! Simulated Exchange Online front doors: token checks (`access`), exact reply texts
//! (`replies`), Basic authentication (`basic`), the SMTP, IMAP and POP3 sessions, the state they
//! share (`context`), and the listeners (`server`).

pub mod access;
pub(crate) mod basic;
pub(crate) mod context;
pub(crate) mod imap;
pub(crate) mod imap_fetch;
pub(crate) mod imap_mail;
pub(crate) mod imap_search;
pub(crate) mod imap_view;
pub(crate) mod pop3;
pub(crate) mod replies;
pub(crate) mod server;
pub(crate) mod smtp;

pub use access::{Access, ClaimChecks, Protocol, Refusal};

#[cfg(test)]
mod testing;

#[cfg(test)]
mod generative_tests;
