//! Listener handles for the simulated Exchange Online front doors, in wiremock's lifecycle:
//! `start` binds `127.0.0.1:0` and spawns the accept loop; dropping the handle stops it.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::imap::ImapSession;
use super::pop3::Pop3Session;
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
    /// Returns true for the `generic` profile: OAUTHBEARER too, and RFC error challenges.
    pub(crate) fn is_generic(&self) -> bool {
        self.directory.tenant.server_profile == crate::directory::ServerProfile::Generic
    }
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

/// A running simulated Exchange front door: `smtp.office365.com:587` (STARTTLS), or
/// `outlook.office365.com:993` / `:995` (implicit TLS). Dropping it stops the accept loop.
#[derive(Debug)]
pub struct MailServer {
    address: SocketAddr,
    journal: Journal,
    accept_loop: JoinHandle<()>,
}

/// The SMTP front door.
pub type SmtpServer = MailServer;

impl MailServer {
    /// Starts the SMTP front door on an ephemeral loopback port.
    pub async fn start(config: &ExchangeConfig) -> std::io::Result<Self> {
        Self::start_smtp(bind_loopback().await?, config)
    }

    /// Starts the SMTP front door (STARTTLS) on a bound listener.
    pub fn start_smtp(listener: TcpListener, config: &ExchangeConfig) -> std::io::Result<Self> {
        let context = Arc::new(ExchangeContext::new(config));
        let tls = TlsMode::StartTls(config.pki.server_config());
        Self::serve(listener, tls, move |connection| {
            SmtpSession::new(context.clone(), connection, false)
        })
    }

    /// Starts the IMAP front door (implicit TLS) on a bound listener.
    pub fn start_imap(listener: TcpListener, config: &ExchangeConfig) -> std::io::Result<Self> {
        let context = Arc::new(ExchangeContext::new(config));
        let tls = TlsMode::Implicit(config.pki.server_config());
        Self::serve(listener, tls, move |_| ImapSession::new(context.clone()))
    }

    /// Starts the POP3 front door (implicit TLS) on a bound listener.
    pub fn start_pop3(listener: TcpListener, config: &ExchangeConfig) -> std::io::Result<Self> {
        let context = Arc::new(ExchangeContext::new(config));
        let tls = TlsMode::Implicit(config.pki.server_config());
        Self::serve(listener, tls, move |_| Pop3Session::new(context.clone()))
    }

    fn serve<S, F>(listener: TcpListener, tls: TlsMode, make_session: F) -> std::io::Result<Self>
    where
        S: crate::net::Session,
        F: Fn(crate::net::ConnectionInfo) -> S + Send + Sync + 'static,
    {
        let address = listener.local_addr()?;
        let journal = Journal::default();
        let accept_loop = tokio::spawn(net::serve(listener, tls, journal.clone(), make_session));
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

/// Binds an ephemeral loopback port. Bind before spawning: the caller needs the port now, and a
/// bind error should fail `start()` rather than surface later as "connection refused".
pub async fn bind_loopback() -> std::io::Result<TcpListener> {
    TcpListener::bind("127.0.0.1:0").await
}

impl Drop for MailServer {
    fn drop(&mut self) {
        self.accept_loop.abort();
    }
}
