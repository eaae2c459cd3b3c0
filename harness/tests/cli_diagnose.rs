//! The diagnosis commands as a user runs them: `decode` on a pasted token, `explain` on a pasted
//! scope string (the v1 endpoint and admin consent included), and `serve`'s directory file errors.

#![expect(clippy::unwrap_used, reason = "test helpers fail the test by panicking")]

use std::process::Command;

mod common;
use common::{mailscope, scenario_file, stderr, stdout};

/// A token minted by the simulation for `scope`, the way the identity platform issues it, valid now.
fn minted_token(scope: &str) -> String {
    use mailscope_mocks::{Clock, Directory, issue_token};
    issue_token(&Directory::contoso(), &Clock::system(), scope).unwrap()
}

fn decode(token: &str) -> (Option<i32>, String) {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_mailscope"))
        .args(["decode", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(token.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    (output.status.code(), String::from_utf8(output.stdout).unwrap())
}

#[test]
fn decode_explains_a_graph_token_and_an_outlook_token_without_echoing_them() {
    let graph = minted_token("Mail.Send https://outlook.office.com/SMTP.Send");
    let (status, text) = decode(&graph);
    assert_eq!(status, Some(1), "refused by every protocol: {text}");
    assert!(
        text.contains("aud              00000003-0000-0000-c000-000000000000"),
        "{text}"
    );
    assert!(
        text.contains(
            "SMTP  refused: aud 00000003-0000-0000-c000-000000000000 is not an Exchange Online audience"
        ),
        "{text}"
    );
    assert!(text.contains("IMAP  refused"), "{text}");
    assert!(text.contains("https://outlook.office.com/SMTP.Send"), "{text}");
    assert!(!text.contains(&graph));

    let outlook =
        minted_token("https://outlook.office.com/SMTP.Send https://outlook.office.com/IMAP.AccessAsUser.All");
    let (status, text) = decode(&outlook);
    assert_eq!(status, Some(0), "accepted by SMTP and IMAP: {text}");
    assert!(text.contains("SMTP  passes the token checks"), "{text}");
    assert!(text.contains("IMAP  passes the token checks"), "{text}");
    assert!(
        text.contains(
            "POP3  refused: the token has neither scp POP.AccessAsUser.All nor role POP.AccessAsApp"
        ),
        "{text}"
    );
    assert!(text.contains("signed by mailscope's test key"), "{text}");
}

#[test]
fn explain_names_the_rules_for_a_graph_scope_placed_first() {
    let output = mailscope(&[
        "explain",
        "--scope",
        "Mail.Send",
        "--scope",
        "https://outlook.office.com/SMTP.Send",
        "--protocol",
        "smtp",
    ]);

    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(
        text.starts_with("token: aud 00000003-0000-0000-c000-000000000000"),
        "{text}"
    );
    assert!(
        text.contains("smtp  rejected: 535 5.7.3 Authentication unsuccessful"),
        "{text}"
    );
    assert!(text.contains("deleg-mixed-graph-first"), "{text}");
}

#[test]
fn explain_follows_the_v1_endpoint_and_admin_consent() {
    let admin = scenario_file("explain-v1", "directory.toml", "[app]\nconsent = \"admin\"\n");
    let output = mailscope(&[
        "explain",
        "--flow",
        "password",
        "--resource",
        "https://graph.microsoft.com",
        "--protocol",
        "smtp",
        "--directory",
        admin.to_str().unwrap(),
    ]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(
        text.starts_with("token: aud https://graph.microsoft.com "),
        "{text}"
    );
    assert!(text.contains("smtp  rejected: 535 5.7.3"), "{text}");
    assert!(text.contains("v1-ropc-resource-graph"), "{text}");

    let not_yet = scenario_file(
        "explain-consent",
        "directory.toml",
        "[app]\nname = \"mail-daemon\"\nconsent = \"none\"\n",
    );
    let explain_daemon = |consent: &[&str]| {
        let mut args = vec![
            "explain",
            "--flow",
            "client-credentials",
            "--app",
            "mail-daemon",
            "--scope",
            "https://outlook.office365.com/.default",
            "--protocol",
            "imap",
            "--directory",
            not_yet.to_str().unwrap(),
        ];
        args.extend_from_slice(consent);
        stdout(&mailscope(&args))
    };
    assert!(explain_daemon(&[]).contains("imap  rejected: NO AUTHENTICATE failed."));
    let consented = explain_daemon(&["--admin-consent", "https://ps.outlook.com/.default"]);
    assert!(consented.contains("imap  authenticated"), "{consented}");
    assert!(
        consented.contains("multitenant-admin-consent-urls"),
        "{consented}"
    );

    let wrong = mailscope(&["explain", "--resource", "https://graph.microsoft.com"]);
    assert_eq!(wrong.status.code(), Some(2), "--resource needs --flow password");
}

#[test]
fn serve_reports_a_wrong_users_table_at_its_place_and_does_not_start() {
    for (text, wanted) in [
        (
            "[[users]]\nupn = \"bob@contoso.onmicrosoft.com\"\n\n[[users]]\nupn = \"BOB@contoso.onmicrosoft.com\"\n",
            ":5:7: the directory already has a user `BOB@contoso.onmicrosoft.com`",
        ),
        (
            "[[users]]\nupn = \"adele@contoso.onmicrosoft.com\"\n",
            ":2:7: the directory already has a user `adele@contoso.onmicrosoft.com`",
        ),
        (
            "[[users]]\nupn = \"bob\"\n",
            ":2:7: `bob` is not a user principal name",
        ),
        (
            "[[users]]\nupn = \"bob@contoso.onmicrosoft.com\"\npasword = \"x\"\n",
            ":3:1: unknown field `pasword`",
        ),
    ] {
        let file = scenario_file("serve-users", "directory.toml", text);
        let output = mailscope(&["serve", "--directory", file.to_str().unwrap()]);
        let error = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{error}");
        assert!(error.contains(&format!("directory.toml{wanted}")), "{error}");
    }
}
