//! The one tokio driver: the accept loop, TLS and STARTTLS with a handshake deadline, CRLF line
//! framing with a length limit, the transcript, and executing a session's actions; and the HTTPS
//! front of the identity platform ([`http`]). The only code that touches sockets.
//!
//! Sessions are sans-IO state machines ([`Session`]): a line in, actions out.

pub(crate) mod http;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

use rustls::ServerConfig;
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::decision::Decision;
use crate::journal::{ConnectionLog, Journal, Observation};

/// Longest client line accepted, CRLF excluded. RFC 4954 §4 asks for at least 12,288 octets on
/// AUTH lines, and Entra tokens passed 4,096 characters in 2025 (fidelity: long-token-protocol-error).
pub(crate) const MAX_LINE_LEN: usize = 64 * 1024;

/// How long a connection may take, and how much it may send, before the front doors give up on
/// it: every connection ends, and none can grow the server's memory without bound.
///
/// The defaults are those of Microsoft's own web server, Kestrel, where it has one, and of the
/// RFCs and nginx elsewhere, each named on its field.
///
/// ```
/// let limits = mailscope_mocks::Limits::default();
/// assert_eq!(limits.tls_handshake, std::time::Duration::from_secs(10));
/// assert_eq!(limits.http_body, 1024 * 1024);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// A TLS handshake (implicit, after STARTTLS, or HTTPS) not finished in this long is dropped
    /// (Kestrel's `HttpsConnectionAdapterOptions.HandshakeTimeout`: 10 seconds).
    pub tls_handshake: Duration,
    /// Connections of one listener in their TLS handshake at once; past this, the oldest is
    /// dropped for the newest, so a flood of half-open connections cannot lock a client out.
    pub handshakes_in_flight: usize,
    /// A mail client silent this long is disconnected ([RFC 5321 §4.5.3.2.7]: five minutes).
    /// SMTP always, IMAP and POP3 before authentication.
    ///
    /// [RFC 5321 §4.5.3.2.7]: https://www.rfc-editor.org/rfc/rfc5321#section-4.5.3.2.7
    pub mail_idle: Duration,
    /// An IMAP or POP3 client silent this long after authenticating is disconnected, IMAP's with
    /// `* BYE` (Exchange's `AuthenticatedConnectionTimeout` of `Set-ImapSettings` and
    /// `Set-PopSettings`: 30 minutes; RFC 9051 §5.4 asks for at least 30, RFC 1939 §3 for 10).
    pub authenticated_idle: Duration,
    /// The most octets of mail the mailboxes hold together; past it, SMTP and APPEND are
    /// refused until something is deleted.
    pub mail_store: u64,
    /// An HTTPS connection with no request in progress is closed after this long (Kestrel's
    /// `KeepAliveTimeout`: 130 seconds).
    pub http_keep_alive: Duration,
    /// A request's head and body must arrive within this long of its first byte (Kestrel's
    /// `RequestHeadersTimeout`: 30 seconds).
    pub http_request: Duration,
    /// The largest request body taken; a larger one is refused with 413 before it is read
    /// (nginx's `client_max_body_size` default: 1 MiB; token requests are a few kilobytes).
    pub http_body: usize,
    /// The `interval` a device-code client is told to poll at (Entra's 5 seconds). Not a limit,
    /// but a wait: a test of a client's device-code flow against `serve` may shorten it.
    pub device_code_interval: Duration,
    /// How long a device code may wait for the user (Entra's 900 seconds). A test of what a
    /// client does with a code nobody enters may shorten it.
    pub device_code_lifetime: Duration,
    /// Not a limit but a test of a client's retries: the first this many `AUTH` commands on SMTP
    /// get Exchange's transient `451 4.7.0 Temporary server error. Please try again later. PRX4`
    /// (default 0).
    pub transient_smtp_auth: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            tls_handshake: Duration::from_secs(10),
            handshakes_in_flight: 128,
            mail_idle: Duration::from_secs(300),
            authenticated_idle: Duration::from_secs(30 * 60),
            mail_store: 1024 * 1024 * 1024,
            http_keep_alive: Duration::from_secs(130),
            http_request: Duration::from_secs(30),
            http_body: 1024 * 1024,
            device_code_interval: Duration::from_secs(5),
            device_code_lifetime: Duration::from_secs(900),
            transient_smtp_auth: 0,
        }
    }
}

