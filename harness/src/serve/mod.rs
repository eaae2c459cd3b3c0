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
use mailscope_mocks::directory::ClientType;
use mailscope_mocks::{HttpsFront, Listeners, Mailboxes, SimulatedCloud};
use tokio::net::TcpListener;

mod live_configs;
mod state;
mod token;

use live_configs::write_live_configs;
pub use live_configs::{DAEMON_SECRET_VARIABLE, PASSWORD_VARIABLE};
use state::write;
pub use state::{
    CREDENTIALS_NOTE, EndpointApp, EndpointUser, Endpoints, READY_WAIT, ServeError, load_directory,
    load_directory_file, read_endpoints, wait_for_endpoints,
};
pub use token::token;

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
