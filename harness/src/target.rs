//! Where a run points. The simulated cloud is started per case, with the case's directory; live
//! Exchange Online comes later through the same [`Prepared`] shape, so the code that runs live is
//! the code the tests exercise.

use mailscope_mocks::RequestRecord;
use mailscope_mocks::SimulatedCloud;
use mailscope_mocks::clock::Clock;
use mailscope_mocks::directory::ClientType;

use std::sync::Arc;

use crate::acquire::{Authority, ResourceOwner, SignIn, Waiting};
use crate::cache::TokenCache;
use crate::live::LiveConfig;
use crate::probe::ServerAddress;
use crate::scenario::types::{Endpoint, Flow, Protocol};
use crate::scenario::{Case, Scenario, directory};
use crate::secret::Secret;
use std::path::PathBuf;

/// Where cases run.
#[derive(Debug, Clone, Default)]
pub enum Target {
    /// A fresh simulated Microsoft cloud per case.
    #[default]
    Simulated,
    /// Simulated clouds kept between cases and reset for each: no ports bound, no servers
    /// started per case, and a case still sees nothing of another. For one runtime only (the
    /// clouds' tasks live on the runtime that started them): `runner::run_all` makes one.
    Pooled(Arc<CloudPool>),
    /// A real tenant and Exchange Online, as `live.toml` describes them.
    Live(Arc<LiveConfig>),
}

/// Simulated clouds waiting for their next case, and the HTTP client the run's cases share.
#[derive(Debug, Default)]
pub struct CloudPool {
    idle: std::sync::Mutex<Vec<SimulatedCloud>>,
    http: std::sync::OnceLock<oauth2::reqwest::Client>,
}

impl CloudPool {
    /// The run's HTTP client: it keeps its connections to the pooled clouds between cases.
    pub fn http_client(
        &self,
        extra_roots: &[Vec<u8>],
    ) -> Result<oauth2::reqwest::Client, crate::acquire::AcquireError> {
        if let Some(client) = self.http.get() {
            return Ok(client.clone());
        }
        let client = crate::acquire::pooling_http_client(extra_roots)?;
        Ok(self.http.get_or_init(|| client).clone())
    }

    /// A cloud for `directory`: an idle one reset for it, else a new one.
    async fn take(&self, directory: mailscope_mocks::Directory) -> std::io::Result<SimulatedCloud> {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .pop();
        match idle {
            Some(mut cloud) => {
                cloud.reset(directory, Clock::default()).await;
                Ok(cloud)
            }
            None => SimulatedCloud::start_with(directory, Clock::default()).await,
        }
    }

    fn give_back(&self, cloud: SimulatedCloud) {
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(cloud);
    }
}