/// The connections of one listener still in their TLS handshake. Past the limit the oldest is
/// told to give up, so that whoever connects now is served: a legitimate client finishes its
/// handshake in milliseconds, a flood's half-open connections never do.
#[derive(Debug)]
pub(crate) struct Handshakes {
    limit: usize,
    waiting: Mutex<Waiting>,
}

/// The next ticket number, and the handshakes in progress, oldest first.
#[derive(Debug, Default)]
struct Waiting {
    next: u64,
    tickets: VecDeque<(u64, Arc<Notify>)>,
}

impl Handshakes {
    pub(crate) fn new(limit: usize) -> Arc<Self> {
        Arc::new(Self {
            limit: limit.max(1),
            waiting: Mutex::new(Waiting::default()),
        })
    }

    /// Registers a handshake; the ticket's `evicted` fires if a newer one pushes it out.
    fn enter(self: &Arc<Self>) -> HandshakeTicket {
        let evicted = Arc::new(Notify::new());
        let mut waiting = self
            .waiting
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let id = waiting.next;
        waiting.next += 1;
        if waiting.tickets.len() >= self.limit
            && let Some((_, oldest)) = waiting.tickets.pop_front()
        {
            oldest.notify_one();
        }
        waiting.tickets.push_back((id, evicted.clone()));
        HandshakeTicket {
            id,
            evicted,
            handshakes: self.clone(),
        }
    }
}

struct HandshakeTicket {
    id: u64,
    evicted: Arc<Notify>,
    handshakes: Arc<Handshakes>,
}

impl Drop for HandshakeTicket {
    fn drop(&mut self) {
        let mut waiting = self
            .handshakes
            .waiting
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        waiting.tickets.retain(|(id, _)| *id != self.id);
    }
}

/// Accepts TLS on `stream` within the handshake deadline, unless a newer handshake evicts it.
pub(crate) async fn accept_tls<S>(
    acceptor: &TlsAcceptor,
    stream: S,
    limits: &Limits,
    handshakes: &Arc<Handshakes>,
) -> std::io::Result<TlsStream<S>>
where
    S: tokio::io::AsyncRead + AsyncWrite + Unpin,
{
    let ticket = handshakes.enter();
    tokio::select! {
        accepted = tokio::time::timeout(limits.tls_handshake, acceptor.accept(stream)) => {
            accepted.map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "TLS handshake deadline"))?
        }
        () = ticket.evicted.notified() => {
            Err(std::io::Error::other("TLS handshake dropped for a newer connection"))
        }
    }
}

/// What the driver knows about a new connection.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnectionInfo {
    /// The client's address.
    pub peer: SocketAddr,
}

/// The protocol half of one connection. Implementations never do I/O.
pub(crate) trait Session: Send + 'static {
    /// Returns what is sent as soon as the client connects.
    fn greeting(&mut self) -> Vec<Action>;
    /// Handles one client line, without its CRLF.
    fn on_line(&mut self, line: &[u8]) -> Vec<Action>;
    /// Handles a line longer than [`MAX_LINE_LEN`]; the driver discards it up to its end.
    fn on_line_too_long(&mut self) -> Vec<Action>;
    /// Returns how a client line appears in the transcript: SASL payloads are hidden here.
    fn describe_client_line(&self, line: &[u8]) -> String {
        lossy(line).into_owned()
    }
    /// Handles the end of a wait the session asked for with [`Action::Deadline`].
    fn on_deadline(&mut self) -> Vec<Action> {
        vec![Action::Close]
    }
    /// Handles the octets asked for with [`Action::ReadExact`] (an IMAP literal, an SMTP BDAT
    /// chunk): exactly that many, CR and LF included.
    fn on_bytes(&mut self, _bytes: Vec<u8>) -> Vec<Action> {
        Vec::new()
    }
    /// Handles a change to what the session watches ([`Action::Watch`]).
    fn on_change(&mut self) -> Vec<Action> {
        Vec::new()
    }
    /// Says goodbye to a client idle for too long; the connection closes after these actions.
    fn on_idle_timeout(&mut self) -> Vec<Action> {
        Vec::new()
    }
}

/// A receiver of change notifications, handed to the driver by [`Action::Watch`]. Two watchers
/// compare equal: what a session watches is not part of its answer.
#[derive(Debug, Clone)]
pub(crate) struct Watcher(pub(crate) tokio::sync::watch::Receiver<u64>);

impl PartialEq for Watcher {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}

impl Eq for Watcher {}

