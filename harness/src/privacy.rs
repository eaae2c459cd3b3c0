//! What a saved outcome or a bug report may say about a real tenant: an allowlist. These files are
//! meant to be committed and attached to public issues, so of a live token only the claims that
//! describe the token's kind are kept (`aud`, `scp`, `roles`, `ver`, `appid`, ...); every other
//! claim's value, and every occurrence of a user name, object id, tenant id, IP address or
//! live.toml's user and tenant anywhere in the outcome, becomes a placeholder that says what was
//! there. The same value always gets the same placeholder, so two outcomes still compare.

use serde_json::Value;

use crate::outcome::{Outcome, TokenRecord};

/// Claims kept as they are: they describe the token and the app, never a person or a tenant.
/// `iss` is kept with its tenant id replaced; the times and ids that vary are redacted elsewhere.
const KEPT_CLAIMS: [&str; 18] = [
    "aud", "scp", "roles", "ver", "appid", "azp", "appidacr", "azpacr", "idtyp", "acr", "amr", "iss", "typ",
    "wids", "iat", "nbf", "exp", "uti",
];

/// Claims that name a person, a device or a tenant, and the placeholder each value becomes.
const PERSONAL_CLAIMS: [(&str, &str); 18] = [
    ("upn", "<user>"),
    ("unique_name", "<user>"),
    ("preferred_username", "<user>"),
    ("email", "<user>"),
    ("name", "<user's name>"),
    ("given_name", "<user's given name>"),
    ("family_name", "<user's family name>"),
    ("oid", "<user's object id>"),
    ("sub", "<subject>"),
    ("tid", "<tenant id>"),
    ("ipaddr", "<ip address>"),
    ("puid", "<puid>"),
    ("altsecid", "<altsecid>"),
    ("onprem_sid", "<on-premises sid>"),
    ("sid", "<session id>"),
    ("home_oid", "<home object id>"),
    ("deviceid", "<device id>"),
    ("signin_state", "<sign-in state>"),
];

/// True for a claim kept as it is.
fn kept(name: &str) -> bool {
    KEPT_CLAIMS.contains(&name) || name.starts_with("xms_")
}

/// What the value of claim `name` becomes: `<user>` for `upn`, `<name>` for one not listed.
fn placeholder(name: &str) -> String {
    PERSONAL_CLAIMS
        .iter()
        .find(|(personal, _)| *personal == name)
        .map_or_else(
            || format!("<{name}>"),
            |(_, placeholder)| (*placeholder).to_owned(),
        )
}

/// The personal values of `outcome`: its token's personal claims, and what the target named
/// (live.toml's user and tenant), longest first so that no value is replaced inside another.
fn personal_values(outcome: &Outcome) -> Vec<(String, String)> {
    let mut values: Vec<(String, String)> = outcome
        .personal
        .iter()
        .map(|(value, placeholder)| (value.clone(), (*placeholder).to_owned()))
        .collect();
    if let TokenRecord::Issued {
        claims: Some(claims), ..
    } = &outcome.token
    {
        for (name, value) in claims {
            if let Value::String(text) = value
                && !kept(name)
                && text.len() >= 3
            {
                values.push((text.clone(), placeholder(name)));
            }
        }
    }
    values.retain(|(value, _)| !value.trim().is_empty());
    values.sort_by(|left, right| right.0.len().cmp(&left.0.len()).then(left.0.cmp(&right.0)));
    values.dedup_by(|left, right| left.0 == right.0);
    values
}

/// `text` with every personal value replaced by its placeholder (case-insensitively: a user name
/// comes back in whatever case a server chose).
fn scrub_text(text: &str, values: &[(String, String)]) -> String {
    let mut scrubbed = text.to_owned();
    for (value, placeholder) in values {
        let lower = scrubbed.to_lowercase();
        let needle = value.to_lowercase();
        if lower.len() != scrubbed.len() || !lower.contains(&needle) {
            if scrubbed.contains(value.as_str()) {
                scrubbed = scrubbed.replace(value.as_str(), placeholder);
            }
            continue;
        }
        let mut out = String::with_capacity(scrubbed.len());
        let mut rest = 0;
        for (at, _) in lower.match_indices(&needle) {
            out.push_str(&scrubbed[rest..at]);
            out.push_str(placeholder);
            rest = at + needle.len();
        }
        out.push_str(&scrubbed[rest..]);
        scrubbed = out;
    }
    scrubbed
}

fn scrub_value(value: &mut Value, values: &[(String, String)]) {
    match value {
        Value::String(text) => *text = scrub_text(text, values),
        Value::Array(items) => items.iter_mut().for_each(|item| scrub_value(item, values)),
        Value::Object(fields) => fields.values_mut().for_each(|field| scrub_value(field, values)),
        _ => {}
    }
}

/// Replaces the personal values of one outcome in any text that goes with it (the simulation's
/// decisions printed beside a live result, for one).
pub struct Scrubber(Vec<(String, String)>);

impl std::fmt::Debug for Scrubber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The values themselves are what must not be printed.
        write!(f, "Scrubber({} values)", self.0.len())
    }
}

impl Scrubber {
    /// The scrubber of `outcome`'s personal values.
    pub fn of(outcome: &Outcome) -> Self {
        Self(personal_values(outcome))
    }

    /// `text` with each personal value replaced by its placeholder.
    pub fn text(&self, text: &str) -> String {
        scrub_text(text, &self.0)
    }
}

