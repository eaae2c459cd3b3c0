//! The mailbox behind `mailscope serve`, as real clients use it: what one client sends, another
//! fetches byte for byte; what one uploads, the server keeps; a sync up and back down loses
//! nothing. The clients are Python's imaplib, smtplib and poplib, MSAL Python, curl, msmtp,
//! neomutt, mbsync, offlineimap3 and getmail6 (`make prerequisites` installs them).

#![expect(clippy::unwrap_used, reason = "test helpers fail the test by panicking")]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::serve::{Serve, USER, client, run, text};

const ALL_SCOPES: &str = "https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/SMTP.Send https://outlook.office.com/POP.AccessAsUser.All";

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/clients")
        .join(name)
}

/// A fresh directory of this test's.
fn workdir(test: &str) -> PathBuf {
    let directory = Path::new(env!("CARGO_TARGET_TMPDIR")).join("mailbox").join(test);
    let _ = std::fs::remove_dir_all(&directory);
    std::fs::create_dir_all(&directory).unwrap();
    directory
}

/// The messages of a Maildir folder, each without the header lines `ignored` names (clients
/// add their own, as mbsync's X-TUID), sorted.
fn maildir_messages(folder: &Path, ignored: &[&str]) -> Vec<String> {
    let mut messages: Vec<String> = ["cur", "new"]
        .iter()
        .flat_map(|sub| std::fs::read_dir(folder.join(sub)).unwrap())
        .map(|entry| {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            // A dropped field's folded continuation lines go with it.
            let mut dropping = false;
            let mut in_header = true;
            let mut kept = String::new();
            for line in text.split_inclusive('\n') {
                if in_header && (line == "\n" || line == "\r\n") {
                    in_header = false;
                }
                if in_header {
                    if !line.starts_with([' ', '\t']) {
                        dropping = ignored.iter().any(|name| line.starts_with(name));
                    }
                    if dropping {
                        continue;
                    }
                }
                kept.push_str(line);
            }
            kept.replace("\r\n", "\n")
        })
        .collect();
    messages.sort();
    messages
}

/// Writes a Maildir folder (`cur`, `new`, `tmp`) holding `messages`, marked seen.
fn maildir(folder: &Path, messages: &[String]) {
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(folder.join(sub)).unwrap();
    }
    for (index, message) in messages.iter().enumerate() {
        std::fs::write(
            folder.join("cur").join(format!("1700000000.{index}.test:2,S")),
            message,
        )
        .unwrap();
    }
}

fn three_messages(prefix: &str) -> Vec<String> {
    (1..=3)
        .map(|number| {
            format!(
                "From: someone@example.org\r\nTo: {USER}\r\nSubject: {prefix} {number}\r\nMessage-ID: <{prefix}{number}@example.org>\r\n\r\nBody of {prefix} message {number}.\r\n.A line with a dot.\r\n"
            )
        })
        .collect()
}

#[test]
fn python_sends_idles_fetches_appends_lists_and_retrieves() {
    let serve = Serve::start("python-round-trip");
    let token = serve.token(ALL_SCOPES);
    let output = run(
        common::python()
            .arg(script("round_trip.py"))
            .arg(&serve.state_dir)
            .arg(&token),
        "python",
        None,
    );
    assert!(output.status.success(), "{}", text(&output));
    assert!(text(&output).contains("round trip ok"), "{}", text(&output));
}

#[test]
fn msal_python_gets_tokens_by_device_code_silently_and_by_code() {
    let serve = Serve::start_args("msal", None, &["--device-code-interval", "0"]);
    let output = run(
        common::python()
            .arg(script("msal_flows.py"))
            .arg(&serve.state_dir)
            // requests trusts this bundle (and the environment's REQUESTS_CA_BUNDLE beats a
            // session's own `verify`).
            .env("REQUESTS_CA_BUNDLE", serve.ca_file()),
        "python",
        None,
    );
    assert!(output.status.success(), "{}", text(&output));
    assert!(text(&output).contains("msal ok"), "{}", text(&output));
}

