//! Live mode against `mailscope serve`: the same scenario files run through `--target live`
//! (HTTPS with certificate checks, the loopback redirect listener, real-time device-code polling,
//! ROPC, client credentials, refresh) and meet the simulation's expectations. Nothing the run
//! writes contains a token, a secret or a password.

mod common;

use std::path::Path;
use std::process::Command;

use common::live::{Serve, secrets_in, stdout};
use common::walk;
use mailscope_mocks::directory::{ADELE_PASSWORD, MAIL_DAEMON_SECRET};

#[test]
fn the_seed_scenarios_meet_their_expectations_live_and_write_no_secret() {
    let serve = Serve::start("seed", None);
    let reports = serve.state_dir.join("reports");

    let output = serve.run(
        "live.toml",
        &["scenarios/seed"],
        &["--report", reports.to_str().unwrap()],
    );

    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.contains("9 passed, 0 failed, 5 skipped"), "{text}");
    // One sign-in serves the run: only the three cases naming two resources need their own code
    // redemption; the others refresh the cached token for their one resource.
    assert_eq!(
        text.matches("signing in through the loopback redirect listener")
            .count(),
        3,
        "{text}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let cache = std::fs::metadata(serve.state_dir.join("tokens.json")).unwrap();
        assert_eq!(
            cache.permissions().mode() & 0o777,
            0o600,
            "the token cache is private"
        );
    }
    assert!(
        text.lines().any(
            |line| line.starts_with("skip  seed/smtp-auth-disabled/valid-token-refused ")
                && line.ends_with("needs tenant.smtp_client_authentication = false, the tenant has true")
        ),
        "{text}"
    );
    for entry in std::fs::read_dir(&reports).unwrap() {
        let written = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert!(!written.contains("eyJ"), "no JWT in a report");
        assert!(!written.contains(MAIL_DAEMON_SECRET) && !written.contains(ADELE_PASSWORD));
    }
    assert!(!text.contains("eyJ") && !text.contains(ADELE_PASSWORD));
    let saved = serve.state_dir.join("saved");
    let save = serve.run(
        "live.toml",
        &["scenarios/seed"],
        &["--save", saved.to_str().unwrap()],
    );
    assert_eq!(save.status.code(), Some(0), "{}", stdout(&save));
    let diff = Command::new(env!("CARGO_BIN_EXE_mailscope"))
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap())
        .args(["diff"])
        .arg(&saved)
        .arg("scenarios/seed")
        .output()
        .unwrap();
    let text = stdout(&diff);
    assert_eq!(diff.status.code(), Some(0), "{text}");
    assert!(
        text.trim_end()
            .ends_with("9 same, 0 drifted (0 missing, 0 extra)"),
        "{text}"
    );
    let mut stack = vec![saved.clone()];
    while let Some(directory) = stack.pop() {
        for entry in std::fs::read_dir(directory).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let written = std::fs::read_to_string(&path).unwrap();
            assert!(
                !written.contains("eyJ") && !written.contains("1.A"),
                "{}: no token, code or refresh token",
                path.display()
            );
            assert!(!written.contains(MAIL_DAEMON_SECRET) && !written.contains(ADELE_PASSWORD));
        }
    }
    // A result lost between the live run and the diff is drift, named.
    std::fs::remove_file(mailscope::drift::path_for(
        &saved,
        "seed/outlook-scope/outlook-only",
    ))
    .unwrap();
    let diff = Command::new(env!("CARGO_BIN_EXE_mailscope"))
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap())
        .args(["diff"])
        .arg(&saved)
        .arg("scenarios/seed")
        .output()
        .unwrap();
    let text = stdout(&diff);
    assert_eq!(diff.status.code(), Some(1), "{text}");
    assert!(
        text.contains("MISSING seed/outlook-scope/outlook-only: no live outcome was saved"),
        "{text}"
    );
    assert!(
        text.trim_end()
            .ends_with("8 same, 1 drifted (1 missing, 0 extra)"),
        "{text}"
    );
    for file in ["live.toml", "live-daemon.toml"] {
        let written = std::fs::read_to_string(serve.state_dir.join(file)).unwrap();
        assert!(
            !written.contains(MAIL_DAEMON_SECRET) && !written.contains(ADELE_PASSWORD),
            "{file}"
        );
    }
    // endpoints.json lists the simulated tenant's test credentials for other clients, and says
    // that they are test values.
    let endpoints = std::fs::read_to_string(serve.state_dir.join("endpoints.json")).unwrap();
    assert!(endpoints.contains(MAIL_DAEMON_SECRET) && endpoints.contains(ADELE_PASSWORD));
    assert!(
        endpoints.contains("test values of the simulated tenant"),
        "{endpoints}"
    );
}

