//! The TLS client configuration of the IMAP and POP3 probes: Mozilla's roots plus any extra
//! trust roots (the simulated cloud's CA). Certificate checks are never switched off.

use std::sync::Arc;

use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::ServerAddress;

/// Connects to `server` and completes a TLS handshake, within `timeout`.
pub async fn connect(
    server: &ServerAddress,
    timeout: std::time::Duration,
) -> std::io::Result<TlsStream<TcpStream>> {
    let mut roots = rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for der in &server.extra_roots {
        roots
            .add(rustls::pki_types::CertificateDer::from(der.clone()))
            .map_err(std::io::Error::other)?;
    }
    let config =
        rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(std::io::Error::other)?
            .with_root_certificates(roots)
            .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from(server.host.clone()).map_err(std::io::Error::other)?;
    let connecting = async {
        let tcp = TcpStream::connect((server.host.as_str(), server.port)).await?;
        // async-imap writes a command in more than one piece; with Nagle's algorithm the last
        // piece waits for the server's delayed ACK, 40 ms a command (BENCHMARKS.md).
        tcp.set_nodelay(true)?;
        TlsConnector::from(Arc::new(config)).connect(name, tcp).await
    };
    tokio::time::timeout(timeout, connecting)
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "TLS connection timed out"))?
}
