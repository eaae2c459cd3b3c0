//! Listener handles for the simulated Exchange Online front doors, in wiremock's lifecycle:
//! `start` binds `127.0.0.1:0` and spawns the accept loop; dropping the handle stops it.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::journal::Journal;
use crate::net::{self, ConnectionInfo, Session, TlsMode};

use super::context::{ExchangeConfig, ExchangeContext};
use super::imap::ImapSession;
use super::pop3::Pop3Session;
use super::smtp::SmtpSession;

/// A running simulated Exchange front door: `smtp.office365.com:587` (STARTTLS), or
/// `outlook.office365.com:993` / `:995` (implicit TLS). Dropping it stops the accept loop.
#[derive(Debug)]
pub(crate) struct MailServer {
    address: SocketAddr,
    journal: Journal,
    context: Arc<ContextSlot>,
    accept_loop: JoinHandle<()>,
}

/// The shared state new connections start from; replaced whole by [`MailServer::reset`].
#[derive(Debug)]
pub(crate) struct ContextSlot(std::sync::RwLock<Arc<ExchangeContext>>);

impl ContextSlot {
    fn new(config: &ExchangeConfig) -> Arc<Self> {
        Arc::new(Self(std::sync::RwLock::new(Arc::new(ExchangeContext::new(
            config,
        )))))
    }

    /// The context a connection accepted now starts with.
    fn get(&self) -> Arc<ExchangeContext> {
        self.0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

impl MailServer {
    /// Starts the SMTP front door (STARTTLS) on a bound listener.
    pub(crate) fn start_smtp(listener: TcpListener, config: &ExchangeConfig) -> std::io::Result<Self> {
        let context = ContextSlot::new(config);
        let tls = TlsMode::StartTls(config.pki.server_config());
        let slot = context.clone();
        Self::serve("smtp", listener, tls, config.limits, context, move |connection| {
            SmtpSession::new(slot.get(), connection, false)
        })
    }

    /// Starts the IMAP front door (implicit TLS) on a bound listener.
    pub(crate) fn start_imap(listener: TcpListener, config: &ExchangeConfig) -> std::io::Result<Self> {
        let context = ContextSlot::new(config);
        let tls = TlsMode::Implicit(config.pki.server_config());
        let slot = context.clone();
        Self::serve("imap", listener, tls, config.limits, context, move |_| {
            ImapSession::new(slot.get())
        })
    }

    /// Starts the POP3 front door (implicit TLS) on a bound listener.
    pub(crate) fn start_pop3(listener: TcpListener, config: &ExchangeConfig) -> std::io::Result<Self> {
        let context = ContextSlot::new(config);
        let tls = TlsMode::Implicit(config.pki.server_config());
        let slot = context.clone();
        Self::serve("pop3", listener, tls, config.limits, context, move |_| {
            Pop3Session::new(slot.get())
        })
    }

    /// Starts afresh for `config`: new connections get a new context, the journal is emptied.
    /// Connections still open keep the context they started with.
    pub(crate) fn reset(&self, config: &ExchangeConfig) {
        *self
            .context
            .0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(ExchangeContext::new(config));
        self.journal.clear();
    }

    fn serve<S, F>(
        protocol: &'static str,
        listener: TcpListener,
        tls: TlsMode,
        limits: net::Limits,
        context: Arc<ContextSlot>,
        make_session: F,
    ) -> std::io::Result<Self>
    where
        S: Session,
        F: Fn(ConnectionInfo) -> S + Send + Sync + 'static,
    {
        let address = listener.local_addr()?;
        let journal = Journal::default();
        let accept_loop = tokio::spawn(net::serve(
            protocol,
            listener,
            tls,
            limits,
            journal.clone(),
            make_session,
        ));
        Ok(Self {
            address,
            journal,
            context,
            accept_loop,
        })
    }

    /// Returns the listening address.
    pub(crate) fn address(&self) -> SocketAddr {
        self.address
    }

    /// Returns what the server saw.
    pub(crate) fn journal(&self) -> &Journal {
        &self.journal
    }
}

/// Binds an ephemeral loopback port. Bind before spawning: the caller needs the port now, and a
/// bind error should fail `start()` rather than surface later as "connection refused".
pub(crate) async fn bind_loopback() -> std::io::Result<TcpListener> {
    TcpListener::bind("127.0.0.1:0").await
}

impl Drop for MailServer {
    fn drop(&mut self) {
        self.accept_loop.abort();
    }
}