#[test]
fn curl_sends_then_fetches_and_retrieves_the_same_message() {
    let serve = Serve::start("curl-round-trip");
    let token = serve.token(ALL_SCOPES);
    let ca = serve.ca_file();
    let message =
        format!("From: {USER}\r\nTo: {USER}\r\nSubject: from curl\r\n\r\nSent and read back by curl.\r\n");
    let smtp_url = format!("smtp://localhost:{}/client.example", serve.port("smtp"));
    let sent = client(
        "curl",
        &[
            "-sS",
            "--url",
            &smtp_url,
            "--ssl-reqd",
            "--cacert",
            &ca,
            "--user",
            USER,
            "--oauth2-bearer",
            &token,
            "--mail-from",
            USER,
            "--mail-rcpt",
            USER,
            "--upload-file",
            "-",
        ],
        Some(&message),
    );
    assert_eq!(sent.status.code(), Some(0), "{}", text(&sent));

    let fetch_url = format!("imaps://localhost:{}/INBOX;UID=1", serve.port("imap"));
    let fetched = client(
        "curl",
        &[
            "-sS",
            "--url",
            &fetch_url,
            "--cacert",
            &ca,
            "--user",
            USER,
            "--oauth2-bearer",
            &token,
        ],
        None,
    );
    assert_eq!(fetched.status.code(), Some(0), "{}", text(&fetched));
    assert_eq!(String::from_utf8_lossy(&fetched.stdout), message);

    let retr_url = format!("pop3s://localhost:{}/1", serve.port("pop3"));
    let retrieved = client(
        "curl",
        &[
            "-sS",
            "--url",
            &retr_url,
            "--cacert",
            &ca,
            "--user",
            USER,
            "--oauth2-bearer",
            &token,
        ],
        None,
    );
    assert_eq!(retrieved.status.code(), Some(0), "{}", text(&retrieved));
    assert_eq!(String::from_utf8_lossy(&retrieved.stdout), message);
}

#[test]
fn msmtp_and_neomutt_send_and_the_mail_arrives() {
    let serve = Serve::start("senders");
    let directory = workdir("senders");
    let token_file = directory.join("token");
    std::fs::write(&token_file, serve.token(ALL_SCOPES)).unwrap();
    let ca = serve.ca_file();
    let port = serve.port("smtp");

    let msmtp = client(
        "msmtp",
        &[
            "--host=localhost",
            &format!("--port={port}"),
            "--tls=on",
            "--tls-starttls=on",
            &format!("--tls-trust-file={ca}"),
            "--auth=xoauth2",
            &format!("--user={USER}"),
            &format!("--passwordeval=cat {}", token_file.display()),
            &format!("--from={USER}"),
            USER,
        ],
        Some(&format!(
            "From: {USER}\r\nTo: {USER}\r\nSubject: from msmtp\r\n\r\nmsmtp was here.\r\n"
        )),
    );
    assert!(msmtp.status.success(), "{}", text(&msmtp));

    let muttrc = directory.join("muttrc");
    std::fs::write(
        &muttrc,
        format!(
            "set smtp_url = \"smtp://{USER}@localhost:{port}/\"\nset smtp_authenticators = \"xoauth2\"\nset smtp_oauth_refresh_command = \"cat {}\"\nset ssl_starttls = yes\nset ssl_force_tls = yes\nset ssl_ca_certificates_file = \"{ca}\"\nset from = \"{USER}\"\nset use_from = yes\nset record = \"\"\nset header_cache = \"\"\n",
            token_file.display()
        ),
    )
    .unwrap();
    let neomutt = run(
        Command::new("neomutt")
            .args(["-n", "-F"])
            .arg(&muttrc)
            .args(["-s", "from neomutt", "--", USER])
            .env("HOME", &directory),
        "neomutt",
        Some("neomutt was here.\n"),
    );
    assert!(neomutt.status.success(), "{}", text(&neomutt));

    // Both arrived, and a copy of each is in Sent Items.
    let check = run(
        common::python().args([
            "-c",
            "import imaplib,json,ssl,sys\n\
             d=json.load(open(sys.argv[1]+'/endpoints.json')); user=d['users'][0]['upn']\n\
             host,port=d['imap'].rsplit(':',1)\n\
             m=imaplib.IMAP4_SSL(host,int(port),ssl_context=ssl.create_default_context(cafile=d['ca_file']))\n\
             m.authenticate('XOAUTH2',lambda _: ('user=%s\\x01auth=Bearer %s\\x01\\x01'%(user,open(sys.argv[2]).read().strip())).encode())\n\
             for folder in ('INBOX','\"Sent Items\"'):\n\
             \x20   m.select(folder); print(folder, m.search(None,'ALL')[1], m.fetch('1:*','(BODY.PEEK[HEADER.FIELDS (SUBJECT)])')[1])\n",
        ])
        .arg(&serve.state_dir)
        .arg(&token_file),
        "python",
        None,
    );
    let report = text(&check);
    assert!(check.status.success(), "{report}");
    assert!(report.contains("INBOX [b'1 2']"), "{report}");
    assert!(report.contains("\"Sent Items\" [b'1 2']"), "{report}");
    assert!(
        report.contains("from msmtp") && report.contains("from neomutt"),
        "{report}"
    );
}

