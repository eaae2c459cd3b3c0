//! Real third-party clients against `mailscope serve`: curl, Python's imaplib and smtplib, and
//! msmtp. Each must succeed with an Exchange token and meet
//! Exchange's exact failure with a Graph token. `.ci/run` installs the clients.
//!
//! How each frames XOAUTH2: curl sends IMAP's initial response inline
//! (SASL-IR is advertised) and SMTP's after `334`; imaplib always waits for `+`; smtplib sends it
//! inline; msmtp sends XOAUTH2 after `334`. Tokens are ~1.5 KB lines.

#![expect(clippy::unwrap_used, reason = "test helpers fail the test by panicking")]

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::serve::{Serve, USER, client, text};

const IMAP_SCOPE: &str = "https://outlook.office.com/IMAP.AccessAsUser.All";
const SMTP_SCOPE: &str = "https://outlook.office.com/SMTP.Send";

#[test]
fn curl_imap_and_smtp() {
    let serve = Serve::start("curl");
    let imap_url = format!("imaps://localhost:{}/", serve.port("imap"));
    let ca = serve.ca_file();
    let imap = |token: &str| {
        client(
            "curl",
            &[
                "-sS",
                "-v",
                "--url",
                &imap_url,
                "--cacert",
                &ca,
                "--user",
                USER,
                "--oauth2-bearer",
                token,
            ],
            None,
        )
    };

    let good = imap(&serve.token(IMAP_SCOPE));
    assert_eq!(good.status.code(), Some(0), "{}", text(&good));
    assert!(String::from_utf8_lossy(&good.stdout).contains("INBOX"));

    let graph = imap(&serve.token("IMAP.AccessAsUser.All"));
    assert_eq!(graph.status.code(), Some(67), "{}", text(&graph));
    assert!(
        text(&graph).contains("NO AUTHENTICATE failed."),
        "{}",
        text(&graph)
    );

    let smtp_url = format!("smtp://localhost:{}/client.example", serve.port("smtp"));
    let smtp = |token: &str| {
        client(
            "curl",
            &[
                "-sS",
                "-v",
                "--url",
                &smtp_url,
                "--ssl-reqd",
                "--cacert",
                &ca,
                "--user",
                USER,
                "--oauth2-bearer",
                token,
                "--mail-from",
                USER,
                "--mail-rcpt",
                USER,
                "--upload-file",
                "-",
            ],
            Some("Subject: interop\r\n\r\nfrom curl\r\n"),
        )
    };
    let sent = smtp(&serve.token(SMTP_SCOPE));
    assert_eq!(sent.status.code(), Some(0), "{}", text(&sent));
    assert!(
        text(&sent).contains("235 2.7.0 Authentication successful"),
        "{}",
        text(&sent)
    );

    let refused = smtp(&serve.token("SMTP.Send"));
    assert_eq!(refused.status.code(), Some(67), "{}", text(&refused));
    assert!(
        text(&refused).contains("535 5.7.3 Authentication unsuccessful"),
        "{}",
        text(&refused)
    );
}

const PYTHON_IMAP: &str = r#"
import imaplib, ssl, sys
port, ca, user, token = sys.argv[1:5]
context = ssl.create_default_context(cafile=ca)
imap = imaplib.IMAP4_SSL("localhost", int(port), ssl_context=context)
try:
    typ, data = imap.authenticate("XOAUTH2", lambda _: f"user={user}\x01auth=Bearer {token}\x01\x01".encode())
    print(typ, data[0].decode())
    typ, data = imap.select("INBOX")
    print("SELECT", typ, data)
    imap.logout()
except imaplib.IMAP4.error as error:
    print("ERROR", error)
    sys.exit(1)
"#;

const PYTHON_SMTP: &str = r#"
import base64, smtplib, ssl, sys
port, ca, user, token = sys.argv[1:5]
context = ssl.create_default_context(cafile=ca)
smtp = smtplib.SMTP("localhost", int(port))
smtp.starttls(context=context)
smtp.ehlo()
try:
    code, message = smtp.auth("XOAUTH2", lambda challenge=None: f"user={user}\x01auth=Bearer {token}\x01\x01")
    print(code, message.decode())
    smtp.quit()
except smtplib.SMTPAuthenticationError as error:
    print("ERROR", error.smtp_code, error.smtp_error.decode())
    sys.exit(1)
"#;

#[test]
fn python_imaplib_and_smtplib() {
    let serve = Serve::start("python");
    let ca = serve.ca_file();
    let imap_port = serve.port("imap");
    let imap = |token: &str| {
        client(
            "python3",
            &["-c", PYTHON_IMAP, &imap_port, &ca, USER, token],
            None,
        )
    };

    let good = imap(&serve.token(IMAP_SCOPE));
    assert!(good.status.success(), "{}", text(&good));
    assert!(
        text(&good).starts_with("OK AUTHENTICATE completed."),
        "{}",
        text(&good)
    );

    let graph = imap(&serve.token("IMAP.AccessAsUser.All"));
    assert_eq!(graph.status.code(), Some(1), "{}", text(&graph));
    assert!(
        text(&graph).contains("ERROR AUTHENTICATE failed."),
        "{}",
        text(&graph)
    );

    let smtp_port = serve.port("smtp");
    let smtp = |token: &str| {
        client(
            "python3",
            &["-c", PYTHON_SMTP, &smtp_port, &ca, USER, token],
            None,
        )
    };

    let good = smtp(&serve.token(SMTP_SCOPE));
    assert!(good.status.success(), "{}", text(&good));
    assert!(
        text(&good).starts_with("235 2.7.0 Authentication successful"),
        "{}",
        text(&good)
    );

    let graph = smtp(&serve.token("https://graph.microsoft.com/SMTP.Send"));
    assert_eq!(graph.status.code(), Some(1), "{}", text(&graph));
    assert!(
        text(&graph).contains("ERROR 535 5.7.3 Authentication unsuccessful ["),
        "{}",
        text(&graph)
    );
}

