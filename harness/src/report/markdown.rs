//! A Markdown bug report for one case, fit to attach as is to a Microsoft support case or a mail
//! client's issue tracker: what was attempted, the tenant setup, the token's relevant claims, the
//! server's replies with a transcript, expected against observed, and the rules and sources
//! involved. Secrets never appear: tokens are markers, SASL payloads are redacted.

use crate::explain::{Question, predict};
use crate::outcome::{Expectation, Outcome, TokenRecord, protocol_name};
use crate::scenario::{Case, Scenario};

/// Renders the report of `outcome`, the result of `case` of `scenario`.
pub fn render(scenario: &Scenario, case: &Case, outcome: &Outcome) -> String {
    let mut text = format!("# {}\n\n", scenario.file.title);
    text.push_str(&format!("- **Case**: `{}`\n", outcome.id));
    text.push_str(&format!("- **Documented by**: {}\n", scenario.file.source));
    text.push_str(&format!(
        "- **Target**: {} (mailscope {})\n",
        outcome.target,
        env!("CARGO_PKG_VERSION")
    ));
    let verdict = match outcome.expectation {
        Expectation::Met => "every expectation held",
        Expectation::Unmet => "**an expectation did not hold**",
        Expectation::None => "no expectation stated (recorded only)",
    };
    text.push_str(&format!("- **Verdict**: {verdict}\n\n"));

    text.push_str("## What was attempted\n\n");
    let endpoint = format!("{:?}", outcome.endpoint).to_lowercase();
    text.push_str(&format!(
        "- Flow: `{}`, authority segment `{endpoint}`\n",
        outcome.flow.as_str()
    ));
    if let Some(authorize) = &outcome.authorize_scopes {
        text.push_str(&format!(
            "- Scopes sent to /authorize, in order: `{}`\n",
            authorize.join(" ")
        ));
    }
    if let Some(initial) = &outcome.initial_scopes {
        text.push_str(&format!(
            "- First sign-in's scopes, in order: `{}`\n",
            initial.join(" ")
        ));
    }
    if let Some(scopes) = &outcome.admin_consent {
        text.push_str(&format!(
            "- First, a tenant administrator at /v2.0/adminconsent approved: `{}`\n",
            scopes.join(" ")
        ));
    }
    match &outcome.resource {
        Some(resource) => text.push_str(&format!(
            "- The v1.0 token endpoint (`/oauth2/token`), `resource={resource}`; `scope` sent as `{}`\n",
            outcome.scopes.join(" ")
        )),
        None => text.push_str(&format!(
            "- Scopes sent to /token, in order: `{}`\n",
            outcome.scopes.join(" ")
        )),
    }
    for probe in &outcome.probes {
        text.push_str(&format!(
            "- Then {} with {}\n",
            protocol_name(probe.protocol).to_uppercase(),
            crate::outcome::mechanism_name(probe.mechanism).to_uppercase()
        ));
    }

    text.push_str("\n## Tenant setup\n\n");
    let setup = tenant_setup(&scenario.path);
    if setup.is_empty() {
        text.push_str(
            "The default tenant: SMTP AUTH on, user consent allowed, the public client `mail-client`.\n",
        );
    } else {
        text.push_str(&format!("```toml\n{setup}```\n"));
    }

    text.push_str("\n## Token\n\n");
    match &outcome.token {
        TokenRecord::Issued {
            claims: Some(claims),
            access_token,
            ..
        } => {
            text.push_str(&format!(
                "Issued ({access_token}; the token itself is not included). Relevant claims:\n\n"
            ));
            text.push_str("| claim | value |\n|---|---|\n");
            for name in [
                "aud",
                "iss",
                "tid",
                "ver",
                "appid",
                "app_displayname",
                "idtyp",
                "upn",
                "scp",
                "roles",
                "iat",
                "exp",
            ] {
                if let Some(value) = claims.get(name) {
                    let value = match value {
                        serde_json::Value::String(text) => text.clone(),
                        other => other.to_string(),
                    };
                    text.push_str(&format!("| `{name}` | `{value}` |\n"));
                }
            }
        }
        TokenRecord::Issued { access_token, .. } => {
            text.push_str(&format!(
                "Issued, opaque ({access_token}): personal-account tokens are not JWTs.\n"
            ));
        }
        TokenRecord::Denied(denial) => {
            text.push_str(&format!(
                "Refused at `{}` with `{}`:\n\n",
                denial.stage,
                denial.code()
            ));
            let description = denial.error.error_description.as_deref().unwrap_or_default();
            text.push_str(&format!("```\n{}\n```\n\n", description.replace("\r\n", "\n")));
            for (label, value) in [
                ("Trace ID", &denial.error.trace_id),
                ("Correlation ID", &denial.error.correlation_id),
                ("Timestamp", &denial.error.timestamp),
            ] {
                if let Some(value) = value {
                    text.push_str(&format!("- {label}: `{value}`\n"));
                }
            }
        }
    }

    if !outcome.probes.is_empty() {
        text.push_str("\n## Server replies\n\n");
    }
    for probe in &outcome.probes {
        text.push_str(&format!(
            "### {}\n\n- Result: {}\n- Final reply: `{}`\n",
            protocol_name(probe.protocol).to_uppercase(),
            probe.result.as_str(),
            probe.reply.as_deref().unwrap_or("(none)")
        ));
        if let Some(reply) = &probe.send_reply {
            text.push_str(&format!("- Reply to the test message: `{reply}`\n"));
        }
        if let Some(transcript) = &probe.transcript {
            text.push_str("\nTranscript (SASL payloads redacted):\n\n```\n");
            for line in transcript {
                text.push_str(line);
                text.push('\n');
            }
            text.push_str("```\n");
        }
        text.push('\n');
    }

    text.push_str("## Expected and observed\n\n");
    if outcome.mismatches.is_empty() {
        text.push_str("No difference.\n");
    } else {
        for mismatch in &outcome.mismatches {
            text.push_str(&format!("- {mismatch}\n"));
        }
    }

    text.push_str("\n## Rules and sources\n\n");
    for rule in predict(&Question::from_case(scenario, case)).rules {
        text.push_str(&format!("- {rule}\n"));
    }
    text.push_str(&format!(
        "\nThe catalog case ids refer to mailscope's fidelity catalog; this case is documented by {}.\n",
        scenario.file.source
    ));
    text
}

/// The scenario's `[tenant]`, `[app]` and `[user]` tables, as written.
fn tenant_setup(path: &std::path::Path) -> String {
    let Ok(text) = std::fs::read_to_string(path) else {
        return String::new();
    };
    let mut setup = String::new();
    let mut inside = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            inside = matches!(trimmed, "[tenant]" | "[app]" | "[user]");
        }
        if inside && !trimmed.is_empty() && !trimmed.starts_with('#') {
            setup.push_str(line);
            setup.push('\n');
        }
    }
    setup
}
