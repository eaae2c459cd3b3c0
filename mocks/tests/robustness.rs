//! No input panics a front door or disturbs other connections, and every server refuses lines
//! over its limit with its protocol's error. Inputs are deterministic pseudo-random bytes.

#![expect(clippy::unwrap_used, reason = "test helpers fail the test by panicking")]

use std::time::Duration;

use mailscope_mocks::SimulatedCloud;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

async fn tls(
    cloud: &SimulatedCloud,
    address: std::net::SocketAddr,
) -> BufReader<tokio_rustls::client::TlsStream<TcpStream>> {
    let stream = TcpStream::connect(address).await.unwrap();
    let connector = tokio_rustls::TlsConnector::from(cloud.client_tls_config());
    BufReader::new(
        connector
            .connect(ServerName::try_from("localhost").unwrap(), stream)
            .await
            .unwrap(),
    )
}

async fn line<S: AsyncRead + Unpin>(reader: &mut BufReader<S>) -> Option<String> {
    let mut line = String::new();
    let read = tokio::time::timeout(Duration::from_secs(5), reader.read_line(&mut line))
        .await
        .expect("the server answers within 5 s")
        .ok()?;
    (read > 0).then(|| line.trim_end().to_owned())
}

async fn send<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut BufReader<S>, bytes: &[u8]) {
    let _ = stream.get_mut().write_all(bytes).await;
    // Over TLS, records the socket could not take yet stay in the client until flushed.
    let _ = stream.get_mut().flush().await;
}

/// A small deterministic generator (xorshift) for garbage.
fn garbage(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state & 0xff) as u8
        })
        .collect()
}

#[tokio::test]
async fn garbage_never_stops_a_front_door() {
    let cloud = SimulatedCloud::start().await.unwrap();
    for seed in 0..8u64 {
        let mut imap = tls(&cloud, cloud.endpoints().imap).await;
        let mut pop3 = tls(&cloud, cloud.endpoints().pop3).await;
        let mut smtp = BufReader::new(TcpStream::connect(cloud.endpoints().smtp).await.unwrap());
        line(&mut imap).await;
        line(&mut pop3).await;
        line(&mut smtp).await;
        let mut bytes = garbage(seed, 4096);
        bytes.extend_from_slice(b"\r\n");
        send(&mut imap, &bytes).await;
        send(&mut pop3, &bytes).await;
        send(&mut smtp, &bytes).await;
    }

    let mut imap = tls(&cloud, cloud.endpoints().imap).await;
    assert!(
        line(&mut imap)
            .await
            .unwrap()
            .starts_with("* OK The Microsoft Exchange IMAP4 service is ready.")
    );
    send(&mut imap, b"a1 CAPABILITY\r\n").await;
    assert!(
        line(&mut imap)
            .await
            .unwrap()
            .starts_with("* CAPABILITY IMAP4 IMAP4rev1")
    );
    assert_eq!(line(&mut imap).await.unwrap(), "a1 OK CAPABILITY completed.");

    let mut pop3 = tls(&cloud, cloud.endpoints().pop3).await;
    assert!(
        line(&mut pop3)
            .await
            .unwrap()
            .starts_with("+OK The Microsoft Exchange POP3 service is ready.")
    );
}

#[tokio::test]
async fn overlong_lines_get_each_protocols_error() {
    let cloud = SimulatedCloud::start().await.unwrap();
    let long_line = [vec![b'x'; 100 * 1024], b"\r\n".to_vec()].concat();

    let mut imap = tls(&cloud, cloud.endpoints().imap).await;
    line(&mut imap).await;
    send(&mut imap, &long_line).await;
    assert_eq!(line(&mut imap).await.unwrap(), "* BAD Line too long.");
    send(&mut imap, b"a2 NOOP\r\n").await;
    assert_eq!(
        line(&mut imap).await.unwrap(),
        "a2 OK NOOP completed.",
        "IMAP keeps serving"
    );

    // fidelity: long-token-protocol-error: POP answers a protocol error and closes.
    let mut pop3 = tls(&cloud, cloud.endpoints().pop3).await;
    line(&mut pop3).await;
    send(&mut pop3, &long_line).await;
    assert_eq!(
        line(&mut pop3).await.unwrap(),
        "-ERR Protocol error. Connection is closed. 10"
    );
    assert_eq!(line(&mut pop3).await, None);
    let mut fresh = tls(&cloud, cloud.endpoints().pop3).await;
    assert!(
        line(&mut fresh).await.unwrap().starts_with("+OK"),
        "POP keeps serving others"
    );
}