#[test]
fn mbsync_syncs_three_messages_up_and_back_down_intact() {
    let serve = Serve::start("mbsync");
    let directory = workdir("mbsync");
    let token_file = directory.join("token");
    std::fs::write(&token_file, serve.token(ALL_SCOPES)).unwrap();
    let sent = three_messages("mbsync");
    maildir(&directory.join("up/INBOX"), &sent);
    for state in ["state-up", "state-down", "down"] {
        std::fs::create_dir_all(directory.join(state)).unwrap();
    }
    let config = directory.join("mbsyncrc");
    let d = directory.display();
    std::fs::write(
        &config,
        format!(
            "IMAPAccount serve\nHost localhost\nPort {port}\nUser {USER}\nPassCmd \"cat {d}/token\"\nAuthMechs XOAUTH2\nSSLType IMAPS\nCertificateFile {ca}\n\n\
             IMAPStore remote\nAccount serve\n\n\
             MaildirStore up\nPath {d}/up/\nInbox {d}/up/INBOX\n\n\
             MaildirStore down\nPath {d}/down/\nInbox {d}/down/INBOX\n\n\
             Channel push\nFar :remote:Synced\nNear :up:INBOX\nCreate Far\nSyncState {d}/state-up/\n\n\
             Channel pull\nFar :remote:Synced\nNear :down:INBOX\nCreate Near\nSyncState {d}/state-down/\n",
            port = serve.port("imap"),
            ca = serve.ca_file(),
        ),
    )
    .unwrap();
    for channel in ["push", "pull"] {
        let output = run(
            Command::new("mbsync").arg("-c").arg(&config).arg(channel),
            "mbsync",
            None,
        );
        assert!(output.status.success(), "{channel}: {}", text(&output));
    }
    // mbsync marks what it uploads with its own X-TUID header; the rest is as sent.
    let expected: Vec<String> = sent.iter().map(|message| message.replace("\r\n", "\n")).collect();
    assert_eq!(
        maildir_messages(&directory.join("down/INBOX"), &["X-TUID:"]),
        expected
    );
    // A second round changes nothing.
    let again = run(
        Command::new("mbsync")
            .arg("-c")
            .arg(&config)
            .args(["push", "pull"]),
        "mbsync",
        None,
    );
    assert!(again.status.success(), "{}", text(&again));
    assert_eq!(
        maildir_messages(&directory.join("down/INBOX"), &["X-TUID:"]).len(),
        3
    );
}

