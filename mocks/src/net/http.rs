//! The HTTPS front of the identity platform: TLS, HTTP/1.1 framing with deadlines and a body
//! limit, then each request relayed to the wiremock server behind it over loopback.
//!
//! wiremock keeps every request a mock matched for as long as the mock lives; a long-running
//! `serve` would keep them all, bodies (and the secrets in them) included. So the upstream is
//! replaced by a fresh one with the same state every so many requests or bytes ([`Upstream`]),
//! and nothing a client sends outlives the request by much. The body limit is applied before
//! a byte of the body is read.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::ServerConfig;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;

use super::{Handshakes, Limits, accept_tls};

/// The largest request head taken (request line and headers); a larger one gets 431.
pub(crate) const MAX_HEAD: usize = 16 * 1024;
/// The most headers a request may have.
const MAX_HEADERS: usize = 64;
/// The largest upstream response relayed.
const MAX_RESPONSE: usize = 4 * 1024 * 1024;
/// How long the upstream may take to answer.
const UPSTREAM_DEADLINE: Duration = Duration::from_secs(30);

/// Where requests go: the current upstream's address, and a handle that keeps it alive until
/// the request is done.
pub(crate) trait Upstream: Send + Sync + 'static {
    /// Returns the address for a request of `body` bytes.
    fn next(&self, body: usize) -> (SocketAddr, Arc<dyn std::any::Any + Send + Sync>);
}

