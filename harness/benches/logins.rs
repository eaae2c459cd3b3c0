//! `make bench`: what a client in another process measures.
//!
//! 1. Logins: an independent load client (this binary, re-run as a separate process) opens
//!    `CONCURRENCY` connections at a time to `mailscope serve`'s IMAPS front door, each a full TLS
//!    1.3 handshake (resumption off), the greeting, `AUTHENTICATE XOAUTH2` with a real token,
//!    `LOGOUT`, and waits for the server to close. The reference, in the same run and interleaved
//!    with it, is a bare rustls server (another process) that only completes the handshake, with a
//!    certificate of the same kind (ECDSA P-256) and mailscope's own TLS configuration. Server CPU
//!    per login is read from `/proc/<pid>/task/*/schedstat` before and after.
//! 2. The token endpoint over HTTPS, as a client library calls it (one keep-alive connection per
//!    worker, client credentials), next to the reference answering a fixed JSON body.
//! 3. Suites: 100, 1,000 and 10,000 generated cases, in one file and spread over files, run by
//!    `mailscope run --format json`: wall time and peak RSS (VmHWM), next to the same number of
//!    empty cases (no token, no probe: the harness's own cost).
//!
//! Nothing is asserted; the figures go to BENCHMARKS.md by hand, with the command.

#![expect(clippy::print_stdout, reason = "the measurements are the benchmark's output")]
#![expect(clippy::unwrap_used, reason = "a benchmark that cannot set up stops")]
#![expect(
    clippy::disallowed_methods,
    reason = "the orchestrator is synchronous: it polls files and child processes, no runtime to block"
)]

use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use rustls::pki_types::pem::PemObject as _;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

const CONCURRENCY: usize = 8;
const SECONDS: u64 = 5;
const ROUNDS: usize = 3;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("--reference") => reference(&args[2]),
        Some("--client") => client(&args[2..]),
        // `cargo bench` passes `--bench`: the orchestrator.
        _ => orchestrate(),
    }
}

/// A bare TLS server: `tls` completes the handshake and closes; `http` answers each request on a
/// keep-alive connection with a fixed JSON body. Prints `port ca_file`, then serves until killed.
fn reference(mode: &str) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let cloud = mailscope_mocks::SimulatedCloud::start().await.unwrap();
        let ca = std::env::temp_dir().join(format!("mailscope-bench-reference-{}.pem", std::process::id()));
        std::fs::write(&ca, cloud.ca_pem()).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("{} {}", listener.local_addr().unwrap().port(), ca.display());
        let acceptor = tokio_rustls::TlsAcceptor::from(cloud.server_tls_config());
        let http = mode == "http";
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                if !http {
                    let mut tls = tls;
                    let _ = tls.shutdown().await;
                    return;
                }
                let mut reader = BufReader::new(tls);
                let body = br#"{"token_type":"Bearer","expires_in":3599,"access_token":"reference"}"#;
                loop {
                    let Some(length) = read_head(&mut reader).await else {
                        return;
                    };
                    let mut request_body = vec![0u8; length];
                    if reader.read_exact(&mut request_body).await.is_err() {
                        return;
                    }
                    let response = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                        body.len()
                    );
                    let mut out = response.into_bytes();
                    out.extend_from_slice(body);
                    if reader.get_mut().write_all(&out).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
}

/// Reads an HTTP head; returns its Content-Length, or `None` at the end of the stream.
async fn read_head<S: tokio::io::AsyncRead + Unpin>(reader: &mut BufReader<S>) -> Option<usize> {
    let mut length = 0;
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = value.trim().parse().ok()?;
        }
        if line == "\r\n" {
            return Some(length);
        }
    }
}

