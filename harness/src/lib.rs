//! mailscope: reproducible scenarios for Microsoft 365's OAuth 2.0 behaviour with SMTP, IMAP and
//! POP, run against a simulated Microsoft cloud or a live tenant.

pub mod scenario;