#[test]
fn a_live_run_and_serve_logged_at_trace_print_no_token_and_no_secret() {
    let serve_log = Path::new(env!("CARGO_TARGET_TMPDIR")).join("live-trace-serve.log");
    let serve = Serve::start_logging("trace", None, Some(&serve_log));

    let output = serve.run_with(
        "live.toml",
        &[
            "scenarios/seed",
            "scenarios/microsoft-docs/ropc-exchange.toml",
            "scenarios/microsoft-docs/refresh-cross-resource.toml",
        ],
        &[],
        &[("RUST_LOG", "trace")],
    );

    let text = stdout(&output);
    assert!(text.contains(" TRACE "), "the run logged at trace");
    assert_eq!(secrets_in(&text), Vec::<&str>::new());
    drop(serve);
    let served = std::fs::read_to_string(&serve_log).unwrap();
    assert!(
        served.contains("rule=\"first-scope-wins\""),
        "serve logs its decisions"
    );
    assert_eq!(secrets_in(&served), Vec::<&str>::new());
}

#[test]
fn a_tenant_with_smtp_auth_off_runs_the_case_the_default_tenant_skips() {
    let serve = Serve::start("smtp-off", Some("[tenant]\nsmtp_client_authentication = false\n"));

    let output = serve.run("live.toml", &["scenarios/seed/smtp-auth-disabled.toml"], &[]);

    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.contains("ok    seed/smtp-auth-disabled/valid-token-refused  aud https://outlook.office.com | smtp 535 5.7.139"), "{text}");
}

#[test]
fn password_probes_run_live_and_never_print_the_password() {
    let serve = Serve::start(
        "basic-disabled",
        Some("[tenant]\nsmtp_basic_auth = \"disabled\"\n"),
    );
    let saved = serve.state_dir.join("saved");

    let output = serve.run(
        "live.toml",
        &["scenarios/basic-auth-retirement/02-disabled-by-default.toml"],
        &["--transcript", "--save", saved.to_str().unwrap()],
    );

    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(
        text.lines().any(|line| line
            .starts_with("ok    basic-auth-retirement/02-disabled-by-default/password ")
            && line.contains(
                "no token | smtp 535 5.7.139 Authentication unsuccessful, basic authentication is disable"
            )),
        "{text}"
    );
    assert!(text.contains("4 passed, 0 failed"), "{text}");
    assert_eq!(secrets_in(&text), Vec::<&str>::new());
    for entry in walk(&saved) {
        let written = std::fs::read_to_string(&entry).unwrap();
        assert_eq!(secrets_in(&written), Vec::<&str>::new(), "{}", entry.display());
    }

    // The default tenant still takes the password: the case that expects a refusal is skipped,
    // never run against the wrong setup.
    let default = Serve::start("basic-enabled", None);
    let skipped = default.run(
        "live.toml",
        &["scenarios/basic-auth-retirement/02-disabled-by-default.toml"],
        &[],
    );
    let text = stdout(&skipped);
    assert!(
        text.contains("needs tenant.smtp_basic_auth = \"disabled\", the tenant has \"enabled\""),
        "{text}"
    );
}

