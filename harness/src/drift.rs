//! Live outcomes kept for comparison, and the drift report: `mailscope run --save DIR` writes
//! each outcome as JSON with the values that vary from run to run redacted; `mailscope diff DIR`
//! runs the same cases against the simulated cloud and names every difference, the report a user
//! sends Microsoft or a client maintainer when Exchange Online no longer behaves as documented.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::outcome::Outcome;

/// Claims that differ on every token (`iat` … `rh`, `xms_*`), and where they sit.
const VARYING_CLAIMS: [&str; 6] = ["iat", "nbf", "exp", "uti", "aio", "rh"];
/// Stands in for a redacted value.
pub const REDACTED: &str = "[varies]";

/// Returns `outcome` as JSON fit to publish (see [`crate::privacy`]) with every value that varies
/// between runs redacted: token times and ids, the token marker, trace and correlation ids,
/// Exchange's `[host time id]` reply suffixes, and the simulation-only transcript and diagnosis.
pub fn redact(outcome: &Outcome) -> Value {
    // Personal values first (the privacy allowlist), then what varies from run to run.
    let mut value = crate::privacy::public_json(outcome);
    let Some(object) = value.as_object_mut() else {
        return value;
    };
    object.remove("target");
    if let Some(token) = object.get_mut("token").and_then(Value::as_object_mut) {
        if token.contains_key("access_token") {
            token.insert("access_token".into(), REDACTED.into());
        }
        if let Some(claims) = token.get_mut("claims").and_then(Value::as_object_mut) {
            for (name, claim) in claims.iter_mut() {
                if VARYING_CLAIMS.contains(&name.as_str()) || name.starts_with("xms_") {
                    *claim = REDACTED.into();
                }
            }
        }
        if let Some(error) = token.get_mut("error").and_then(Value::as_object_mut) {
            for field in ["trace_id", "correlation_id", "timestamp"] {
                if error.get(field).is_some_and(|value| !value.is_null()) {
                    error.insert(field.into(), REDACTED.into());
                }
            }
            if let Some(description) = error.get("error_description").and_then(Value::as_str) {
                let first_line = description.split("\r\n").next().unwrap_or_default().to_owned();
                error.insert("error_description".into(), first_line.into());
            }
        }
    }
    if let Some(probes) = object.get_mut("probes").and_then(Value::as_array_mut) {
        for probe in probes.iter_mut().filter_map(Value::as_object_mut) {
            probe.remove("transcript");
            probe.remove("diagnosis");
            for field in ["reply", "send_reply"] {
                if let Some(reply) = probe.get(field).and_then(Value::as_str) {
                    let stripped = without_message_id(crate::explain::without_suffix(reply));
                    probe.insert(field.into(), stripped.into());
                }
            }
        }
    }
    value
}

/// `250 2.0.0 OK <id@host>`: the queued message's id differs on every send.
fn without_message_id(reply: &str) -> String {
    match (reply.find('<'), reply.rfind('>')) {
        (Some(open), Some(close)) if open < close && reply.starts_with("250") => {
            format!("{}<{REDACTED}>{}", &reply[..open], &reply[close + 1..])
        }
        _ => reply.to_owned(),
    }
}

/// Where `save` writes the outcome of case `id` under `directory`.
pub fn path_for(directory: &Path, id: &str) -> PathBuf {
    directory.join(format!("{id}.json"))
}

/// Writes the redacted outcome under `directory`, mirroring the case id.
pub fn save(directory: &Path, outcome: &Outcome) -> std::io::Result<()> {
    let path = path_for(directory, &outcome.id);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut text = serde_json::to_string_pretty(&redact(outcome)).expect("JSON always serializes");
    text.push('\n');
    std::fs::write(path, text)
}

/// Every saved outcome under `directory`: `(case id, outcome)`.
pub fn load_saved(directory: &Path) -> std::io::Result<Vec<(String, Value)>> {
    let mut saved = Vec::new();
    let mut stack = vec![directory.to_owned()];
    while let Some(current) = stack.pop() {
        for entry in std::fs::read_dir(&current)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|extension| extension == "json") {
                let text = std::fs::read_to_string(&path)?;
                let value: Value = serde_json::from_str(&text)
                    .map_err(|error| std::io::Error::other(format!("{}: {error}", path.display())))?;
                if let Some(id) = value.get("id").and_then(Value::as_str) {
                    saved.push((id.to_owned(), value));
                }
            }
        }
    }
    saved.sort_by(|left, right| left.0.cmp(&right.0));
    Ok(saved)
}

