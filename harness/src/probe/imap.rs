//! The IMAP probe: async-imap over implicit TLS. It reads the greeting first (async-imap waits forever otherwise),
//! authenticates with SASL-IR or after the `+` continuation, and then, as careful clients do, selects
//! the inbox, so that "authenticated but not connected" (rule `imap-not-connected`) is seen
//! as the failure it is. Passwords go by `LOGIN` (async-imap quotes them) or `AUTHENTICATE PLAIN`.

use std::time::Duration;

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::{ProbeReport, ServerAddress, tls};
use crate::scenario::types::{Mechanism, ProbeResult};
use crate::secret::Secret;

/// Every network step of a probe finishes within this.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// What the IMAP probe does.
#[derive(Debug, Clone)]
pub struct ImapProbe {
    /// The server.
    pub server: ServerAddress,
    /// XOAUTH2's `user=`, or the login name of a password.
    pub user: String,
    /// The SASL mechanism.
    pub mechanism: Mechanism,
    /// SASL-IR (the response on the AUTHENTICATE line) rather than after `+`.
    pub initial_response: bool,
}

/// Errors of the probe itself (the server refusing is a [`ProbeReport`], not an error).
#[derive(Debug, thiserror::Error)]
pub enum ImapProbeError {
    /// Connecting or TLS failed.
    #[error("IMAP connection: {0}")]
    Connect(#[source] std::io::Error),
    /// The IMAP dialogue broke.
    #[error("IMAP {step}: {message}")]
    Dialogue {
        /// The step.
        step: &'static str,
        /// What happened.
        message: String,
    },
}

/// A stream that keeps a copy of everything read, so the probe can report the server's reply
/// line as it arrived (async-imap does not expose the text of a tagged `OK`).
struct Tap<S> {
    inner: S,
    received: Arc<Mutex<Vec<u8>>>,
}

impl<S> std::fmt::Debug for Tap<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tap")
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Tap<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let poll = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = &poll
            && let Ok(mut received) = this.received.lock()
        {
            received.extend_from_slice(&buf.filled()[before..]);
        }
        poll
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tap<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, data)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// The last tagged reply received, without its tag: `OK AUTHENTICATE completed.`
fn last_tagged_reply(received: &Mutex<Vec<u8>>) -> Option<String> {
    let received = received.lock().ok()?;
    let text = String::from_utf8_lossy(&received);
    text.lines()
        .rev()
        .map(|line| line.trim_end_matches('\r'))
        .find(|line| !line.starts_with('*') && !line.starts_with('+') && !line.is_empty())
        .and_then(|line| line.split_once(' ').map(|(_tag, rest)| rest.to_owned()))
}

/// Answers the server's `+`: the SASL response the first time (unless it went inline), then an
/// empty response to any error challenge (RFC 7628 §3.2.3).
struct Responder {
    response: Option<Vec<u8>>,
}

impl async_imap::Authenticator for Responder {
    type Response = Vec<u8>;
    fn process(&mut self, _challenge: &[u8]) -> Vec<u8> {
        self.response.take().unwrap_or_default()
    }
}

impl ImapProbe {
    /// Connects, authenticates with `secret` (a token, or for `login` and `plain` a password),
    /// tries one mailbox command, and logs out.
    pub async fn run(&self, secret: &Secret) -> Result<ProbeReport, ImapProbeError> {
        let stream = tls::connect(&self.server, TIMEOUT)
            .await
            .map_err(ImapProbeError::Connect)?;
        let received = Arc::new(Mutex::new(Vec::new()));
        let mut client = async_imap::Client::new(Tap {
            inner: stream,
            received: received.clone(),
        });
        // Read the greeting first, or authenticate() waits forever.
        timed("greeting", client.read_response())
            .await?
            .map_err(|error| dialogue("greeting", error.to_string()))?;

        let (name, encoded) = match self.mechanism {
            Mechanism::Xoauth2 => (
                "XOAUTH2",
                mailscope_mocks::sasl::encode_xoauth2(&self.user, secret.secret()),
            ),
            Mechanism::Oauthbearer => (
                "OAUTHBEARER",
                mailscope_mocks::sasl::encode_oauthbearer(&self.user, secret.secret()),
            ),
            Mechanism::Plain => ("PLAIN", super::encode_plain(&self.user, secret)),
            Mechanism::Login => ("LOGIN", String::new()),
        };
        let (step, authenticated) = if self.mechanism == Mechanism::Login {
            (
                "LOGIN",
                timed("LOGIN", client.login(&self.user, secret.secret())).await?,
            )
        } else {
            // SASL-IR: async-imap sends the auth type as given, so the response rides along.
            let (auth_type, responder) = if self.initial_response {
                (format!("{name} {encoded}"), Responder { response: None })
            } else {
                let raw = mailscope_mocks::sasl::decode_base64(encoded.as_bytes()).unwrap_or_default();
                (name.to_owned(), Responder { response: Some(raw) })
            };
            let authenticated = timed("AUTHENTICATE", client.authenticate(auth_type, responder)).await?;
            ("AUTHENTICATE", authenticated)
        };
        let reply = last_tagged_reply(&received);
        let mut session = match authenticated {
            Ok(session) => session,
            Err((async_imap::error::Error::No(_) | async_imap::error::Error::Bad(_), _client)) => {
                return Ok(ProbeReport {
                    result: ProbeResult::Rejected,
                    reply,
                    send_reply: None,
                });
            }
            Err((error, _client)) => return Err(dialogue(step, error.to_string())),
        };
        // One mailbox command: Exchange may say OK and then refuse everything
        // (fidelity: imap-authenticated-not-connected). SELECT rather than NAMESPACE, because
        // imap-proto 0.17 cannot parse `* NAMESPACE (("" "/")) NIL NIL`.
        let select = timed("SELECT", session.select("INBOX")).await?.map(|_mailbox| ());
        let report = match select {
            Ok(()) => ProbeReport {
                result: ProbeResult::Authenticated,
                reply,
                send_reply: None,
            },
            Err(async_imap::error::Error::No(_) | async_imap::error::Error::Bad(_)) => ProbeReport {
                result: ProbeResult::Rejected,
                reply: last_tagged_reply(&received),
                send_reply: None,
            },
            Err(error) => return Err(dialogue("SELECT", error.to_string())),
        };
        let _ = tokio::time::timeout(TIMEOUT, session.logout()).await;
        Ok(report)
    }
}

async fn timed<T>(step: &'static str, future: impl Future<Output = T>) -> Result<T, ImapProbeError> {
    tokio::time::timeout(TIMEOUT, future)
        .await
        .map_err(|_| dialogue(step, format!("no answer within {TIMEOUT:?}")))
}

fn dialogue(step: &'static str, message: String) -> ImapProbeError {
    ImapProbeError::Dialogue { step, message }
}
