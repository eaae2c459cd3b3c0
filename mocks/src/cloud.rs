//! The whole simulated cloud for one directory: the identity platform and Exchange Online's front
//! doors, sharing one signing key, one clock and one CA. This is the type another project's tests
//! start, as they would start `wiremock::MockServer`.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use rustls::ClientConfig;

use crate::clock::Clock;
use crate::directory::Directory;
use crate::exchange::context::ExchangeConfig;
use crate::exchange::server::{MailServer, bind_loopback};
use crate::identity::server::IdentityServer;
use crate::identity::{Denial, IdentityJournal};
use crate::journal::Journal;
use crate::net::Limits;
use crate::store::Mailboxes;
use crate::tls::TestPki;
use crate::token::SigningKey;

/// A running simulated Microsoft cloud. Dropping it stops every server.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let cloud = mailscope_mocks::SimulatedCloud::start().await?;
/// let endpoints = cloud.endpoints();
/// assert!(endpoints.token_url("organizations").ends_with("/organizations/oauth2/v2.0/token"));
/// assert_eq!(endpoints.imap.ip().to_string(), "127.0.0.1");
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct SimulatedCloud {
    identity: IdentityServer,
    smtp: MailServer,
    imap: MailServer,
    pop3: MailServer,
    pki: Arc<TestPki>,
    directory: Directory,
    clock: Clock,
    limits: Limits,
    mailboxes: Mailboxes,
}

/// Returns the process-wide test signing key, parsed once. It is committed to the repository:
/// any token it signs is accepted by every simulated cloud, and by nothing else.
///
/// ```
/// let jwks = mailscope_mocks::shared_signing_key().jwks();
/// assert_eq!(jwks.keys.len(), 1);
/// ```
pub fn shared_signing_key() -> Arc<SigningKey> {
    static KEY: OnceLock<Arc<SigningKey>> = OnceLock::new();
    KEY.get_or_init(|| Arc::new(SigningKey::test_key())).clone()
}

/// Issues an access token as [`SimulatedCloud::issue_token`] does, without starting a server:
/// `directory`'s user signs in to `mail-client` with `scopes` at `clock`'s time, through the
/// identity platform's policy, and the token is signed with the shared test key.
///
/// ```
/// use mailscope_mocks::{Clock, Directory, issue_token};
///
/// let token = issue_token(&Directory::contoso(), &Clock::system(), "https://outlook.office.com/SMTP.Send").unwrap();
/// assert!(token.starts_with("eyJ"));
/// ```
pub fn issue_token(directory: &Directory, clock: &Clock, scopes: &str) -> Result<String, Denial> {
    let mut state = crate::identity::state::IdentityState::new(directory);
    crate::identity::mint::issue_token(
        &mut state,
        directory,
        &shared_signing_key(),
        clock.now_unix(),
        crate::directory::MAIL_CLIENT_ID,
        scopes,
    )
}

/// Listeners for a cloud whose ports the caller chose (see [`SimulatedCloud::start_on`]).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let listeners = mailscope_mocks::Listeners {
///     smtp: tokio::net::TcpListener::bind("127.0.0.1:0").await?,
///     imap: tokio::net::TcpListener::bind("127.0.0.1:0").await?,
///     pop3: tokio::net::TcpListener::bind("127.0.0.1:0").await?,
///     limits: mailscope_mocks::Limits::default(),
/// };
/// let imap = listeners.imap.local_addr()?;
/// let cloud = mailscope_mocks::SimulatedCloud::start_on(Default::default(), Default::default(), listeners).await?;
/// assert_eq!(cloud.endpoints().imap, imap);
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Listeners {
    /// SMTP submission (STARTTLS).
    pub smtp: tokio::net::TcpListener,
    /// IMAPS.
    pub imap: tokio::net::TcpListener,
    /// POP3S.
    pub pop3: tokio::net::TcpListener,
    /// Deadlines and sizes every connection is held to, the HTTPS front's included.
    pub limits: Limits,
}