/// `outcome` as JSON, fit to publish: [`public`], and every personal value in any other field
/// (the request, the title) replaced too.
pub fn public_json(outcome: &Outcome) -> Value {
    let mut json = serde_json::to_value(public(outcome)).expect("outcomes always serialize");
    scrub_value(&mut json, &personal_values(outcome));
    json
}

/// `outcome`, fit to publish: claims off the allowlist replaced by placeholders, and every personal
/// value in what the servers said replaced too.
pub fn public(outcome: &Outcome) -> Outcome {
    let values = personal_values(outcome);
    let mut public = outcome.clone();
    if let TokenRecord::Issued {
        claims: Some(claims), ..
    } = &mut public.token
    {
        for (name, claim) in claims.iter_mut() {
            if kept(name) {
                scrub_value(claim, &values);
            } else {
                *claim = Value::String(placeholder(name));
            }
        }
    }
    if let TokenRecord::Denied(denial) = &mut public.token {
        denial.error.error_description = denial
            .error
            .error_description
            .as_deref()
            .map(|text| scrub_text(text, &values));
    }
    for probe in &mut public.probes {
        probe.reply = probe.reply.as_deref().map(|text| scrub_text(text, &values));
        probe.send_reply = probe.send_reply.as_deref().map(|text| scrub_text(text, &values));
        probe.diagnosis = probe.diagnosis.as_deref().map(|text| scrub_text(text, &values));
        if let Some(transcript) = &mut probe.transcript {
            transcript
                .iter_mut()
                .for_each(|line| *line = scrub_text(line, &values));
        }
    }
    public.mismatches = public
        .mismatches
        .iter()
        .map(|text| scrub_text(text, &values))
        .collect();
    public.skipped = public.skipped.as_deref().map(|text| scrub_text(text, &values));
    public.personal = Vec::new();
    public
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::outcome::ProbeRecord;
    use crate::scenario::types::{Flow, Mechanism, ProbeResult, Protocol};

    const PERSONAL: [&str; 9] = [
        "megan.bowen@fabrikam.example",
        "Megan Bowen",
        "Megan",
        "Bowen",
        "5f2b7c1e-9d3a-4e8f-b6c0-1a2d3e4f5a6b",
        "0d9c8b7a-6e5f-4a3b-9c2d-1e0f9a8b7c6d",
        "203.0.113.77",
        "10032001A2B3C4D5",
        "fabrikam.example",
    ];

    fn outcome() -> Outcome {
        let claims: BTreeMap<String, Value> = serde_json::from_value(serde_json::json!({
            "aud": "https://outlook.office.com",
            "iss": "https://sts.windows.net/0d9c8b7a-6e5f-4a3b-9c2d-1e0f9a8b7c6d/",
            "tid": "0d9c8b7a-6e5f-4a3b-9c2d-1e0f9a8b7c6d",
            "oid": "5f2b7c1e-9d3a-4e8f-b6c0-1a2d3e4f5a6b",
            "upn": "megan.bowen@fabrikam.example",
            "unique_name": "megan.bowen@fabrikam.example",
            "name": "Megan Bowen",
            "given_name": "Megan",
            "family_name": "Bowen",
            "ipaddr": "203.0.113.77",
            "puid": "10032001A2B3C4D5",
            "scp": "SMTP.Send",
            "ver": "1.0",
            "appid": "4a7c2e19-3b5d-4f60-8e12-9d0b6c4f1a37",
            "idtyp": "user"
        }))
        .unwrap();
        let mut outcome = Outcome::new(
            &crate::scenario::Case {
                id: "x/y/z".into(),
                name: "z".into(),
                request: crate::scenario::Request::new(Flow::AuthorizationCode, vec!["SMTP.Send".into()]),
                probes: Vec::new(),
                expect: None,
            },
            "t",
            "s",
            "live",
            TokenRecord::Issued {
                access_token: "<access-token sha256:01234567>".into(),
                scope: None,
                refresh_token: false,
                obtained_by: None,
                octets: None,
                header: None,
                claims: Some(claims),
            },
            vec![ProbeRecord {
                protocol: Protocol::Smtp,
                mechanism: Mechanism::Xoauth2,
                result: ProbeResult::Rejected,
                reply: Some("550 5.7.60 SMTP; Client does not have permissions to send as this sender MEGAN.BOWEN@fabrikam.example".into()),
                send_reply: None,
                diagnosis: None,
                transcript: Some(vec!["C: MAIL FROM:<megan.bowen@fabrikam.example>".into()]),
            }],
        );
        outcome.personal = vec![
            ("megan.bowen@fabrikam.example".into(), "<user>"),
            ("fabrikam.example".into(), "<tenant>"),
        ];
        outcome.mismatches = vec!["smtp: expected authenticated for megan.bowen@fabrikam.example".into()];
        outcome
    }

    #[test]
    fn a_token_with_every_personal_claim_gives_none_of_them_out() {
        let outcome = outcome();
        let saved = crate::drift::redact(&outcome).to_string();
        let public = public(&outcome);
        let report = format!("{public:?}");
        for value in PERSONAL {
            assert!(
                !saved.to_lowercase().contains(&value.to_lowercase()),
                "{value} in {saved}"
            );
            assert!(
                !report.to_lowercase().contains(&value.to_lowercase()),
                "{value} in {report}"
            );
        }
        assert!(saved.contains(r#""aud":"https://outlook.office.com""#), "{saved}");
        assert!(
            saved.contains(r#""iss":"https://sts.windows.net/<tenant id>/""#),
            "{saved}"
        );
        assert!(saved.contains(r#""upn":"<user>""#), "{saved}");
        assert!(saved.contains("send as this sender <user>"), "{saved}");
    }
}
