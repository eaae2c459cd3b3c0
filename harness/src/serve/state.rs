//! What a running `serve` leaves for others: `endpoints.json` (its type, and reading it, waiting
//! for a starting serve), the directory file it was started with, and the errors of `serve` and
//! `token`.

use std::path::{Path, PathBuf};

use mailscope_mocks::directory::Directory;
use serde::{Deserialize, Serialize};

use crate::scenario::types::DirectoryFile;

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

pub(super) fn write(path: &Path, bytes: &[u8]) -> Result<(), ServeError> {
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
