//! Live mode against `mailscope serve`: the same scenario files run through `--target live`
//! (HTTPS with certificate checks, the loopback redirect listener, real-time device-code polling,
//! ROPC, client credentials, refresh) and meet the simulation's expectations. Nothing the run
//! writes contains a token, a secret or a password.

#![expect(clippy::unwrap_used, reason = "test helpers fail the test by panicking")]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use mailscope_mocks::directory::{ADELE_PASSWORD, MAIL_DAEMON_SECRET};

struct Serve {
    child: Child,
    state_dir: PathBuf,
}

impl Serve {
    fn start(test: &str, directory: Option<&str>) -> Self {
        Self::start_logging(test, directory, None)
    }

    fn start_args(test: &str, directory: Option<&str>, arguments: &[&str]) -> Self {
        Self::start_full(test, directory, None, arguments)
    }

    fn start_logging(test: &str, directory: Option<&str>, log: Option<&Path>) -> Self {
        Self::start_full(test, directory, log, &[])
    }

    /// Starts serve; with `log`, at `RUST_LOG=trace`, its standard error going to that file.
    #[expect(
        clippy::disallowed_methods,
        reason = "a synchronous test polls for another process's file; there is no runtime to block"
    )]
    fn start_full(test: &str, directory: Option<&str>, log: Option<&Path>, arguments: &[&str]) -> Self {
        let state_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("live").join(test);
        let _ = std::fs::remove_dir_all(&state_dir);
        std::fs::create_dir_all(&state_dir).unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_mailscope"));
        // Device-code polls at once: the live code path is the same, the 5 s waits are not.
        command
            .args(["serve", "--device-code-interval", "0", "--state-dir"])
            .arg(&state_dir)
            .args(arguments)
            .stdout(Stdio::null());
        if let Some(log) = log {
            command
                .env("RUST_LOG", "trace")
                .stderr(std::fs::File::create(log).unwrap());
        }
        if let Some(text) = directory {
            let file = state_dir.join("directory.toml");
            std::fs::write(&file, text).unwrap();
            command.arg("--directory").arg(file);
        }
        let child = command.spawn().unwrap();
        let started = Instant::now();
        while !state_dir.join("endpoints.json").exists() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "serve wrote no endpoints.json"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, state_dir }
    }

    fn run(&self, config: &str, paths: &[&str], extra: &[&str]) -> Output {
        self.run_with(config, paths, extra, &[])
    }

    fn run_with(&self, config: &str, paths: &[&str], extra: &[&str], environment: &[(&str, &str)]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_mailscope"))
            .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap())
            .args(["run", "--target", "live", "--live-config"])
            .arg(self.state_dir.join(config))
            .args(extra)
            .args(paths)
            .env("MAILSCOPE_CLIENT_SECRET", MAIL_DAEMON_SECRET)
            .env("MAILSCOPE_PASSWORD", ADELE_PASSWORD)
            .envs(environment.iter().copied())
            .output()
            .unwrap()
    }
}

