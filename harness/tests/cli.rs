//! The `mailscope` binary as a user runs it: exit statuses, the closing line, the JSON contract,
//! and `path:line:column` errors for bad files.
use std::process::Command;

mod common;
use common::{HEADER, mailscope, scenario_file, seed_case_count, stderr, stdout};

#[test]
fn run_prints_every_seed_case_met_and_exits_0() {
    let output = mailscope(&["run", "scenarios/seed"]);

    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}{}", stderr(&output));
    let cases = seed_case_count();
    assert_eq!(
        text.lines().last(),
        Some(format!("{cases} passed, 0 failed").as_str())
    );
    assert_eq!(text.lines().filter(|line| line.starts_with("ok ")).count(), cases);
}

#[test]
fn json_lines_carry_every_contract_field() {
    let output = mailscope(&["run", "--format", "json", "scenarios/seed"]);

    assert_eq!(output.status.code(), Some(0));
    let lines: Vec<serde_json::Value> = stdout(&output)
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is one JSON object"))
        .collect();
    assert_eq!(lines.len(), seed_case_count());
    for line in &lines {
        assert!(line["id"].is_string());
        for field in ["aud", "scp", "roles", "ver", "error"] {
            assert!(line["token"].get(field).is_some(), "token.{field} in {line}");
        }
        for probe in line["probes"].as_array().unwrap() {
            for field in ["protocol", "mechanism", "result", "reply"] {
                assert!(probe.get(field).is_some(), "probes[].{field} in {line}");
            }
        }
        assert_eq!(line["expectation"], "met");
        assert_eq!(line["mismatches"], serde_json::json!([]));
    }
    let graph_first = lines
        .iter()
        .find(|line| line["id"] == "seed/graph-scope-added/graph-scope-first")
        .unwrap();
    assert_eq!(
        graph_first["token"]["aud"],
        "00000003-0000-0000-c000-000000000000"
    );
    assert_eq!(
        graph_first["token"]["scp"],
        serde_json::json!(["Mail.Send", "SMTP.Send"])
    );
    assert_eq!(graph_first["token"]["roles"], serde_json::Value::Null);
    assert_eq!(graph_first["probes"][0]["result"], "rejected");
    assert!(
        graph_first["probes"][0]["reply"]
            .as_str()
            .unwrap()
            .starts_with("535 5.7.3 Authentication unsuccessful [")
    );
    let refused = lines
        .iter()
        .find(|line| line["id"] == "seed/graph-scope-added-rejected/graph-scope-first")
        .unwrap();
    assert_eq!(refused["token"]["error"], "AADSTS28000");
    assert_eq!(refused["probes"][0]["reply"], serde_json::Value::Null);
}

#[test]
fn bad_files_exit_2_with_path_line_column_and_nothing_runs() {
    let cases = [
        (
            "unknown-key",
            format!("{HEADER}[[case]]\nname = \"a\"\nscopes = [\"x\"]\nexpect.token.audience = \"x\"\n"),
            ":6:14: unknown field `audience`",
        ),
        (
            "wrong-type",
            format!("{HEADER}[[case]]\nname = \"a\"\nscopes = [\"x\"]\nprobes = \"smtp\"\n"),
            ":6:10: invalid type: string \"smtp\", expected an array",
        ),
        (
            "duplicate-name",
            format!(
                "{HEADER}[[case]]\nname = \"a\"\nscopes = [\"x\"]\n[[case]]\nname = \"a\"\nscopes = [\"x\"]\n"
            ),
            ":7:8: duplicate case name `a`",
        ),
    ];
    for (test, text, expected) in cases {
        let good = scenario_file(
            test,
            "good.toml",
            &format!(
                "{HEADER}[[case]]\nname = \"fine\"\nscopes = [\"https://outlook.office.com/SMTP.Send\"]\n"
            ),
        );
        let bad = good.with_file_name("bad.toml");
        std::fs::write(&bad, text).unwrap();

        let output = mailscope(&["run", good.parent().unwrap().to_str().unwrap()]);

        assert_eq!(output.status.code(), Some(2), "{test}");
        let message = stderr(&output);
        assert!(
            message.starts_with(&format!("{}{expected}", bad.display())),
            "{test}: {message}"
        );
        assert_eq!(
            stdout(&output),
            "",
            "{test}: nothing runs, not even the good file"
        );
    }
}

