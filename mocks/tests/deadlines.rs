//! Every connection ends, and none grows the server's memory: TLS handshake deadlines on every
//! listener, the oldest half-open handshake dropped for a new client, and the HTTPS front's
//! keep-alive timeout, request deadline and body limit. Short limits keep the tests fast.

#![expect(clippy::unwrap_used, reason = "test helpers fail the test by panicking")]

use std::time::{Duration, Instant};

use mailscope_mocks::{HttpsFront, Limits, Listeners, SimulatedCloud};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

const SHORT: Duration = Duration::from_millis(600);

fn limits() -> Limits {
    Limits {
        tls_handshake: SHORT,
        handshakes_in_flight: 8,
        http_keep_alive: SHORT,
        http_request: SHORT,
        http_body: 64 * 1024,
        ..Limits::default()
    }
}

async fn start() -> (SimulatedCloud, HttpsFront) {
    start_with(limits()).await
}

async fn start_with(limits: Limits) -> (SimulatedCloud, HttpsFront) {
    let bind = || TcpListener::bind("127.0.0.1:0");
    let listeners = Listeners {
        smtp: bind().await.unwrap(),
        imap: bind().await.unwrap(),
        pop3: bind().await.unwrap(),
        limits,
    };
    let cloud = SimulatedCloud::start_on(Default::default(), Default::default(), listeners)
        .await
        .unwrap();
    let https = HttpsFront::start(bind().await.unwrap(), &cloud).unwrap();
    (cloud, https)
}

/// Waits for the server to close `stream`, and returns how long that took.
async fn closed_after(stream: &mut TcpStream) -> Duration {
    let started = Instant::now();
    let mut sink = [0u8; 1024];
    loop {
        match tokio::time::timeout(Duration::from_secs(10), stream.read(&mut sink)).await {
            Ok(Ok(0) | Err(_)) => return started.elapsed(),
            Ok(Ok(_)) => {}
            Err(_) => panic!("the server kept the connection open for 10 s"),
        }
    }
}

#[tokio::test]
async fn a_half_open_tls_connection_is_closed_at_the_handshake_deadline_on_every_listener() {
    let (cloud, https) = start().await;
    let endpoints = cloud.endpoints();
    for address in [endpoints.imap, endpoints.pop3, https.address()] {
        let mut silent = TcpStream::connect(address).await.unwrap();
        let took = closed_after(&mut silent).await;
        assert!(took >= SHORT / 2 && took < SHORT * 4, "{address}: {took:?}");
    }
    // SMTP: STARTTLS answered, and then no ClientHello.
    let mut smtp = BufReader::new(TcpStream::connect(endpoints.smtp).await.unwrap());
    let mut line = String::new();
    smtp.read_line(&mut line).await.unwrap();
    smtp.get_mut().write_all(b"EHLO test\r\n").await.unwrap();
    loop {
        line.clear();
        smtp.read_line(&mut line).await.unwrap();
        if line.starts_with("250 ") {
            break;
        }
    }
    smtp.get_mut().write_all(b"STARTTLS\r\n").await.unwrap();
    line.clear();
    smtp.read_line(&mut line).await.unwrap();
    assert!(line.starts_with("220 2.0.0"), "{line}");
    let took = closed_after(smtp.get_mut()).await;
    assert!(took < SHORT * 4, "after STARTTLS: {took:?}");
}

#[tokio::test]
async fn a_flood_of_half_open_and_idle_connections_cannot_lock_a_client_out() {
    // A deadline far away: what ends the flood's connections here is the cap.
    let (cloud, _https) = start_with(Limits {
        tls_handshake: Duration::from_secs(60),
        handshakes_in_flight: 8,
        ..Limits::default()
    })
    .await;
    let imap = cloud.endpoints().imap;
    let mut flood = Vec::new();
    for _ in 0..200 {
        flood.push(TcpStream::connect(imap).await.unwrap());
    }
    // The oldest half-open handshakes were dropped for the newer ones, long before any deadline.
    let took = closed_after(&mut flood[0]).await;
    assert!(took < Duration::from_secs(5), "{took:?}");
    let connector = tokio_rustls::TlsConnector::from(cloud.client_tls_config());
    // And hundreds of idle sessions, greeted and silent.
    let mut idle = Vec::new();
    for _ in 0..200 {
        let stream = TcpStream::connect(imap).await.unwrap();
        let tls = connector
            .connect(ServerName::try_from("localhost").unwrap(), stream)
            .await
            .unwrap();
        idle.push(tls);
    }
    let token = cloud
        .issue_token("https://outlook.office.com/IMAP.AccessAsUser.All")
        .unwrap();
    let login = format!(
        "a1 AUTHENTICATE XOAUTH2 {}\r\n",
        mailscope_mocks::sasl::encode_xoauth2("adele@contoso.onmicrosoft.com", &token)
    );
    for _ in 0..10 {
        let stream = TcpStream::connect(imap).await.unwrap();
        let tls = tokio::time::timeout(
            Duration::from_secs(5),
            connector.connect(ServerName::try_from("localhost").unwrap(), stream),
        )
        .await
        .expect("the handshake is served at once")
        .unwrap();
        let mut reader = BufReader::new(tls);
        let mut greeting = String::new();
        reader.read_line(&mut greeting).await.unwrap();
        assert!(greeting.starts_with("* OK"), "{greeting}");
        reader.get_mut().write_all(login.as_bytes()).await.unwrap();
        let mut reply = String::new();
        reader.read_line(&mut reply).await.unwrap();
        assert_eq!(reply, "a1 OK AUTHENTICATE completed.\r\n");
    }
    drop(flood);
    drop(idle);
}