impl Target {
    /// Returns `simulated` or `live`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Simulated | Self::Pooled(_) => "simulated",
            Self::Live(_) => "live",
        }
    }

    /// Why `case` of `scenario` cannot run here: live tenants are not changed, so a scenario
    /// whose directory changes `[facts]` does not declare is skipped; so is a case that sends the
    /// user's password when live.toml's `password_env` names no set variable.
    pub fn inapplicable(&self, scenario: &Scenario, case: &Case) -> Option<String> {
        match self {
            Self::Simulated | Self::Pooled(_) => None,
            Self::Live(config) => {
                let mut reasons: Vec<String> = config.inapplicable(&scenario.path).into_iter().collect();
                let app = directory::app_name(&scenario.file);
                if app != config.app {
                    reasons.push(format!(
                        "runs as the app `{app}`{}, and live.toml signs in as `{}`",
                        if scenario.file.app.name.is_none() {
                            " (the default)"
                        } else {
                            ""
                        },
                        config.app
                    ));
                }
                if let Some(days) = case.request.refresh_after_days {
                    reasons.push(format!(
                        "waits {days} day(s) between sign-in and refresh: only the simulated clock can"
                    ));
                }
                let needs_browser = matches!(case.request.flow, Flow::AuthorizationCode | Flow::RefreshToken)
                    || case.request.admin_consent.is_some();
                if needs_browser
                    && config.browser == crate::live::Browser::Follow
                    && !config.authority_is_loopback()
                {
                    reasons.push(
                        "needs a person to sign in, and live.toml's `browser = \"follow\"` works only against a simulated authority".to_owned(),
                    );
                }
                if needs_password(case) {
                    match &config.password_env {
                        None => reasons.push(
                            "needs the user's password, and live.toml names no `password_env`".to_owned(),
                        ),
                        Some(variable) if std::env::var_os(variable).is_none() => reasons.push(format!(
                            "needs the user's password: set {variable} (live.toml's `password_env`)"
                        )),
                        Some(_) => {}
                    }
                }
                (!reasons.is_empty()).then(|| reasons.join("; "))
            }
        }
    }

    /// Sets up what `case` of `scenario` needs: the servers and the accounts to use.
    pub async fn prepare(&self, scenario: &Scenario, case: &Case) -> std::io::Result<Prepared> {
        match self {
            Self::Live(config) => prepare_live(config, case, live_cache(config)),
            Self::Simulated | Self::Pooled(_) => {
                let directory = directory::build(&scenario.file);
                let app_name = directory::app_name(&scenario.file);
                let pool = match self {
                    Self::Pooled(pool) => Some(pool.clone()),
                    _ => None,
                };
                let cloud = match &pool {
                    Some(pool) => pool.take(directory).await?,
                    None => SimulatedCloud::start_with(directory, Clock::default()).await?,
                };
                let app = cloud
                    .directory()
                    .app_by_name(&app_name)
                    .expect("scenario loading checked the app name")
                    .clone();
                let tenant_id = cloud.directory().tenant.id.clone();
                let segment = segment_of(case.request.endpoint, &tenant_id);
                let user = cloud.directory().signed_in_user();
                let resource_owner = ResourceOwner {
                    username: user.upn.clone(),
                    password: Secret::new("password", user.password.clone()),
                };
                let base = url::Url::parse(&cloud.endpoints().authority).map_err(std::io::Error::other)?;
                let client_secret = match &app.client_type {
                    ClientType::Public => None,
                    ClientType::Confidential { secret } => Some(Secret::new("client-secret", secret.clone())),
                };
                let server = |port: u16| ServerAddress {
                    host: "localhost".into(),
                    port,
                    extra_roots: vec![cloud.ca_der().to_vec()],
                };
                let smtp = server(cloud.endpoints().smtp.port());
                let imap = server(cloud.endpoints().imap.port());
                let pop3 = server(cloud.endpoints().pop3.port());
                Ok(Prepared {
                    refresh_segment: case
                        .request
                        .refresh_endpoint
                        .map(|endpoint| segment_of(endpoint, &tenant_id)),
                    resource_owner: Some(resource_owner),
                    waiting: Waiting::Simulated(cloud.clock().clone()),
                    authority: Authority {
                        base,
                        segment,
                        client_id: app.client_id.clone(),
                        client_secret,
                        // mailscope is a native client with a loopback listener, live and
                        // simulated alike: an app that did not register it gets AADSTS50011.
                        redirect_uri: "http://localhost".into(),
                        sign_in: SignIn::Simulated,
                        login_hint: None,
                        cache: None,
                    },
                    user: cloud.directory().signed_in_user().upn.clone(),
                    smtp,
                    imap,
                    pop3,
                    extra_roots: vec![cloud.ca_der().to_vec()],
                    cloud: Some(cloud),
                    pool,
                })
            }
        }
    }
}

/// A cache file opened by this process.
type OpenCache = (PathBuf, Arc<TokenCache>);

/// The run's token cache, opened once per process and shared by every case.
fn live_cache(config: &LiveConfig) -> Option<Arc<TokenCache>> {
    static CACHES: std::sync::OnceLock<std::sync::Mutex<Vec<OpenCache>>> = std::sync::OnceLock::new();
    let path = match &config.token_cache {
        Some(path) if path.as_os_str() == "none" => return None,
        Some(path) => path.clone(),
        None => TokenCache::default_path()?,
    };
    let mut caches = CACHES.get_or_init(Default::default).lock().ok()?;
    if let Some((_, cache)) = caches.iter().find(|(known, _)| *known == path) {
        return Some(cache.clone());
    }
    let cache = Arc::new(TokenCache::open(&path));
    caches.push((path, cache.clone()));
    Some(cache)
}

