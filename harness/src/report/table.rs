//! The terminal table: one line per case, the mismatches under a failed one.

use crate::outcome::{Expectation, Outcome, TokenRecord, protocol_name};
use crate::runner::CaseError;

/// Renders one result as table lines (no trailing newline), ids padded to `id_width`.
pub fn render(result: &Result<Outcome, CaseError>, id_width: usize) -> String {
    match result {
        Err(error) => format!("ERROR {}\n      {}", error.id, error.message),
        Ok(outcome) if outcome.skipped.is_some() => format!(
            "skip  {:<id_width$}  {}",
            outcome.id,
            outcome.skipped.as_deref().unwrap_or_default()
        ),
        Ok(outcome) => {
            let status = match outcome.expectation {
                Expectation::Met => "ok   ",
                Expectation::None => "rec  ",
                Expectation::Unmet => "FAIL ",
            };
            let mut line = format!("{status} {:<id_width$}  {}", outcome.id, describe(outcome));
            for mismatch in &outcome.mismatches {
                line.push_str("\n      - ");
                // A snapshot diff spans lines: they stay under their mismatch.
                line.push_str(&mismatch.replace('\n', "\n        "));
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
            parts.push(format!(
                "aud {}",
                summary.aud.as_deref().unwrap_or("(opaque token)")
            ));
        }
        TokenRecord::Denied(denial) => parts.push(format!("token refused: {}", denial.code())),
        TokenRecord::NotRequested => parts.push("no token".to_owned()),
    }
    for probe in &outcome.probes {
        let reply = probe
            .reply
            .as_deref()
            .map_or(probe.result.as_str(), crate::explain::without_suffix);
        parts.push(format!(
            "{} {}",
            protocol_name(probe.protocol),
            shorten(reply, 72)
        ));
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

/// Renders each probe's server transcript (secrets hidden), indented under its case.
pub fn render_transcripts(result: &Result<Outcome, CaseError>) -> Option<String> {
    let outcome = result.as_ref().ok()?;
    let mut text = String::new();
    for probe in &outcome.probes {
        let Some(transcript) = &probe.transcript else {
            continue;
        };
        text.push_str(&format!("      {} transcript:\n", protocol_name(probe.protocol)));
        for line in transcript {
            text.push_str("        ");
            text.push_str(line);
            text.push('\n');
        }
        if let Some(diagnosis) = &probe.diagnosis {
            text.push_str(&format!("        (simulation: {diagnosis})\n"));
        }
    }
    (!text.is_empty()).then(|| text.trim_end().to_owned())
}
