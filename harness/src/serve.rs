//! `mailscope serve`: the simulated cloud standalone, for other programs' tests, and
//! `mailscope token`: a token from a running `serve`, through a real flow.
//!
//! `serve --state-dir DIR` writes `DIR/endpoints.json` (every URL and `host:port`, the CA file,
//! the users and apps with their test credentials) and `DIR/ca.pem`, so that clients nobody here
//! wrote can be pointed at it; without `--state-dir` it makes a directory of its own. One serve
//! holds a state directory at a time (`DIR/serve.lock`). The mailboxes are in memory, or kept
//! under `DIR/mail` with `--keep-mail`.

use std::path::{Path, PathBuf};

use mailscope_mocks::clock::Clock;
use mailscope_mocks::directory::{ClientType, Directory};
use mailscope_mocks::{HttpsFront, Listeners, Mailboxes, SimulatedCloud};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

use crate::acquire::{self, Authority, ResourceOwner, TokenOutcome, TokenRequest, Waiting};
use crate::scenario::types::{DirectoryFile, Flow};
use crate::secret::Secret;

/// How `serve` starts.
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    /// Where to write `endpoints.json` and `ca.pem`.
    pub state_dir: Option<PathBuf>,
    /// A directory file (`[tenant]`, `[app]`, `[user]`).
    pub directory: Option<PathBuf>,
    /// Port of the identity platform over HTTPS (0: any free port).
    pub https_port: u16,
    /// Deadlines and sizes every connection is held to.
    pub limits: mailscope_mocks::Limits,
    /// SMTP port (0: any free port).
    pub smtp_port: u16,
    /// IMAPS port (0: any free port).
    pub imap_port: u16,
    /// POP3S port (0: any free port).
    pub pop3_port: u16,
    /// Keep the mailboxes under `STATE_DIR/mail`, so that a restart finds the mail.
    pub keep_mail: bool,
    /// Messages to start with: `ADDRESS/*.eml`, `ADDRESS/FOLDER/*.eml`, `ADDRESS.mbox`.
    pub seed: Option<PathBuf>,
}

/// What `serve` writes to `endpoints.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Endpoints {
    /// The identity platform's base URL (`https://127.0.0.1:PORT`).
    pub authority: String,
    /// The tenant id.
    pub tenant_id: String,
    /// The tenant's domain.
    pub tenant_domain: String,
    /// `{authority}/organizations/oauth2/v2.0/authorize`.
    pub authorize_endpoint: String,
    /// `{authority}/organizations/oauth2/v2.0/token`.
    pub token_endpoint: String,
    /// `{authority}/organizations/oauth2/v2.0/devicecode`.
    pub device_code_endpoint: String,
    /// `{authority}/discovery/v2.0/keys`.
    pub jwks_uri: String,
    /// The name the certificates are valid for (also `127.0.0.1`).
    pub host: String,
    /// SMTP submission with STARTTLS, `localhost:PORT` (the certificate's name: clients that
    /// check it, as mbsync and offlineimap do, need the name, not the address).
    pub smtp: String,
    /// IMAP over TLS.
    pub imap: String,
    /// POP3 over TLS.
    pub pop3: String,
    /// The CA certificate every endpoint's chain ends in (PEM).
    pub ca_file: PathBuf,
    /// The directory file the cloud was started with.
    pub directory_file: Option<PathBuf>,
    /// What the credentials below are.
    #[serde(default)]
    pub credentials: String,
    /// The users.
    pub users: Vec<EndpointUser>,
    /// The shared mailboxes (a user with `full_access` opens them with its own token).
    #[serde(default)]
    pub shared_mailboxes: Vec<String>,
    /// The app registrations.
    pub apps: Vec<EndpointApp>,
    /// The process id of the `serve` that wrote the file (0 when unknown).
    #[serde(default)]
    pub pid: u32,
}

/// A user of `endpoints.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EndpointUser {
    /// The user principal name and mailbox address.
    pub upn: String,
    /// The simulated user's password (a test value: for ROPC and password clients).
    #[serde(default)]
    pub password: String,
}

/// An app of `endpoints.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EndpointApp {
    /// `mail-client` or `mail-daemon`.
    pub name: String,
    /// The client id.
    pub client_id: String,
    /// `public` or `confidential`.
    pub client_type: String,
    /// The registered redirect URI.
    pub redirect_uri: String,
    /// A confidential app's client secret (a test value of the simulated tenant).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