/// Names each difference between a live outcome and the simulated one (both redacted).
pub fn differences(live: &Value, simulated: &Value) -> Vec<String> {
    differences_between(("live", live), ("simulated", simulated))
}

/// Names each difference between two redacted outcomes, each side under its label.
pub fn differences_between((a, first): (&str, &Value), (b, second): (&str, &Value)) -> Vec<String> {
    let mut found = Vec::new();
    let at = |value: &Value, pointer: &str| value.pointer(pointer).cloned().unwrap_or(Value::Null);
    // Entra returns every permission the user consented to on the resource, in its own order: of
    // `scp`, only the permissions the case asked for are compared, as a set.
    let requested = requested_permissions(first).or_else(|| requested_permissions(second));
    let (first_scp, second_scp) = (
        granted(&at(first, "/token/claims/scp"), requested.as_ref()),
        granted(&at(second, "/token/claims/scp"), requested.as_ref()),
    );
    if first_scp != second_scp {
        found.push(format!(
            "token scp (of the permissions asked for): {a} {first_scp:?}, {b} {second_scp:?}"
        ));
    }
    for (label, pointer) in [
        ("token status", "/token/status"),
        ("token aud", "/token/claims/aud"),
        ("token roles", "/token/claims/roles"),
        ("token ver", "/token/claims/ver"),
        ("token iss", "/token/claims/iss"),
        ("token error", "/token/error/error"),
        ("token error_codes", "/token/error/error_codes"),
        ("token error description", "/token/error/error_description"),
    ] {
        let (mut first_value, mut second_value) = (at(first, pointer), at(second, pointer));
        if pointer.ends_with("/error_description") {
            first_value = invariant_description(&first_value);
            second_value = invariant_description(&second_value);
        }
        // Live tenants have other ids, names and issuers; only a changed kind of value is drift.
        if pointer.ends_with("/iss") {
            let shape = |value: &Value| {
                value
                    .as_str()
                    .map(|iss| iss.starts_with("https://sts.windows.net/"))
            };
            if shape(&first_value) != shape(&second_value) {
                found.push(format!("{label}: {a} {first_value}, {b} {second_value}"));
            }
            continue;
        }
        if first_value != second_value {
            found.push(format!("{label}: {a} {first_value}, {b} {second_value}"));
        }
    }
    let probes = |value: &Value| {
        value
            .get("probes")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let (first_probes, second_probes) = (probes(first), probes(second));
    if first_probes.len() != second_probes.len() {
        found.push(format!(
            "probes: {a} ran {}, {b} {}",
            first_probes.len(),
            second_probes.len()
        ));
    }
    for (first_probe, second_probe) in first_probes.iter().zip(&second_probes) {
        let protocol = first_probe.get("protocol").and_then(Value::as_str).unwrap_or("?");
        for field in ["result", "reply", "send_reply"] {
            let (first_value, second_value) = (
                invariant_reply(&at(first_probe, &format!("/{field}"))),
                invariant_reply(&at(second_probe, &format!("/{field}"))),
            );
            if first_value != second_value {
                found.push(format!(
                    "{protocol} {field}: {a} {first_value}, {b} {second_value}"
                ));
            }
        }
    }
    found
}

/// The permission names a saved outcome's request asked for (`SMTP.Send` of
/// `https://outlook.office.com/SMTP.Send`), without the OpenID scopes.
fn requested_permissions(outcome: &Value) -> Option<std::collections::BTreeSet<String>> {
    let scopes = outcome.get("scopes")?.as_array()?;
    Some(
        scopes
            .iter()
            .filter_map(Value::as_str)
            .map(|scope| scope.rsplit('/').next().unwrap_or(scope).to_owned())
            .filter(|name| {
                !matches!(
                    name.as_str(),
                    "offline_access" | "openid" | "profile" | "email" | ".default"
                )
            })
            .collect(),
    )
}

/// The permissions of `scp` the case asked for (all of them when it asked for `.default` or
/// the request is unknown), as a set.
fn granted(scp: &Value, requested: Option<&std::collections::BTreeSet<String>>) -> Option<Vec<String>> {
    let scp = scp.as_str()?;
    let mut names: Vec<String> = scp
        .split_whitespace()
        .filter(|name| requested.is_none_or(|requested| requested.is_empty() || requested.contains(*name)))
        .map(str::to_owned)
        .collect();
    names.sort_unstable();
    names.dedup();
    Some(names)
}

/// An error description without what varies between tenants and runs: ids (GUIDs), the loopback
/// redirect's port, and anything quoted after `for the application`.
fn invariant_description(value: &Value) -> Value {
    let Some(text) = value.as_str() else {
        return value.clone();
    };
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(guid) = rest.get(..36).filter(|candidate| is_guid(candidate)) {
            out.push_str("<id>");
            rest = &rest[guid.len()..];
            continue;
        }
        if let Some(after) = rest.strip_prefix("localhost:") {
            let digits = after.chars().take_while(char::is_ascii_digit).count();
            out.push_str("localhost:<port>");
            rest = &after[digits..];
            continue;
        }
        let mut chars = rest.chars();
        if let Some(next) = chars.next() {
            out.push(next);
        }
        rest = chars.as_str();
    }
    Value::String(out)
}