#[test]
fn msmtp_sends_with_an_outlook_token_and_fails_with_a_graph_token() {
    let serve = Serve::start("msmtp");
    let ca = serve.ca_file();
    let port = serve.port("smtp");
    let send = |token: &str| {
        let token_file = serve.state_dir.join("token");
        std::fs::write(&token_file, token).unwrap();
        let passwordeval = format!("--passwordeval=cat {}", token_file.display());
        client(
            "msmtp",
            &[
                "--host=localhost",
                &format!("--port={port}"),
                "--tls=on",
                "--tls-starttls=on",
                &format!("--tls-trust-file={ca}"),
                "--auth=xoauth2",
                &format!("--user={USER}"),
                &passwordeval,
                &format!("--from={USER}"),
                "--",
                USER,
            ],
            Some("Subject: interop\r\n\r\nfrom msmtp\r\n"),
        )
    };

    let sent = send(&serve.token(SMTP_SCOPE));
    assert!(sent.status.success(), "{}", text(&sent));

    let refused = send(&serve.token("SMTP.Send"));
    assert_eq!(refused.status.code(), Some(77), "{}", text(&refused));
    assert!(
        text(&refused).contains("535 5.7.3 Authentication unsuccessful"),
        "{}",
        text(&refused)
    );
}

/// msmtp with the user's password (`AUTH LOGIN`) and with a token, on a serve whose tenant is at
/// `stage` of Basic SMTP AUTH's retirement; returns (password outcome, token outcome).
fn msmtp_password_then_token(stage: &str) -> (Output, Output) {
    let serve = Serve::start_with(
        &format!("msmtp-basic-{stage}"),
        Some(&format!("[tenant]\nsmtp_basic_auth = \"{stage}\"\n")),
    );
    let ca = serve.ca_file();
    let port = serve.port("smtp");
    let send = |auth: &str, secret: &str| {
        let secret_file = serve.state_dir.join("secret");
        std::fs::write(&secret_file, secret).unwrap();
        client(
            "msmtp",
            &[
                "--host=localhost",
                &format!("--port={port}"),
                "--tls=on",
                "--tls-starttls=on",
                &format!("--tls-trust-file={ca}"),
                &format!("--auth={auth}"),
                &format!("--user={USER}"),
                &format!("--passwordeval=cat {}", secret_file.display()),
                &format!("--from={USER}"),
                "--",
                USER,
            ],
            Some("Subject: interop\r\n\r\nfrom msmtp\r\n"),
        )
    };
    let password = send("login", mailscope_mocks::directory::ADELE_PASSWORD);
    let token = send("xoauth2", &serve.token(SMTP_SCOPE));
    (password, token)
}

#[test]
fn msmtp_sends_with_its_password_until_basic_smtp_auth_is_disabled_and_with_a_token_throughout() {
    let (password, token) = msmtp_password_then_token("enabled");
    assert!(password.status.success(), "{}", text(&password));
    assert!(token.status.success(), "{}", text(&token));

    let (password, token) = msmtp_password_then_token("disabled");
    assert_eq!(password.status.code(), Some(77), "{}", text(&password));
    assert!(
        text(&password)
            .contains("535 5.7.139 Authentication unsuccessful, basic authentication is disabled."),
        "{}",
        text(&password)
    );
    assert!(token.status.success(), "{}", text(&token));

    let (password, token) = msmtp_password_then_token("retired");
    assert!(
        text(&password).contains("550 5.7.30 Basic authentication is not supported for Client Submission."),
        "{}",
        text(&password)
    );
    assert!(token.status.success(), "{}", text(&token));
}

#[test]
fn serve_stops_cleanly_on_sigterm() {
    let mut serve = Serve::start("sigterm");
    let pid = serve.child.id().to_string();

    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let status = serve.child.wait().unwrap();
    let mut output = String::new();
    std::io::Read::read_to_string(serve.child.stdout.as_mut().unwrap(), &mut output).unwrap();

    assert!(status.success(), "{status:?}");
    assert!(output.trim_end().ends_with("stopped"), "{output}");
}

#[test]
fn token_waits_for_a_starting_serve_and_says_when_none_is_running() {
    let state_dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("interop")
        .join("script");
    let _ = std::fs::remove_dir_all(&state_dir);
    let token = || {
        Command::new(env!("CARGO_BIN_EXE_mailscope"))
            .args(["token", "--state-dir"])
            .arg(&state_dir)
            .args(["--scope", SMTP_SCOPE])
            .output()
            .unwrap()
    };
    // `mailscope serve --state-dir D & mailscope token --state-dir D`, as a script writes it.
    let mut serve = Command::new(env!("CARGO_BIN_EXE_mailscope"))
        .args(["serve", "--state-dir"])
        .arg(&state_dir)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();

    let issued = token();

    assert!(issued.status.success(), "{}", text(&issued));
    assert!(String::from_utf8_lossy(&issued.stdout).starts_with("eyJ"));

    serve.kill().unwrap();
    serve.wait().unwrap();
    let refused = token();
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused).contains("is not running any more: start `mailscope serve --state-dir"),
        "{}",
        text(&refused)
    );
}
