//! `mailscope serve` under hostile load keeps its memory: four 50 MB POSTs to the token endpoint
//! and 200 MB of 8 KiB `ID` lines on one IMAP connection leave its resident set within 20 MB of where
//! it started once the connections are closed.

#![expect(clippy::unwrap_used, reason = "test helpers fail the test by panicking")]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use rustls::pki_types::pem::PemObject as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Serve {
    child: Child,
    endpoints: serde_json::Value,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Serve {
    async fn start() -> Self {
        let state_dir: PathBuf = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hardening");
        let _ = std::fs::remove_dir_all(&state_dir);
        let child = Command::new(env!("CARGO_BIN_EXE_mailscope"))
            .args(["serve", "--state-dir"])
            .arg(&state_dir)
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let file = state_dir.join("endpoints.json");
        let started = Instant::now();
        while !file.exists() {
            assert!(started.elapsed() < Duration::from_secs(20), "serve did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let endpoints = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
        Self { child, endpoints }
    }

    /// The server's resident set, in kilobytes.
    fn rss_kb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|value| value.trim().trim_end_matches(" kB").trim().parse().ok())
            .unwrap()
    }

    async fn tls(&self, address: &str) -> tokio_rustls::client::TlsStream<TcpStream> {
        let ca = std::fs::read(self.endpoints["ca_file"].as_str().unwrap()).unwrap();
        let mut roots = rustls::RootCertStore::empty();
        for certificate in rustls::pki_types::CertificateDer::pem_slice_iter(&ca) {
            roots.add(certificate.unwrap()).unwrap();
        }
        let config =
            rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(roots)
                .with_no_client_auth();
        let stream = TcpStream::connect(address).await.unwrap();
        tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(ServerName::try_from("localhost").unwrap(), stream)
            .await
            .unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_bodies_and_lines_leave_serves_memory_where_it_was() {
    let serve = Serve::start().await;
    let https = serve.endpoints["authority"]
        .as_str()
        .unwrap()
        .trim_start_matches("https://")
        .to_owned();
    let imap = serve.endpoints["imap"].as_str().unwrap().to_owned();
    // Warm up: one request and one IMAP connection, so buffers that stay are counted in the base.
    let mut warm = serve.tls(&https).await;
    warm.write_all(b"GET /discovery/v2.0/keys HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut sink = Vec::new();
    warm.read_to_end(&mut sink).await.unwrap();
    drop(serve.tls(&imap).await);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let base = serve.rss_kb();

    // Each phase has its own limit, so a hang names where it was, well before nextest's.
    let posts = async {
        for _ in 0..4 {
            let mut post = serve.tls(&https).await;
            post.write_all(b"POST /organizations/oauth2/v2.0/token HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 52428800\r\n\r\n")
            .await
            .unwrap();
            // The client sends its 50 MB regardless; the server has answered 413 and closes.
            let chunk = vec![b'a'; 1024 * 1024];
            for _ in 0..50 {
                if post.write_all(&chunk).await.is_err() {
                    break;
                }
            }
            let mut answer = Vec::new();
            let _ = post.read_to_end(&mut answer).await;
            assert!(
                answer.starts_with(b"HTTP/1.1 413"),
                "{}",
                String::from_utf8_lossy(&answer)
            );
        }
    };
    tokio::time::timeout(Duration::from_secs(25), posts)
        .await
        .expect("the four 50 MB POSTs were not all refused and closed within 25 s");

    let mut noop = serve.tls(&imap).await;
    let (mut reader, mut writer) = tokio::io::split(&mut noop);
    let drain = async {
        let mut buffer = vec![0u8; 64 * 1024];
        while let Ok(read) = reader.read(&mut buffer).await {
            if read == 0 {
                break;
            }
        }
    };
    let flood = async {
        // Well-formed lines: three malformed commands would end the connection (Exchange's rule).
        let mut line = b"a1 ID (\"name\" \"".to_vec();
        line.resize(8 * 1024 - 4, b'x');
        line.extend_from_slice(b"\")\r\n");
        let block: Vec<u8> = line.repeat(64);
        for _ in 0..(200 * 1024 * 1024 / block.len()) {
            writer.write_all(&block).await.unwrap();
        }
        writer.write_all(b"a2 LOGOUT\r\n").await.unwrap();
        // TLS may hold the last records back when the socket was full: without a flush, LOGOUT
        // can stay in the client and both sides wait for ever.
        writer.flush().await.unwrap();
    };
    tokio::time::timeout(Duration::from_secs(25), async { tokio::join!(drain, flood) })
        .await
        .expect("200 MB of ID lines and LOGOUT were not answered and closed within 25 s");
    drop(noop);
    tokio::time::sleep(Duration::from_millis(500)).await;

    let after = serve.rss_kb();
    assert!(
        after < base + 20 * 1024,
        "serve held {} KiB before and {after} KiB after",
        base
    );
}
