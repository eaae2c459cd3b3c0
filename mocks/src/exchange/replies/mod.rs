//! Exchange Online's reply texts, each with its source, and the host names and suffixes they
//! carry. Texts no source confirms are marked *unverified*, here and only here.

pub(crate) mod generic;
pub(crate) mod imap;
pub(crate) mod pop3;
pub(crate) mod smtp;
pub(crate) mod stamp;
