//! `RUST_LOG=trace mailscope run scenarios` prints the simulation's decisions and every
//! dialogue, and no token, code or secret, whichever crate logs.

use std::process::Command;

use mailscope_mocks::directory::{ADELE_PASSWORD, MAIL_DAEMON_SECRET};

#[test]
fn the_shipped_suite_at_trace_prints_no_token_and_no_secret() {
    let output = Command::new(env!("CARGO_BIN_EXE_mailscope"))
        .current_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap())
        .args(["run", "scenarios"])
        .env("RUST_LOG", "trace")
        .output()
        .expect("mailscope runs");
    let log = String::from_utf8_lossy(&output.stderr);

    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(log.contains("rule=\"first-scope-wins\""), "decisions are logged");
    assert!(
        log.contains("C: AUTH XOAUTH2 <redacted"),
        "dialogues are logged, redacted"
    );
    let leaks: Vec<&str> = log
        .lines()
        .filter(|line| {
            line.contains(ADELE_PASSWORD)
                || line.contains(MAIL_DAEMON_SECRET)
                || line.contains("dXNlcj")
                || line
                    .split(|c: char| !(c.is_ascii_alphanumeric() || "-_.".contains(c)))
                    .any(|word| {
                        (word.starts_with("eyJ") && word.matches('.').count() == 2)
                            || (word.starts_with("1.A") && word.len() > 20)
                            || (word.starts_with("EwA") && word.len() > 20)
                    })
        })
        .collect();
    assert!(
        leaks.is_empty(),
        "{} lines leak, the first: {}",
        leaks.len(),
        leaks[0]
    );
}