/// What `endpoints.json` says of its credentials.
pub const CREDENTIALS_NOTE: &str = "The passwords and the client secret below are test values of the simulated tenant, the same in every mailscope, and open nothing but this serve. They are not secrets.";

/// Errors of `serve` and `token`.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The directory file is wrong.
    #[error("{0}")]
    Directory(String),
    /// A port could not be bound.
    #[error("binding 127.0.0.1:{port}: {source}")]
    Bind {
        /// The port.
        port: u16,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// `endpoints.json` is not what `serve` writes.
    #[error("{path}: not an endpoints.json written by `mailscope serve`: {message}")]
    Endpoints {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The token request failed.
    #[error("{0}")]
    Token(String),
    /// No `serve` is running for the state directory.
    #[error("{0}")]
    NotServing(String),
    /// Another `serve` holds the state directory.
    #[error("{0}")]
    Busy(String),
    /// The seed directory is wrong.
    #[error("{0}")]
    Seed(String),
}

/// Reads a directory file; `None` gives the default directory.
pub fn load_directory(path: Option<&Path>) -> Result<Directory, ServeError> {
    let file = load_directory_file(path)?;
    crate::scenario::directory::build_directory(&file).map_err(|(span, message)| {
        let (path, text) = match path {
            Some(path) => (path, std::fs::read_to_string(path).unwrap_or_default()),
            None => (Path::new("directory"), String::new()),
        };
        ServeError::Directory(crate::scenario::load::error_at(path, &text, span, message).to_string())
    })
}

/// Reads a directory file as written (no file: no changes).
pub fn load_directory_file(path: Option<&Path>) -> Result<DirectoryFile, ServeError> {
    let Some(path) = path else {
        return Ok(DirectoryFile::default());
    };
    let text = std::fs::read_to_string(path).map_err(|source| ServeError::File {
        path: path.to_owned(),
        source,
    })?;
    let file: DirectoryFile = toml::from_str(&text).map_err(|error| {
        ServeError::Directory(crate::scenario::load::toml_error(path, &text, &error).to_string())
    })?;
    Ok(file)
}

async fn bind(port: u16) -> Result<TcpListener, ServeError> {
    TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|source| ServeError::Bind { port, source })
}

/// A running `serve`: the cloud, its HTTPS front, and what was written about them.
#[derive(Debug)]
pub struct Served {
    /// The endpoints.
    pub endpoints: Endpoints,
    /// The state directory.
    pub state_dir: PathBuf,
    /// How many seed messages were stored, and whether kept mail was found instead.
    pub seeded: Option<usize>,
    /// Whether the mailboxes were read back from the state directory.
    pub mail_restored: bool,
    _https: HttpsFront,
    _cloud: SimulatedCloud,
    /// Held while serving: the state directory is this serve's.
    _lock: std::fs::File,
}

/// Takes `state_dir/serve.lock`, or says which serve holds it.
fn lock_state_dir(state_dir: &Path) -> Result<std::fs::File, ServeError> {
    let path = state_dir.join("serve.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|source| ServeError::File {
            path: path.clone(),
            source,
        })?;
    if file.try_lock().is_err() {
        let holder = std::fs::read_to_string(&path).unwrap_or_default();
        let holder = holder.trim();
        return Err(ServeError::Busy(format!(
            "{} is in use by another `mailscope serve`{}: stop it, or give this one another --state-dir",
            state_dir.display(),
            if holder.is_empty() {
                String::new()
            } else {
                format!(" (pid {holder})")
            }
        )));
    }
    let mut file = file;
    use std::io::Write as _;
    let _ = file.set_len(0);
    let _ = write!(file, "{}", std::process::id());
    Ok(file)
}