/// Serves HTTPS on `listener` until the task is aborted.
pub(crate) async fn serve_https(
    listener: TcpListener,
    config: Arc<ServerConfig>,
    limits: Limits,
    upstream: Arc<dyn Upstream>,
) {
    let acceptor = TlsAcceptor::from(config);
    let handshakes = Handshakes::new(limits.handshakes_in_flight);
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                // A request whose head and body arrive in two writes must not wait on Nagle's
                // algorithm and the peer's delayed ACK.
                let _ = stream.set_nodelay(true);
                let acceptor = acceptor.clone();
                let handshakes = handshakes.clone();
                let upstream = upstream.clone();
                connections.spawn(async move {
                    let served = async {
                        let tls = accept_tls(&acceptor, stream, &limits, &handshakes).await?;
                        serve_connection(tls, &limits, upstream.as_ref()).await
                    };
                    if let Err(error) = served.await {
                        tracing::debug!(%peer, %error, "HTTPS connection ended with an error");
                    }
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// One request, as framed.
struct Request {
    /// The head as the upstream gets it: hop-by-hop headers dropped, `Connection: close` added.
    head: Vec<u8>,
    body: Vec<u8>,
    /// The client asked for the connection to end after this request.
    close: bool,
}

/// Why a request was not relayed: the status to answer with, then the connection ends.
struct Refused(u16, &'static str);

/// Serves requests on one connection until the client closes, idles out, or breaks the framing.
async fn serve_connection<S>(mut stream: S, limits: &Limits, upstream: &dyn Upstream) -> std::io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut buffer = Vec::with_capacity(4096);
    loop {
        let request = match read_request(&mut stream, &mut buffer, limits).await? {
            Some(Ok(request)) => request,
            Some(Err(Refused(status, reason))) => {
                let body = format!("{reason}\n");
                let response = format!(
                    "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                stream.write_all(response.as_bytes()).await?;
                stream.flush().await?;
                let _ = stream.shutdown().await;
                return Ok(());
            }
            None => {
                let _ = stream.shutdown().await;
                return Ok(());
            }
        };
        let response = match relay(&request, upstream).await {
            Ok(response) => response,
            Err(error) => {
                tracing::debug!(%error, "the identity platform did not answer");
                b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()
            }
        };
        stream.write_all(&response).await?;
        stream.flush().await?;
        if request.close {
            let _ = stream.shutdown().await;
            return Ok(());
        }
    }
}

/// Reads one request: `None` when the client closed or idled out between requests.
async fn read_request<S>(
    stream: &mut S,
    buffer: &mut Vec<u8>,
    limits: &Limits,
) -> std::io::Result<Option<Result<Request, Refused>>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    // Between requests the keep-alive timeout applies; from a request's first byte, the request
    // deadline covers its head and its body.
    let mut deadline = None;
    let head_end = loop {
        if let Some(end) = find_head_end(buffer) {
            break end;
        }
        if buffer.len() > MAX_HEAD {
            return Ok(Some(Err(Refused(431, "Request Header Fields Too Large"))));
        }
        let wait = match deadline {
            None if buffer.is_empty() => limits.http_keep_alive,
            None => {
                deadline = Some(Instant::now() + limits.http_request);
                limits.http_request
            }
            Some(at) => at.saturating_duration_since(Instant::now()),
        };
        match read_some(stream, buffer, wait).await? {
            Some(0) if buffer.is_empty() => return Ok(None),
            Some(0) => return Ok(None),
            Some(_) if deadline.is_none() => deadline = Some(Instant::now() + limits.http_request),
            Some(_) => {}
            None if buffer.is_empty() => return Ok(None),
            None => return Ok(Some(Err(Refused(408, "Request Timeout")))),
        }
    };
    let deadline = deadline.unwrap_or_else(|| Instant::now() + limits.http_request);
    let head = super::take_front(buffer, head_end);
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut headers);
    match parsed.parse(&head) {
        Ok(httparse::Status::Complete(_)) => {}
        Err(httparse::Error::TooManyHeaders) => {
            return Ok(Some(Err(Refused(431, "Request Header Fields Too Large"))));
        }
        _ => return Ok(Some(Err(Refused(400, "Bad Request")))),
    }
    let (Some(method), Some(path), Some(version)) = (parsed.method, parsed.path, parsed.version) else {
        return Ok(Some(Err(Refused(400, "Bad Request"))));
    };
    let header = |name: &str| {
        parsed
            .headers
            .iter()
            .filter(|header| header.name.eq_ignore_ascii_case(name))
            .map(|header| String::from_utf8_lossy(header.value).trim().to_ascii_lowercase())
            .collect::<Vec<_>>()
    };
    let connection = header("connection").join(",");
    let close = connection.split(',').any(|token| token.trim() == "close")
        || (version == 0 && !connection.split(',').any(|token| token.trim() == "keep-alive"));
    let chunked = header("transfer-encoding")
        .iter()
        .any(|value| value.contains("chunked"));
    let lengths = header("content-length");
    let expects_continue = header("expect").iter().any(|value| value == "100-continue");

    let body = if chunked {
        if !lengths.is_empty() {
            return Ok(Some(Err(Refused(400, "Bad Request"))));
        }
        match read_chunked(stream, buffer, limits.http_body, deadline, expects_continue).await? {
            Ok(body) => body,
            Err(refused) => return Ok(Some(Err(refused))),
        }
    } else {
        let length = match lengths.as_slice() {
            [] => 0,
            [one] => match one.parse::<usize>() {
                Ok(length) => length,
                Err(_) => return Ok(Some(Err(Refused(400, "Bad Request")))),
            },
            _ => return Ok(Some(Err(Refused(400, "Bad Request")))),
        };
        if length > limits.http_body {
            return Ok(Some(Err(Refused(413, "Content Too Large"))));
        }
        if expects_continue && length > buffer.len() {
            continue_now(stream).await?;
        }
        while buffer.len() < length {
            let wait = deadline.saturating_duration_since(Instant::now());
            match read_some(stream, buffer, wait).await? {
                Some(0) => return Ok(None),
                Some(_) => {}
                None => return Ok(Some(Err(Refused(408, "Request Timeout")))),
            }
        }
        super::take_front(buffer, length)
    };

    let mut upstream_head = format!("{method} {path} HTTP/1.1\r\n").into_bytes();
    for header in parsed.headers.iter() {
        let hop_by_hop = [
            "connection",
            "keep-alive",
            "transfer-encoding",
            "content-length",
            "expect",
            "te",
            "upgrade",
            "proxy-connection",
        ]
        .iter()
        .any(|name| header.name.eq_ignore_ascii_case(name));
        if hop_by_hop {
            continue;
        }
        upstream_head.extend_from_slice(header.name.as_bytes());
        upstream_head.extend_from_slice(b": ");
        upstream_head.extend_from_slice(header.value);
        upstream_head.extend_from_slice(b"\r\n");
    }
    upstream_head
        .extend_from_slice(format!("Content-Length: {}\r\nConnection: close\r\n\r\n", body.len()).as_bytes());
    Ok(Some(Ok(Request {
        head: upstream_head,
        body,
        close,
    })))
}

/// Reads a chunked body (RFC 9112 §7.1) whole, refusing it once it passes `limit`.
async fn read_chunked<S>(
    stream: &mut S,
    buffer: &mut Vec<u8>,
    limit: usize,
    deadline: Instant,
    expects_continue: bool,
) -> std::io::Result<Result<Vec<u8>, Refused>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    if expects_continue {
        continue_now(stream).await?;
    }
    let mut body = Vec::new();
    loop {
        // Wait for the chunk-size line.
        let size = loop {
            match httparse::parse_chunk_size(buffer) {
                Ok(httparse::Status::Complete((used, size))) => {
                    buffer.drain(..used);
                    break size;
                }
                Ok(httparse::Status::Partial) if buffer.len() <= MAX_HEAD => {
                    let wait = deadline.saturating_duration_since(Instant::now());
                    match read_some(stream, buffer, wait).await? {
                        Some(0) => return Ok(Err(Refused(400, "Bad Request"))),
                        Some(_) => {}
                        None => return Ok(Err(Refused(408, "Request Timeout"))),
                    }
                }
                _ => return Ok(Err(Refused(400, "Bad Request"))),
            }
        };
        let Ok(size) = usize::try_from(size) else {
            return Ok(Err(Refused(413, "Content Too Large")));
        };
        if body.len().saturating_add(size) > limit {
            return Ok(Err(Refused(413, "Content Too Large")));
        }
        // The chunk, then its CRLF; the last chunk is followed by trailers and a blank line.
        let needed = if size == 0 { 2 } else { size + 2 };
        while buffer.len() < needed || (size == 0 && find_head_end_or_crlf(buffer).is_none()) {
            let wait = deadline.saturating_duration_since(Instant::now());
            match read_some(stream, buffer, wait).await? {
                Some(0) => return Ok(Err(Refused(400, "Bad Request"))),
                Some(_) => {}
                None => return Ok(Err(Refused(408, "Request Timeout"))),
            }
            if buffer.len() > limit.saturating_add(MAX_HEAD) {
                return Ok(Err(Refused(413, "Content Too Large")));
            }
        }
        if size == 0 {
            let end = find_head_end_or_crlf(buffer).unwrap_or(2);
            buffer.drain(..end);
            return Ok(Ok(body));
        }
        body.extend_from_slice(&buffer[..size]);
        if &buffer[size..size + 2] != b"\r\n" {
            return Ok(Err(Refused(400, "Bad Request")));
        }
        buffer.drain(..size + 2);
    }
}

/// The end of the trailer section after the last chunk: a bare CRLF, or trailers then CRLFCRLF.
fn find_head_end_or_crlf(buffer: &[u8]) -> Option<usize> {
    if buffer.starts_with(b"\r\n") {
        return Some(2);
    }
    find_head_end(buffer)
}

/// `100 Continue`: the client waits for it before sending the body (RFC 9110 §10.1.1).
async fn continue_now<S: AsyncWrite + Unpin>(stream: &mut S) -> std::io::Result<()> {
    stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
    stream.flush().await
}

/// Reads what is there into `buffer`; `None` when `wait` passed first.
async fn read_some<S: AsyncRead + Unpin>(
    stream: &mut S,
    buffer: &mut Vec<u8>,
    wait: Duration,
) -> std::io::Result<Option<usize>> {
    let mut chunk = [0u8; 16 * 1024];
    match tokio::time::timeout(wait, stream.read(&mut chunk)).await {
        Ok(read) => {
            let read = read?;
            buffer.extend_from_slice(&chunk[..read]);
            Ok(Some(read))
        }
        Err(_) => Ok(None),
    }
}

/// The length of the head including its blank line, once `buffer` holds it.
fn find_head_end(buffer: &[u8]) -> Option<usize> {
    buffer
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .map(|at| at + 4)
}

/// Sends `request` to the upstream and returns the response to relay, framed for the client.
async fn relay(request: &Request, upstream: &dyn Upstream) -> std::io::Result<Vec<u8>> {
    let (address, _alive) = upstream.next(request.body.len());
    let exchange = async {
        let mut connection = TcpStream::connect(address).await?;
        let _ = connection.set_nodelay(true);
        let mut out = Vec::with_capacity(request.head.len() + request.body.len());
        out.extend_from_slice(&request.head);
        out.extend_from_slice(&request.body);
        connection.write_all(&out).await?;
        let mut response = Vec::new();
        (&mut connection)
            .take(MAX_RESPONSE as u64)
            .read_to_end(&mut response)
            .await?;
        Ok::<_, std::io::Error>(response)
    };
    let response = tokio::time::timeout(UPSTREAM_DEADLINE, exchange)
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "upstream deadline"))??;
    let head_end = find_head_end(&response).ok_or_else(|| std::io::Error::other("no response head"))?;
    // The upstream was asked to close; the client's connection stays as the client wants it.
    let mut framed = Vec::with_capacity(response.len() + 32);
    let mut framed_length = false;
    for (index, line) in response[..head_end - 2].split(|byte| *byte == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let name = line.split(|byte| *byte == b':').next().unwrap_or_default();
        if index > 0 && (name.eq_ignore_ascii_case(b"connection") || name.eq_ignore_ascii_case(b"keep-alive"))
        {
            continue;
        }
        framed_length |=
            name.eq_ignore_ascii_case(b"content-length") || name.eq_ignore_ascii_case(b"transfer-encoding");
        framed.extend_from_slice(line);
        framed.extend_from_slice(b"\r\n");
    }
    if !framed_length {
        // An answer framed by the upstream's close gets a length, or keep-alive would hang.
        framed.extend_from_slice(format!("Content-Length: {}\r\n", response.len() - head_end).as_bytes());
    }
    if request.close {
        framed.extend_from_slice(b"Connection: close\r\n");
    }
    framed.extend_from_slice(b"\r\n");
    framed.extend_from_slice(&response[head_end..]);
    Ok(framed)
}
