//! The terminal table: one line per case, the mismatches under a failed one.

use crate::outcome::{Expectation, Outcome, TokenRecord, protocol_name};
use crate::runner::CaseError;

/// Renders one result as table lines (no trailing newline).
pub fn render(result: &Result<Outcome, CaseError>) -> String {
    match result {
        Err(error) => format!("ERROR {}\n      {}", error.id, error.message),
        Ok(outcome) => {
            let status = match outcome.expectation {
                Expectation::Met => "ok   ",
                Expectation::None => "rec  ",
                Expectation::Unmet => "FAIL ",
            };
            let mut line = format!("{status} {:<58} {}", outcome.id, describe(outcome));
            for mismatch in &outcome.mismatches {
                line.push_str("\n      - ");
                line.push_str(mismatch);
            }
            line
        }
    }
}

/// `aud https://outlook.office.com | smtp 235 2.7.0 Authentication successful`.
fn describe(outcome: &Outcome) -> String {
    let mut parts = Vec::new();
    match &outcome.token {
        TokenRecord::Issued { .. } => {
            let summary = outcome.token.summary();
            parts.push(format!("aud {}", summary.aud.as_deref().unwrap_or("(opaque token)")));
        }
        TokenRecord::Denied(denial) => parts.push(format!("token refused: {}", denial.code())),
    }
    for probe in &outcome.probes {
        let reply = probe.reply.as_deref().unwrap_or(probe.result.as_str());
        parts.push(format!("{} {}", protocol_name(probe.protocol), shorten(reply, 60)));
    }
    parts.join(" | ")
}

fn shorten(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_owned();
    }
    let cut: String = text.chars().take(limit).collect();
    format!("{}…", cut.trim_end())
}