#[test]
fn every_flow_runs_live_over_https() {
    let serve = Serve::start("flows", None);

    // A live tenant keeps consent between cases: ROPC, which cannot prompt, runs before any
    // interactive sign-in has consented.
    let ropc = serve.run(
        "live.toml",
        &["scenarios/microsoft-docs/ropc-without-consent.toml"],
        &[],
    );
    let text = stdout(&ropc);
    assert_eq!(ropc.status.code(), Some(0), "{text}");

    let delegated = serve.run(
        "live.toml",
        &[
            "scenarios/microsoft-docs/device-code-flow.toml",
            "scenarios/microsoft-docs/refresh-cross-resource.toml",
            "scenarios/microsoft-docs/deleg-outlook-imap-pop-smtp-one-token.toml",
        ],
        &[],
    );
    let text = stdout(&delegated);
    assert_eq!(delegated.status.code(), Some(0), "{text}");
    assert!(text.contains("5 passed, 0 failed"), "{text}");

    let app_only = serve.run(
        "live-daemon.toml",
        &["scenarios/microsoft-docs/ccg-outlook365-default.toml"],
        &[],
    );
    let text = stdout(&app_only);
    assert_eq!(app_only.status.code(), Some(0), "{text}");
    assert!(text.contains("3 passed, 0 failed"), "{text}");
}

#[test]
fn serves_live_toml_runs_the_seed_with_no_variable_and_skips_password_cases_naming_it() {
    let serve = Serve::start("no-variables", None);

    let output = Command::new(env!("CARGO_BIN_EXE_mailscope"))
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap())
        .args(["run", "--target", "live", "--live-config"])
        .arg(serve.state_dir.join("live.toml"))
        .args([
            "scenarios/seed",
            "scenarios/basic-auth-retirement/06-imap-and-pop.toml",
        ])
        .env_remove("MAILSCOPE_CLIENT_SECRET")
        .env_remove("MAILSCOPE_PASSWORD")
        .output()
        .unwrap();

    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.contains("ok    seed/outlook-scope/outlook-only"), "{text}");
    assert!(
        text.contains("ok    basic-auth-retirement/06-imap-and-pop/oauth"),
        "{text}"
    );
    assert!(
        text.contains("skip  basic-auth-retirement/06-imap-and-pop/imap-login")
            && text
                .contains("needs the user's password: set MAILSCOPE_PASSWORD (live.toml's `password_env`)"),
        "{text}"
    );
}

#[test]
fn a_missing_secret_variable_is_a_clear_error() {
    let serve = Serve::start("no-secret", None);

    let output = Command::new(env!("CARGO_BIN_EXE_mailscope"))
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap())
        .args(["run", "--target", "live", "--live-config"])
        .arg(serve.state_dir.join("live-daemon.toml"))
        .arg("scenarios/microsoft-docs/ccg-outlook365-default.toml")
        .env_remove("MAILSCOPE_CLIENT_SECRET")
        .output()
        .unwrap();

    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("live.toml names the environment variable MAILSCOPE_CLIENT_SECRET for the client-secret, and it is not set"), "{text}");
}

#[test]
fn diff_names_how_a_tenant_that_refuses_two_resources_drifts_from_the_simulation() {
    // The tenant answers as the Microsoft forum answer says (AADSTS28000), while live.toml's facts
    // claim the documented first-wins behaviour: the drift report must say so, case by case.
    let serve = Serve::start("drift", Some("[tenant]\nmulti_resource_scopes = \"reject\"\n"));
    let config = std::fs::read_to_string(serve.state_dir.join("live.toml")).unwrap();
    std::fs::write(
        serve.state_dir.join("live-claims-first-wins.toml"),
        config.replace(
            "multi_resource_scopes = \"reject\"",
            "multi_resource_scopes = \"first-wins\"",
        ),
    )
    .unwrap();
    let saved = serve.state_dir.join("saved");
    let _ = serve.run(
        "live-claims-first-wins.toml",
        &["scenarios/seed/graph-scope-added.toml"],
        &["--save", saved.to_str().unwrap()],
    );

    let diff = Command::new(env!("CARGO_BIN_EXE_mailscope"))
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap())
        .arg("diff")
        .arg(&saved)
        .arg("scenarios/seed/graph-scope-added.toml")
        .output()
        .unwrap();

    let text = stdout(&diff);
    assert_eq!(diff.status.code(), Some(1), "{text}");
    assert!(
        text.contains("DRIFT seed/graph-scope-added/graph-scope-first\n"),
        "{text}"
    );
    assert!(
        text.contains("token status: live \"denied\", simulated \"issued\""),
        "{text}"
    );
    assert!(
        text.contains("token error_codes: live [28000], simulated null"),
        "{text}"
    );
    // Under "reject", a bare Graph scope after the Outlook one names a second resource too.
    assert!(
        text.contains("DRIFT seed/graph-scope-added/outlook-scope-first\n"),
        "{text}"
    );
    assert!(
        text.trim_end()
            .ends_with("0 same, 3 drifted (0 missing, 0 extra)"),
        "{text}"
    );
}