/// What the driver must do next, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
    /// Send these lines, each followed by CRLF.
    Reply(Vec<String>),
    /// Start TLS now, after the reply before it was sent ([RFC 3207](https://www.rfc-editor.org/rfc/rfc3207)).
    StartTls,
    /// Record an observation.
    Observe(Observation),
    /// Wait at most this long for the client's next line, then call [`Session::on_deadline`]
    /// (some clients never answer an error challenge).
    Deadline(Duration),
    /// Send these octets as they are (a reply carrying a literal); the transcript shows
    /// `summary` instead.
    Bytes {
        /// What is sent.
        bytes: Vec<u8>,
        /// The transcript's line for it.
        summary: String,
    },
    /// Read exactly this many octets next and hand them to [`Session::on_bytes`].
    ReadExact(usize),
    /// Read this many octets next and drop them as they come (a literal too large to keep),
    /// then call [`Session::on_bytes`] with nothing.
    Skip(usize),
    /// Call [`Session::on_change`] whenever this receiver changes, until [`Action::Unwatch`].
    Watch(Watcher),
    /// Stop watching.
    Unwatch,
    /// From now on, a client silent this long is disconnected (after [`Session::on_idle_timeout`]).
    IdleTimeout(Duration),
    /// Close the connection.
    Close,
}

impl Action {
    /// A one-line reply.
    pub(crate) fn reply(line: impl Into<String>) -> Self {
        Self::Reply(vec![line.into()])
    }

    /// Records a decision.
    pub(crate) fn decided(decision: Decision) -> Self {
        Self::Observe(Observation::Decided(decision))
    }
}

/// How a listener speaks TLS.
#[derive(Debug, Clone)]
pub(crate) enum TlsMode {
    /// TLS from the first byte (IMAPS, POP3S).
    Implicit(Arc<ServerConfig>),
    /// Plain text until the session asks for STARTTLS (SMTP submission).
    StartTls(Arc<ServerConfig>),
}

/// Accepts connections on `listener` until the returned task is dropped or aborted, running a
/// fresh session from `make_session` on each.
pub(crate) async fn serve<S, F>(
    protocol: &'static str,
    listener: TcpListener,
    tls: TlsMode,
    limits: Limits,
    journal: Journal,
    make_session: F,
) where
    S: Session,
    F: Fn(ConnectionInfo) -> S + Send + Sync + 'static,
{
    let handshakes = Handshakes::new(limits.handshakes_in_flight);
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else {
                    // Out of file descriptors or a reset before accept: keep serving the others.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                // Replies are written whole; there is nothing for Nagle's algorithm to coalesce.
                let _ = stream.set_nodelay(true);
                let session = make_session(ConnectionInfo { peer });
                let log = journal.open_connection();
                let tls = tls.clone();
                let handshakes = handshakes.clone();
                let span = tracing::info_span!("connection", protocol, %peer);
                connections.spawn(tracing::Instrument::instrument(async move {
                    if let Err(error) = drive(stream, session, tls, limits, handshakes, log).await {
                        tracing::debug!(%error, "connection ended with an I/O error");
                    }
                }, span));
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// How much a connection reads at a time.
const READ_ROOM: usize = 16 * 1024;

enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    Upgrading,
}

impl Stream {
    /// Reads what is there into `buffer`'s spare room. Room is reserved, not written: an idle
    /// connection's pages stay untouched until a client sends that much.
    async fn read(&mut self, buffer: &mut Vec<u8>) -> std::io::Result<usize> {
        if buffer.is_empty() && buffer.capacity() > READ_ROOM * 4 {
            // A large literal has passed: give its room back.
            *buffer = Vec::with_capacity(READ_ROOM);
        }
        if buffer.capacity() - buffer.len() < READ_ROOM / 4 {
            buffer.reserve(READ_ROOM);
        }
        match self {
            Self::Plain(stream) => stream.read_buf(buffer).await,
            Self::Tls(stream) => stream.read_buf(buffer).await,
            Self::Upgrading => Ok(0),
        }
    }

    async fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Self::Plain(stream) => write_and_flush(stream, bytes).await,
            Self::Tls(stream) => write_and_flush(stream.as_mut(), bytes).await,
            Self::Upgrading => Ok(()),
        }
    }

    async fn start_tls(
        &mut self,
        config: Arc<ServerConfig>,
        limits: &Limits,
        handshakes: &Arc<Handshakes>,
    ) -> std::io::Result<()> {
        let Self::Plain(plain) = std::mem::replace(self, Self::Upgrading) else {
            return Err(std::io::Error::other("TLS is already on"));
        };
        // The handshake's state (a whole TLS connection) lives on the heap while it runs, not in
        // every connection's future for its whole life: an idle session is smaller by it.
        let tls = Box::pin(accept_tls(&TlsAcceptor::from(config), plain, limits, handshakes)).await?;
        *self = Self::Tls(Box::new(tls));
        Ok(())
    }

    async fn shutdown(&mut self) {
        let _ = match self {
            Self::Plain(stream) => stream.shutdown().await,
            Self::Tls(stream) => stream.shutdown().await,
            Self::Upgrading => Ok(()),
        };
    }
}