/// The load client: `--client MODE PORT CA_FILE [SECRET_LINE]`; prints the completed count.
fn client(args: &[String]) {
    let mode = args[0].clone();
    let port: u16 = args[1].parse().unwrap();
    let ca = std::fs::read(&args[2]).unwrap();
    let payload: Arc<Vec<u8>> = Arc::new(
        args.get(3)
            .map(|line| line.clone().into_bytes())
            .unwrap_or_default(),
    );
    let mut roots = rustls::RootCertStore::empty();
    for certificate in rustls::pki_types::CertificateDer::pem_slice_iter(&ca) {
        roots.add(certificate.unwrap()).unwrap();
    }
    let mut config =
        rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
    // A full handshake every time: no session tickets, no resumption.
    config.resumption = rustls::client::Resumption::disabled();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let done = Arc::new(AtomicU64::new(0));
    runtime.block_on(async {
        let started = Instant::now();
        let deadline = Duration::from_secs(SECONDS);
        let mut workers = Vec::new();
        for _ in 0..CONCURRENCY {
            let connector = connector.clone();
            let payload = payload.clone();
            let done = done.clone();
            let mode = mode.clone();
            workers.push(tokio::spawn(async move {
                let name = ServerName::try_from("localhost").unwrap();
                if mode == "token" {
                    // One keep-alive connection per worker, as an HTTP client library keeps.
                    let stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
                    stream.set_nodelay(true).unwrap();
                    let mut reader = BufReader::new(connector.connect(name, stream).await.unwrap());
                    while started.elapsed() < deadline {
                        reader.get_mut().write_all(&payload).await.unwrap();
                        let length = read_head(&mut reader).await.unwrap();
                        let mut body = vec![0u8; length];
                        reader.read_exact(&mut body).await.unwrap();
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    return;
                }
                while started.elapsed() < deadline {
                    let stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
                    stream.set_nodelay(true).unwrap();
                    let mut tls = BufReader::new(connector.connect(name.clone(), stream).await.unwrap());
                    if mode == "imap" {
                        let mut line = String::new();
                        tls.read_line(&mut line).await.unwrap();
                        tls.get_mut().write_all(&payload).await.unwrap();
                        line.clear();
                        tls.read_line(&mut line).await.unwrap();
                        assert!(line.starts_with("a1 OK"), "{line}");
                        tls.get_mut().write_all(b"a2 LOGOUT\r\n").await.unwrap();
                    }
                    // Wait for the server's close.
                    let mut sink = Vec::new();
                    let _ = tls.read_to_end(&mut sink).await;
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
        for worker in workers {
            worker.await.unwrap();
        }
        println!(
            "{} {:.3}",
            done.load(Ordering::Relaxed),
            started.elapsed().as_secs_f64()
        );
    });
}

/// CPU time of every thread of `pid`, in nanoseconds.
fn cpu_ns(pid: u32) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("schedstat")).ok())
        .filter_map(|stat| stat.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

/// Runs the load client against `port` and returns (operations per second, server CPU ms per op).
fn load(mode: &str, port: u16, ca: &Path, payload: Option<&str>, server: u32) -> (f64, f64) {
    let before = cpu_ns(server);
    let mut command = Command::new(std::env::current_exe().unwrap());
    command.args(["--client", mode, &port.to_string(), ca.to_str().unwrap()]);
    if let Some(payload) = payload {
        command.arg(payload);
    }
    let output = command.output().unwrap();
    let after = cpu_ns(server);
    let text = String::from_utf8_lossy(&output.stdout);
    let mut fields = text.split_whitespace();
    let count: f64 = fields.next().unwrap().parse().unwrap();
    let seconds: f64 = fields.next().unwrap().parse().unwrap();
    (count / seconds, (after - before) as f64 / 1e6 / count.max(1.0))
}

/// Starts a child and reads its first stdout line.
fn start(mut command: Command) -> (Child, String) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    (child, line.trim().to_owned())
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn orchestrate() {
    let mailscope = PathBuf::from(env!("CARGO_BIN_EXE_mailscope"));
    let state = std::env::temp_dir().join(format!("mailscope-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&state);
    let serve = Command::new(&mailscope)
        .args(["serve", "--state-dir"])
        .arg(&state)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let serve = Killed(serve);
    while !state.join("endpoints.json").exists() {
        std::thread::sleep(Duration::from_millis(50));
    }
    let endpoints: serde_json::Value =
        serde_json::from_slice(&std::fs::read(state.join("endpoints.json")).unwrap()).unwrap();
    let port = |key: &str| -> u16 {
        endpoints[key]
            .as_str()
            .unwrap()
            .rsplit(':')
            .next()
            .unwrap()
            .trim_end_matches('/')
            .parse()
            .unwrap()
    };
    let ca = PathBuf::from(endpoints["ca_file"].as_str().unwrap());
    let token = Command::new(&mailscope)
        .args(["token", "--state-dir"])
        .arg(&state)
        .args(["--scope", "https://outlook.office.com/IMAP.AccessAsUser.All"])
        .output()
        .unwrap();
    let token = String::from_utf8(token.stdout).unwrap().trim().to_owned();
    let auth = format!(
        "a1 AUTHENTICATE XOAUTH2 {}\r\n",
        mailscope_mocks::sasl::encode_xoauth2(mailscope_mocks::directory::ADELE, &token)
    );
    let (tls_reference, tls_line) = start({
        let mut command = Command::new(std::env::current_exe().unwrap());
        command.args(["--reference", "tls"]);
        command
    });
    let tls_reference = Killed(tls_reference);
    let (http_reference, http_line) = start({
        let mut command = Command::new(std::env::current_exe().unwrap());
        command.args(["--reference", "http"]);
        command
    });
    let http_reference = Killed(http_reference);
    let split = |line: &str| -> (u16, PathBuf) {
        let (port, ca) = line.split_once(' ').unwrap();
        (port.parse().unwrap(), PathBuf::from(ca))
    };
    let (tls_port, tls_ca) = split(&tls_line);
    let (http_port, http_ca) = split(&http_line);

    println!(
        "logins: {CONCURRENCY} concurrent, {SECONDS} s a measurement, {ROUNDS} rounds interleaved, a separate client process"
    );
    println!(
        "| round | bare TLS handshakes/s | server CPU/handshake | mailscope IMAPS logins/s | ratio | server CPU/login |"
    );
    println!("|---|---|---|---|---|---|");
    for round in 1..=ROUNDS {
        let (reference, reference_cpu) = load("tls", tls_port, &tls_ca, None, tls_reference.0.id());
        let (logins, login_cpu) = load("imap", port("imap"), &ca, Some(&auth), serve.0.id());
        println!(
            "| {round} | {reference:.0} | {reference_cpu:.3} ms | {logins:.0} | {:.0}% | {login_cpu:.3} ms |",
            100.0 * logins / reference
        );
    }

    let body = format!(
        "client_id={}&client_secret={}&grant_type=client_credentials&scope=https%3A%2F%2Foutlook.office365.com%2F.default",
        endpoints["apps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|app| app["name"] == "mail-daemon")
            .unwrap()["client_id"]
            .as_str()
            .unwrap(),
        mailscope_mocks::directory::MAIL_DAEMON_SECRET.replace('~', "%7E"),
    );
    let request = format!(
        "POST /organizations/oauth2/v2.0/token HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    println!();
    println!("token endpoint over HTTPS: {CONCURRENCY} keep-alive connections, client credentials");
    println!("| round | reference (fixed JSON) requests/s | mailscope tokens/s | ratio | server CPU/token |");
    println!("|---|---|---|---|---|");
    for round in 1..=ROUNDS {
        let (reference, _) = load(
            "token",
            http_port,
            &http_ca,
            Some(&request),
            http_reference.0.id(),
        );
        let (tokens, token_cpu) = load("token", port("authority"), &ca, Some(&request), serve.0.id());
        println!(
            "| {round} | {reference:.0} | {tokens:.0} | {:.0}% | {token_cpu:.3} ms |",
            100.0 * tokens / reference
        );
    }
    drop((serve, tls_reference, http_reference));

    println!();
    println!(
        "suites: `mailscope run --format json`, cases of SMTP and IMAP probes, next to as many empty cases"
    );
    println!("| cases | layout | wall | peak RSS | empty cases: wall | empty cases: peak RSS |");
    println!("|---|---|---|---|---|---|");
    for cases in [100, 1_000, 10_000] {
        for files in [1, 10] {
            let full = suite(&state, cases, files, true);
            let empty = suite(&state, cases, files, false);
            let layout = if files == 1 {
                "one file".to_owned()
            } else {
                format!("{files} files")
            };
            println!(
                "| {cases} | {layout} | {:.2} s | {} MiB | {:.2} s | {} MiB |",
                full.0,
                full.1 / 1024,
                empty.0,
                empty.1 / 1024
            );
        }
    }
    let _ = std::fs::remove_dir_all(&state);
}

/// Generates `cases` cases over `files` files and runs them; returns (wall seconds, peak RSS KiB).
fn suite(state: &Path, cases: usize, files: usize, full: bool) -> (f64, u64) {
    let directory = state.join(format!("suite-{cases}-{files}-{full}"));
    let _ = std::fs::remove_dir_all(&directory);
    std::fs::create_dir_all(&directory).unwrap();
    for file in 0..files {
        let mut text = String::from("title = \"generated\"\nsource = \"make bench\"\n\n[defaults]\n");
        if full {
            text.push_str("probes = [\"smtp\", \"imap\"]\nscopes = [\"https://outlook.office.com/SMTP.Send\", \"https://outlook.office.com/IMAP.AccessAsUser.All\"]\n");
        } else {
            text.push_str("flow = \"none\"\n");
        }
        for case in 0..cases / files {
            text.push_str(&format!("\n[[case]]\nname = \"c{case}\"\n"));
        }
        std::fs::write(directory.join(format!("s{file}.toml")), text).unwrap();
    }
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mailscope"))
        .args(["run", "--format", "json"])
        .arg(&directory)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut peak = 0;
    loop {
        if let Ok(status) = std::fs::read_to_string(format!("/proc/{}/status", child.id())) {
            let hwm = status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|value| value.trim().trim_end_matches(" kB").trim().parse().ok())
                .unwrap_or(0);
            peak = peak.max(hwm);
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    (started.elapsed().as_secs_f64(), peak)
}