/// Reads a secret from the environment variable `live.toml` names; the value never leaves memory.
/// Whether `case` sends the user's password: ROPC, or a password probe. The password is read for
/// those cases only.
fn needs_password(case: &Case) -> bool {
    case.request.flow == Flow::Password || case.probes.iter().any(|probe| probe.mechanism.is_password())
}

fn secret_from(variable: Option<&String>, kind: &'static str) -> std::io::Result<Option<Secret>> {
    let Some(variable) = variable else { return Ok(None) };
    match std::env::var(variable) {
        Ok(value) => Ok(Some(Secret::new(kind, value))),
        Err(_) => Err(std::io::Error::other(format!(
            "live.toml names the environment variable {variable} for the {kind}, and it is not set"
        ))),
    }
}

fn server_address(host_port: &str, extra_roots: &[Vec<u8>]) -> std::io::Result<ServerAddress> {
    // `[::1]:993`: an IPv6 literal is bracketed, and the brackets are no part of the host.
    let (host, port) = host_port
        .rsplit_once(':')
        .and_then(|(host, port)| {
            let host = host
                .strip_prefix('[')
                .and_then(|inner| inner.strip_suffix(']'))
                .unwrap_or(host);
            (!host.is_empty()).then_some(())?;
            Some((host.to_owned(), port.parse().ok()?))
        })
        .ok_or_else(|| {
            std::io::Error::other(format!(
                "`{host_port}` is not host:port (an IPv6 address in brackets)"
            ))
        })?;
    Ok(ServerAddress {
        host,
        port,
        extra_roots: extra_roots.to_vec(),
    })
}

/// The live target: nothing starts; everything comes from `live.toml` and the environment.
fn prepare_live(
    config: &LiveConfig,
    case: &Case,
    cache: Option<Arc<TokenCache>>,
) -> std::io::Result<Prepared> {
    use rustls::pki_types::pem::PemObject as _;
    let extra_roots = match &config.ca_file {
        Some(path) => {
            let pem = std::fs::read(path)
                .map_err(|error| std::io::Error::other(format!("{}: {error}", path.display())))?;
            rustls::pki_types::CertificateDer::pem_slice_iter(&pem)
                .map(|certificate| certificate.map(|der| der.to_vec()))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|error| std::io::Error::other(format!("{}: {error}", path.display())))?
        }
        None => Vec::new(),
    };
    let base = url::Url::parse(&config.authority).map_err(std::io::Error::other)?;
    let password = if needs_password(case) {
        secret_from(config.password_env.as_ref(), "password")?
    } else {
        None
    };
    Ok(Prepared {
        refresh_segment: case
            .request
            .refresh_endpoint
            .map(|endpoint| segment_of(endpoint, &config.tenant)),
        resource_owner: password.map(|password| ResourceOwner {
            username: config.user.clone(),
            password,
        }),
        waiting: Waiting::Real,
        authority: Authority {
            base,
            // At /organizations, Entra picks the tenant of a client-credentials request itself
            // (a multi-tenant daemon gets its home tenant's token): app-only cases ask live.toml's.
            segment: match (case.request.flow, case.request.endpoint) {
                (Flow::ClientCredentials, Endpoint::Organizations) => config.tenant.clone(),
                (_, endpoint) => segment_of(endpoint, &config.tenant),
            },
            client_id: config.client_id.clone(),
            // A public client (Mobile and desktop) never sends a secret: Entra would answer
            // AADSTS700025.
            client_secret: if app_is_confidential(&config.app) {
                secret_from(config.client_secret_env.as_ref(), "client-secret")?
            } else {
                None
            },
            redirect_uri: "http://localhost".into(),
            sign_in: SignIn::Loopback {
                browser: config.browser,
                port: config.redirect_port,
                sign_in_timeout: std::time::Duration::from_secs(config.sign_in_timeout),
            },
            // The sign-in page opens on live.toml's user: the browser's single sign-on must not
            // pick another account, whose refusal would be recorded as this user's.
            login_hint: Some(config.user.clone()),
            cache: cache.map(|cache| (cache, config.user.clone())),
        },
        user: config.user.clone(),
        smtp: server_address(&config.smtp, &extra_roots)?,
        imap: server_address(&config.imap, &extra_roots)?,
        pop3: server_address(&config.pop3, &extra_roots)?,
        extra_roots,
        cloud: None,
        pool: None,
    })
}