async fn write_and_flush<W: AsyncWrite + Unpin>(writer: &mut W, bytes: &[u8]) -> std::io::Result<()> {
    writer.write_all(bytes).await?;
    writer.flush().await
}

/// One connection's I/O state: the stream, what was read but not yet framed, and the wait the
/// session asked for.
struct Connection {
    stream: Stream,
    log: ConnectionLog,
    buffer: Vec<u8>,
    starttls_config: Option<Arc<ServerConfig>>,
    deadline: Option<Duration>,
    limits: Limits,
    handshakes: Arc<Handshakes>,
    /// Octets the session asked for, not yet read.
    read_exact: Option<usize>,
    /// Octets still to drop.
    skip: Option<usize>,
    /// What the session watches.
    watcher: Option<tokio::sync::watch::Receiver<u64>>,
    /// How long the client may be silent.
    idle: Duration,
}

impl Connection {
    /// Executes `actions`; returns true when the connection must close (it is then shut down).
    async fn apply(&mut self, actions: Vec<Action>) -> std::io::Result<bool> {
        // All replies to one client line go out in one write: two small writes in a row would
        // wait on Nagle's algorithm and the peer's delayed ACK (about 40 ms).
        let mut pending: Vec<u8> = Vec::new();
        for action in actions {
            match action {
                Action::Reply(lines) => {
                    for mut line in lines {
                        // No reply line may end early: a CR or LF a client smuggled into an echoed
                        // word would let it forge the next reply (response splitting).
                        if line.contains(['\r', '\n']) {
                            line = line.replace(['\r', '\n'], " ");
                        }
                        pending.extend_from_slice(line.as_bytes());
                        pending.extend_from_slice(b"\r\n");
                        tracing::trace!("S: {line}");
                        self.log.line(format!("S: {line}"));
                    }
                }
                Action::StartTls => {
                    let Some(config) = self.starttls_config.clone() else {
                        continue;
                    };
                    self.stream.write_all(&std::mem::take(&mut pending)).await?;
                    // Anything the client pipelined after STARTTLS was sent in clear text and must
                    // not be read as if it came through TLS (RFC 3207 §4.2, CVE-2011-0411).
                    self.buffer.clear();
                    self.stream
                        .start_tls(config, &self.limits, &self.handshakes)
                        .await?;
                    self.log.line("-- TLS started".to_owned());
                    self.log.observe(Observation::TlsStarted);
                }
                Action::Observe(observation) => {
                    if let Observation::Decided(decision) = &observation {
                        tracing::info!(rule = decision.rule.id, "{}", decision.outcome);
                    }
                    self.log.observe(observation);
                }
                Action::Deadline(wait) => self.deadline = Some(wait),
                Action::Bytes { bytes, summary } => {
                    pending.extend_from_slice(&bytes);
                    tracing::trace!("S: {summary}");
                    self.log.line(format!("S: {summary}"));
                }
                Action::ReadExact(count) => self.read_exact = Some(count),
                Action::Skip(count) => {
                    self.log.line(format!("C: <{count} octets, dropped>"));
                    self.skip = Some(count);
                }
                Action::Watch(Watcher(mut receiver)) => {
                    receiver.mark_unchanged();
                    self.watcher = Some(receiver);
                }
                Action::Unwatch => self.watcher = None,
                Action::IdleTimeout(idle) => self.idle = idle,
                Action::Close => {
                    if !pending.is_empty() {
                        self.stream.write_all(&pending).await?;
                    }
                    self.stream.shutdown().await;
                    return Ok(true);
                }
            }
        }
        if !pending.is_empty() {
            self.stream.write_all(&pending).await?;
        }
        Ok(false)
    }
}

