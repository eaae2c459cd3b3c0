//! A Markdown bug report for one case, fit to attach as is to a Microsoft support case or a mail
//! client's issue tracker: what was attempted, the tenant setup, the token's relevant claims, the
//! server's replies with a transcript, expected against observed, and the rules and sources
//! involved. Secrets never appear: tokens are markers, SASL payloads are redacted.

use mailscope_mocks::{Rule, catalog};

use crate::outcome::{Expectation, Outcome, StagedDecision, TokenRecord, protocol_name};
use crate::runner::run_case;
use crate::scenario::{Case, Scenario};
use crate::target::Target;

/// The decisions a report explains `outcome` with: its own on the simulated target; for a live
/// outcome, those the simulation makes for the same case (Microsoft does not say why).
pub async fn reasoning(scenario: &Scenario, case: &Case, outcome: &Outcome) -> Vec<StagedDecision> {
    if outcome.target == "simulated" {
        return outcome.decisions.clone();
    }
    run_case(&Target::Simulated, scenario, case)
        .await
        .map(|simulated| simulated.decisions)
        .unwrap_or_default()
}

/// Renders the report of `outcome`, a result of a case of `scenario`, explained by `decisions`.
pub fn render(scenario: &Scenario, outcome: &Outcome, decisions: &[StagedDecision]) -> String {
    // A live tenant's report is meant for a public issue: only what the privacy allowlist keeps.
    let live = outcome.target == "live";
    let scrub = crate::privacy::Scrubber::of(outcome);
    let public;
    let outcome = if live {
        public = crate::privacy::public(outcome);
        &public
    } else {
        outcome
    };
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
    let request = &outcome.request;
    let endpoint = format!("{:?}", request.endpoint).to_lowercase();
    text.push_str(&format!(
        "- Flow: `{}`, authority segment `{endpoint}`\n",
        request.flow.as_str()
    ));
    if let Some(authorize) = &request.authorize_scopes {
        text.push_str(&format!(
            "- Scopes sent to /authorize, in order: `{}`\n",
            authorize.join(" ")
        ));
    }
    if let Some(initial) = &request.initial_scopes {
        text.push_str(&format!(
            "- First sign-in's scopes, in order: `{}`\n",
            initial.join(" ")
        ));
    }
    if let Some(scopes) = &request.admin_consent {
        text.push_str(&format!(
            "- First, a tenant administrator at /v2.0/adminconsent approved: `{}`\n",
            scopes.join(" ")
        ));
    }
    match &request.resource {
        Some(resource) => text.push_str(&format!(
            "- The v1.0 token endpoint (`/oauth2/token`), `resource={resource}`; `scope` sent as `{}`\n",
            request.scopes.join(" ")
        )),
        None => text.push_str(&format!(
            "- Scopes sent to /token, in order: `{}`\n",
            request.scopes.join(" ")
        )),
    }
    for probe in &outcome.probes {
        text.push_str(&format!(
            "- Then {} with {}\n",
            protocol_name(probe.protocol).to_uppercase(),
            probe.mechanism.as_str().to_uppercase()
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
        TokenRecord::NotRequested => {
            text.push_str("None asked for: the client sends a password (Basic authentication).\n");
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

    text.push_str("\n## Why\n\n");
    if outcome.target != "simulated" {
        text.push_str(
            "Microsoft's services do not say why they refuse. These are the decisions mailscope's simulation \
             makes for the same case, each following a documented behaviour:\n\n",
        );
    }
    if decisions.is_empty() {
        text.push_str("No decision was recorded.\n");
    }
    for staged in decisions {
        let said = if live {
            scrub.text(&staged.decision.outcome)
        } else {
            staged.decision.outcome.clone()
        };
        text.push_str(&format!(
            "- `{}` **{}**: {said}\n",
            staged.stage, staged.decision.rule.id
        ));
    }
    text.push_str("\n## Rules and sources\n\n");
    let mut rules: Vec<&'static Rule> = Vec::new();
    for staged in decisions {
        if !rules.iter().any(|rule| rule.id == staged.decision.rule.id) {
            rules.push(staged.decision.rule);
        }
    }
    for rule in rules {
        text.push_str(&format!(
            "- **{}** ({}): {}\n",
            rule.id,
            rule.reference(),
            rule.title
        ));
        for id in rule.cases {
            if let Some(case) = catalog::case(id) {
                let urls: Vec<&str> = case.sources.iter().map(|source| source.url.as_str()).collect();
                text.push_str(&format!("  - `{id}`: {} {}\n", case.summary, urls.join(" ")));
            }
        }
        for url in rule.sources {
            text.push_str(&format!("  - {url}\n"));
        }
    }
    text.push_str(&format!(
        "\nRule ids refer to mailscope's rule reference (docs/rules.md, also printed by `mailscope rules`); \
         this case is documented by {}.\n",
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