#[test]
fn offlineimap_syncs_three_messages_up_and_back_down_intact() {
    let serve = Serve::start("offlineimap");
    let directory = workdir("offlineimap");
    let token = serve.token(ALL_SCOPES);
    let sent = three_messages("offlineimap");
    maildir(&directory.join("up/Synced"), &sent);
    std::fs::create_dir_all(directory.join("down")).unwrap();
    for side in ["up", "down"] {
        std::fs::write(
            directory.join(format!("{side}.rc")),
            format!(
                "[general]\naccounts = serve\nmetadata = {d}/meta-{side}\n\
                 [Account serve]\nlocalrepository = local\nremoterepository = remote\n\
                 [Repository local]\ntype = Maildir\nlocalfolders = {d}/{side}\n\
                 [Repository remote]\ntype = IMAP\nremotehost = localhost\nremoteport = {port}\nremoteuser = {USER}\n\
                 ssl = yes\nsslcacertfile = {ca}\nauth_mechanisms = XOAUTH2\noauth2_access_token = {token}\n\
                 folderfilter = lambda folder: folder == 'Synced'\ncreatefolders = True\n",
                d = directory.display(),
                port = serve.port("imap"),
                ca = serve.ca_file(),
            ),
        )
        .unwrap();
        let output = run(
            Command::new("offlineimap")
                .arg("-c")
                .arg(directory.join(format!("{side}.rc")))
                .args(["-o", "-u", "basic"]),
            "offlineimap",
            None,
        );
        assert!(output.status.success(), "{side}: {}", text(&output));
        assert!(!text(&output).contains("ERROR"), "{side}: {}", text(&output));
    }
    let expected: Vec<String> = sent.iter().map(|message| message.replace("\r\n", "\n")).collect();
    assert_eq!(maildir_messages(&directory.join("down/Synced"), &[]), expected);
    // offlineimap kept the local copies it uploaded (it renames them with their new UIDs).
    assert_eq!(maildir_messages(&directory.join("up/Synced"), &[]), expected);
}

#[test]
fn getmail_retrieves_over_imap() {
    let serve = Serve::start("getmail");
    let directory = workdir("getmail");
    let token_file = directory.join("token");
    std::fs::write(&token_file, serve.token(ALL_SCOPES)).unwrap();
    let message =
        format!("From: {USER}\r\nTo: {USER}\r\nSubject: for getmail\r\n\r\nFetched by getmail.\r\n");
    // Sent first, by smtplib.
    let send = run(
        common::python()
            .args([
                "-c",
                "import json,smtplib,ssl,sys\n\
                 d=json.load(open(sys.argv[1]+'/endpoints.json')); user=d['users'][0]['upn']\n\
                 host,port=d['smtp'].rsplit(':',1)\n\
                 s=smtplib.SMTP(host,int(port)); s.starttls(context=ssl.create_default_context(cafile=d['ca_file'])); s.ehlo()\n\
                 s.auth('XOAUTH2',lambda c=None:'user=%s\\x01auth=Bearer %s\\x01\\x01'%(user,open(sys.argv[2]).read().strip()),initial_response_ok=True)\n\
                 s.sendmail(user,[user],sys.stdin.read().encode()); s.quit()\n",
            ])
            .arg(&serve.state_dir)
            .arg(&token_file),
        "python",
        Some(&message),
    );
    assert!(send.status.success(), "{}", text(&send));
    let maildir_path = directory.join("Maildir");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(maildir_path.join(sub)).unwrap();
    }
    // getmail refuses to deliver as root; a test machine's root delivers as `nobody`.
    let as_root = run(Command::new("id").arg("-u"), "id", None).stdout == b"0\n";
    if as_root {
        run(
            Command::new("chmod").args(["-R", "a+rwx"]).arg(&directory),
            "chmod",
            None,
        );
    }
    std::fs::write(
        directory.join("getmailrc"),
        format!(
            "[retriever]\ntype = SimpleIMAPSSLRetriever\nserver = localhost\nport = {port}\nusername = {USER}\n\
             use_xoauth2 = True\npassword_command = (\"/bin/cat\", \"{token}\")\nca_certs = {ca}\nmailboxes = (\"INBOX\",)\n\
             [destination]\ntype = Maildir\npath = {maildir}/\n{user}\n[options]\nread_all = true\ndelete = false\n",
            port = serve.port("imap"),
            token = token_file.display(),
            ca = serve.ca_file(),
            maildir = maildir_path.display(),
            user = if as_root { "user = nobody" } else { "" },
        ),
    )
    .unwrap();
    let output = run(
        Command::new("getmail")
            .arg("--getmaildir")
            .arg(&directory)
            .arg("--rcfile")
            .arg(directory.join("getmailrc")),
        "getmail",
        None,
    );
    assert!(output.status.success(), "{}", text(&output));
    assert!(text(&output).contains("1 messages"), "{}", text(&output));
    // getmail adds its own trace fields; the rest is as sent.
    let delivered = maildir_messages(
        &maildir_path,
        &[
            "Delivered-To:",
            "Return-Path:",
            "Received:",
            "X-getmail-retrieved-from-mailbox:",
        ],
    );
    assert_eq!(delivered, [message.replace("\r\n", "\n")]);
}

