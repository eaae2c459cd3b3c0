//! `mailscope explain` runs the case through the simulation `run` uses: a pasted scope string
//! gets the token, verdicts and decisions a scenario case with those scopes gets, and a directory
//! that admits an audience is explained without contradiction.

use std::path::Path;
use std::process::Command;

use mailscope::explain::{case_from, explain};
use mailscope::runner::run_case;
use mailscope::scenario::types::{DirectoryFile, Flow, Mechanism, ProbeSpec, Protocol};
use mailscope::scenario::{self, Request};
use mailscope::target::Target;

fn decisions(outcome: &mailscope::outcome::Outcome) -> Vec<(String, String, String)> {
    outcome
        .decisions
        .iter()
        .map(|staged| {
            (
                staged.stage.clone(),
                staged.decision.rule.id.to_owned(),
                staged.decision.outcome.clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_pasted_scope_string_is_explained_as_run_runs_it() {
    let pasted = "offline_access Mail.Send https://outlook.office.com/SMTP.Send";
    let (scenario, case) = case_from(
        DirectoryFile::default(),
        Request::new(Flow::AuthorizationCode, vec![pasted.to_owned()]),
        vec![
            ProbeSpec::new(Protocol::Smtp, Mechanism::Xoauth2),
            ProbeSpec::new(Protocol::Imap, Mechanism::Xoauth2),
        ],
    );
    let explained = explain(&scenario, &case).await.unwrap();

    let file = scenario::parse(
        Path::new("scenarios/pasted.toml"),
        r#"
title = "the same scopes, written as a scenario"
source = "a test"
[[case]]
name = "pasted"
scopes = ["offline_access", "Mail.Send", "https://outlook.office.com/SMTP.Send"]
probes = ["smtp", "imap"]
"#,
    )
    .unwrap();
    let run = run_case(&Target::Simulated, &file, &file.cases[0]).await.unwrap();

    assert_eq!(explained.request.scopes, run.request.scopes);
    assert_eq!(explained.token.summary(), run.token.summary());
    assert_eq!(
        explained.token.summary().aud.as_deref(),
        Some("00000003-0000-0000-c000-000000000000")
    );
    let results = |outcome: &mailscope::outcome::Outcome| {
        outcome
            .probes
            .iter()
            .map(|probe| (probe.result, probe.reply.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(results(&explained), results(&run));
    assert_eq!(decisions(&explained), decisions(&run));
    let rules: Vec<String> = decisions(&explained)
        .into_iter()
        .map(|(_, rule, _)| rule)
        .collect();
    assert!(rules.contains(&"first-scope-wins".to_owned()), "{rules:?}");
    assert!(
        !rules.contains(&"permission-registration".to_owned()),
        "{rules:?}"
    );
}

#[tokio::test]
async fn an_admitted_graph_audience_is_authenticated_with_no_contradicting_reason() {
    let directory: DirectoryFile = toml::from_str(
        r#"
[tenant]
exchange_extra_audiences = ["00000003-0000-0000-c000-000000000000"]
"#,
    )
    .unwrap();
    let (scenario, case) = case_from(
        directory,
        Request::new(Flow::AuthorizationCode, vec!["Mail.Send SMTP.Send".to_owned()]),
        vec![ProbeSpec::new(Protocol::Smtp, Mechanism::Xoauth2)],
    );

    let outcome = explain(&scenario, &case).await.unwrap();

    assert_eq!(outcome.probes[0].result.as_str(), "authenticated");
    let refusals: Vec<_> = decisions(&outcome)
        .into_iter()
        .filter(|(_, _, text)| text.contains("refused") || text.contains("Refused"))
        .collect();
    assert!(refusals.is_empty(), "{refusals:?}");
    let audience = decisions(&outcome)
        .into_iter()
        .find(|(_, rule, _)| rule == "exchange-audiences")
        .unwrap();
    assert!(audience.2.contains("exchange_extra_audiences"), "{audience:?}");
}

#[test]
fn the_command_prints_the_verdicts_and_each_decision_with_its_rule() {
    let output = Command::new(env!("CARGO_BIN_EXE_mailscope"))
        .args([
            "explain",
            "--scope",
            "Mail.Send https://outlook.office.com/SMTP.Send",
            "--protocol",
            "smtp",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();

    assert!(output.status.success(), "{text}");
    assert!(
        text.starts_with("token: aud 00000003-0000-0000-c000-000000000000  [Mail.Send SMTP.Send]\nsmtp  rejected: 535 5.7.3 Authentication unsuccessful\n"),
        "{text}"
    );
    assert!(
        text.contains("[first-scope-wins] The first resource-bearing scope, `Mail.Send`, decides"),
        "{text}"
    );
    assert!(
        text.contains("[exchange-audiences] The token is refused: aud 00000003"),
        "{text}"
    );
    assert!(!text.contains("FIDELITY"), "{text}");
}
