//! Listener handles for the simulated Exchange Online front doors, in wiremock's lifecycle:
//! `start` binds `127.0.0.1:0` and spawns the accept loop; dropping the handle stops it.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::replies::ReplyStamp;
use super::smtp::SmtpSession;
use crate::clock::Clock;
use crate::directory::Directory;
use crate::journal::Journal;
use crate::net::{self, TlsMode};
use crate::tls::TestPki;
use crate::token::{Jwks, TokenVerifier};

/// What the front doors need: the directory, the identity platform's keys, a clock, and TLS.
#[derive(Debug, Clone)]
pub struct ExchangeConfig {
    /// The tenant, its mailboxes and apps.
    pub directory: Directory,
    /// The identity platform's published keys.
    pub jwks: Jwks,
    /// The clock tokens are checked against.
    pub clock: Clock,
    /// The certificates presented.
    pub pki: Arc<TestPki>,
}

/// Shared, read-only state of all connections of one front door.
#[derive(Debug)]
pub struct ExchangeContext {
    pub(crate) directory: Directory,
    pub(crate) verifier: TokenVerifier,
    pub(crate) clock: Clock,
    pub(crate) stamp: ReplyStamp,
}

impl ExchangeContext {
    /// Builds the context, decoding the JWKS once.
    pub fn new(config: &ExchangeConfig) -> Self {
        Self {
            directory: config.directory.clone(),
            verifier: TokenVerifier::new(&config.jwks),
            clock: config.clock.clone(),
            stamp: ReplyStamp::new(config.clock.clone()),
        }
    }
}

/// A running simulated `smtp.office365.com:587` (STARTTLS).
#[derive(Debug)]
pub struct SmtpServer {
    address: SocketAddr,
    journal: Journal,
    accept_loop: JoinHandle<()>,
}

impl SmtpServer {
    /// Starts the SMTP front door on an ephemeral loopback port.
    pub async fn start(config: &ExchangeConfig) -> std::io::Result<Self> {
        // Bind before spawning: the caller needs the port now, and a bind error should fail
        // `start()` rather than surface later as "connection refused" inside a scenario.
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        Self::start_on(listener, config)
    }

    /// Starts the SMTP front door on a bound listener.
    pub fn start_on(listener: TcpListener, config: &ExchangeConfig) -> std::io::Result<Self> {
        let address = listener.local_addr()?;
        let journal = Journal::default();
        let context = Arc::new(ExchangeContext::new(config));
        let tls = TlsMode::StartTls(config.pki.server_config());
        let accept_loop = tokio::spawn(net::serve(listener, tls, journal.clone(), move |connection| {
            SmtpSession::new(context.clone(), connection, false)
        }));
        Ok(Self {
            address,
            journal,
            accept_loop,
        })
    }

    /// Returns the listening address.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Returns what the server saw.
    pub fn journal(&self) -> &Journal {
        &self.journal
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.accept_loop.abort();
    }
}
