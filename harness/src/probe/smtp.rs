//! The SMTP probe: lettre over STARTTLS, XOAUTH2 as lettre sends it (initial response inline),
//! OAUTHBEARER as a raw AUTH command (lettre has no OAUTHBEARER). Passwords: `AUTH LOGIN` as lettre
//! sends it (two steps), or raw with the user name inline; `AUTH PLAIN` raw, since lettre refuses a
//! mechanism the server does not advertise, and Exchange does not advertise PLAIN.
//!
//! Certificate checks are never switched off: the simulated cloud is trusted through its CA.

use std::time::Duration;

use lettre::transport::smtp::authentication::{Credentials, Mechanism as LettreMechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::response::Response;

use super::{ProbeReport, ServerAddress};
use crate::scenario::types::{Mechanism, ProbeResult};
use crate::secret::Secret;

/// Every network step of a probe finishes within this.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// What the SMTP probe does.
#[derive(Debug, Clone)]
pub struct SmtpProbe {
    /// The server.
    pub server: ServerAddress,
    /// XOAUTH2's `user=`, or the login name of a password.
    pub user: String,
    /// The SASL mechanism.
    pub mechanism: Mechanism,
    /// Also send one test message to the user.
    pub send: bool,
    /// The test message's sender; the user when absent.
    pub from: Option<String>,
    /// The SASL response on the AUTH line; otherwise after the server's `334`.
    pub initial_response: bool,
    /// The server may answer with an error challenge (generic profile): lettre's XOAUTH2 cannot
    /// (lettre cannot answer one), so the probe drives AUTH itself and answers with an empty line.
    pub answer_challenges: bool,
}

/// Errors of the probe itself (the server refusing is a [`ProbeReport`], not an error).
#[derive(Debug, thiserror::Error)]
pub enum SmtpProbeError {
    /// Connecting, TLS or the SMTP dialogue broke.
    #[error("SMTP {step}: {source}")]
    Smtp {
        /// The step that broke.
        step: &'static str,
        /// lettre's error.
        #[source]
        source: lettre::transport::smtp::Error,
    },
    /// A step did not finish in time.
    #[error("SMTP {0} timed out after {TIMEOUT:?}")]
    Timeout(&'static str),
}

impl SmtpProbe {
    /// Connects, upgrades with STARTTLS, authenticates with `secret` (a token, or for `login` and
    /// `plain` a password), optionally sends, and quits.
    pub async fn run(&self, secret: &Secret) -> Result<ProbeReport, SmtpProbeError> {
        let hello = ClientId::Domain("mailscope.test".into());
        let mut tls = TlsParameters::builder(self.server.host.clone());
        for der in &self.server.extra_roots {
            let certificate = Certificate::from_der(der.clone()).map_err(|source| SmtpProbeError::Smtp {
                step: "trust roots",
                source,
            })?;
            tls = tls.add_root_certificate(certificate);
        }
        let tls = tls.build_rustls().map_err(|source| SmtpProbeError::Smtp {
            step: "TLS configuration",
            source,
        })?;
        let address = (self.server.host.as_str(), self.server.port);
        let mut connection = step(
            "connect",
            AsyncSmtpConnection::connect_tokio1(address, Some(TIMEOUT), &hello, None, None),
        )
        .await?;
        step("STARTTLS", connection.starttls(tls, &hello)).await?;

        let authenticated = match (self.mechanism, self.initial_response) {
            // lettre's own XOAUTH2: always inline, and only when asked for by name.
            (Mechanism::Xoauth2, true) if !self.answer_challenges => {
                let credentials = Credentials::new(self.user.clone(), secret.secret().to_owned());
                connection.auth(&[LettreMechanism::Xoauth2], &credentials).await
            }
            // lettre's LOGIN: `AUTH LOGIN`, then the user name and the password after each 334.
            (Mechanism::Login, false) => {
                let credentials = Credentials::new(self.user.clone(), secret.secret().to_owned());
                connection.auth(&[LettreMechanism::Login], &credentials).await
            }
            (Mechanism::Login, true) => {
                let user = mailscope_mocks::sasl::encode_base64(self.user.as_bytes());
                match connection.command(RawCommand(format!("AUTH LOGIN {user}"))).await {
                    Ok(challenge) if challenge.has_code(334) => {
                        let password = super::encode_password(secret);
                        connection.command(RawCommand(password)).await
                    }
                    other => other,
                }
            }
            (mechanism, inline) => {
                let (name, response) = match mechanism {
                    Mechanism::Xoauth2 => (
                        "XOAUTH2",
                        mailscope_mocks::sasl::encode_xoauth2(&self.user, secret.secret()),
                    ),
                    Mechanism::Oauthbearer => (
                        "OAUTHBEARER",
                        mailscope_mocks::sasl::encode_oauthbearer(&self.user, secret.secret()),
                    ),
                    Mechanism::Plain | Mechanism::Login => ("PLAIN", super::encode_plain(&self.user, secret)),
                };
                let sent = if inline {
                    connection
                        .command(RawCommand(format!("AUTH {name} {response}")))
                        .await
                } else {
                    match connection.command(RawCommand(format!("AUTH {name}"))).await {
                        Ok(continuation) if continuation.has_code(334) => {
                            connection.command(RawCommand(response)).await
                        }
                        other => other,
                    }
                };
                // A 334 after the response is an error challenge: answer it with an empty line
                // (RFC 7628 §3.2.3) and read the final reply.
                match sent {
                    Ok(challenge) if challenge.has_code(334) => {
                        connection.command(RawCommand(String::new())).await
                    }
                    other => other,
                }
            }
        };
        let report = match authenticated {
            Ok(response) => {
                let send_reply = if self.send {
                    Some(self.send_test_message(&mut connection).await)
                } else {
                    None
                };
                ProbeReport {
                    result: ProbeResult::Authenticated,
                    reply: Some(reply_line(&response)),
                    send_reply,
                }
            }
            Err(error) if error.status().is_some() => ProbeReport {
                result: ProbeResult::Rejected,
                reply: Some(error_reply(&error)),
                send_reply: None,
            },
            Err(source) => return Err(SmtpProbeError::Smtp { step: "AUTH", source }),
        };
        // A server that already closed is no failure of the probe.
        let _ = tokio::time::timeout(TIMEOUT, connection.quit()).await;
        Ok(report)
    }

    async fn send_test_message(&self, connection: &mut AsyncSmtpConnection) -> String {
        let from = self.from.as_deref().unwrap_or(&self.user);
        let envelope = match (
            from.parse::<lettre::Address>(),
            self.user.parse::<lettre::Address>(),
        ) {
            (Ok(sender), Ok(recipient)) => lettre::address::Envelope::new(Some(sender), vec![recipient]).ok(),
            _ => None,
        };
        let Some(envelope) = envelope else {
            return format!("cannot send: `{from}` or `{}` is not an address", self.user);
        };
        let message = format!(
            "From: <{from}>\r\nTo: <{}>\r\nSubject: mailscope test message\r\n\r\nSent by mailscope to check SMTP submission.\r\n",
            self.user
        );
        match connection.send(&envelope, message.as_bytes()).await {
            Ok(response) => reply_line(&response),
            Err(error) if error.status().is_some() => error_reply(&error),
            // Exchange's SendAsDenied reply is one line of about 1,800 bytes; lettre reads at most
            // 1,000 (RFC 5321 §4.5.3.1.5 allows 512), so lettre never sees its code.
            Err(error) if error.to_string().ends_with("SMTP response line too long") => {
                "send failed: the reply is one line longer than lettre reads (1000 bytes; RFC 5321 allows 512), so its code is lost to lettre".to_owned()
            }
            Err(error) => format!("send failed: {error}"),
        }
    }
}

async fn step<T>(
    name: &'static str,
    future: impl Future<Output = Result<T, lettre::transport::smtp::Error>>,
) -> Result<T, SmtpProbeError> {
    match tokio::time::timeout(TIMEOUT, future).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(source)) => Err(SmtpProbeError::Smtp { step: name, source }),
        Err(_) => Err(SmtpProbeError::Timeout(name)),
    }
}

/// A command lettre sends as written.
struct RawCommand(String);

impl std::fmt::Display for RawCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}\r\n", self.0)
    }
}

/// `235 2.7.0 Authentication successful`: the reply as the server sent it (lines joined).
fn reply_line(response: &Response) -> String {
    let text = response.message().collect::<Vec<_>>().join(" ");
    format!("{} {text}", response.code())
}

/// lettre keeps a negative reply's code in `status()` and its text as the error's source.
fn error_reply(error: &lettre::transport::smtp::Error) -> String {
    let code = error.status().map(|code| code.to_string()).unwrap_or_default();
    let text = std::error::Error::source(error)
        .map(ToString::to_string)
        .unwrap_or_default();
    format!("{code} {text}").trim().to_owned()
}