/// Where a running cloud listens (see [`SimulatedCloud::endpoints`]).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let cloud = mailscope_mocks::SimulatedCloud::start().await?;
/// let endpoints = cloud.endpoints();
/// assert!(endpoints.authority.starts_with("http://127.0.0.1:"));
/// assert_ne!(endpoints.smtp.port(), endpoints.imap.port());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// The identity platform's base URL (`http://127.0.0.1:PORT`, or the HTTPS front's).
    pub authority: String,
    /// SMTP submission with STARTTLS.
    pub smtp: SocketAddr,
    /// IMAP over implicit TLS.
    pub imap: SocketAddr,
    /// POP3 over implicit TLS.
    pub pop3: SocketAddr,
}

impl Endpoints {
    /// The v2.0 token endpoint under `segment` (`organizations`, `common`, a tenant id).
    ///
    /// ```
    /// # let endpoints = mailscope_mocks::Endpoints {
    /// #     authority: "http://127.0.0.1:1".into(),
    /// #     smtp: "127.0.0.1:2".parse().unwrap(),
    /// #     imap: "127.0.0.1:3".parse().unwrap(),
    /// #     pop3: "127.0.0.1:4".parse().unwrap(),
    /// # };
    /// assert_eq!(endpoints.token_url("common"), "http://127.0.0.1:1/common/oauth2/v2.0/token");
    /// ```
    pub fn token_url(&self, segment: &str) -> String {
        format!("{}/{segment}/oauth2/v2.0/token", self.authority)
    }

    /// The v2.0 authorize endpoint under `segment`.
    ///
    /// ```
    /// # let endpoints = mailscope_mocks::Endpoints {
    /// #     authority: "http://127.0.0.1:1".into(),
    /// #     smtp: "127.0.0.1:2".parse().unwrap(),
    /// #     imap: "127.0.0.1:3".parse().unwrap(),
    /// #     pop3: "127.0.0.1:4".parse().unwrap(),
    /// # };
    /// assert_eq!(endpoints.authorize_url("organizations"), "http://127.0.0.1:1/organizations/oauth2/v2.0/authorize");
    /// ```
    pub fn authorize_url(&self, segment: &str) -> String {
        format!("{}/{segment}/oauth2/v2.0/authorize", self.authority)
    }

    /// The device authorization endpoint under `segment`.
    ///
    /// ```
    /// # let endpoints = mailscope_mocks::Endpoints {
    /// #     authority: "http://127.0.0.1:1".into(),
    /// #     smtp: "127.0.0.1:2".parse().unwrap(),
    /// #     imap: "127.0.0.1:3".parse().unwrap(),
    /// #     pop3: "127.0.0.1:4".parse().unwrap(),
    /// # };
    /// assert_eq!(endpoints.device_code_url("organizations"), "http://127.0.0.1:1/organizations/oauth2/v2.0/devicecode");
    /// ```
    pub fn device_code_url(&self, segment: &str) -> String {
        format!("{}/{segment}/oauth2/v2.0/devicecode", self.authority)
    }
}