/// `bytes` as text, invalid UTF-8 replaced; valid text (nearly every line) is borrowed after one
/// check at memory speed.
pub(crate) fn lossy(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// Takes the first `count` octets of `buffer` (a copy and a move, never a walk octet by octet).
pub(crate) fn take_front(buffer: &mut Vec<u8>, count: usize) -> Vec<u8> {
    let front = buffer[..count].to_vec();
    buffer.drain(..count);
    front
}

/// Runs `session` over `stream` until the session closes, the peer hangs up, or it idles out.
async fn drive<S: Session>(
    stream: TcpStream,
    mut session: S,
    tls: TlsMode,
    limits: Limits,
    handshakes: Arc<Handshakes>,
    log: ConnectionLog,
) -> std::io::Result<()> {
    let mut stream = Stream::Plain(stream);
    if let TlsMode::Implicit(config) = &tls {
        if let Err(error) = stream.start_tls(config.clone(), &limits, &handshakes).await {
            log.line(format!("-- TLS handshake failed: {error}"));
            return Err(error);
        }
        log.observe(Observation::TlsStarted);
    }
    let mut connection = Connection {
        stream,
        log,
        buffer: Vec::with_capacity(1024),
        starttls_config: match &tls {
            TlsMode::StartTls(config) => Some(config.clone()),
            TlsMode::Implicit(_) => None,
        },
        deadline: None,
        idle: limits.mail_idle,
        limits,
        handshakes,
        read_exact: None,
        skip: None,
        watcher: None,
    };
    let mut discarding = false;
    if connection.apply(session.greeting()).await? {
        return Ok(());
    }
    loop {
        loop {
            if let Some(remaining) = connection.skip {
                let dropped = remaining.min(connection.buffer.len());
                connection.buffer.drain(..dropped);
                if dropped < remaining {
                    connection.skip = Some(remaining - dropped);
                    break;
                }
                connection.skip = None;
                if connection.apply(session.on_bytes(Vec::new())).await? {
                    return Ok(());
                }
                continue;
            }
            if let Some(count) = connection.read_exact {
                if connection.buffer.len() < count {
                    break;
                }
                connection.read_exact = None;
                let bytes = take_front(&mut connection.buffer, count);
                connection.log.line(format!("C: <{count} octets>"));
                connection.deadline = None;
                if connection.apply(session.on_bytes(bytes)).await? {
                    return Ok(());
                }
                continue;
            }
            let Some(newline) = memchr::memchr(b'\n', &connection.buffer) else {
                break;
            };
            let mut line = take_front(&mut connection.buffer, newline + 1);
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            if std::mem::take(&mut discarding) {
                // The tail of an overlong line whose reply was already sent.
                continue;
            }
            if line.len() > MAX_LINE_LEN {
                // It came whole in one read, but it is as overlong as one that did not.
                connection
                    .log
                    .line(format!("C: <line longer than {MAX_LINE_LEN} octets>"));
                if connection.apply(session.on_line_too_long()).await? {
                    return Ok(());
                }
                continue;
            }
            // Described as the transcript shows it: SASL payloads and passwords are hidden.
            let described = session.describe_client_line(&line);
            tracing::trace!("C: {described}");
            connection.log.line(format!("C: {described}"));
            connection.deadline = None;
            if connection.apply(session.on_line(&line)).await? {
                return Ok(());
            }
        }
        if connection.read_exact.is_none()
            && connection.skip.is_none()
            && connection.buffer.len() > MAX_LINE_LEN
        {
            connection.buffer.clear();
            if !discarding {
                discarding = true;
                connection
                    .log
                    .line(format!("C: <line longer than {MAX_LINE_LEN} octets>"));
                if connection.apply(session.on_line_too_long()).await? {
                    return Ok(());
                }
            }
        }
        let wait = connection.deadline.unwrap_or(connection.idle);
        let read = tokio::select! {
            read = tokio::time::timeout(wait, connection.stream.read(&mut connection.buffer)) => read,
            changed = async {
                match connection.watcher.as_mut() {
                    Some(watcher) => watcher.changed().await,
                    None => std::future::pending().await,
                }
            } => {
                if changed.is_err() {
                    connection.watcher = None;
                } else if connection.apply(session.on_change()).await? {
                    return Ok(());
                }
                continue;
            }
        };
        let read = match read {
            Ok(read) => read?,
            Err(_elapsed) if connection.deadline.take().is_some() => {
                connection
                    .log
                    .line("-- the client did not answer in time".to_owned());
                if connection.apply(session.on_deadline()).await? {
                    return Ok(());
                }
                continue;
            }
            Err(_elapsed) => {
                connection.log.line("-- idle timeout".to_owned());
                let mut goodbye = session.on_idle_timeout();
                goodbye.push(Action::Close);
                connection.apply(goodbye).await?;
                return Ok(());
            }
        };
        if read == 0 {
            connection.log.line("-- client closed the connection".to_owned());
            return Ok(());
        }
    }
}
