//! The whole simulated cloud for one directory: the identity platform and Exchange Online's front
//! doors, sharing one signing key, one clock and one CA.

use std::sync::{Arc, OnceLock};

use crate::clock::Clock;
use crate::directory::Directory;
use crate::exchange::{ExchangeConfig, MailServer, bind_loopback};
use crate::identity::IdentityServer;
use crate::tls::TestPki;
use crate::token::SigningKey;

/// A running simulated Microsoft cloud. Dropping it stops every server.
#[derive(Debug)]
pub struct SimulatedCloud {
    /// Entra ID's v2.0 endpoints.
    pub identity: IdentityServer,
    /// `smtp.office365.com:587`.
    pub smtp: MailServer,
    /// `outlook.office365.com:993`.
    pub imap: MailServer,
    /// `outlook.office365.com:995`.
    pub pop3: MailServer,
    /// The CA every front door's certificate chains to.
    pub pki: Arc<TestPki>,
    /// The directory it simulates.
    pub directory: Directory,
    /// Its clock.
    pub clock: Clock,
}

/// Returns the process-wide test signing key, parsed once.
pub fn shared_signing_key() -> Arc<SigningKey> {
    static KEY: OnceLock<Arc<SigningKey>> = OnceLock::new();
    KEY.get_or_init(|| Arc::new(SigningKey::test_key())).clone()
}

/// Listeners for a cloud whose ports the caller chose.
#[derive(Debug)]
pub struct Listeners {
    /// SMTP submission (STARTTLS).
    pub smtp: tokio::net::TcpListener,
    /// IMAPS.
    pub imap: tokio::net::TcpListener,
    /// POP3S.
    pub pop3: tokio::net::TcpListener,
}

/// HTTPS in front of the identity platform. Dropping it stops it.
#[derive(Debug)]
pub struct HttpsFront {
    address: std::net::SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl HttpsFront {
    /// Serves the identity platform over TLS on `listener`, with the cloud's certificate.
    pub fn start(listener: tokio::net::TcpListener, cloud: &SimulatedCloud) -> std::io::Result<Self> {
        let address = listener.local_addr()?;
        let backend = *cloud.identity.address();
        cloud.identity.set_public_base(&format!("https://{address}"));
        let task = tokio::spawn(crate::net::terminate_tls(
            listener,
            cloud.pki.server_config(),
            backend,
        ));
        Ok(Self { address, task })
    }

    /// Returns the listening address.
    pub fn address(&self) -> std::net::SocketAddr {
        self.address
    }
}

impl Drop for HttpsFront {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SimulatedCloud {
    /// Starts every server for `directory` on ephemeral loopback ports.
    pub async fn start(directory: Directory, clock: Clock) -> std::io::Result<Self> {
        let listeners = Listeners {
            smtp: bind_loopback().await?,
            imap: bind_loopback().await?,
            pop3: bind_loopback().await?,
        };
        Self::start_on(directory, clock, listeners).await
    }

    /// Starts every server for `directory` on the given listeners.
    pub async fn start_on(directory: Directory, clock: Clock, listeners: Listeners) -> std::io::Result<Self> {
        let key = shared_signing_key();
        let pki = TestPki::shared();
        let identity = IdentityServer::start(directory.clone(), key.clone(), clock.clone()).await;
        let exchange = ExchangeConfig {
            directory: directory.clone(),
            jwks: key.jwks(),
            clock: clock.clone(),
            pki: pki.clone(),
        };
        let smtp = MailServer::start_smtp(listeners.smtp, &exchange)?;
        let imap = MailServer::start_imap(listeners.imap, &exchange)?;
        let pop3 = MailServer::start_pop3(listeners.pop3, &exchange)?;
        Ok(Self {
            identity,
            smtp,
            imap,
            pop3,
            pki,
            directory,
            clock,
        })
    }
}