/// Lines of `text` that show a secret: a signed JWT, a base64 SASL response, a refresh token or
/// code, or the simulation's password or client secret.
fn secrets_in(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|line| {
            line.contains(ADELE_PASSWORD)
                || line.contains(MAIL_DAEMON_SECRET)
                || line.contains("dXNlcj")
                || line
                    .split(|c: char| !(c.is_ascii_alphanumeric() || "-_.".contains(c)))
                    .any(|word| {
                        (word.starts_with("eyJ") && word.matches('.').count() == 2)
                            || (word.starts_with("1.A") && word.len() > 20)
                    })
        })
        .collect()
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn stdout(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

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

/// Every file under `directory`.
fn walk(directory: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(directory).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
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

/// `live.toml` as serve wrote it, with `more` appended (more `[facts]`, or settings).
fn live_toml_with(serve: &Serve, name: &str, more: &str) -> String {
    let text = std::fs::read_to_string(serve.state_dir.join("live.toml")).unwrap();
    std::fs::write(serve.state_dir.join(name), format!("{text}\n{more}")).unwrap();
    name.to_owned()
}

#[test]
fn a_device_code_nobody_enters_ends_with_entras_expired_token() {
    // Entra's clock starts at /devicecode, the client's at its first poll: the client polls past
    // its own deadline until Entra says expired_token, and that is the outcome.
    let serve = Serve::start_args(
        "device-code-expired",
        Some("[user]\ndevice_code = \"ignore\"\n"),
        // A poll a second: the last one before the client's own deadline still hears `pending`.
        &["--device-code-lifetime", "2", "--device-code-interval", "1"],
    );
    let config = live_toml_with(
        &serve,
        "live-ignore.toml",
        "[facts.user]\ndevice_code = \"ignore\"\n",
    );
    let output = serve.run(
        &config,
        &["scenarios/microsoft-docs/device-code-expired.toml"],
        &["--format", "json"],
    );
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(
        text.contains(r#""error":"AADSTS70020"},"probes":[],"expectation":"met""#),
        "{text}"
    );
}

/// `live.toml` as serve wrote it, for a person at a browser: the URL is printed and nothing is
/// followed, the sign-in waits `sign_in_timeout` seconds, no token cache; `facts` appended.
fn person_live_toml(serve: &Serve, name: &str, facts: &str) -> String {
    let text = std::fs::read_to_string(serve.state_dir.join("live.toml"))
        .unwrap()
        .replace(
            "browser = \"follow\"",
            "browser = \"print\"\nsign_in_timeout = 30",
        )
        .lines()
        .map(|line| {
            if line.starts_with("token_cache") {
                "token_cache = \"none\""
            } else {
                line
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(serve.state_dir.join(name), format!("{text}\n{facts}")).unwrap();
    name.to_owned()
}

/// A live run whose sign-in a test plays as a person: `person` gets the authorize URL mailscope
/// printed and the run's standard input.
fn run_with_person(
    serve: &Serve,
    config: &str,
    paths: &[&str],
    person: impl FnOnce(url::Url, &mut std::process::ChildStdin),
) -> Output {
    use std::io::BufRead as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_mailscope"))
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap())
        .args(["run", "--target", "live", "--live-config"])
        .arg(serve.state_dir.join(config))
        .args(paths)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    let url = loop {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "no authorize URL was printed: {seen}"
        );
        seen.push_str(&line);
        if let Some(start) = line.find("https://")
            && line.contains("/authorize?")
        {
            break url::Url::parse(line[start..].trim()).unwrap();
        }
    };
    person(url, &mut stdin);
    drop(stdin);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    let mut output = child.wait_with_output().unwrap();
    output.stderr = format!("{seen}{rest}").into_bytes();
    output
}

/// Requests `url` as a browser would, without following: the response head and body.
fn browser_get(serve: &Serve, url: &str) -> String {
    let ca = serve.state_dir.join("ca.pem");
    let output = Command::new("curl")
        .args(["-sS", "-i", "--cacert"])
        .arg(&ca)
        .arg(url)
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn a_browsers_idle_pre_connection_does_not_hold_up_the_sign_in() {
    let serve = Serve::start("idle-pre-connection", None);
    let config = person_live_toml(&serve, "live-person.toml", "");
    let mut idle = Vec::new();
    let output = run_with_person(
        &serve,
        &config,
        &["scenarios/seed/outlook-scope.toml", "--filter", "outlook-only"],
        |url, _| {
            let redirect = url
                .query_pairs()
                .find(|(key, _)| key == "redirect_uri")
                .unwrap()
                .1
                .into_owned();
            let port = url::Url::parse(&redirect).unwrap().port().unwrap();
            // Browsers open connections before they need them; these two never send a byte.
            idle.push(std::net::TcpStream::connect(("127.0.0.1", port)).unwrap());
            idle.push(std::net::TcpStream::connect(("127.0.0.1", port)).unwrap());
            let answer = browser_get(&serve, url.as_str());
            let location = answer
                .lines()
                .find_map(|line| {
                    line.strip_prefix("location: ")
                        .or_else(|| line.strip_prefix("Location: "))
                })
                .unwrap_or_else(|| panic!("no redirect: {answer}"))
                .trim()
                .to_owned();
            // A stray request first, as browsers ask for a favicon; then the redirect.
            let stray = browser_get(&serve, &format!("http://localhost:{port}/favicon.ico"));
            assert!(stray.starts_with("HTTP/1.1 404"), "{stray}");
            let delivered = browser_get(&serve, &location);
            assert!(delivered.starts_with("HTTP/1.1 200"), "{delivered}");
        },
    );
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.contains("ok    seed/outlook-scope/outlook-only"), "{text}");
    drop(idle);
}

#[test]
fn an_error_entra_shows_on_its_own_page_ends_the_case_when_the_person_pastes_it() {
    let directory =
        "[app]\nredirect_uris = [\"https://login.microsoftonline.com/common/oauth2/nativeclient\"]\n";
    let serve = Serve::start("pasted-error-page", Some(directory));
    let config = person_live_toml(
        &serve,
        "live-person.toml",
        "redirect_uris = [\"https://login.microsoftonline.com/common/oauth2/nativeclient\"]\n",
    );
    let output = run_with_person(
        &serve,
        &config,
        &["scenarios/microsoft-docs/redirect-uri-mismatch.toml"],
        |url, stdin| {
            use std::io::Write as _;
            // Entra does not redirect: the person reads the error on its page, and pastes it.
            let page = browser_get(&serve, url.as_str());
            let start = page.find("AADSTS50011").unwrap_or_else(|| panic!("{page}"));
            let line: String = page[start..]
                .chars()
                .take_while(|&c| c != '<' && c != '\n')
                .collect();
            writeln!(stdin, "something else first").unwrap();
            writeln!(stdin, "{line}").unwrap();
        },
    );
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(
        text.contains(
            "ok    microsoft-docs/redirect-uri-mismatch/loopback-not-registered  token refused: AADSTS50011"
        ),
        "{text}"
    );
    assert!(text.contains("not understood"), "{text}");
}

#[test]
fn scenarios_of_another_app_are_skipped_under_the_daemons_live_toml_not_failed() {
    let serve = Serve::start("daemon-skips", None);
    let output = serve.run("live-daemon.toml", &["scenarios/seed"], &[]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(!text.contains("FAIL"), "{text}");
    assert!(
        text.contains("skip  seed/outlook-scope/outlook-only")
            && text.contains(
                "runs as the app `mail-client` (the default), and live.toml signs in as `mail-daemon`"
            ),
        "{text}"
    );
}

#[test]
fn a_sign_in_by_another_account_is_an_error_never_a_result() {
    // The device code is entered by the directory's first user, Adele; live.toml says Bob.
    let serve = Serve::start(
        "another-account",
        Some("[[users]]\nupn = \"bob@contoso.onmicrosoft.com\"\n"),
    );
    let text = std::fs::read_to_string(serve.state_dir.join("live.toml"))
        .unwrap()
        .replace(
            "user = \"adele@contoso.onmicrosoft.com\"",
            "user = \"bob@contoso.onmicrosoft.com\"",
        );
    std::fs::write(serve.state_dir.join("live-bob.toml"), text).unwrap();
    let output = serve.run(
        "live-bob.toml",
        &[
            "scenarios/microsoft-docs/device-code-flow.toml",
            "--filter",
            "outlook-smtp",
        ],
        &[],
    );
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("the sign-in was by adele@contoso.onmicrosoft.com, and live.toml's user is bob@contoso.onmicrosoft.com"),
        "{text}"
    );
    assert!(!text.contains("535"), "no probe ran: {text}");
}

#[test]
fn saved_outcomes_and_reports_of_a_live_run_name_no_user_and_no_tenant() {
    let serve = Serve::start("privacy", None);
    let saved = serve.state_dir.join("saved");
    let reports = serve.state_dir.join("reports");
    let output = serve.run(
        "live.toml",
        &["scenarios/seed"],
        &[
            "--save",
            saved.to_str().unwrap(),
            "--report",
            reports.to_str().unwrap(),
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    let directory = mailscope_mocks::directory::Directory::contoso();
    let user = directory.signed_in_user();
    let personal = [
        user.upn.as_str(),
        user.object_id.as_str(),
        user.given_name.as_str(),
        user.surname.as_str(),
        directory.tenant.id.as_str(),
    ];
    let files: Vec<PathBuf> = walk(&saved).into_iter().chain(walk(&reports)).collect();
    assert!(files.len() > 10, "{files:?}");
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap().to_lowercase();
        for value in personal {
            assert!(
                !text.contains(&value.to_lowercase()),
                "{} holds {value}",
                file.display()
            );
        }
    }
    let one = std::fs::read_to_string(saved.join("seed/outlook-scope/outlook-only.json")).unwrap();
    assert!(one.contains("\"upn\": \"<user>\""), "{one}");
}

#[test]
fn a_refused_cached_refresh_token_is_evicted_and_reported_once() {
    let serve = Serve::start("evicted", None);
    let cache = serve.state_dir.join("tokens.json");
    let run = || {
        serve.run(
            "live.toml",
            &[
                "scenarios/seed/outlook-scope.toml",
                "--filter",
                "outlook-with-offline-access",
            ],
            &[],
        )
    };
    let first = run();
    assert_eq!(first.status.code(), Some(0), "{}", stdout(&first));
    let kept: serde_json::Value = serde_json::from_slice(&std::fs::read(&cache).unwrap()).unwrap();
    let (key, _) = kept["refresh_tokens"].as_object().unwrap().iter().next().unwrap();
    // The token is revoked (here: Entra no longer knows it).
    std::fs::write(
        &cache,
        serde_json::json!({"refresh_tokens": {key.clone(): "1.Arevoked-long-ago"}}).to_string(),
    )
    .unwrap();

    let second = run();
    let text = stdout(&second);
    assert_eq!(second.status.code(), Some(0), "{text}");
    assert_eq!(
        text.matches("the token cache's refresh token was refused (AADSTS9002313): it is removed")
            .count(),
        1,
        "{text}"
    );
    let now = std::fs::read_to_string(&cache).unwrap();
    assert!(!now.contains("revoked-long-ago"), "{now}");

    let third = run();
    assert!(!stdout(&third).contains("was refused"), "{}", stdout(&third));
}

#[test]
fn a_transient_exchange_reply_is_tried_again_and_never_an_authentication_result() {
    // One transient reply: the probe tries again and the case gets Exchange's real answer.
    let once = Serve::start_args("transient-once", None, &["--transient-smtp-auth", "1"]);
    let output = once.run(
        "live.toml",
        &["scenarios/seed/outlook-scope.toml", "--filter", "outlook-only"],
        &[],
    );
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(
        text.contains("transient reply (451 4.7.0 Temporary server error. Please try again later. PRX4"),
        "{text}"
    );
    assert!(text.contains("ok    seed/outlook-scope/outlook-only"), "{text}");

    // Always transient: the case is an error, not a rejection.
    let always = Serve::start_args("transient-always", None, &["--transient-smtp-auth", "100"]);
    let output = always.run(
        "live.toml",
        &["scenarios/seed/outlook-scope.toml", "--filter", "outlook-only"],
        &[],
    );
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("answered with a transient error three times"),
        "{text}"
    );
    assert!(!text.contains("rejected"), "{text}");
}

#[test]
fn a_refused_password_is_sent_once_per_run() {
    let serve = Serve::start("wrong-password", Some("[app]\nconsent = \"admin\"\n"));
    let output = serve.run_with(
        "live.toml",
        &[
            "scenarios/microsoft-docs/ropc-exchange.toml",
            "--filter",
            "organizations",
            "--filter",
            "tenant",
            "--jobs",
            "1",
        ],
        &[],
        &[("MAILSCOPE_PASSWORD", "not the password")],
    );
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("FAIL  microsoft-docs/ropc-exchange/organizations  token refused: AADSTS50126"),
        "{text}"
    );
    assert!(
        text.contains("ERROR microsoft-docs/ropc-exchange/tenant"),
        "{text}"
    );
    assert!(
        text.contains("the password was refused earlier in this run (AADSTS50126): it is not sent again"),
        "{text}"
    );
}

#[test]
fn a_case_asking_what_an_earlier_one_got_reuses_its_token() {
    let serve = Serve::start("reuse", None);
    let saved = serve.state_dir.join("saved");
    let output = serve.run(
        "live.toml",
        &[
            "scenarios/seed/outlook-scope.toml",
            "--filter",
            "outlook-only",
            "--filter",
            "outlook-then-send",
        ],
        &["--jobs", "1", "--save", saved.to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    let obtained = |case: &str| -> String {
        let text = std::fs::read_to_string(saved.join(format!("seed/outlook-scope/{case}.json"))).unwrap();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        value["token"]["obtained_by"].as_str().unwrap().to_owned()
    };
    assert_eq!(obtained("outlook-only"), "the case's flow");
    assert_eq!(
        obtained("outlook-then-send"),
        "an earlier case of the run, which asked for the same"
    );
}

#[test]
fn an_untrusted_certificate_names_ca_file() {
    let serve = Serve::start("untrusted", None);
    let text: String = std::fs::read_to_string(serve.state_dir.join("live.toml"))
        .unwrap()
        .lines()
        .filter(|line| !line.starts_with("ca_file"))
        .map(|line| format!("{line}\n"))
        .collect();
    std::fs::write(serve.state_dir.join("live-untrusted.toml"), text).unwrap();
    let output = serve.run(
        "live-untrusted.toml",
        &["scenarios/seed/outlook-scope.toml", "--filter", "outlook-only"],
        &[],
    );
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("add its CA to live.toml's `ca_file`"), "{text}");
}
