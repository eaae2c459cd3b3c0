//! What `mailscope run` reports for CI and for people: selection (tags, filters, shards), JUnit
//! checked against Jenkins' schema, Markdown bug reports without secrets, `mailscope report`, and
//! `--check-snapshots`.

#![expect(clippy::unwrap_used, reason = "test helpers fail the test by panicking")]

use std::path::{Path, PathBuf};
use std::process::Output;

mod common;
use common::{HEADER, mailscope, scenario_file, seed_case_count, stderr, stdout, walk, workspace};

fn ids(output: &Output) -> Vec<String> {
    stdout(output)
        .lines()
        .filter(|line| line.starts_with("ok ") || line.starts_with("rec ") || line.starts_with("FAIL "))
        .map(|line| line.split_whitespace().nth(1).unwrap().to_owned())
        .collect()
}

#[test]
fn shards_partition_the_selected_cases_and_tags_and_filters_select() {
    let all = ids(&mailscope(&["run", "--tag", "seed"]));
    let mut shards: Vec<String> = (1..=3)
        .flat_map(|k| {
            ids(&mailscope(&[
                "run",
                "--tag",
                "seed",
                "--shard",
                &format!("{k}/3"),
            ]))
        })
        .collect();
    shards.sort();
    let mut sorted = all.clone();
    sorted.sort();
    assert_eq!(shards, sorted);
    assert_eq!(all.len(), seed_case_count());

    let filtered = ids(&mailscope(&["run", "--filter", "graph-scope-added/"]));
    assert_eq!(filtered.len(), 3);
    assert_eq!(mailscope(&["run", "--shard", "4/3"]).status.code(), Some(2));
}

