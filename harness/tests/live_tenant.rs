//! Live mode on the paths a real tenant takes, played by `mailscope serve`: a person at the browser
//! (idle pre-connections, an error page pasted), a device code nobody enters, a refresh token Entra
//! revoked, transient replies, throttling's politeness (token reuse, a refused password sent once),
//! which cases run under which app, and what saved outcomes and reports may say.

mod common;

use std::path::PathBuf;

use common::live::{Serve, browser_get, live_toml_with, person_live_toml, run_with_person, stdout};
use common::walk;

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
