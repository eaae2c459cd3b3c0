//! `mailscope explain`: runs one case through the simulated cloud, by the same code `run` uses,
//! and prints what the simulation decided, decision by decision, each with its rule.
//!
//! Nothing here restates a rule: every sentence comes from a decision the simulated identity
//! platform or Exchange recorded while answering the case.

use std::path::PathBuf;

use crate::outcome::{Outcome, StagedDecision, TokenRecord, protocol_name};
use crate::runner::{CaseError, run_case};
use crate::scenario::types::{CaseSpec, DirectoryFile, ProbeSpec, ScenarioFile};
use crate::scenario::{Case, Request, Scenario};
use crate::target::Target;

/// The id `explain` gives the case it builds from the command line.
pub const CASE_ID: &str = "explain/command-line";

/// Builds the scenario and case a command line asks about: the directory's changes, one request,
/// and its probes. A scope argument holding spaces is split as the wire would.
pub fn case_from(directory: DirectoryFile, request: Request, probes: Vec<ProbeSpec>) -> (Scenario, Case) {
    let mut request = request;
    request.scopes = split_scopes(&request.scopes);
    request.authorize_scopes = request.authorize_scopes.as_deref().map(split_scopes);
    request.initial_scopes = request.initial_scopes.as_deref().map(split_scopes);
    request.admin_consent = request.admin_consent.as_deref().map(split_scopes);
    let file = ScenarioFile {
        title: "mailscope explain".into(),
        source: "the command line".into(),
        tags: Vec::new(),
        tenant: directory.tenant,
        app: directory.app,
        user: directory.user,
        defaults: CaseSpec::default(),
        cases: Vec::new(),
        matrix: None,
    };
    let case = Case {
        id: CASE_ID.into(),
        name: "command-line".into(),
        request,
        probes,
        expect: None,
    };
    let scenario = Scenario {
        path: PathBuf::from("explain.toml"),
        file,
        cases: vec![case.clone()],
    };
    (scenario, case)
}

/// Splits each scope argument on spaces: `"offline_access Mail.Send"` is two scopes, as it is on
/// the wire.
fn split_scopes(scopes: &[String]) -> Vec<String> {
    scopes
        .iter()
        .flat_map(|scope| scope.split(' '))
        .filter(|scope| !scope.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Runs `case` of `scenario` on the simulated cloud and returns its outcome, decisions included.
pub async fn explain(scenario: &Scenario, case: &Case) -> Result<Outcome, CaseError> {
    run_case(&Target::Simulated, scenario, case).await
}

/// Renders an outcome's token, replies and decisions for a terminal.
pub fn render(outcome: &Outcome) -> String {
    let mut text = String::new();
    let summary = outcome.token.summary();
    match &outcome.token {
        TokenRecord::Issued { claims: None, .. } => {
            text.push_str("token: issued, opaque (a personal account's token is not a JWT)\n");
        }
        TokenRecord::Issued { .. } => text.push_str(&format!(
            "token: aud {}  [{}]\n",
            summary.aud.as_deref().unwrap_or("(none)"),
            summary.scp.or(summary.roles).unwrap_or_default().join(" ")
        )),
        TokenRecord::Denied(denial) => text.push_str(&format!(
            "token: refused at {}, {}\n",
            denial.stage,
            denial.code()
        )),
        TokenRecord::NotRequested => text.push_str("token: none asked for (a password is sent)\n"),
    }
    for probe in &outcome.probes {
        text.push_str(&format!(
            "{:<5} {}{}\n",
            protocol_name(probe.protocol),
            probe.result.as_str(),
            probe
                .reply
                .as_deref()
                .map(|reply| format!(": {}", without_suffix(reply)))
                .unwrap_or_default()
        ));
    }
    text.push_str("\nwhy, decision by decision:\n");
    text.push_str(&render_decisions(&outcome.decisions));
    text.push_str("\nrules (described in docs/rules.md, also `mailscope rules`) and the documented cases behind them:\n");
    let mut seen: Vec<&str> = Vec::new();
    for staged in &outcome.decisions {
        let rule = staged.decision.rule;
        if seen.contains(&rule.id) {
            continue;
        }
        seen.push(rule.id);
        text.push_str(&format!("  {:<24} {}\n", rule.id, rule.cases.join(", ")));
    }
    text.trim_end().to_owned()
}

/// One line per decision: where it was made, the rule, and what it decided.
pub fn render_decisions(decisions: &[StagedDecision]) -> String {
    let width = decisions
        .iter()
        .map(|staged| staged.stage.len())
        .max()
        .unwrap_or(0);
    let mut text = String::new();
    for staged in decisions {
        text.push_str(&format!(
            "  {:<width$}  [{}] {}\n",
            staged.stage, staged.decision.rule.id, staged.decision.outcome
        ));
    }
    text
}

/// Drops Exchange's `[host timestamp id]` suffix.
pub fn without_suffix(reply: &str) -> &str {
    match reply.rfind(" [") {
        Some(start) if reply.ends_with(']') => &reply[..start],
        _ => reply,
    }
}
