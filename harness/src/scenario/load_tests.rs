//! Loading scenario files: expansion, naming, and `path:line:column` errors.

use super::*;
use crate::scenario::types::{Mechanism, PasswordChoice};

fn parse_text(text: &str) -> Result<Scenario, ScenarioError> {
    parse(Path::new("scenarios/seed/example.toml"), text)
}

fn error_of(text: &str) -> String {
    parse_text(text).unwrap_err().to_string()
}

const HEADER: &str = "title = \"t\"\nsource = \"s\"\n";

#[test]
fn merges_defaults_into_cases_and_names_them_by_path() {
    let scenario = parse_text(&format!(
        "{HEADER}
[defaults]
flow = \"authorization_code\"
probes = [\"smtp\"]
expect.smtp = \"rejected\"

[[case]]
name = \"graph-scope-first\"
scopes = [\"Mail.Send\", \"https://outlook.office.com/SMTP.Send\"]
expect.token.aud = \"00000003-0000-0000-c000-000000000000\"

[[case]]
name = \"outlook-only\"
scopes = [\"https://outlook.office.com/SMTP.Send\"]
probes = [{{ protocol = \"smtp\", send = true }}]
expect.smtp = {{ result = \"authenticated\", reply = \"235\" }}
"
    ))
    .unwrap();

    let ids: Vec<_> = scenario.cases.iter().map(|case| case.id.as_str()).collect();
    assert_eq!(
        ids,
        ["seed/example/graph-scope-first", "seed/example/outlook-only"]
    );
    let first = &scenario.cases[0];
    assert_eq!(first.request.flow, Flow::AuthorizationCode);
    let expect = first.expect.as_ref().unwrap();
    assert_eq!(
        expect.smtp.as_ref().unwrap().result,
        ProbeResult::Rejected,
        "from [defaults]"
    );
    assert!(expect.token.as_ref().unwrap().aud.is_some(), "from the case");
    let second = &scenario.cases[1];
    assert!(second.probes[0].send);
    assert_eq!(
        second
            .expect
            .as_ref()
            .unwrap()
            .smtp
            .as_ref()
            .unwrap()
            .reply
            .as_deref(),
        Some("235")
    );
}

#[test]
fn expands_a_matrix_in_key_order_without_expectations() {
    let scenario = parse_text(&format!(
        "{HEADER}
[defaults]
expect.token.ver = \"1.0\"

[matrix]
probes = [[\"smtp\"], [\"imap\"]]
scopes = [[\"a\"], [\"b\"], [\"c\"]]
flow = [\"authorization_code\", \"device_code\"]
"
    ))
    .unwrap();

    let names: Vec<_> = scenario.cases.iter().map(|case| case.name.as_str()).collect();
    assert_eq!(names.len(), 12);
    assert_eq!(names[0], "scopes-0-flow-0-probes-0");
    assert_eq!(names[11], "scopes-2-flow-1-probes-1");
    assert!(scenario.cases.iter().all(|case| case.expect.is_none()));
}

#[test]
fn ids_outside_scenarios_use_the_file_stem() {
    assert_eq!(case_id_prefix(Path::new("other/dir/order.toml")), "order");
    assert_eq!(case_id_prefix(Path::new("/x/scenarios/seed/a.toml")), "seed/a");
}

#[test]
fn reports_unknown_keys_wrong_types_and_duplicates_at_their_place() {
    assert_eq!(
        error_of(&format!(
            "{HEADER}[[case]]\nname = \"a\"\nscopes = [\"x\"]\nscope = [\"y\"]\n"
        )),
        "scenarios/seed/example.toml:6:1: unknown field `scope`, expected one of `name`, `flow`, `scopes`, `initial_scopes`, `authorize_scopes`, `endpoint`, `refresh_after_days`, `refresh_endpoint`, `admin_consent`, `resource`, `probes`, `expect`: did you mean `scopes`?"
    );
    assert_eq!(
        error_of(&format!("{HEADER}[[case]]\nname = \"a\"\nscopes = \"x\"\n")),
        "scenarios/seed/example.toml:5:10: invalid type: string \"x\", expected an array"
    );
    assert_eq!(
        error_of(&format!(
            "{HEADER}[[case]]\nname = \"a\"\nscopes = [\"x\"]\n[[case]]\nname = \"a\"\nscopes = [\"y\"]\n"
        )),
        "scenarios/seed/example.toml:7:8: duplicate case name `a`"
    );
}

#[test]
fn reports_semantic_problems_at_the_case() {
    let cases = [
        (
            format!("{HEADER}[[case]]\nscopes = [\"x\"]\n"),
            "scenarios/seed/example.toml:3:1: this [[case]] has no `name`",
        ),
        (
            format!("{HEADER}[[case]]\nname = \"Bad Name\"\nscopes = [\"x\"]\n"),
            "scenarios/seed/example.toml:4:8: case name `Bad Name` may use only a-z, 0-9 and -",
        ),
        (
            format!("{HEADER}[[case]]\nname = \"a\"\n"),
            "scenarios/seed/example.toml:3:1: case `a` has no `scopes`",
        ),
        (
            format!("{HEADER}[[case]]\nname = \"a\"\nscopes = [\"x\"]\nexpect.imap = \"rejected\"\n"),
            "scenarios/seed/example.toml:3:1: case `a` expects a imap result but has no imap probe",
        ),
        (
            format!("{HEADER}[app]\nname = \"nope\"\n[[case]]\nname = \"a\"\nscopes = [\"x\"]\n"),
            "scenarios/seed/example.toml:4:8: unknown app `nope`: the directory has `mail-client` and `mail-daemon`",
        ),
        (
            HEADER.to_owned(),
            "scenarios/seed/example.toml:1:1: a scenario needs at least one [[case]] or a [matrix]",
        ),
        (
            format!("{HEADER}[[case]]\nname = \"a\"\nscopes = [\"x\"]\nadmin_consent = []\n"),
            "scenarios/seed/example.toml:3:1: case `a`: `admin_consent` needs at least one scope, such as \"https://outlook.office365.com/.default\"",
        ),
        (
            format!("{HEADER}[[case]]\nname = \"a\"\nresource = \"https://graph.microsoft.com\"\n"),
            "scenarios/seed/example.toml:3:1: case `a`: `resource` (the v1.0 token endpoint) applies only to flow = \"password\"",
        ),
        (
            format!(
                "{HEADER}[[case]]\nname = \"a\"\nscopes = [\"x\"]\nprobes = [\"smtp\"]\nexpect.token.error = \"AADSTS28000\"\nexpect.smtp = \"rejected\"\n"
            ),
            "scenarios/seed/example.toml:3:1: case `a` expects no token (`expect.token.error`), so its probes can only be \"not-attempted\"",
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(parse_text(&text).unwrap_err().to_string(), expected);
    }
}

#[test]
fn probe_and_expectation_shorthands_reject_unknown_values() {
    let error = error_of(&format!(
        "{HEADER}[[case]]\nname = \"a\"\nscopes = [\"x\"]\nprobes = [\"smtps\"]\n"
    ));
    assert!(error.starts_with("scenarios/seed/example.toml:6:"), "{error}");
    assert!(error.contains("unknown variant `smtps`"), "{error}");
}

#[test]
fn password_probes_need_no_token_and_say_which_password() {
    let scenario = parse_text(&format!(
        "{HEADER}
[[case]]
name = \"passwords\"
flow = \"none\"
probes = [{{ protocol = \"smtp\", mechanism = \"login\" }}, {{ protocol = \"imap\", mechanism = \"plain\", password = \"wrong\" }}, \"pop3\"]
expect.smtp = \"authenticated\"
expect.imap = \"rejected\"
expect.pop3 = \"not-attempted\"

[[case]]
name = \"token-refused-password-still-tried\"
scopes = [\"https://outlook.office.com/SMTP.Send\"]
probes = [{{ protocol = \"smtp\", mechanism = \"login\" }}]
expect.token.error = \"AADSTS53003\"
expect.smtp = \"rejected\"
"
    ))
    .unwrap();

    let case = &scenario.cases[0];
    assert_eq!(case.request.flow, Flow::None);
    assert!(case.request.scopes.is_empty(), "no scopes are needed");
    assert_eq!(case.probes[0].mechanism, Mechanism::Login);
    assert_eq!(case.probes[0].password, None, "the user's own by default");
    assert_eq!(case.probes[1].password, Some(PasswordChoice::Wrong));
    assert_eq!(scenario.cases.len(), 2);
}

#[test]
fn password_and_flow_none_mistakes_are_reported_where_they_are() {
    for (case, wanted) in [
        (
            "probes = [{ protocol = \"smtp\", password = \"wrong\" }]\nscopes = []",
            "5:1: case `c`: `password` applies only to mechanism = \"login\" or \"plain\", not \"xoauth2\"",
        ),
        (
            "flow = \"none\"\nexpect.token.aud = \"x\"",
            "5:1: case `c`: flow = \"none\" requests no token, so `expect.token` cannot hold",
        ),
        (
            "flow = \"none\"\ninitial_scopes = [\"x\"]",
            "5:1: case `c`: `initial_scopes` needs a token request, and flow = \"none\" makes none",
        ),
        (
            "flow = \"none\"\nprobes = [\"smtp\"]\nexpect.smtp = \"authenticated\"",
            "5:1: case `c`: flow = \"none\" requests no token, so its OAuth probes can only be \"not-attempted\"",
        ),
        (
            "flow = \"none\"\nprobes = [{ protocol = \"smtp\", mechanism = \"basic\" }]",
            "unknown variant `basic`, expected one of `xoauth2`, `oauthbearer`, `login`, `plain`",
        ),
    ] {
        let text = format!("{HEADER}\n\n[[case]]\nname = \"c\"\n{case}\n");
        let error = error_of(&text);
        assert!(error.contains(wanted), "{case}\n→ {error}");
    }
}

#[test]
fn errors_speak_toml_and_suggest_the_key_or_value_meant() {
    for (case, wanted) in [
        ("scope = [\"x\"]", "unknown field `scope`, expected one of"),
        ("scope = [\"x\"]", ": did you mean `scopes`?"),
        ("scopes = \"x\"", "invalid type: string \"x\", expected an array"),
        (
            "scopes = []\nprobes = [\"smtpp\"]",
            "expected one of `smtp`, `imap`, `pop3`: did you mean `smtp`?",
        ),
        (
            "flow = \"authorisation_code\"",
            "did you mean `authorization_code`?",
        ),
        (
            "scopes = []\nexpect = []",
            "invalid type: array, expected a table",
        ),
    ] {
        let error = error_of(&format!("{HEADER}\n[[case]]\nname = \"c\"\n{case}\n"));
        assert!(error.contains(wanted), "{case}\n→ {error}");
        assert!(!error.contains("sequence") && !error.contains(" map"), "{error}");
    }
    // Nothing close: no guess.
    let error = error_of(&format!("{HEADER}\n[[case]]\nname = \"c\"\nzzzzzzzz = 1\n"));
    assert!(!error.contains("did you mean"), "{error}");
}

#[test]
fn a_matrix_too_large_is_refused_before_it_is_expanded() {
    let values = |key: &str, count: usize| {
        let items: Vec<String> = (0..count).map(|n| format!("[\"s{n}\"]")).collect();
        format!("{key} = [{}]", items.join(", "))
    };
    let scopes = values("scopes", 2000);
    let initial = values("initial_scopes", 1000);
    let text = format!("{HEADER}\n[matrix]\n{scopes}\n{initial}\n");
    let started = std::time::Instant::now();

    let error = error_of(&text);

    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    assert!(
        error.contains("the matrix expands to 2000000 cases (scopes 2000 × initial_scopes 1000); a file may hold at most 100000"),
        "{error}"
    );
    assert!(error.starts_with("scenarios/seed/example.toml:4:1: "), "{error}");
}

#[test]
fn a_file_that_is_not_utf8_is_reported_at_its_first_bad_byte() {
    let directory = std::env::temp_dir().join(format!("mailscope-utf8-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    let file = directory.join("latin1.toml");
    std::fs::write(&file, b"title = \"t\"\nsource = \"caf\xe9\"\n").unwrap();

    let error = load(&file).unwrap_err().to_string();

    assert!(
        error.ends_with(":2:14: byte 0xe9 is not UTF-8; a scenario file is UTF-8 text"),
        "{error}"
    );
    let _ = std::fs::remove_dir_all(&directory);
}

#[cfg(unix)]
#[test]
fn symbolic_link_loops_are_walked_once_and_each_file_found_once() {
    let root = std::env::temp_dir().join(format!("mailscope-loops-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("a")).unwrap();
    std::fs::write(root.join("a/one.toml"), "").unwrap();
    std::os::unix::fs::symlink(&root, root.join("a/up")).unwrap();
    std::os::unix::fs::symlink(root.join("a"), root.join("again")).unwrap();
    std::os::unix::fs::symlink(root.join("a/one.toml"), root.join("alias.toml")).unwrap();

    let found = discover(std::slice::from_ref(&root)).unwrap();

    assert_eq!(found.len(), 1, "{found:?}");
    let _ = std::fs::remove_dir_all(&root);
}

mod generative {
    use proptest::prelude::*;

    use super::*;

    const VALID: &str = r#"title = "t"
source = "s"
tags = ["smtp"]

[tenant]
smtp_basic_auth = "disabled"

[defaults]
flow = "authorization_code"
probes = ["smtp", { protocol = "imap", mechanism = "login", password = "wrong" }]

[[case]]
name = "a"
scopes = ["https://outlook.office.com/SMTP.Send"]
expect.smtp = { result = "rejected", reply = "535" }

[matrix]
scopes = [["SMTP.Send"], ["Mail.Send"]]
flow = ["device_code", "none"]
"#;

    /// One edit of a text: a character deleted, inserted or replaced, or a slice repeated.
    fn edit() -> impl Strategy<Value = (usize, u8, char)> {
        (
            any::<usize>(),
            0u8..4,
            prop_oneof![
                proptest::sample::select(vec![
                    '"', '[', ']', '{', '}', '=', '\n', ',', '.', '#', '\\', '\u{0}', 'é', '\u{202e}'
                ]),
                any::<char>(),
            ],
        )
    }

    fn apply(text: &str, edits: &[(usize, u8, char)]) -> String {
        let mut chars: Vec<char> = text.chars().collect();
        for &(at, kind, c) in edits {
            if chars.is_empty() {
                chars.push(c);
                continue;
            }
            let at = at % chars.len();
            match kind {
                0 => {
                    chars.remove(at);
                }
                1 => chars.insert(at, c),
                2 => chars[at] = c,
                _ => {
                    let end = (at + 40).min(chars.len());
                    let slice: Vec<char> = chars[at..end].to_vec();
                    chars.splice(at..at, slice);
                }
            }
        }
        chars.into_iter().collect()
    }

    fn cases() -> u32 {
        std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|cases| cases.parse().ok())
            .unwrap_or(256)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn a_mutated_scenario_loads_or_is_reported_at_a_place_in_the_file(edits in proptest::collection::vec(edit(), 1..6)) {
            let text = apply(VALID, &edits);
            match parse(Path::new("scenarios/seed/example.toml"), &text) {
                Ok(scenario) => prop_assert!(scenario.cases.len() <= MAX_CASES_PER_FILE),
                Err(error) => {
                    let lines = text.split('\n').count();
                    prop_assert!(error.line >= 1 && error.line <= lines + 1, "{error} in {lines} lines");
                    prop_assert!(error.column >= 1, "{error}");
                    prop_assert!(!error.message.is_empty());
                    prop_assert!(!error.message.contains("sequence"), "{error}");
                }
            }
        }

        #[test]
        fn any_text_at_all_is_loaded_or_reported(text in "\\PC{0,400}") {
            if let Err(error) = parse(Path::new("x.toml"), &text) {
                prop_assert!(error.line >= 1, "{error}");
            }
        }
    }
}