#[test]
fn swapping_two_scopes_flips_the_outcome_with_no_code_change() {
    let outlook_first = "[[case]]\nname = \"order\"\nscopes = [\"https://outlook.office.com/SMTP.Send\", \"Mail.Send\"]\nprobes = [\"smtp\"]\nexpect.token.aud = \"https://outlook.office.com\"\nexpect.smtp = \"authenticated\"\n";
    let passing = scenario_file("order-pass", "order.toml", &format!("{HEADER}{outlook_first}"));
    let output = mailscope(&["run", passing.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));

    let swapped = outlook_first.replace(
        "[\"https://outlook.office.com/SMTP.Send\", \"Mail.Send\"]",
        "[\"Mail.Send\", \"https://outlook.office.com/SMTP.Send\"]",
    );
    let failing = scenario_file("order-fail", "order.toml", &format!("{HEADER}{swapped}"));
    let output = mailscope(&["run", failing.to_str().unwrap()]);

    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("FAIL  order/order"), "{text}");
    assert!(
        text.contains(
            "token.aud: expected \"https://outlook.office.com\", got \"00000003-0000-0000-c000-000000000000\""
        ),
        "{text}"
    );
    assert!(
        text.contains("smtp: expected authenticated, got rejected (535 5.7.3 Authentication unsuccessful"),
        "{text}"
    );
    assert_eq!(text.lines().last(), Some("0 passed, 1 failed"));
}

#[test]
fn one_directory_setting_flips_the_outcome_with_no_code_change() {
    let case = "[[case]]\nname = \"setting\"\nscopes = [\"https://outlook.office.com/SMTP.Send\"]\nprobes = [\"smtp\"]\nexpect.smtp = \"authenticated\"\n";
    let mailbox_off = scenario_file(
        "mailbox-off",
        "setting.toml",
        &format!("{HEADER}[user]\nsmtp_client_authentication = false\n{case}"),
    );

    let output = mailscope(&["run", mailbox_off.to_str().unwrap()]);

    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains(
            "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox."
        ),
        "{text}"
    );
}

