//! The POP3 probe: a small client of the harness's own (no maintained async POP3 client crate
//! fits the stack), over implicit TLS. `AUTH XOAUTH2` in two lines by default, as Microsoft asks
//! (fidelity: pop-xoauth2-two-step), or inline to reproduce the protocol error. Passwords go by
//! `USER`/`PASS` or `AUTH PLAIN`.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use super::{ProbeReport, ServerAddress, tls};
use crate::scenario::types::{Mechanism, ProbeResult};
use crate::secret::Secret;

/// Every network step of a probe finishes within this.
pub const TIMEOUT: Duration = Duration::from_secs(20);
/// Longest reply line read.
const MAX_REPLY: u64 = 64 * 1024;

/// What the POP3 probe does.
#[derive(Debug, Clone)]
pub struct Pop3Probe {
    /// The server.
    pub server: ServerAddress,
    /// XOAUTH2's `user=`, or the login name of a password.
    pub user: String,
    /// The SASL mechanism.
    pub mechanism: Mechanism,
    /// The response on the AUTH line rather than after `+`.
    pub initial_response: bool,
}

/// Errors of the probe itself (the server refusing is a [`ProbeReport`], not an error).
#[derive(Debug, thiserror::Error)]
pub enum Pop3ProbeError {
    /// Connecting or TLS failed.
    #[error("POP3 connection: {0}")]
    Connect(#[source] std::io::Error),
    /// The dialogue broke.
    #[error("POP3 {step}: {message}")]
    Dialogue {
        /// The step.
        step: &'static str,
        /// What happened.
        message: String,
    },
}

impl Pop3Probe {
    /// Connects, authenticates with `secret` (a token, or for `login` and `plain` a password),
    /// and quits.
    pub async fn run(&self, secret: &Secret) -> Result<ProbeReport, Pop3ProbeError> {
        let stream = tls::connect(&self.server, TIMEOUT)
            .await
            .map_err(Pop3ProbeError::Connect)?;
        let mut connection = BufReader::new(stream);
        read_line(&mut connection, "greeting").await?;
        let (name, payload) = match self.mechanism {
            Mechanism::Xoauth2 => (
                "XOAUTH2",
                mailscope_mocks::sasl::encode_xoauth2(&self.user, secret.secret()),
            ),
            Mechanism::Oauthbearer => (
                "OAUTHBEARER",
                mailscope_mocks::sasl::encode_oauthbearer(&self.user, secret.secret()),
            ),
            Mechanism::Plain => ("PLAIN", super::encode_plain(&self.user, secret)),
            Mechanism::Login => ("USER", String::new()),
        };
        let is_continuation = |line: &str| line.starts_with('+') && !line.starts_with("+OK");
        let mut reply = if self.mechanism == Mechanism::Login {
            send(&mut connection, &format!("USER {}", self.user), "USER").await?;
            let answer = read_line(&mut connection, "USER").await?;
            if answer.starts_with("+OK") {
                send(&mut connection, &format!("PASS {}", secret.secret()), "PASS").await?;
                read_line(&mut connection, "PASS").await?
            } else {
                answer
            }
        } else if self.initial_response {
            send(&mut connection, &format!("AUTH {name} {payload}"), "AUTH").await?;
            read_line(&mut connection, "AUTH").await?
        } else {
            send(&mut connection, &format!("AUTH {name}"), "AUTH").await?;
            let continuation = read_line(&mut connection, "AUTH").await?;
            if is_continuation(&continuation) {
                send(&mut connection, &payload, "AUTH").await?;
                read_line(&mut connection, "AUTH").await?
            } else {
                continuation
            }
        };
        // A continuation after the response is an error challenge: answer with an empty line.
        if is_continuation(&reply) {
            send(&mut connection, "", "AUTH").await?;
            reply = read_line(&mut connection, "AUTH").await?;
        }
        let mut result = if reply.starts_with("+OK") {
            ProbeResult::Authenticated
        } else {
            ProbeResult::Rejected
        };
        // One maildrop command, as the IMAP probe selects the inbox: a server may accept the
        // credentials and still not open the mailbox.
        if result == ProbeResult::Authenticated {
            send(&mut connection, "STAT", "STAT").await?;
            let stat = read_line(&mut connection, "STAT").await?;
            if !stat.starts_with("+OK") {
                result = ProbeResult::Rejected;
                reply = stat;
            }
        }
        if send(&mut connection, "QUIT", "QUIT").await.is_ok() {
            let _ = read_line(&mut connection, "QUIT").await;
        }
        Ok(ProbeReport {
            result,
            reply: Some(reply),
            send_reply: None,
        })
    }
}

async fn send<S: tokio::io::AsyncWrite + tokio::io::AsyncRead + Unpin>(
    connection: &mut BufReader<S>,
    line: &str,
    step: &'static str,
) -> Result<(), Pop3ProbeError> {
    let write = async {
        connection
            .get_mut()
            .write_all(format!("{line}\r\n").as_bytes())
            .await?;
        connection.get_mut().flush().await
    };
    tokio::time::timeout(TIMEOUT, write)
        .await
        .map_err(|_| Pop3ProbeError::Dialogue {
            step,
            message: "timed out".into(),
        })?
        .map_err(|error| Pop3ProbeError::Dialogue {
            step,
            message: error.to_string(),
        })
}

async fn read_line<S: tokio::io::AsyncRead + Unpin>(
    connection: &mut BufReader<S>,
    step: &'static str,
) -> Result<String, Pop3ProbeError> {
    let mut line = String::new();
    let read = tokio::time::timeout(TIMEOUT, (&mut *connection).take(MAX_REPLY).read_line(&mut line))
        .await
        .map_err(|_| Pop3ProbeError::Dialogue {
            step,
            message: format!("no answer within {TIMEOUT:?}"),
        })?
        .map_err(|error| Pop3ProbeError::Dialogue {
            step,
            message: error.to_string(),
        })?;
    if read == 0 {
        return Err(Pop3ProbeError::Dialogue {
            step,
            message: "the server closed the connection".into(),
        });
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}