/// Opens a TLS connection to the HTTPS front.
async fn https_connection(
    cloud: &SimulatedCloud,
    https: &HttpsFront,
) -> tokio_rustls::client::TlsStream<TcpStream> {
    let connector = tokio_rustls::TlsConnector::from(cloud.client_tls_config());
    let stream = TcpStream::connect(https.address()).await.unwrap();
    connector
        .connect(ServerName::try_from("localhost").unwrap(), stream)
        .await
        .unwrap()
}

/// Reads one response head and its Content-Length body.
async fn response<S: tokio::io::AsyncRead + Unpin>(reader: &mut BufReader<S>) -> (String, String) {
    let mut head = String::new();
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).await.unwrap();
        if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = value.trim().parse().unwrap();
        }
        let end = line == "\r\n";
        head.push_str(&line);
        if end {
            break;
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).await.unwrap();
    (head, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn https_keeps_a_connection_alive_between_requests_and_closes_it_when_idle() {
    let (cloud, https) = start().await;
    let mut stream = BufReader::new(https_connection(&cloud, &https).await);
    for _ in 0..2 {
        stream
            .get_mut()
            .write_all(b"GET /discovery/v2.0/keys HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .await
            .unwrap();
        let (head, body) = response(&mut stream).await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert!(!head.to_ascii_lowercase().contains("connection: close"), "{head}");
        assert!(body.contains("\"keys\""), "{body}");
    }
    let started = Instant::now();
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut rest))
        .await
        .expect("an idle keep-alive connection is closed");
    assert!(read.is_ok() || started.elapsed() < SHORT * 4);
    assert!(started.elapsed() < SHORT * 4, "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_before_it_is_read_and_a_slow_request_times_out() {
    let (cloud, https) = start().await;
    let mut stream = BufReader::new(https_connection(&cloud, &https).await);
    stream
        .get_mut()
        .write_all(
            b"POST /organizations/oauth2/v2.0/token HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 52428800\r\n\r\n",
        )
        .await
        .unwrap();
    let (head, _) = response(&mut stream).await;
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");

    // A head that never ends.
    let mut slow = BufReader::new(https_connection(&cloud, &https).await);
    slow.get_mut()
        .write_all(b"GET /discovery/v2.0/keys HTTP/1.1\r\nHost: loc")
        .await
        .unwrap();
    let (head, _) = response(&mut slow).await;
    assert!(head.starts_with("HTTP/1.1 408"), "{head}");

    // Expect: 100-continue gets its interim answer, then the real one.
    let mut polite = BufReader::new(https_connection(&cloud, &https).await);
    polite
        .get_mut()
        .write_all(b"POST /organizations/oauth2/v2.0/token HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 20\r\nExpect: 100-continue\r\n\r\n")
        .await
        .unwrap();
    let mut interim = String::new();
    polite.read_line(&mut interim).await.unwrap();
    assert_eq!(interim, "HTTP/1.1 100 Continue\r\n");
    let mut blank = String::new();
    polite.read_line(&mut blank).await.unwrap();
    polite.get_mut().write_all(b"grant_type=password_").await.unwrap();
    let (head, body) = response(&mut polite).await;
    assert!(head.starts_with("HTTP/1.1 400"), "{head}");
    assert!(body.contains("AADSTS"), "{body}");

    // Chunked bodies are framed too.
    let mut chunked = BufReader::new(https_connection(&cloud, &https).await);
    chunked
        .get_mut()
        .write_all(b"POST /organizations/oauth2/v2.0/token HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n5\r\ngrant\r\n5\r\n_type\r\n0\r\n\r\n")
        .await
        .unwrap();
    let (head, body) = response(&mut chunked).await;
    assert!(head.starts_with("HTTP/1.1 400"), "{head}");
    assert!(body.contains("AADSTS"), "{body}");
}

#[tokio::test]
async fn the_front_keeps_answering_across_upstream_generations() {
    let (cloud, https) = start_with(Limits::default()).await;
    let mut stream = BufReader::new(https_connection(&cloud, &https).await);
    // Past two replacements of the wiremock server behind the front (every 500 requests).
    for n in 0..1_100 {
        stream
            .get_mut()
            .write_all(
                b"GET /common/v2.0/.well-known/openid-configuration HTTP/1.1\r\nHost: localhost\r\n\r\n",
            )
            .await
            .unwrap();
        let (head, body) = response(&mut stream).await;
        assert!(head.starts_with("HTTP/1.1 200"), "request {n}: {head}");
        assert!(body.contains("token_endpoint"), "request {n}: {body}");
    }
}