fn is_guid(text: &str) -> bool {
    text.len() == 36
        && text.char_indices().all(|(index, c)| match index {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// A server reply without Exchange's diagnostic tail: `[BeginDiagnosticData]...` and the
/// `STOREDRV...` details after a SendAsDenied differ with every back end.
fn invariant_reply(value: &Value) -> Value {
    let Some(text) = value.as_str() else {
        return value.clone();
    };
    let cut = ["; STOREDRV.", " [BeginDiagnosticData]"]
        .iter()
        .filter_map(|marker| text.find(marker))
        .min()
        .unwrap_or(text.len());
    Value::String(text[..cut].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn redaction_keeps_what_matters_and_diff_names_each_change() {
        let live = json!({
            "id": "seed/x/y",
            "token": {"status": "issued", "claims": {"aud": "https://outlook.office.com", "scp": "SMTP.Send", "iss": "https://sts.windows.net/aaaa/"}},
            "probes": [{"protocol": "smtp", "result": "rejected", "reply": "535 5.7.3 Authentication unsuccessful"}]
        });
        let simulated = json!({
            "id": "seed/x/y",
            "token": {"status": "issued", "claims": {"aud": "https://outlook.office.com", "scp": "SMTP.Send", "iss": "https://sts.windows.net/bbbb/"}},
            "probes": [{"protocol": "smtp", "result": "authenticated", "reply": "235 2.7.0 Authentication successful"}]
        });

        let found = differences(&live, &simulated);

        assert_eq!(
            found,
            [
                "smtp result: live \"rejected\", simulated \"authenticated\"",
                "smtp reply: live \"535 5.7.3 Authentication unsuccessful\", simulated \"235 2.7.0 Authentication successful\""
            ]
        );
        assert!(differences(&live, &live).is_empty());
    }

    #[test]
    fn variance_is_not_drift() {
        let live = json!({
            "scopes": ["offline_access", "https://outlook.office.com/SMTP.Send"],
            "token": {"status": "denied", "claims": {"scp": "IMAP.AccessAsUser.All SMTP.Send"},
                "error": {"error_description": "AADSTS50011: The redirect URI 'http://localhost:53682' specified in the request does not match the redirect URIs configured for the application '0d9c8b7a-6e5f-4a3b-9c2d-1e0f9a8b7c6d'."}},
            "probes": [{"protocol": "smtp", "result": "rejected", "send_reply": "554 5.2.252 SendAsDenied; a@b not allowed to send as c@d; STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; [BeginDiagnosticData]x[EndDiagnosticData]"}]
        });
        let simulated = json!({
            "scopes": ["offline_access", "https://outlook.office.com/SMTP.Send"],
            "token": {"status": "denied", "claims": {"scp": "SMTP.Send"},
                "error": {"error_description": "AADSTS50011: The redirect URI 'http://localhost:40001' specified in the request does not match the redirect URIs configured for the application '4a7c2e19-3b5d-4f60-8e12-9d0b6c4f1a37'."}},
            "probes": [{"protocol": "smtp", "result": "rejected", "send_reply": "554 5.2.252 SendAsDenied; a@b not allowed to send as c@d; STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; Failed to process message"}]
        });
        assert_eq!(differences(&live, &simulated), Vec::<String>::new());

        let missing = json!({
            "scopes": ["https://outlook.office.com/SMTP.Send"],
            "token": {"status": "issued", "claims": {"scp": "IMAP.AccessAsUser.All"}},
            "probes": []
        });
        let granted = json!({
            "scopes": ["https://outlook.office.com/SMTP.Send"],
            "token": {"status": "issued", "claims": {"scp": "SMTP.Send"}},
            "probes": []
        });
        assert_eq!(
            differences(&missing, &granted),
            ["token scp (of the permissions asked for): live Some([]), simulated Some([\"SMTP.Send\"])"]
        );
    }
}