#[test]
fn unknown_subcommands_and_flags_exit_2() {
    assert_eq!(mailscope(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(mailscope(&["run", "--format", "yaml"]).status.code(), Some(2));
    assert_eq!(mailscope(&["run", "no/such/path"]).status.code(), Some(2));
}

#[test]
fn selecting_no_case_is_an_error_naming_the_selector() {
    for (args, wanted) in [
        (
            vec!["run", "--tag", "nosuchtag", "scenarios/seed"],
            "error: no case selected: no scenario has the tag `nosuchtag`",
        ),
        (
            vec!["run", "--filter", "zzzz", "scenarios/seed"],
            "error: no case selected: no case id contains `zzzz`",
        ),
        (
            vec!["run", "--tag", "seed", "--filter", "zzzz", "scenarios/seed"],
            "error: no case selected: no case tagged `seed` has an id containing `zzzz`",
        ),
    ] {
        let output = mailscope(&args);

        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&output).starts_with(wanted),
            "{args:?}: {}",
            stderr(&output)
        );
        assert_eq!(stdout(&output), "", "{args:?}: nothing runs");
    }
    let empty = common::workspace().join("target/cli-empty-directory");
    std::fs::create_dir_all(&empty).unwrap();
    let output = mailscope(&["run", empty.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("no scenario file was found"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn filters_repeat_and_select_any_of_them() {
    let output = mailscope(&[
        "run",
        "--filter",
        "outlook-only",
        "--filter",
        "graph-scope-first",
        "scenarios/seed",
    ]);

    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    let ids: Vec<&str> = text
        .lines()
        .filter_map(|line| line.split_whitespace().nth(1))
        .filter(|id| id.starts_with("seed/"))
        .collect();
    assert!(ids.iter().any(|id| id.ends_with("/outlook-only")), "{text}");
    assert!(ids.iter().any(|id| id.contains("graph-scope-first")), "{text}");
    assert!(
        ids.iter()
            .all(|id| id.contains("outlook-only") || id.contains("graph-scope-first")),
        "{text}"
    );
}

#[test]
fn two_files_giving_the_same_case_id_are_a_load_error_naming_both() {
    let text = format!("{HEADER}[[case]]\nname = \"x\"\nscopes = []\n");
    let first = scenario_file("duplicate-a", "same.toml", &text);
    let second = scenario_file("duplicate-b", "same.toml", &text);

    let output = mailscope(&["run", first.to_str().unwrap(), second.to_str().unwrap()]);

    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert!(
        text.contains(":1:1: case id `same/x` is also the id of a case of "),
        "{text}"
    );
    assert!(
        text.contains("duplicate-a/same.toml") && text.contains("duplicate-b/same.toml"),
        "{text}"
    );
    assert_eq!(stdout(&output), "", "nothing runs");
}

#[test]
fn every_command_has_examples_in_its_help_and_help_help_works() {
    let root = mailscope(&["--help"]);
    let text = stdout(&root);
    assert!(
        text.contains("Examples:") && text.contains("Exit status:"),
        "{text}"
    );
    let commands: Vec<String> = text
        .split("Commands:")
        .nth(1)
        .unwrap()
        .lines()
        .skip(1)
        .take_while(|line| !line.trim().is_empty())
        .filter_map(|line| line.split_whitespace().next().map(str::to_owned))
        .collect();
    assert!(commands.len() >= 12, "{commands:?}");
    for command in &commands {
        let help = mailscope(&[command, "--help"]);
        assert_eq!(help.status.code(), Some(0), "{command}");
        assert!(
            stdout(&help).contains("Examples:"),
            "{command} --help has no example"
        );
    }
    let help_help = mailscope(&["help", "--help"]);
    assert_eq!(help_help.status.code(), Some(0));
    let help_run = mailscope(&["help", "run"]);
    assert!(stdout(&help_run).contains("--check-snapshots"));
}

#[test]
fn completions_and_the_manual_are_generated_from_the_parser() {
    let bash = mailscope(&["completions", "bash"]);
    assert_eq!(bash.status.code(), Some(0));
    assert!(stdout(&bash).contains("--check-snapshots"));
    let man = mailscope(&["man"]);
    assert!(
        stdout(&man).starts_with(".ie") && stdout(&man).contains(".SH NAME"),
        "{}",
        stdout(&man)
    );
    let man_run = mailscope(&["man", "run"]);
    assert!(stdout(&man_run).contains("mailscope\\-run"));
    assert_eq!(mailscope(&["man", "nosuch"]).status.code(), Some(2));
}

#[test]
fn colour_follows_the_flag_and_never_reaches_a_pipe_by_default() {
    let plain = mailscope(&["run", "scenarios/seed/outlook-scope.toml"]);
    assert!(!stdout(&plain).contains('\u{1b}'), "not a terminal: no colour");
    let always = mailscope(&["--color", "always", "run", "scenarios/seed/outlook-scope.toml"]);
    assert!(
        stdout(&always).starts_with("\u{1b}[32mok\u{1b}[0m "),
        "{}",
        stdout(&always)
    );
    let quiet = mailscope(&["run", "-q", "-j", "2", "scenarios/seed/outlook-scope.toml"]);
    assert_eq!(
        stdout(&quiet).lines().count(),
        1,
        "only the closing line: {}",
        stdout(&quiet)
    );
}

#[test]
fn a_suite_outside_the_repository_keeps_its_own_snapshots_without_cargo() {
    let suite = std::env::temp_dir().join(format!("mailscope-own-suite-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&suite);
    std::fs::create_dir_all(&suite).unwrap();
    let file = suite.join("login.toml");
    std::fs::write(
        &file,
        format!("{HEADER}[[case]]\nname = \"smtp\"\nscopes = [\"https://outlook.office.com/SMTP.Send\"]\nprobes = [\"smtp\"]\n"),
    )
    .unwrap();
    let file = file.to_str().unwrap();
    let kept = suite.join("snapshots/login/smtp.snap");

    let missing = mailscope(&["run", "--check-snapshots", file]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stdout(&missing).contains(&format!("snapshot: none is kept at {}", kept.display())),
        "{}",
        stdout(&missing)
    );

    let update = mailscope(&["run", "--update-snapshots", file]);
    assert_eq!(update.status.code(), Some(1), "pending snapshots fail the run");
    assert!(
        stderr(&update).contains("1 snapshot(s) pending review"),
        "{}",
        stderr(&update)
    );
    assert!(suite.join("snapshots/login/smtp.snap.new").is_file());

    let unattended = mailscope(&["review", file]);
    assert_eq!(
        unattended.status.code(),
        Some(1),
        "no terminal, no verdict: nothing accepted"
    );
    assert!(!kept.exists());

    let review = mailscope(&["review", "--accept", file]);
    assert_eq!(review.status.code(), Some(0), "{}", stderr(&review));
    assert!(
        stdout(&review).contains("+    reply: 235 2.7.0 Authentication successful"),
        "the diff is shown"
    );
    assert!(
        stdout(&review)
            .trim_end()
            .ends_with("1 accepted, 0 rejected, 0 skipped")
    );
    assert!(kept.is_file());

    let check = mailscope(&["run", "--check-snapshots", file]);
    assert_eq!(check.status.code(), Some(0), "{}", stdout(&check));

    let edited = std::fs::read_to_string(&kept)
        .unwrap()
        .replace("Authentication successful", "Authentication OK");
    std::fs::write(&kept, edited).unwrap();
    let differs = mailscope(&["run", "--check-snapshots", file]);
    assert_eq!(differs.status.code(), Some(1));
    let text = stdout(&differs);
    assert!(
        text.contains(&format!("snapshot differs from {}:", kept.display())),
        "{text}"
    );
    assert!(text.contains("-    reply: 235 2.7.0 Authentication OK"), "{text}");
    let _ = std::fs::remove_dir_all(&suite);
}

#[test]
fn a_run_from_a_subdirectory_finds_the_project_file() {
    let output = Command::new(env!("CARGO_BIN_EXE_mailscope"))
        .args(["run", "-q", "--check-snapshots", "--filter", "seed/outlook-scope"])
        .current_dir(common::workspace().join("harness"))
        .output()
        .unwrap();

    assert_eq!(
        output.status.code(),
        Some(0),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
}

#[test]
fn the_shards_of_the_shipped_suite_are_disjoint_and_together_the_whole() {
    let ids = |args: &[&str]| -> Vec<String> {
        let output = mailscope(args);
        assert_eq!(output.status.code(), Some(0), "{args:?}: {}", stderr(&output));
        stdout(&output).lines().map(str::to_owned).collect()
    };
    let whole = ids(&["run", "--list", "scenarios"]);
    assert!(
        whole.len() > 100 && whole.iter().all(|id| id.contains('/')),
        "{whole:?}"
    );
    let mut shards: Vec<String> = Vec::new();
    for k in 1..=3 {
        let shard = ids(&["run", "--list", "--shard", &format!("{k}/3"), "scenarios"]);
        assert!(!shard.is_empty());
        assert!(
            shard.iter().all(|id| !shards.contains(id)),
            "shard {k} overlaps an earlier one"
        );
        shards.extend(shard);
    }
    shards.sort();
    let mut whole_sorted = whole.clone();
    whole_sorted.sort();
    assert_eq!(shards, whole_sorted);
}

#[test]
fn a_case_sees_nothing_of_the_case_before_it_on_the_same_cloud() {
    // One job: both cases run on one cloud, reset between them. The first consents to SMTP.Send
    // at sign-in; the second's password grant cannot consent, so it is refused, as on a new cloud.
    let file = scenario_file(
        "isolation",
        "isolation.toml",
        &format!(
            "{HEADER}[[case]]\nname = \"consents\"\nscopes = [\"https://outlook.office.com/SMTP.Send\"]\nexpect.token.aud = \"https://outlook.office.com\"\n\n[[case]]\nname = \"ropc-after\"\nflow = \"password\"\nscopes = [\"https://outlook.office.com/SMTP.Send\"]\nexpect.token.error = \"AADSTS65001\"\n"
        ),
    );

    let output = mailscope(&["run", "-j", "1", file.to_str().unwrap()]);

    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(
        stdout(&output).ends_with("2 passed, 0 failed\n"),
        "{}",
        stdout(&output)
    );
}