/// Starts the simulated cloud standalone, on the system clock, and writes the state directory.
pub async fn start(options: &ServeOptions) -> Result<Served, ServeError> {
    let directory = load_directory(options.directory.as_deref())?;
    // Without --state-dir, a directory of this process's own: never one another serve uses.
    let state_dir = options
        .state_dir
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join(format!("mailscope-serve-{}", std::process::id())));
    std::fs::create_dir_all(&state_dir).map_err(|source| ServeError::File {
        path: state_dir.clone(),
        source,
    })?;
    let state_dir = state_dir.canonicalize().unwrap_or(state_dir);
    let lock = lock_state_dir(&state_dir)?;
    let clock = Clock::system();
    let mailboxes = if options.keep_mail {
        Mailboxes::open(&directory, &clock, &options.limits, &state_dir).map_err(|source| {
            ServeError::File {
                path: state_dir.join("mail"),
                source,
            }
        })?
    } else {
        Mailboxes::in_memory(&directory, &clock, &options.limits)
    };
    let mail_restored = mailboxes.restored();
    let seeded = match &options.seed {
        // Kept mail already holds what a seed once put there.
        Some(_) if mail_restored => None,
        Some(seed) => Some(
            mailboxes
                .seed(seed)
                .map_err(|error| ServeError::Seed(error.to_string()))?,
        ),
        None => None,
    };
    let listeners = Listeners {
        smtp: bind(options.smtp_port).await?,
        imap: bind(options.imap_port).await?,
        pop3: bind(options.pop3_port).await?,
        limits: options.limits,
    };
    let https_listener = bind(options.https_port).await?;
    let cloud = SimulatedCloud::start_with_mailboxes(directory, clock, listeners, mailboxes)
        .await
        .map_err(|source| ServeError::Bind { port: 0, source })?;
    let https = HttpsFront::start(https_listener, &cloud).map_err(|source| ServeError::Bind {
        port: options.https_port,
        source,
    })?;
    let ca_file = state_dir.join("ca.pem");
    write(&ca_file, cloud.ca_pem().as_bytes())?;

    let authority = format!("https://{}", https.address());
    let endpoint = |name: &str| format!("{authority}/organizations/oauth2/v2.0/{name}");
    let endpoints = Endpoints {
        authorize_endpoint: endpoint("authorize"),
        token_endpoint: endpoint("token"),
        device_code_endpoint: endpoint("devicecode"),
        jwks_uri: format!("{authority}/discovery/v2.0/keys"),
        authority,
        tenant_id: cloud.directory().tenant.id.clone(),
        tenant_domain: cloud.directory().tenant.domain.clone(),
        pid: std::process::id(),
        host: "localhost".into(),
        smtp: format!("localhost:{}", cloud.endpoints().smtp.port()),
        imap: format!("localhost:{}", cloud.endpoints().imap.port()),
        pop3: format!("localhost:{}", cloud.endpoints().pop3.port()),
        credentials: CREDENTIALS_NOTE.into(),
        ca_file,
        directory_file: options
            .directory
            .as_ref()
            .map(|path| path.canonicalize().unwrap_or(path.clone())),
        users: cloud
            .directory()
            .users
            .iter()
            .map(|user| EndpointUser {
                upn: user.upn.clone(),
                password: user.password.clone(),
            })
            .collect(),
        shared_mailboxes: {
            let mut shared: Vec<String> = cloud
                .directory()
                .users
                .iter()
                .flat_map(|user| user.full_access.iter().cloned())
                .collect();
            shared.sort_unstable();
            shared.dedup();
            shared
        },
        apps: cloud
            .directory()
            .apps
            .iter()
            .map(|app| EndpointApp {
                name: app.name.clone(),
                client_id: app.client_id.clone(),
                client_type: match app.client_type {
                    ClientType::Public => "public".into(),
                    ClientType::Confidential { .. } => "confidential".into(),
                },
                redirect_uri: app.redirect_uris.first().cloned().unwrap_or_default(),
                client_secret: match &app.client_type {
                    ClientType::Public => None,
                    ClientType::Confidential { secret } => Some(secret.clone()),
                },
            })
            .collect(),
    };
    write_live_configs(&state_dir, &endpoints, cloud.directory())?;
    let json = serde_json::to_vec_pretty(&endpoints).expect("endpoints always serialize");
    // Written last, and whole, so a program waiting for the file finds everything up.
    let endpoints_file = state_dir.join("endpoints.json");
    let partial = state_dir.join("endpoints.json.partial");
    write(&partial, &json)?;
    std::fs::rename(&partial, &endpoints_file).map_err(|source| ServeError::File {
        path: endpoints_file,
        source,
    })?;
    Ok(Served {
        endpoints,
        state_dir,
        seeded,
        mail_restored,
        _https: https,
        _cloud: cloud,
        _lock: lock,
    })
}

/// The name of the environment variable `live-daemon.toml` reads the client secret from.
pub const DAEMON_SECRET_VARIABLE: &str = "MAILSCOPE_CLIENT_SECRET";
/// The name of the environment variable `live.toml` reads the user's password from (ROPC and
/// password probes).
pub const PASSWORD_VARIABLE: &str = "MAILSCOPE_PASSWORD";

