//! Load benchmark: IMAPS and SMTP STARTTLS `XOAUTH2` logins per second against the mocks, side by side
//! with a reference server that only completes a TLS handshake with the same certificate and
//! configuration (DESIGN.md, "Performance targets").
//!
//! Run with `make bench` (release build). Prints one line per measurement; nothing is asserted.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mailscope_mocks::SimulatedCloud;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

const CLIENTS: usize = 8;
const DURATION: Duration = Duration::from_secs(5);

async fn read_reply<S: AsyncRead + Unpin>(reader: &mut BufReader<S>, line: &mut String) -> String {
    loop {
        line.clear();
        reader.read_line(line).await.expect("the server answers");
        if line.as_bytes().get(3) != Some(&b'-') {
            return line.clone();
        }
    }
}

async fn smtp_login(address: SocketAddr, tls: &tokio_rustls::TlsConnector, auth_line: &[u8]) {
    let mut line = String::with_capacity(256);
    let mut plain = BufReader::new(TcpStream::connect(address).await.expect("connect"));
    read_reply(&mut plain, &mut line).await;
    plain
        .get_mut()
        .write_all(b"EHLO bench.test\r\n")
        .await
        .expect("write");
    read_reply(&mut plain, &mut line).await;
    plain.get_mut().write_all(b"STARTTLS\r\n").await.expect("write");
    read_reply(&mut plain, &mut line).await;
    let server_name = ServerName::try_from("localhost").expect("valid name");
    let stream = tls.connect(server_name, plain.into_inner()).await.expect("TLS");
    let mut secure = BufReader::new(stream);
    secure
        .get_mut()
        .write_all(b"EHLO bench.test\r\n")
        .await
        .expect("write");
    read_reply(&mut secure, &mut line).await;
    secure.get_mut().write_all(auth_line).await.expect("write");
    let reply = read_reply(&mut secure, &mut line).await;
    assert!(reply.starts_with("235 "), "{reply}");
    secure.get_mut().write_all(b"QUIT\r\n").await.expect("write");
    read_reply(&mut secure, &mut line).await;
}

async fn imap_login(address: SocketAddr, tls: &tokio_rustls::TlsConnector, auth_line: &[u8]) {
    let mut line = String::with_capacity(256);
    let stream = TcpStream::connect(address).await.expect("connect");
    let server_name = ServerName::try_from("localhost").expect("valid name");
    let mut secure = BufReader::new(tls.connect(server_name, stream).await.expect("TLS"));
    read_reply(&mut secure, &mut line).await;
    secure.get_mut().write_all(auth_line).await.expect("write");
    line.clear();
    secure.read_line(&mut line).await.expect("the server answers");
    assert!(line.starts_with("a1 OK"), "{line}");
    secure.get_mut().write_all(b"a2 LOGOUT\r\n").await.expect("write");
    while secure.read_line(&mut line).await.unwrap_or(0) > 0 {}
}

async fn tls_handshake(address: SocketAddr, tls: &tokio_rustls::TlsConnector) {
    let stream = TcpStream::connect(address).await.expect("connect");
    let server_name = ServerName::try_from("localhost").expect("valid name");
    let mut secure = tls.connect(server_name, stream).await.expect("TLS");
    let _ = secure.shutdown().await;
}

/// Runs `CLIENTS` loops of `attempt` for `DURATION`; returns completed attempts per second.
async fn measure<F, Fut>(attempt: F) -> f64
where
    F: Fn() -> Fut + Send + Sync + Clone + 'static,
    Fut: Future<Output = ()> + Send,
{
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let attempt = attempt.clone();
        let done = done.clone();
        clients.push(tokio::spawn(async move {
            while started.elapsed() < DURATION {
                attempt().await;
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for client in clients {
        client.await.expect("a client panicked");
    }
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

async fn reference_server(cloud: &SimulatedCloud) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("bound");
    let acceptor = tokio_rustls::TlsAcceptor::from(cloud.server_tls_config());
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(stream).await {
                    let _ = tls.shutdown().await;
                }
            });
        }
    });
    address
}

#[tokio::main]
#[expect(clippy::print_stdout, reason = "the measurements are the benchmark's output")]
async fn main() {
    let cloud = SimulatedCloud::start().await.expect("the cloud starts");
    let connector = tokio_rustls::TlsConnector::from(cloud.client_tls_config());
    let token = cloud
        .issue_token("https://outlook.office.com/SMTP.Send")
        .expect("a token for SMTP");
    let auth_line: Arc<[u8]> = format!(
        "AUTH XOAUTH2 {}\r\n",
        mailscope_mocks::sasl::encode_xoauth2(mailscope_mocks::directory::ADELE, &token)
    )
    .into_bytes()
    .into();

    let reference = reference_server(&cloud).await;
    let handshake_connector = connector.clone();
    let handshakes = measure(move || {
        let connector = handshake_connector.clone();
        async move { tls_handshake(reference, &connector).await }
    })
    .await;

    let imap = cloud.endpoints().imap;
    let imap_connector = connector.clone();
    let imap_token = cloud
        .issue_token("https://outlook.office.com/IMAP.AccessAsUser.All")
        .expect("a token for IMAP");
    let imap_line: Arc<[u8]> = format!(
        "a1 AUTHENTICATE XOAUTH2 {}\r\n",
        mailscope_mocks::sasl::encode_xoauth2(mailscope_mocks::directory::ADELE, &imap_token)
    )
    .into_bytes()
    .into();
    let imap_logins = measure(move || {
        let connector = imap_connector.clone();
        let imap_line = imap_line.clone();
        async move { imap_login(imap, &connector, &imap_line).await }
    })
    .await;

    let smtp = cloud.endpoints().smtp;
    let logins = measure(move || {
        let connector = connector.clone();
        let auth_line = auth_line.clone();
        async move { smtp_login(smtp, &connector, &auth_line).await }
    })
    .await;

    println!(
        "clients: {CLIENTS}, {} s each, token {} bytes",
        DURATION.as_secs(),
        token.len()
    );
    println!("reference TLS handshakes (ECDSA P-256, same config): {handshakes:.0}/s");
    println!(
        "mock IMAPS AUTHENTICATE XOAUTH2 (SASL-IR) + LOGOUT:   {imap_logins:.0}/s ({:.0}% of the TLS floor)",
        100.0 * imap_logins / handshakes
    );
    println!(
        "mock SMTP STARTTLS + AUTH XOAUTH2 + QUIT logins:      {logins:.0}/s ({:.0}% of the TLS floor)",
        100.0 * logins / handshakes
    );
}
