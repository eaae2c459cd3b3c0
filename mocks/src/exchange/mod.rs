//! Simulated Exchange Online front doors: token checks (`access`), exact reply texts
//! (`replies`), the SMTP session (`smtp`), and the listeners (`server`).

pub mod access;
pub mod replies;
pub mod server;
pub mod smtp;

pub use access::{Access, Protocol, Refusal};
pub use server::{ExchangeConfig, SmtpServer};