#[test]
fn junit_output_is_well_formed_and_carries_failures() {
    let swapped = "[[case]]\nname = \"order\"\nscopes = [\"Mail.Send\", \"https://outlook.office.com/SMTP.Send\"]\nprobes = [\"smtp\"]\nexpect.smtp = \"authenticated\"\n";
    let failing = scenario_file("junit", "order.toml", &format!("{HEADER}{swapped}"));
    let output = mailscope(&[
        "run",
        "--format",
        "junit",
        "scenarios/seed/outlook-scope.toml",
        failing.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let xml = stdout(&output);

    let check = common::python()
        .args([
            "-c",
            r#"
import sys, xml.etree.ElementTree as ET
root = ET.fromstring(sys.stdin.read())
assert root.tag == "testsuites", root.tag
cases = root.findall("./testsuite/testcase")
failures = root.findall("./testsuite/testcase/failure")
print(len(cases), len(failures), failures[0].get("message"), root.get("failures"))
"#,
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    let mut child = check;
    child.stdin.take().unwrap().write_all(xml.as_bytes()).unwrap();
    let parsed = child.wait_with_output().unwrap();
    assert!(parsed.status.success(), "{xml}");
    assert_eq!(
        String::from_utf8_lossy(&parsed.stdout).trim(),
        "4 1 expectations not met 1"
    );
    assert!(
        xml.contains("smtp: expected authenticated, got rejected"),
        "{xml}"
    );
}

/// Validates `xml` against Jenkins' junit-10.xsd with lxml; returns lxml's verdict and errors.
fn validate_junit(xml: &str) -> String {
    let xsd = std::env::var_os("MAILSCOPE_JUNIT_XSD")
        .map_or_else(|| workspace().join("target/junit/junit-10.xsd"), PathBuf::from);
    assert!(
        xsd.is_file(),
        "{} is missing: `scripts/prerequisites` fetches it (`make test` runs it)",
        xsd.display()
    );
    let mut child = common::python()
        .args([
            "-c",
            "import sys\nfrom lxml import etree\nschema = etree.XMLSchema(etree.parse(sys.argv[1]))\nok = schema.validate(etree.fromstring(sys.stdin.buffer.read()))\nprint(ok, [str(e) for e in schema.error_log][:5])",
        ])
        .arg(&xsd)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child.stdin.take().unwrap().write_all(xml.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    format!("{}{}", String::from_utf8_lossy(&output.stdout), stderr(&output))
}

#[test]
fn junit_output_validates_against_the_jenkins_schema() {
    let whole_suite = stdout(&mailscope(&["run", "--format", "junit", "scenarios"]));
    assert_eq!(validate_junit(&whole_suite).trim(), "True []");

    // A failure carries its own element and attributes.
    let swapped = "[[case]]\nname = \"order\"\nscopes = [\"Mail.Send\", \"https://outlook.office.com/SMTP.Send\"]\nprobes = [\"smtp\"]\nexpect.smtp = \"authenticated\"\n";
    let failing = scenario_file("junit-xsd", "order.toml", &format!("{HEADER}{swapped}"));
    let with_failure = stdout(&mailscope(&[
        "run",
        "--format",
        "junit",
        failing.to_str().unwrap(),
    ]));
    assert!(with_failure.contains("<failure "), "{with_failure}");
    assert_eq!(validate_junit(&with_failure).trim(), "True []");
}

#[test]
fn reports_are_readable_and_hold_no_secret() {
    let directory = Path::new(env!("CARGO_TARGET_TMPDIR")).join("reports");
    let _ = std::fs::remove_dir_all(&directory);
    let output = mailscope(&[
        "run",
        "--report",
        directory.to_str().unwrap(),
        "scenarios/seed",
        "scenarios/microsoft-docs/ccg-outlook365-default.toml",
        "scenarios/microsoft-docs/ropc-exchange.toml",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));

    let mut reports = 0;
    for entry in std::fs::read_dir(&directory).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        reports += 1;
        assert!(text.starts_with("# "));
        assert!(text.contains("## What was attempted") && text.contains("## Rules and sources"));
        assert!(!text.contains("eyJ0eXAi") && !text.contains("eyJhbGci"), "no JWT");
        assert!(
            !text.contains(mailscope_mocks::directory::MAIL_DAEMON_SECRET),
            "no client secret"
        );
        assert!(
            !text.contains(mailscope_mocks::directory::ADELE_PASSWORD),
            "no password"
        );
    }
    assert_eq!(reports, seed_case_count() + 3 + 4);
}

/// Copies the shipped snapshots of `scenarios/seed` into a fresh directory of this test.
fn copy_of_seed_snapshots(test: &str) -> PathBuf {
    let directory = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli").join(test);
    let _ = std::fs::remove_dir_all(&directory);
    let from = workspace().join("snapshots/seed");
    for entry in walk(&from) {
        let to = directory.join("seed").join(entry.strip_prefix(&from).unwrap());
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&entry, &to).unwrap();
    }
    directory
}

#[test]
fn check_snapshots_passes_on_the_kept_snapshots_and_names_each_change() {
    let snapshots = copy_of_seed_snapshots("check-snapshots");
    let as_kept = mailscope(&[
        "run",
        "--check-snapshots",
        "--snapshots",
        snapshots.to_str().unwrap(),
        "scenarios/seed",
    ]);
    assert_eq!(as_kept.status.code(), Some(0), "{}", stdout(&as_kept));

    // One snapshot edited, one deleted: both cases fail, and only they.
    let edited = snapshots.join("seed/outlook-scope/outlook-then-send.snap");
    let text = std::fs::read_to_string(&edited).unwrap();
    std::fs::write(&edited, text.replace("scp: SMTP.Send", "scp: SMTP.Sent")).unwrap();
    std::fs::remove_file(snapshots.join("seed/graph-scope/bare-smtp-send.snap")).unwrap();
    let output = mailscope(&[
        "run",
        "--check-snapshots",
        "--snapshots",
        snapshots.to_str().unwrap(),
        "scenarios/seed",
    ]);

    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    let cases = seed_case_count();
    assert!(
        text.ends_with(&format!("{} passed, 2 failed\n", cases - 2)),
        "{text}"
    );
    assert!(
        text.contains("FAIL  seed/outlook-scope/outlook-then-send "),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "      - snapshot differs from {}:\n        --- kept\n        +++ now\n",
            edited.display()
        )),
        "{text}"
    );
    assert!(
        text.contains("        -    scp: SMTP.Sent\n        +    scp: SMTP.Send\n"),
        "{text}"
    );
    assert!(
        text.contains("FAIL  seed/graph-scope/bare-smtp-send ")
            && text.contains(&format!(
                "      - snapshot: none is kept at {} (`mailscope run --update-snapshots` writes one to review)\n",
                snapshots.join("seed/graph-scope/bare-smtp-send.snap").display()
            )),
        "{text}"
    );
}

#[test]
fn report_runs_one_case_and_prints_its_markdown() {
    let output = mailscope(&["report", "seed/graph-scope-added/graph-scope-first"]);

    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}{}", stderr(&output));
    assert!(text.starts_with("# "), "{text}");
    assert!(
        text.contains("- **Case**: `seed/graph-scope-added/graph-scope-first`"),
        "{text}"
    );
    assert!(
        text.contains("| `aud` | `00000003-0000-0000-c000-000000000000` |"),
        "{text}"
    );
    assert!(!text.contains("eyJ"), "no token in a report");

    let unknown = mailscope(&["report", "seed/no-such/case"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("no case `seed/no-such/case`"));
}
