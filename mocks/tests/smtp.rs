//! The SMTP front door over real sockets: framing, STARTTLS, limits, and isolation between
//! connections.

#![expect(clippy::unwrap_used, reason = "test helpers fail the test by panicking")]

use std::time::Duration;

use mailscope_mocks::{Protocol, SimulatedCloud};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

async fn start() -> SimulatedCloud {
    SimulatedCloud::start().await.unwrap()
}

/// Reads one reply (all its lines) and returns its last line.
async fn reply<S: AsyncRead + Unpin>(reader: &mut BufReader<S>) -> String {
    loop {
        let mut line = String::new();
        let read = tokio::time::timeout(Duration::from_secs(5), reader.read_line(&mut line))
            .await
            .expect("the server answers within 5 s")
            .unwrap();
        assert!(read > 0, "the server closed the connection");
        if line.as_bytes().get(3) != Some(&b'-') {
            return line.trim_end().to_owned();
        }
    }
}

async fn send<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut BufReader<S>, bytes: &[u8]) {
    stream.get_mut().write_all(bytes).await.unwrap();
    // Over TLS, records the socket could not take yet stay in the client until flushed.
    stream.get_mut().flush().await.unwrap();
}

async fn starttls(
    cloud: &SimulatedCloud,
    stream: TcpStream,
) -> BufReader<tokio_rustls::client::TlsStream<TcpStream>> {
    let connector = tokio_rustls::TlsConnector::from(cloud.client_tls_config());
    let tls = connector
        .connect(ServerName::try_from("localhost").unwrap(), stream)
        .await
        .unwrap();
    BufReader::new(tls)
}

#[tokio::test]
async fn starttls_then_ehlo_advertises_xoauth2_and_discards_pipelined_plaintext() {
    let cloud = start().await;
    let mut plain = BufReader::new(TcpStream::connect(cloud.endpoints().smtp).await.unwrap());
    assert!(
        reply(&mut plain)
            .await
            .starts_with("220 SN7PR00CA0001.outlook.office365.com Microsoft ESMTP MAIL Service ready")
    );

    // A command injected after STARTTLS in the same packet must not be executed (CVE-2011-0411).
    send(&mut plain, b"EHLO client.test\r\nSTARTTLS\r\nNOOP\r\n").await;
    assert_eq!(reply(&mut plain).await, "250 SMTPUTF8");
    assert_eq!(reply(&mut plain).await, "220 2.0.0 SMTP server ready");

    let mut tls = starttls(&cloud, plain.into_inner()).await;
    send(&mut tls, b"EHLO client.test\r\n").await;
    assert_eq!(reply(&mut tls).await, "250 SMTPUTF8");
    send(&mut tls, b"QUIT\r\n").await;
    assert_eq!(
        reply(&mut tls).await,
        "221 2.0.0 Service closing transmission channel"
    );

    let transcript = cloud.journal(Protocol::Smtp).connections()[0]
        .transcript()
        .join("\n");
    assert!(!transcript.contains("C: NOOP"), "{transcript}");
    assert!(transcript.contains("S: 250-AUTH LOGIN XOAUTH2"), "{transcript}");
}

#[tokio::test]
async fn an_overlong_line_is_refused_and_the_session_goes_on() {
    let cloud = start().await;
    let mut client = BufReader::new(TcpStream::connect(cloud.endpoints().smtp).await.unwrap());
    reply(&mut client).await;

    let mut long_line = vec![b'A'; 200 * 1024];
    long_line.extend_from_slice(b"\r\nNOOP\r\n");
    send(&mut client, &long_line).await;

    assert_eq!(reply(&mut client).await, "500 5.5.2 Line too long");
    assert_eq!(reply(&mut client).await, "250 2.0.0 OK");
}

#[tokio::test]
async fn a_token_sized_line_of_16_kib_is_read_whole() {
    let cloud = start().await;
    let mut plain = BufReader::new(TcpStream::connect(cloud.endpoints().smtp).await.unwrap());
    reply(&mut plain).await;
    send(&mut plain, b"STARTTLS\r\n").await;
    reply(&mut plain).await;
    let mut tls = starttls(&cloud, plain.into_inner()).await;
    send(&mut tls, b"EHLO client.test\r\n").await;
    reply(&mut tls).await;

    let response =
        mailscope_mocks::sasl::encode_xoauth2("adele@contoso.onmicrosoft.com", &"e".repeat(16 * 1024));
    send(&mut tls, format!("AUTH XOAUTH2 {response}\r\n").as_bytes()).await;

    assert!(
        reply(&mut tls)
            .await
            .starts_with("535 5.7.3 Authentication unsuccessful [")
    );
}

#[tokio::test]
async fn garbage_gets_protocol_errors_and_other_connections_are_unaffected() {
    let cloud = start().await;
    let mut garbage = BufReader::new(TcpStream::connect(cloud.endpoints().smtp).await.unwrap());
    let mut healthy = BufReader::new(TcpStream::connect(cloud.endpoints().smtp).await.unwrap());
    reply(&mut garbage).await;
    reply(&mut healthy).await;

    send(&mut garbage, b"\xff\xfe\x00\x01binary\r\n\r\nMAIL\r\n").await;
    assert!(
        reply(&mut garbage)
            .await
            .starts_with("500 5.3.3 Unrecognized command")
    );
    assert!(
        reply(&mut garbage)
            .await
            .starts_with("500 5.3.3 Unrecognized command")
    );
    assert!(
        reply(&mut garbage)
            .await
            .starts_with("503 5.5.2 Send hello first")
    );
    drop(garbage);

    send(&mut healthy, b"EHLO client.test\r\n").await;
    assert_eq!(reply(&mut healthy).await, "250 SMTPUTF8");
}
