//! One JSON object per case per line, exactly the fields docs/scenarios.md promises (more may be added;
//! these never change).

use serde::Serialize;

use crate::outcome::{Expectation, Outcome, TokenSummary, protocol_name};
use crate::runner::CaseError;

#[derive(Serialize)]
struct Line<'a> {
    id: &'a str,
    token: TokenSummary,
    probes: Vec<ProbeLine<'a>>,
    expectation: Expectation,
    mismatches: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    skipped: Option<&'a str>,
}

#[derive(Serialize)]
struct ProbeLine<'a> {
    protocol: &'static str,
    mechanism: &'static str,
    result: &'static str,
    reply: Option<&'a str>,
}

/// Renders one result as a JSON line (no newline).
pub fn render(result: &Result<Outcome, CaseError>) -> String {
    let line = match result {
        Ok(outcome) => Line {
            id: &outcome.id,
            token: outcome.token.summary(),
            probes: outcome
                .probes
                .iter()
                .map(|probe| ProbeLine {
                    protocol: protocol_name(probe.protocol),
                    mechanism: probe.mechanism.as_str(),
                    result: probe.result.as_str(),
                    reply: probe.reply.as_deref(),
                })
                .collect(),
            expectation: outcome.expectation,
            mismatches: outcome.mismatches.clone(),
            error: None,
            skipped: outcome.skipped.as_deref(),
        },
        Err(error) => Line {
            id: &error.id,
            token: TokenSummary {
                aud: None,
                scp: None,
                roles: None,
                ver: None,
                error: None,
            },
            probes: Vec::new(),
            expectation: Expectation::Unmet,
            mismatches: vec![format!("the case could not run: {}", error.message)],
            error: Some(&error.message),
            skipped: None,
        },
    };
    serde_json::to_string(&line).expect("report lines always serialize")
}
