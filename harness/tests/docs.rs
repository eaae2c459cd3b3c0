//! The shipped documentation is the project's own: `docs/rules.md` is what `mailscope rules`
//! prints, every rule a decision cites is described there, and nothing sends a reader to files
//! the repository does not have.

#![expect(clippy::unwrap_used, reason = "test helpers fail the test by panicking")]

use std::path::{Path, PathBuf};
use std::process::Command;

use mailscope::scenario;
use mailscope::target::Target;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

fn rules_md() -> String {
    std::fs::read_to_string(root().join("docs/rules.md")).unwrap()
}

#[test]
fn docs_rules_md_is_the_output_of_mailscope_rules() {
    let output = Command::new(env!("CARGO_BIN_EXE_mailscope"))
        .arg("rules")
        .output()
        .unwrap();
    assert!(output.status.success());

    let printed = String::from_utf8(output.stdout).unwrap();

    assert!(
        printed == rules_md(),
        "docs/rules.md is stale: run `cargo run -p mailscope -- rules > docs/rules.md`"
    );
}

#[test]
fn the_rule_reference_names_at_least_sixty_catalog_cases_with_sources() {
    let text = rules_md();
    let mut cited: Vec<&str> = text
        .lines()
        .filter_map(|line| line.strip_prefix("- `"))
        .filter_map(|line| line.split_once("`: ").map(|(id, _)| id))
        .collect();
    cited.sort_unstable();
    cited.dedup();

    assert!(cited.len() >= 60, "{} cases: {cited:?}", cited.len());
    assert!(text.matches("  - <https://").count() >= 120);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rule_a_shipped_case_decides_by_is_described_in_docs_rules_md() {
    let text = rules_md();
    let mut seen = std::collections::BTreeSet::new();
    let scenarios: Vec<_> = scenario::discover(&[root().join("scenarios")])
        .unwrap()
        .iter()
        .map(|file| scenario::load(file).unwrap())
        .collect();
    // As `mailscope run` runs them: concurrently, on clouds kept and reset between cases.
    let options = mailscope::runner::RunOptions {
        target: Target::Simulated,
        jobs: 8,
    };
    mailscope::runner::run_all(scenarios, options, |_, case, result| {
        let outcome = result.unwrap();
        assert!(!outcome.decisions.is_empty(), "{}: no decision recorded", case.id);
        seen.extend(outcome.decisions.iter().map(|staged| staged.decision.rule.id));
    })
    .await;
    for id in &seen {
        assert!(
            text.contains(&format!("\n### {id}\n")),
            "rule {id} is not in docs/rules.md"
        );
    }
    assert!(seen.len() >= 20, "{seen:?}");
}

#[test]
fn nothing_shipped_sends_a_reader_to_documents_the_repository_does_not_have() {
    let mut offenders = Vec::new();
    let mut pending = vec![
        root().join("README.md"),
        root().join("ARCHITECTURE.md"),
        root().join("docs"),
        root().join("scenarios/README.md"),
        root().join("harness/src"),
        root().join("mocks/src"),
    ];
    while let Some(path) = pending.pop() {
        if path.is_dir() {
            pending.extend(
                std::fs::read_dir(&path)
                    .unwrap()
                    .flatten()
                    .map(|entry| entry.path()),
            );
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        for (number, line) in text.lines().enumerate() {
            if line.contains("shared/") || line.contains("FIDELITY.md") || line.contains("SCENARIOS.md") {
                offenders.push(format!("{}:{}: {line}", path.display(), number + 1));
            }
        }
    }
    assert!(offenders.is_empty(), "{}", offenders.join("\n"));
}

/// Catalog cases a scenario cannot express, because the probes authenticate first and send only
/// well-formed lines, or because they are about the mail behind the front doors, which a scenario
/// does not look at; the front doors' unit tests pin each of them by name instead.
const EXERCISED_BY_FRONT_DOOR_TESTS: &[&str] = &[
    "smtp-mail-from-without-auth",
    "smtp-cancel-exchange",
    "smtp-misc-transport",
    "long-token-protocol-error",
    "mailbox-default-folders",
    "smtp-submission-saved-to-sent-items",
    "imap-mailbox-commands",
    "imap-idle",
    "pop3-maildrop",
    "id-token-client-info",
];

#[test]
fn every_simulated_catalog_case_is_named_by_a_shipped_scenario_or_a_front_door_test() {
    let mut named = std::collections::BTreeSet::new();
    for file in scenario::discover(&[root().join("scenarios")]).unwrap() {
        named.extend(scenario::load(&file).unwrap().file.tags);
    }
    let not_simulated: Vec<&str> = mailscope_mocks::rulebook::NOT_SIMULATED
        .iter()
        .map(|(id, _)| *id)
        .collect();

    let unnamed: Vec<&str> = mailscope_mocks::catalog::cases()
        .iter()
        .map(|case| case.id.as_str())
        .filter(|id| !named.contains(*id) && !not_simulated.contains(id))
        .collect();

    assert_eq!(unnamed, EXERCISED_BY_FRONT_DOOR_TESTS);
    let tests: String = ["mocks/src/exchange", "mocks/src/identity"]
        .iter()
        .flat_map(|directory| std::fs::read_dir(root().join(directory)).unwrap())
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_string_lossy().ends_with("_tests.rs"))
        .map(|path| std::fs::read_to_string(path).unwrap())
        .collect();
    for id in EXERCISED_BY_FRONT_DOOR_TESTS {
        assert!(tests.contains(id), "no front-door test names {id}");
    }
}