/// The authority path segment of an `endpoint` value.
/// True when the app registration of that name is a confidential client (it has a secret).
fn app_is_confidential(name: &str) -> bool {
    mailscope_mocks::directory::Directory::contoso()
        .app_by_name(name)
        .is_some_and(|app| matches!(app.client_type, ClientType::Confidential { .. }))
}

fn segment_of(endpoint: Endpoint, tenant_id: &str) -> String {
    match endpoint {
        Endpoint::Organizations => "organizations".to_owned(),
        Endpoint::Common => "common".to_owned(),
        Endpoint::Consumers => "consumers".to_owned(),
        Endpoint::Tenant => tenant_id.to_owned(),
    }
}

/// Everything a case needs to run against a target.
#[derive(Debug)]
pub struct Prepared {
    /// Where a refresh token is redeemed, when not at the sign-in's segment.
    pub refresh_segment: Option<String>,
    /// The user's credentials, for ROPC.
    pub resource_owner: Option<ResourceOwner>,
    /// How to wait.
    pub waiting: Waiting,
    /// The identity platform and the app.
    pub authority: Authority,
    /// The mailbox the probes open (XOAUTH2's `user=`).
    pub user: String,
    /// The SMTP server.
    pub smtp: ServerAddress,
    /// The IMAP server.
    pub imap: ServerAddress,
    /// The POP3 server.
    pub pop3: ServerAddress,
    /// Trust roots for HTTPS on top of the web PKI.
    pub extra_roots: Vec<Vec<u8>>,
    cloud: Option<SimulatedCloud>,
    pool: Option<Arc<CloudPool>>,
}

impl Drop for Prepared {
    fn drop(&mut self) {
        if let (Some(pool), Some(cloud)) = (&self.pool, self.cloud.take()) {
            pool.give_back(cloud);
        }
    }
}

/// What the simulated server recorded of a probe's connection.
#[derive(Debug, Clone, Default)]
pub struct ServerRecord {
    /// Why it refused, when it did.
    pub diagnosis: Option<String>,
    /// The transcript, secrets hidden.
    pub transcript: Option<Vec<String>>,
    /// The server's decisions, in order.
    pub decisions: Vec<mailscope_mocks::Decision>,
}

impl Prepared {
    /// Returns the simulated server's record of the last connection for `protocol`.
    pub fn server_record(&self, protocol: Protocol) -> ServerRecord {
        let Some(cloud) = &self.cloud else {
            return ServerRecord::default();
        };
        let protocol = match protocol {
            Protocol::Smtp => mailscope_mocks::Protocol::Smtp,
            Protocol::Imap => mailscope_mocks::Protocol::Imap,
            Protocol::Pop3 => mailscope_mocks::Protocol::Pop3,
        };
        let connections = cloud.journal(protocol).connections();
        let Some(connection) = connections.last() else {
            return ServerRecord::default();
        };
        ServerRecord {
            diagnosis: connection.last_refusal().map(ToString::to_string),
            decisions: connection.decisions().cloned().collect(),
            transcript: Some(connection.transcript()),
        }
    }

    /// Returns the simulated identity platform's record of every request it answered.
    pub fn identity_requests(&self) -> Vec<RequestRecord> {
        self.cloud
            .as_ref()
            .map(|cloud| cloud.identity_journal().requests())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_port_are_read_for_names_and_both_ip_versions() {
        let read = |text: &str| server_address(text, &[]).map(|address| (address.host, address.port));
        assert_eq!(
            read("outlook.office365.com:993").unwrap(),
            ("outlook.office365.com".to_owned(), 993)
        );
        assert_eq!(read("127.0.0.1:587").unwrap(), ("127.0.0.1".to_owned(), 587));
        assert_eq!(read("[::1]:995").unwrap(), ("::1".to_owned(), 995));
        assert!(read("outlook.office365.com").is_err());
        assert!(read(":993").is_err());
    }
}
