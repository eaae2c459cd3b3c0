//! `mailscope decode`: reads an access token without trusting it and explains it against
//! Exchange Online's rules (FIDELITY.md rules 12–16). The token itself is never printed.

use mailscope_mocks::exchange::access::{ACCEPTED_AUDIENCES, Protocol};
use mailscope_mocks::token::scope::GRAPH_APP_ID;
use serde_json::Value;

use crate::claims::{DecodedToken, decode_unverified};

/// What `decode` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    /// A JWT: its claims and Exchange's verdict on each protocol.
    Jwt(Explanation),
    /// An opaque token, as personal (outlook.com) accounts get (fidelity: consumer-outlook-com-oauth).
    Opaque,
    /// Neither a JWT nor a plausible opaque token.
    Garbage,
}

/// A decoded token explained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// `name: value` lines for the claims that matter.
    pub claims: Vec<(String, String)>,
    /// Per protocol: accepted, or why not.
    pub verdicts: Vec<(Protocol, Result<(), String>)>,
    /// What to change.
    pub advice: Vec<String>,
}

/// Decodes and explains `token` at `now` (seconds since the epoch).
pub fn decode(token: &str, now: i64) -> Decoded {
    let token = token.trim();
    let Some(decoded) = decode_unverified(token) else {
        let plausible = token.len() > 40
            && !token.contains('.')
            && token
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || b"+/=-_!*".contains(&byte));
        return if plausible {
            Decoded::Opaque
        } else {
            Decoded::Garbage
        };
    };
    Decoded::Jwt(explain(&decoded, now))
}

fn explain(token: &DecodedToken, now: i64) -> Explanation {
    let string = |name: &str| token.string(name).map(str::to_owned);
    let number = |name: &str| token.claims.get(name).and_then(Value::as_i64);
    let aud = string("aud").unwrap_or_default();
    let scopes = token.scopes().unwrap_or_default();
    let roles = token.roles().unwrap_or_default();
    let app_only =
        string("idtyp").as_deref() == Some("app") || (!token.claims.contains_key("scp") && !roles.is_empty());

    let mut claims = Vec::new();
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
    ] {
        if let Some(value) = string(name) {
            claims.push((name.to_owned(), value));
        }
    }
    if !roles.is_empty() {
        claims.push(("roles".into(), roles.join(" ")));
    }
    for name in ["iat", "nbf", "exp"] {
        if let Some(value) = number(name) {
            claims.push((name.to_owned(), format!("{value} ({})", iso(value))));
        }
    }

    let mut advice = Vec::new();
    let audience_ok = ACCEPTED_AUDIENCES.contains(&aud.as_str());
    let is_graph = aud == GRAPH_APP_ID || aud.trim_end_matches('/') == "https://graph.microsoft.com";
    if is_graph {
        advice.push(
            "aud is Microsoft Graph: Exchange Online refuses it (535 5.7.3 on SMTP, NO AUTHENTICATE failed. on IMAP). \
             A bare scope such as SMTP.Send means Graph, and the first resource-bearing scope decides the token's resource \
             (FIDELITY.md rules 2-3; deleg-graph-prefixed-smtp, deleg-mixed-graph-first)."
                .into(),
        );
        if app_only {
            advice.push("Ask for https://outlook.office365.com/.default with client credentials (ccg-outlook365-default-imap-pop).".into());
        } else {
            advice.push(
                "Ask for the Outlook scopes, first in the list: https://outlook.office.com/SMTP.Send, \
                 https://outlook.office.com/IMAP.AccessAsUser.All, https://outlook.office.com/POP.AccessAsUser.All \
                 (plus offline_access); ask for Graph scopes in a separate token request (authorize-multi-resource-then-split)."
                    .into(),
            );
        }
    } else if !audience_ok {
        advice.push(format!(
            "aud {aud} is not one Exchange Online is known to accept (https://outlook.office.com, https://outlook.office365.com; \
             exchange-accepted-audiences). Ask for https://outlook.office365.com/.default (app-only) or the \
             https://outlook.office.com/... scopes (delegated)."
        ));
    }

    let mut expired = None;
    if let Some(exp) = number("exp")
        && exp + 300 <= now
    {
        expired = Some(format!(
            "the token expired at {} ({} ago)",
            iso(exp),
            duration(now - exp)
        ));
    }
    if let Some(nbf) = number("nbf")
        && nbf > now + 300
    {
        expired = Some(format!("the token is not valid before {}", iso(nbf)));
    }
    if let Some(reason) = &expired {
        advice.push(format!(
            "{reason}: get a new one (token-lifetime; refresh tokens last 90 days)."
        ));
    }

    let mut verdicts = Vec::new();
    for protocol in [Protocol::Smtp, Protocol::Imap, Protocol::Pop3] {
        // The audience first: it is the root cause a fresh token would not cure.
        let verdict = if !audience_ok {
            Err(format!("aud {aud} is not an Exchange Online audience"))
        } else if let Some(reason) = &expired {
            Err(reason.clone())
        } else if app_only && !roles.iter().any(|role| role == protocol.application_permission()) {
            Err(format!("roles lack {}", protocol.application_permission()))
        } else if !app_only
            && !scopes
                .iter()
                .any(|scope| scope == protocol.delegated_permission())
        {
            Err(format!("scp lacks {}", protocol.delegated_permission()))
        } else {
            Ok(())
        };
        verdicts.push((protocol, verdict));
    }
    if audience_ok && expired.is_none() {
        for (protocol, verdict) in &verdicts {
            if verdict.is_err() {
                advice.push(if app_only {
                    format!(
                        "For {}: grant the application permission {} on Office 365 Exchange Online with admin consent.",
                        protocol.name(),
                        protocol.application_permission()
                    )
                } else {
                    format!("For {}: add {} to the scopes you ask for.", protocol.name(), protocol.scope())
                });
            }
        }
        if app_only {
            advice.push(
                "App-only tokens also need the app's service principal registered in Exchange (New-ServicePrincipal) \
                 and a permission on the mailbox (Add-MailboxPermission -AccessRights FullAccess); without them the \
                 token is refused although it looks right (ccg-missing-service-principal-or-permission)."
                    .into(),
            );
        } else {
            advice.push(
                "Exchange also checks that SMTP AUTH, IMAP or POP is enabled for the tenant and the mailbox, and that \
                 XOAUTH2's user= is the token's own mailbox (or one it may open)."
                    .into(),
            );
        }
    }
    Explanation {
        claims,
        verdicts,
        advice,
    }
}