#[test]
fn the_directory_files_users_and_shared_mailboxes_get_mail_and_tokens_of_their_own() {
    let bob = "bob@contoso.onmicrosoft.com";
    let support = "support@contoso.onmicrosoft.com";
    let serve = Serve::start_with(
        "extra-users",
        Some(&format!(
            "[[users]]\nupn = \"{bob}\"\npassword = \"bob's test password\"\nfull_access = [\"{support}\"]\n"
        )),
    );
    let users = serve.endpoints["users"].as_array().unwrap();
    assert!(
        users
            .iter()
            .any(|user| user["upn"] == bob && user["password"] == "bob's test password"),
        "{users:?}"
    );
    assert_eq!(serve.endpoints["shared_mailboxes"], serde_json::json!([support]));

    // Adele writes to Bob and to the shared mailbox.
    let adele_token = serve.token(ALL_SCOPES);
    let ca = serve.ca_file();
    let message =
        format!("From: {USER}\r\nTo: {bob}, {support}\r\nSubject: hi\r\n\r\nFor Bob and support.\r\n");
    let smtp_url = format!("smtp://localhost:{}/client.example", serve.port("smtp"));
    let sent = client(
        "curl",
        &[
            "-sS",
            "--url",
            &smtp_url,
            "--ssl-reqd",
            "--cacert",
            &ca,
            "--user",
            USER,
            "--oauth2-bearer",
            &adele_token,
            "--mail-from",
            USER,
            "--mail-rcpt",
            bob,
            "--mail-rcpt",
            support,
            "--upload-file",
            "-",
        ],
        Some(&message),
    );
    assert_eq!(sent.status.code(), Some(0), "{}", text(&sent));

    // Bob signs in by name (login_hint) and by password; his token opens his mailbox and the
    // shared one, not Adele's.
    let imap = "https://outlook.office.com/IMAP.AccessAsUser.All";
    let by_hint = serve.token_with(imap, &["--user", bob]);
    let by_password = serve.token_with(imap, &["--user", bob, "--flow", "password"]);
    let fetch = |mailbox: &str, token: &str| {
        let url = format!("imaps://localhost:{}/INBOX;UID=1", serve.port("imap"));
        client(
            "curl",
            &[
                "-sS",
                "--url",
                &url,
                "--cacert",
                &ca,
                "--user",
                mailbox,
                "--oauth2-bearer",
                token,
            ],
            None,
        )
    };
    for token in [&by_hint, &by_password] {
        for mailbox in [bob, support] {
            let fetched = fetch(mailbox, token);
            assert_eq!(fetched.status.code(), Some(0), "{mailbox}: {}", text(&fetched));
            assert_eq!(String::from_utf8_lossy(&fetched.stdout), message, "{mailbox}");
        }
    }
    let refused = fetch(USER, &by_hint);
    assert_ne!(
        refused.status.code(),
        Some(0),
        "Bob's token does not open Adele's mailbox"
    );

    // A user the directory does not have is named in the error.
    let unknown = Command::new(env!("CARGO_BIN_EXE_mailscope"))
        .args(["token", "--state-dir"])
        .arg(&serve.state_dir)
        .args(["--scope", imap, "--user", "carol@contoso.onmicrosoft.com"])
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(1), "{}", text(&unknown));
    assert!(
        text(&unknown).contains("no user `carol@contoso.onmicrosoft.com`"),
        "{}",
        text(&unknown)
    );
}