/// HTTPS in front of the identity platform, as `mailscope serve` runs it. Dropping it stops it.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let cloud = mailscope_mocks::SimulatedCloud::start().await?;
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// let https = mailscope_mocks::HttpsFront::start(listener, &cloud)?;
/// assert_eq!(cloud.endpoints().authority, format!("https://{}", https.address()));
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct HttpsFront {
    address: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl HttpsFront {
    /// Serves the identity platform over TLS on `listener`, with the cloud's certificate.
    pub fn start(listener: tokio::net::TcpListener, cloud: &SimulatedCloud) -> std::io::Result<Self> {
        let address = listener.local_addr()?;
        cloud.identity.set_public_base(&format!("https://{address}"));
        let task = tokio::spawn(crate::net::http::serve_https(
            listener,
            cloud.pki.server_config(),
            cloud.limits,
            cloud.identity.upstream(),
        ));
        Ok(Self { address, task })
    }

    /// Returns the listening address.
    pub fn address(&self) -> SocketAddr {
        self.address
    }
}

impl Drop for HttpsFront {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SimulatedCloud {
    /// Starts the default cloud (tenant `contoso`, user `adele`, apps `mail-client` and
    /// `mail-daemon`) with a pinned clock, on ephemeral loopback ports.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let cloud = mailscope_mocks::SimulatedCloud::start().await?;
    /// assert_eq!(cloud.directory().tenant.name, "contoso");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn start() -> std::io::Result<Self> {
        Self::start_with(Directory::contoso(), Clock::default()).await
    }

    /// Starts a cloud for `directory`, telling time by `clock`, on ephemeral loopback ports.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// use mailscope_mocks::{Clock, Directory, SimulatedCloud};
    ///
    /// let mut directory = Directory::contoso();
    /// directory.tenant.smtp_client_authentication = false;
    /// let cloud = SimulatedCloud::start_with(directory, Clock::default()).await?;
    /// assert!(!cloud.directory().tenant.smtp_client_authentication);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn start_with(directory: Directory, clock: Clock) -> std::io::Result<Self> {
        let listeners = Listeners {
            smtp: bind_loopback().await?,
            imap: bind_loopback().await?,
            pop3: bind_loopback().await?,
            limits: Limits::default(),
        };
        Self::start_on(directory, clock, listeners).await
    }

    /// Starts every server for `directory` on the given listeners (an example is at [`Listeners`]),
    /// with empty mailboxes in memory.
    pub async fn start_on(directory: Directory, clock: Clock, listeners: Listeners) -> std::io::Result<Self> {
        let mailboxes = Mailboxes::in_memory(&directory, &clock, &listeners.limits);
        Self::start_with_mailboxes(directory, clock, listeners, mailboxes).await
    }

    /// Starts every server for `directory` on the given listeners, serving `mailboxes` (kept
    /// under a state directory, or seeded, as `mailscope serve` does).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// use mailscope_mocks::{Clock, Directory, Limits, Listeners, Mailboxes, SimulatedCloud};
    ///
    /// let state = std::env::temp_dir().join(format!("mailscope-doc-{}", std::process::id()));
    /// let (directory, clock, limits) = (Directory::contoso(), Clock::system(), Limits::default());
    /// let mailboxes = Mailboxes::open(&directory, &clock, &limits, &state)?;
    /// let listeners = Listeners {
    ///     smtp: tokio::net::TcpListener::bind("127.0.0.1:0").await?,
    ///     imap: tokio::net::TcpListener::bind("127.0.0.1:0").await?,
    ///     pop3: tokio::net::TcpListener::bind("127.0.0.1:0").await?,
    ///     limits,
    /// };
    /// let cloud = SimulatedCloud::start_with_mailboxes(directory, clock, listeners, mailboxes).await?;
    /// let adele = cloud.directory().signed_in_user().upn.clone();
    /// assert!(cloud.mailboxes().deliver(&adele, b"Subject: kept\r\n\r\n"));
    /// drop(cloud);
    ///
    /// // Another start on the same directory finds the message.
    /// let mailboxes = Mailboxes::open(&Directory::contoso(), &Clock::system(), &limits, &state)?;
    /// assert!(mailboxes.restored());
    /// assert_eq!(mailboxes.messages(&adele, "INBOX").unwrap().len(), 1);
    /// # std::fs::remove_dir_all(&state)?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn start_with_mailboxes(
        directory: Directory,
        clock: Clock,
        listeners: Listeners,
        mailboxes: Mailboxes,
    ) -> std::io::Result<Self> {
        let key = shared_signing_key();
        let pki = TestPki::shared();
        let identity = IdentityServer::start(directory.clone(), key.clone(), clock.clone()).await;
        identity.set_device_code_timing(
            listeners.limits.device_code_interval,
            listeners.limits.device_code_lifetime,
        );
        let exchange = ExchangeConfig {
            directory: directory.clone(),
            jwks: key.jwks(),
            clock: clock.clone(),
            pki: pki.clone(),
            limits: listeners.limits,
            store: mailboxes.store.clone(),
        };
        let limits = listeners.limits;
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
            limits,
            mailboxes,
        })
    }

    /// Starts afresh for `directory` on `clock`, on the same listeners: the identity platform's
    /// state (consents, codes, refresh tokens), the mailboxes, every journal and the clock are new, as if the
    /// cloud had just started. A connection still open keeps the state it began with; nothing of
    /// the cloud before the reset reaches a connection or a request made after it. Cheaper than
    /// starting a cloud: no port is bound and no server is started.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// use mailscope_mocks::{Clock, Directory, SimulatedCloud};
    ///
    /// let mut cloud = SimulatedCloud::start().await?;
    /// let before = cloud.endpoints();
    /// cloud.issue_token("https://outlook.office.com/SMTP.Send").unwrap();
    /// assert_eq!(cloud.identity_journal().requests().len(), 1);
    ///
    /// let mut directory = Directory::contoso();
    /// directory.tenant.smtp_client_authentication = false;
    /// cloud.reset(directory, Clock::default()).await;
    ///
    /// assert_eq!(cloud.endpoints(), before);
    /// assert!(cloud.identity_journal().requests().is_empty());
    /// assert!(!cloud.directory().tenant.smtp_client_authentication);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn reset(&mut self, directory: Directory, clock: Clock) {
        self.identity.reset(directory.clone(), clock.clone()).await;
        self.mailboxes = Mailboxes::in_memory(&directory, &clock, &self.limits);
        let exchange = ExchangeConfig {
            directory: directory.clone(),
            jwks: shared_signing_key().jwks(),
            clock: clock.clone(),
            pki: self.pki.clone(),
            limits: self.limits,
            store: self.mailboxes.store.clone(),
        };
        self.smtp.reset(&exchange);
        self.imap.reset(&exchange);
        self.pop3.reset(&exchange);
        self.directory = directory;
        self.clock = clock;
    }

    /// Returns where every server listens (an example is at [`Endpoints`]).
    pub fn endpoints(&self) -> Endpoints {
        Endpoints {
            authority: self.identity.uri(),
            smtp: self.smtp.address(),
            imap: self.imap.address(),
            pop3: self.pop3.address(),
        }
    }

    /// Returns a TLS client configuration that trusts this cloud's CA (and nothing else), for
    /// connecting to its front doors as `localhost` or `127.0.0.1`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let cloud = mailscope_mocks::SimulatedCloud::start().await?;
    /// let tls = cloud.client_tls_config();
    /// assert!(tls.alpn_protocols.is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn client_tls_config(&self) -> Arc<ClientConfig> {
        let mut roots = rustls::RootCertStore::empty();
        // The CA was generated by this process; rustls accepts it.
        let _ = roots.add(self.pki.ca_der().clone());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring supports the default protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        Arc::new(config)
    }

    /// Returns the TLS server configuration every front door presents (an ECDSA P-256 certificate
    /// for `localhost` and `127.0.0.1`): for a reference server in a benchmark.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let cloud = mailscope_mocks::SimulatedCloud::start().await?;
    /// let acceptor = tokio_rustls::TlsAcceptor::from(cloud.server_tls_config());
    /// # drop(acceptor);
    /// # Ok(())
    /// # }
    /// ```
    pub fn server_tls_config(&self) -> Arc<rustls::ServerConfig> {
        self.pki.server_config()
    }

    /// Returns the CA certificate every front door's certificate chains to, in PEM, for clients
    /// that read a CA file (`curl --cacert`, `msmtp tls_trust_file`).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let cloud = mailscope_mocks::SimulatedCloud::start().await?;
    /// assert!(cloud.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
    /// assert!(!cloud.ca_der().is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn ca_pem(&self) -> &str {
        self.pki.ca_pem()
    }

    /// Returns the CA certificate in DER.
    pub fn ca_der(&self) -> &[u8] {
        self.pki.ca_der()
    }

    /// Issues an access token for the directory's user, as the public client `mail-client`
    /// asking for `scopes` (space-separated) by the authorization code flow, run in process
    /// through the same policy the HTTP endpoints use. The decisions go to the identity journal.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let cloud = mailscope_mocks::SimulatedCloud::start().await?;
    /// let token = cloud.issue_token("https://outlook.office.com/IMAP.AccessAsUser.All").unwrap();
    /// assert_eq!(token.split('.').count(), 3, "a JWT");
    /// let refused = cloud.issue_token("https://outlook.office.com/IMAP.AccessAsUser.All https://graph.microsoft.com/User.Read");
    /// assert_eq!(refused.unwrap_err().code, Some(28000));
    /// # Ok(())
    /// # }
    /// ```
    pub fn issue_token(&self, scopes: &str) -> Result<String, Denial> {
        self.issue_token_as(crate::directory::MAIL_CLIENT_ID, scopes)
    }

    /// Issues an access token as the app `client_id` (see [`SimulatedCloud::issue_token`]).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// use mailscope_mocks::directory::MAIL_DAEMON_ID;
    ///
    /// let cloud = mailscope_mocks::SimulatedCloud::start().await?;
    /// // The daemon is a confidential client: redeeming a code without its secret is refused.
    /// let refused = cloud.issue_token_as(MAIL_DAEMON_ID, "https://outlook.office.com/SMTP.Send");
    /// assert_eq!(refused.unwrap_err().code, Some(7_000_218));
    /// # Ok(())
    /// # }
    /// ```
    pub fn issue_token_as(&self, client_id: &str, scopes: &str) -> Result<String, Denial> {
        self.identity.issue_token(client_id, scopes)
    }

    /// Returns the identity platform's decision journal: every request, with its decisions.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let cloud = mailscope_mocks::SimulatedCloud::start().await?;
    /// cloud.issue_token("Mail.Send https://outlook.office.com/SMTP.Send").unwrap();
    /// let rules: Vec<&str> = cloud.identity_journal().requests()[0]
    ///     .decisions
    ///     .iter()
    ///     .map(|decision| decision.rule.id)
    ///     .collect();
    /// assert!(rules.contains(&"first-scope-wins"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn identity_journal(&self) -> &IdentityJournal {
        self.identity.journal()
    }

    /// Returns the journal of a front door: each connection's transcript (secrets hidden) and
    /// the decisions made on it. The crate documentation's example reads one.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let cloud = mailscope_mocks::SimulatedCloud::start().await?;
    /// assert!(cloud.journal(mailscope_mocks::Protocol::Smtp).connections().is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn journal(&self, protocol: crate::exchange::Protocol) -> &Journal {
        match protocol {
            crate::exchange::Protocol::Smtp => self.smtp.journal(),
            crate::exchange::Protocol::Imap => self.imap.journal(),
            crate::exchange::Protocol::Pop3 => self.pop3.journal(),
        }
    }

    /// Returns the mailboxes behind the front doors (an example is at [`Mailboxes`]).
    pub fn mailboxes(&self) -> &Mailboxes {
        &self.mailboxes
    }

    /// Returns the directory the cloud simulates (an example is at [`SimulatedCloud::start`]).
    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    /// Returns the cloud's clock: advance it to let tokens expire without waiting.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let cloud = mailscope_mocks::SimulatedCloud::start().await?;
    /// let before = cloud.clock().now_unix();
    /// cloud.clock().advance(3600);
    /// assert_eq!(cloud.clock().now_unix(), before + 3600);
    /// # Ok(())
    /// # }
    /// ```
    pub fn clock(&self) -> &Clock {
        &self.clock
    }
}