/// Writes `live.toml` (the public client) and `live-daemon.toml` (the confidential client), ready
/// for `mailscope run --target live`: this cloud is then a live tenant reached over HTTPS, through
/// the code that reaches Exchange Online. `[facts]` declare its (default) setup.
fn write_live_configs(
    state_dir: &Path,
    endpoints: &Endpoints,
    directory: &Directory,
) -> Result<(), ServeError> {
    let user = &directory.signed_in_user().upn;
    for (file, app) in [("live.toml", "mail-client"), ("live-daemon.toml", "mail-daemon")] {
        let Some(registration) = directory.app_by_name(app) else {
            continue;
        };
        // The user's password serves ROPC and password probes, whichever app signs in.
        let secret = match registration.client_type {
            ClientType::Confidential { .. } => format!(
                "client_secret_env = \"{DAEMON_SECRET_VARIABLE}\"\npassword_env = \"{PASSWORD_VARIABLE}\"\n"
            ),
            ClientType::Public => format!("password_env = \"{PASSWORD_VARIABLE}\"\n"),
        };
        let text = format!(
            "# Written by `mailscope serve`: the simulated cloud as a live tenant.\n\
             authority = \"{}\"\ntenant = \"{}\"\nclient_id = \"{}\"\napp = \"{app}\"\n{secret}user = \"{user}\"\n\
             smtp = \"localhost:{}\"\nimap = \"localhost:{}\"\npop3 = \"localhost:{}\"\nca_file = \"{}\"\n\
             # The simulated authorize endpoint needs no person: the harness follows its redirects.\nbrowser = \"follow\"\n\
             token_cache = \"{}\"\n\n\
             [facts.tenant]\nsmtp_client_authentication = {}\nmulti_resource_scopes = \"{}\"\nsmtp_basic_auth = \"{}\"\n\n[facts.app]\nname = \"{app}\"\nconsent = \"{}\"\n",
            endpoints.authority,
            endpoints.tenant_id,
            registration.client_id,
            endpoints.smtp.rsplit_once(':').map_or("", |(_, port)| port),
            endpoints.imap.rsplit_once(':').map_or("", |(_, port)| port),
            endpoints.pop3.rsplit_once(':').map_or("", |(_, port)| port),
            endpoints.ca_file.display(),
            state_dir.join("tokens.json").display(),
            directory.tenant.allows_smtp_auth(),
            match directory.tenant.multi_resource_scopes {
                mailscope_mocks::directory::MultiResourceScopes::FirstWins => "first-wins",
                mailscope_mocks::directory::MultiResourceScopes::Reject => "reject",
            },
            match directory.tenant.smtp_basic_auth {
                mailscope_mocks::directory::BasicAuthStage::Enabled => "enabled",
                mailscope_mocks::directory::BasicAuthStage::Disabled => "disabled",
                mailscope_mocks::directory::BasicAuthStage::Retired => "retired",
            },
            match registration.consent {
                mailscope_mocks::directory::Consent::None => "none",
                mailscope_mocks::directory::Consent::User => "user",
                mailscope_mocks::directory::Consent::Admin => "admin",
            },
        );
        write(&state_dir.join(file), text.as_bytes())?;
    }
    Ok(())
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), ServeError> {
    std::fs::write(path, bytes).map_err(|source| ServeError::File {
        path: path.to_owned(),
        source,
    })
}

/// How long `token` waits for a starting `serve` to write `endpoints.json`.
pub const READY_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Waits (up to [`READY_WAIT`]) for a `serve` on `state_dir` to be ready, and reads its
/// `endpoints.json`; says plainly when no serve is running there.
pub async fn wait_for_endpoints(state_dir: &Path) -> Result<Endpoints, ServeError> {
    let file = state_dir.join("endpoints.json");
    let started = std::time::Instant::now();
    while !file.exists() {
        if started.elapsed() >= READY_WAIT {
            return Err(ServeError::NotServing(format!(
                "{} did not appear within {} s: is `mailscope serve --state-dir {}` running?",
                file.display(),
                READY_WAIT.as_secs(),
                state_dir.display()
            )));
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let endpoints = read_endpoints(state_dir)?;
    if endpoints.pid != 0 && !process_is_alive(endpoints.pid) {
        return Err(ServeError::NotServing(format!(
            "the serve that wrote {} (pid {}) is not running any more: start `mailscope serve --state-dir {}` again",
            file.display(),
            endpoints.pid,
            state_dir.display()
        )));
    }
    Ok(endpoints)
}

/// Returns true when a process with this id exists (always true where that cannot be told).
fn process_is_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        // A process killed but not yet reaped is a zombie: `State:\tZ`.
        std::fs::read_to_string(format!("/proc/{pid}/status")).is_ok_and(|status| {
            !status
                .lines()
                .any(|line| line.starts_with("State:") && line.contains('Z'))
        })
    } else {
        true
    }
}