#[test]
fn check_snapshots_compares_a_live_run_with_the_outcomes_saved_before() {
    let serve = Serve::start("check-snapshots", None);
    let snapshots = serve.state_dir.join("snapshots");
    let scenario = "scenarios/seed/graph-scope-added.toml";
    let save = serve.run(
        "live.toml",
        &[scenario],
        &["--save", snapshots.join("live").to_str().unwrap()],
    );
    assert_eq!(save.status.code(), Some(0), "{}", stdout(&save));
    let check = ["--check-snapshots", "--snapshots", snapshots.to_str().unwrap()];

    let again = serve.run("live.toml", &[scenario], &check);
    assert_eq!(again.status.code(), Some(0), "{}", stdout(&again));

    // The tenant "changed": the kept outcome says Entra refused what it now issues.
    let kept = snapshots.join("live/seed/graph-scope-added/graph-scope-first.json");
    let mut saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&kept).unwrap()).unwrap();
    saved["token"]["claims"]["aud"] = "https://outlook.office.com".into();
    std::fs::write(&kept, saved.to_string()).unwrap();
    let changed = serve.run("live.toml", &[scenario], &check);

    let text = stdout(&changed);
    assert_eq!(changed.status.code(), Some(1), "{text}");
    assert!(
        text.contains("FAIL  seed/graph-scope-added/graph-scope-first "),
        "{text}"
    );
    assert!(
        text.contains(
            "token aud: kept \"https://outlook.office.com\", now \"00000003-0000-0000-c000-000000000000\""
        ),
        "{text}"
    );
    assert!(text.contains("2 passed, 1 failed"), "{text}");
}

#[test]
fn the_v1_token_endpoint_runs_live_over_https() {
    // fidelity: v1-ropc-resource-graph. The v1.0 response spells its numbers as strings, which
    // the `oauth2` crate refuses: the harness must still read the token, through the live path.
    let serve = Serve::start("v1", Some("[app]\nconsent = \"admin\"\n"));

    let output = serve.run(
        "live.toml",
        &["scenarios/community/v1-ropc-resource-graph.toml"],
        &[],
    );

    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.contains("2 passed, 0 failed"), "{text}");
}

#[test]
fn admin_consent_runs_live_through_the_loopback_listener() {
    // fidelity: multitenant-admin-consent-urls. The daemon is registered, nobody has consented:
    // the first case gets a token without roles, then an administrator consents through the
    // browser (played by the harness) and the app roles arrive. The tenant keeps the consent.
    let serve = Serve::start(
        "admin-consent",
        Some("[app]\nname = \"mail-daemon\"\nconsent = \"none\"\n"),
    );

    let output = serve.run(
        "live-daemon.toml",
        &["scenarios/microsoft-docs/multitenant-admin-consent-urls.toml"],
        &[],
    );

    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.contains("3 passed, 0 failed"), "{text}");
    assert_eq!(
        text.matches("an administrator of the tenant must approve")
            .count(),
        2,
        "{text}"
    );
}