fn iso(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|date| date.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| unix.to_string())
}

fn duration(seconds: i64) -> String {
    match seconds {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s if s < 172_800 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86_400),
    }
}

/// Renders the explanation for a terminal.
pub fn render(decoded: &Decoded) -> String {
    match decoded {
        Decoded::Opaque => {
            "An opaque token: not a JWT, so there is nothing to decode. Personal Microsoft accounts \
             (outlook.com, hotmail.com) get opaque access tokens by design, and Exchange accepts them \
             (consumer-outlook-com-oauth). Check the scopes you asked for instead, for example with \
             `mailscope explain`."
                .to_owned()
        }
        Decoded::Garbage => {
            "This is not an access token: neither a JWT (three base64url parts) nor an opaque token."
                .to_owned()
        }
        Decoded::Jwt(explanation) => {
            let mut text = String::from("Claims (not verified):\n");
            for (name, value) in &explanation.claims {
                text.push_str(&format!("  {name:<16} {value}\n"));
            }
            text.push_str("\nExchange Online:\n");
            for (protocol, verdict) in &explanation.verdicts {
                match verdict {
                    Ok(()) => text.push_str(&format!("  {:<5} accepted\n", protocol.name())),
                    Err(reason) => text.push_str(&format!("  {:<5} refused: {reason}\n", protocol.name())),
                }
            }
            if !explanation.advice.is_empty() {
                text.push_str("\nWhat to do:\n");
                for advice in &explanation.advice {
                    text.push_str(&format!("  - {advice}\n"));
                }
            }
            text.trim_end().to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    fn jwt(claims: &str) -> String {
        let encode = |text: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text);
        format!(
            "{}.{}.c2ln",
            encode(r#"{"alg":"RS256","typ":"JWT"}"#),
            encode(claims)
        )
    }

    #[test]
    fn a_graph_token_is_refused_everywhere_with_the_outlook_scopes_as_advice() {
        let token = jwt(
            r#"{"aud":"00000003-0000-0000-c000-000000000000","scp":"Mail.Send SMTP.Send","exp":2000,"ver":"1.0"}"#,
        );

        let Decoded::Jwt(explanation) = decode(&token, 1000) else {
            panic!("a JWT")
        };

        assert!(explanation.verdicts.iter().all(|(_, verdict)| verdict.is_err()));
        let advice = explanation.advice.join("\n");
        assert!(
            advice.contains("https://outlook.office.com/SMTP.Send"),
            "{advice}"
        );
        assert!(advice.contains("first resource-bearing scope"), "{advice}");
        let rendered = render(&Decoded::Jwt(explanation));
        assert!(!rendered.contains(&token), "the token is never echoed");
    }

    #[test]
    fn an_outlook_token_is_accepted_where_its_scopes_allow() {
        let token =
            jwt(r#"{"aud":"https://outlook.office.com","scp":"SMTP.Send IMAP.AccessAsUser.All","exp":5000}"#);

        let Decoded::Jwt(explanation) = decode(&token, 1000) else {
            panic!("a JWT")
        };

        let verdicts: Vec<_> = explanation
            .verdicts
            .iter()
            .map(|(protocol, verdict)| (protocol.name(), verdict.is_ok()))
            .collect();
        assert_eq!(verdicts, [("SMTP", true), ("IMAP", true), ("POP3", false)]);
    }

    #[test]
    fn expired_tokens_give_the_times_and_opaque_tokens_are_recognised() {
        let token = jwt(r#"{"aud":"https://outlook.office.com","scp":"SMTP.Send","exp":1000}"#);
        let Decoded::Jwt(explanation) = decode(&token, 100_000) else {
            panic!("a JWT")
        };
        assert!(
            explanation.advice[0].starts_with("the token expired at 1970-01-01T00:16:40Z"),
            "{:?}",
            explanation.advice
        );

        assert_eq!(
            decode("EwBAAl3BAAUFFpUAo7J3Ve0bjLBWZWCclRC3EoAA0123456789abcdef", 0),
            Decoded::Opaque
        );
        assert_eq!(decode("hello", 0), Decoded::Garbage);
    }
}
