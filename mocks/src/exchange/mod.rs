//! Simulated Exchange Online front doors: token checks (`access`), exact reply texts
//! (`replies`), the SMTP session (`smtp`), and the listeners (`server`).

pub mod access;
pub mod imap;
pub mod pop3;
pub mod replies;
pub mod server;
pub mod smtp;

pub use access::{Access, Protocol, Refusal};
pub use server::{ExchangeConfig, MailServer, SmtpServer, bind_loopback};

#[cfg(test)]
mod testing;