/// Reads `DIR/endpoints.json`.
pub fn read_endpoints(state_dir: &Path) -> Result<Endpoints, ServeError> {
    let path = state_dir.join("endpoints.json");
    let text = std::fs::read(&path).map_err(|source| ServeError::File {
        path: path.clone(),
        source,
    })?;
    serde_json::from_slice(&text).map_err(|error| ServeError::Endpoints {
        path,
        message: error.to_string(),
    })
}

/// Obtains a token from a running `serve` through a real flow, and returns the access token.
pub async fn token(
    state_dir: &Path,
    scopes: &[String],
    app_name: &str,
    flow: Flow,
    user: Option<&str>,
) -> Result<Secret, ServeError> {
    let endpoints = wait_for_endpoints(state_dir).await?;
    let directory = load_directory(endpoints.directory_file.as_deref())?;
    let app = directory.app_by_name(app_name).ok_or_else(|| {
        ServeError::Token(format!(
            "no app `{app_name}`: the directory has `mail-client` and `mail-daemon`"
        ))
    })?;
    let ca = std::fs::read(&endpoints.ca_file).map_err(|source| ServeError::File {
        path: endpoints.ca_file.clone(),
        source,
    })?;
    let ca_der =
        rustls::pki_types::CertificateDer::from_pem_slice(&ca).map_err(|error| ServeError::Endpoints {
            path: endpoints.ca_file.clone(),
            message: error.to_string(),
        })?;
    let http =
        acquire::http_client(&[ca_der.to_vec()]).map_err(|error| ServeError::Token(error.to_string()))?;
    let authority = Authority {
        base: url::Url::parse(&endpoints.authority).map_err(|error| ServeError::Token(error.to_string()))?,
        segment: "organizations".into(),
        client_id: app.client_id.clone(),
        client_secret: match &app.client_type {
            ClientType::Public => None,
            ClientType::Confidential { secret } => Some(Secret::new("client-secret", secret.clone())),
        },
        redirect_uri: app
            .redirect_uris
            .first()
            .cloned()
            .unwrap_or_else(|| "http://localhost".into()),
        sign_in: acquire::SignIn::Simulated,
        login_hint: user.map(str::to_owned),
        cache: None,
    };
    let user = match user {
        None => directory.signed_in_user(),
        Some(upn) => directory.user(upn).ok_or_else(|| {
            ServeError::Token(format!(
                "no user `{upn}` in serve's directory: it has {}",
                directory
                    .users
                    .iter()
                    .map(|user| format!("`{}`", user.upn))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?,
    };
    if user.upn != directory.signed_in_user().upn
        && matches!(flow, Flow::DeviceCode | Flow::ClientCredentials)
    {
        return Err(ServeError::Token(format!(
            "--user goes with the flows where a user signs in by name: authorization-code and \
             refresh-token (sent as login_hint) and password; a device code is entered by {}, the \
             directory's first user, and client credentials sign in no user",
            directory.signed_in_user().upn
        )));
    }
    let request = TokenRequest {
        asked: crate::scenario::Request::new(flow, scopes.to_vec()),
        refresh_segment: None,
        resource_owner: Some(ResourceOwner {
            username: user.upn.clone(),
            password: Secret::new("password", user.password.clone()),
        }),
        expected_error: None,
    };
    match acquire::acquire(&http, &authority, &request, &Waiting::Real).await {
        Ok(TokenOutcome::Issued(token)) => Ok(token.access_token),
        Ok(TokenOutcome::Denied(denial)) => Err(ServeError::Token(format!(
            "{} refused at {}: {}",
            denial.code(),
            denial.stage,
            denial
                .error
                .error_description
                .as_deref()
                .and_then(|description| description.lines().next())
                .unwrap_or(&denial.error.error)
        ))),
        Ok(TokenOutcome::NotRequested) => Err(ServeError::Token("no token was asked for".into())),
        Err(error) => Err(ServeError::Token(format!(
            "{error} (is the serve that wrote {} still running?)",
            state_dir.join("endpoints.json").display()
        ))),
    }
}

use rustls::pki_types::pem::PemObject as _;
