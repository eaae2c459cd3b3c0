//! `mailscope decode`: reads an access token the way users paste it, and runs Exchange Online's
//! own claim checks on it: the function the simulated front doors call after the signature
//! (`mailscope_mocks::exchange::access::check_claims`). The token itself is never printed.
//!
//! Microsoft's signature cannot be verified offline, and `decode` says so; it never calls an
//! unsigned token, or one signed with anything but RS256, acceptable.

use mailscope_mocks::exchange::access::{self, ClaimChecks, Protocol, Refusal};
use mailscope_mocks::token::{Claims, TokenVerifier, VerifyError};
use mailscope_mocks::{Decision, shared_signing_key};
use serde_json::Value;

use crate::claims::{DecodedToken, decode_unverified};

/// What the input was, once unwrapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// How it was pasted: `a JWT`, `an XOAUTH2 response (base64)`, ...
    pub form: &'static str,
    /// The token inside.
    pub token: String,
    /// The SASL `user=` (or OAUTHBEARER `a=`), when the input was a SASL response.
    pub user: Option<String>,
}

/// What `decode` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    /// A JWT: its claims and Exchange's verdict on each protocol.
    Jwt(Box<Explanation>),
    /// An opaque token, as personal (outlook.com) accounts get: nothing to check offline.
    Opaque(Input),
    /// Not a token in any form `decode` reads.
    NotAToken,
}

impl Decoded {
    /// The exit status: 0 when at least one protocol would accept the token as far as offline
    /// checks go (or it is an opaque token, which cannot be checked), 1 when every protocol would
    /// refuse it, 2 when the input is not a token.
    pub fn exit_status(&self) -> u8 {
        match self {
            Self::Jwt(explanation) if explanation.verdicts.iter().any(|(_, verdict)| verdict.is_ok()) => 0,
            Self::Jwt(_) => 1,
            Self::Opaque(_) => 0,
            Self::NotAToken => 2,
        }
    }
}

/// How the signature stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signature {
    /// Signed by mailscope's committed test key: a token of the simulated cloud, verified.
    Simulated,
    /// RS256 with a key mailscope does not have (Microsoft's, if the token is genuine).
    Unverifiable {
        /// The header's `kid`.
        kid: Option<String>,
    },
    /// Refused before the claims: `alg` is not RS256, or the signature is wrong.
    Refused(VerifyError),
}

/// A decoded token explained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// How the input came.
    pub input: Input,
    /// `name: value` lines for the claims that matter.
    pub claims: Vec<(String, String)>,
    /// The signature's standing.
    pub signature: Signature,
    /// Per protocol: passes Exchange's checks, or the refusal.
    pub verdicts: Vec<(Protocol, Result<(), Refusal>)>,
    /// The decisions of the claim checks, per protocol.
    pub decisions: Vec<(Protocol, Decision)>,
    /// What to change.
    pub advice: Vec<String>,
}

/// Unwraps what a user pasted: a raw token, `Bearer <token>`, an `Authorization:` header line,
/// an XOAUTH2 or OAUTHBEARER response (base64 or decoded, `^A` written as a control character,
/// `^A` or `\x01`), or any of these URL-encoded. Returns `None` for empty input.
pub fn read_input(text: &str) -> Option<Input> {
    let mut text = text.trim().to_owned();
    if text.is_empty() {
        return None;
    }
    if text.contains('%')
        && let Ok(decoded) = url_decode(&text)
        && decoded != text
    {
        return read_input(&decoded).map(|input| Input {
            form: match input.form {
                "a JWT" => "a URL-encoded JWT",
                other => other,
            },
            ..input
        });
    }
    if let Some((name, value)) = text.split_once(':')
        && name.trim().eq_ignore_ascii_case("authorization")
    {
        text = value.trim().to_owned();
    }
    if let Some(token) = strip_bearer(&text) {
        return Some(Input {
            form: "a Bearer credential",
            token: token.trim().to_owned(),
            user: None,
        });
    }
    let normalised = text
        .replace("^A", "\x01")
        .replace("\\x01", "\x01")
        .replace("\\u0001", "\x01");
    if let Some(input) = sasl_response(&normalised, false) {
        return Some(input);
    }
    let compact: String = text.split_whitespace().collect();
    if !compact.contains('.')
        && let Some(decoded) = mailscope_mocks::sasl::decode_base64(compact.as_bytes())
        && let Ok(decoded) = String::from_utf8(decoded)
        && let Some(input) = sasl_response(&decoded, true)
    {
        return Some(input);
    }
    Some(Input {
        form: "a JWT",
        token: compact,
        user: None,
    })
}

/// A decoded XOAUTH2 (`user=…^Aauth=Bearer …^A^A`) or OAUTHBEARER (`n,a=…,^Aauth=Bearer …^A^A`)
/// response, tolerant of a missing final `^A`.
fn sasl_response(text: &str, base64: bool) -> Option<Input> {
    let fields: Vec<&str> = text.split('\x01').collect();
    let token = fields
        .iter()
        .find_map(|field| field.strip_prefix("auth=").and_then(strip_bearer))?;
    let first = fields.first().copied().unwrap_or_default();
    let (form, user) = if let Some(user) = first.strip_prefix("user=") {
        let form = if base64 {
            "an XOAUTH2 response (base64)"
        } else {
            "an XOAUTH2 response"
        };
        (form, Some(user.to_owned()))
    } else {
        let user = first
            .split(',')
            .find_map(|part| part.strip_prefix("a="))
            .map(str::to_owned);
        let form = if base64 {
            "an OAUTHBEARER response (base64)"
        } else {
            "an OAUTHBEARER response"
        };
        (form, user)
    };
    Some(Input {
        form,
        token: token.trim().to_owned(),
        user,
    })
}

fn strip_bearer(text: &str) -> Option<&str> {
    let prefix = text.get(..7)?;
    prefix.eq_ignore_ascii_case("bearer ").then(|| &text[7..])
}

fn url_decode(text: &str) -> Result<String, std::string::FromUtf8Error> {
    let bytes: Vec<u8> = url::form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, value)| value.into_owned().into_bytes())
        .unwrap_or_default();
    String::from_utf8(bytes)
}

/// Decodes and explains `text` (as pasted) at `now` (seconds since the epoch).
pub fn decode(text: &str, now: i64) -> Decoded {
    let Some(input) = read_input(text) else {
        return Decoded::NotAToken;
    };
    let Some(decoded) = decode_unverified(&input.token) else {
        return if is_opaque(&input.token) {
            Decoded::Opaque(input)
        } else {
            Decoded::NotAToken
        };
    };
    Decoded::Jwt(Box::new(explain(input, &decoded, now)))
}

/// Personal-account access tokens are opaque, base64-like strings starting `Ew`
/// (fidelity: consumer-outlook-com-oauth).
fn is_opaque(token: &str) -> bool {
    token.len() > 40
        && token.starts_with("Ew")
        && token
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"+/=-_!*".contains(&byte))
}

fn explain(input: Input, token: &DecodedToken, now: i64) -> Explanation {
    let string = |name: &str| token.string(name).map(str::to_owned);
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
    if let Some(roles) = token.roles() {
        claims.push(("roles".into(), roles.join(" ")));
    }
    for name in ["iat", "nbf", "exp"] {
        if let Some(value) = token.claims.get(name).and_then(Value::as_i64) {
            claims.push((name.to_owned(), format!("{value} ({})", iso(value))));
        }
    }

    let signature = match TokenVerifier::new(&shared_signing_key().jwks()).verify_signature(&input.token) {
        Ok(_) => Signature::Simulated,
        Err(VerifyError::UnknownKey(kid)) => Signature::Unverifiable { kid },
        Err(error) => Signature::Refused(error),
    };
    let parsed: Result<Claims, String> = serde_json::to_value(&token.claims)
        .and_then(serde_json::from_value)
        .map_err(|error| error.to_string());

    let mut verdicts = Vec::new();
    let mut decisions = Vec::new();
    for protocol in [Protocol::Smtp, Protocol::Imap, Protocol::Pop3] {
        let verdict = match (&signature, &parsed) {
            (Signature::Refused(error), _) => Err(Refusal::Token(error.clone())),
            (_, Err(_)) => Err(Refusal::Token(VerifyError::Claims)),
            (_, Ok(claims)) => {
                let mut recorded = Vec::new();
                let checks = ClaimChecks::trusting_token_tenant(claims);
                let result = access::check_claims(&checks, claims, protocol, now, &mut recorded);
                decisions.extend(recorded.into_iter().map(|decision| (protocol, decision)));
                result.map(|_| ())
            }
        };
        verdicts.push((protocol, verdict));
    }
    let advice = advise(token, &input, &signature, &verdicts);
    Explanation {
        input,
        claims,
        signature,
        verdicts,
        decisions,
        advice,
    }
}

fn advise(
    token: &DecodedToken,
    input: &Input,
    signature: &Signature,
    verdicts: &[(Protocol, Result<(), Refusal>)],
) -> Vec<String> {
    let mut advice = Vec::new();
    let app_only = token.string("idtyp") == Some("app")
        || (!token.claims.contains_key("scp") && token.roles().is_some_and(|roles| !roles.is_empty()));
    if let Signature::Refused(error) = signature {
        advice.push(format!(
            "Exchange verifies an RS256 signature by a published key first; this token fails there ({error}). \
             Get a token from the identity platform (rule exchange-token-checks)."
        ));
        return advice;
    }
    for (protocol, verdict) in verdicts {
        let Err(refusal) = verdict else { continue };
        let line = match refusal {
            Refusal::Audience(aud) => {
                let is_graph = aud == "00000003-0000-0000-c000-000000000000"
                    || aud.trim_end_matches('/') == "https://graph.microsoft.com";
                if is_graph && app_only {
                    "aud is Microsoft Graph. Ask for https://outlook.office365.com/.default with client credentials \
                     (rules scope-resource, exchange-audiences)."
                        .to_owned()
                } else if is_graph {
                    "aud is Microsoft Graph. A bare scope such as SMTP.Send means Graph, and the first \
                     resource-bearing scope decides the token's resource: ask for the Outlook scopes first, \
                     https://outlook.office.com/SMTP.Send, https://outlook.office.com/IMAP.AccessAsUser.All, \
                     https://outlook.office.com/POP.AccessAsUser.All (plus offline_access), and for Graph in \
                     a separate request (rules scope-resource, first-scope-wins, exchange-audiences)."
                        .to_owned()
                } else {
                    format!(
                        "aud {aud} is not an audience Exchange is known to accept. Ask for \
                         https://outlook.office365.com/.default (app-only) or the https://outlook.office.com/... \
                         scopes (delegated) (rule exchange-audiences)."
                    )
                }
            }
            Refusal::Token(VerifyError::Expired { .. } | VerifyError::NotYetValid { .. }) => format!(
                "{refusal}: get a new token; a refresh token serves for 90 days unused (rules \
                 exchange-token-checks, token-lifetime)."
            ),
            Refusal::Permission(protocol) if app_only => format!(
                "For {}: grant the application permission {} on Office 365 Exchange Online with admin consent \
                 (rule client-credentials).",
                protocol.name(),
                protocol.application_permission()
            ),
            Refusal::Permission(protocol) => format!(
                "For {}: add {} to the scopes you ask for (rule exchange-token-checks).",
                protocol.name(),
                protocol.scope()
            ),
            other => format!("{}: {other} (rule exchange-token-checks).", protocol.name()),
        };
        if !advice.contains(&line) {
            advice.push(line);
        }
    }
    if let (Some(user), Some(upn)) = (&input.user, token.string("upn"))
        && !user.eq_ignore_ascii_case(upn)
    {
        advice.push(format!(
            "user={user} is not the token's user ({upn}): Exchange opens only the token owner's mailbox with \
             a delegated token, unless it may open the other one (rule mailbox-access)."
        ));
    }
    if verdicts.iter().any(|(_, verdict)| verdict.is_ok()) {
        if app_only {
            advice.push(
                "Exchange then needs the app's service principal registered (New-ServicePrincipal) and a \
                 permission on the mailbox (Add-MailboxPermission -AccessRights FullAccess); without them \
                 the token is refused although it looks right (rule mailbox-access)."
                    .into(),
            );
        } else {
            advice.push(
                "Exchange then checks the mailbox: SMTP AUTH, IMAP or POP enabled for the tenant and the \
                 mailbox, and user= naming the token's own mailbox (rules mailbox-access, protocol-switches)."
                    .into(),
            );
        }
    }
    advice
}

fn iso(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|date| date.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| unix.to_string())
}

/// Renders the explanation for a terminal.
pub fn render(decoded: &Decoded) -> String {
    match decoded {
        Decoded::Opaque(input) => format!(
            "Input: {}.\nAn opaque token: not a JWT, so there is nothing to decode or check offline. Personal \
             Microsoft accounts (outlook.com, hotmail.com) get opaque access tokens by design, and Exchange \
             accepts them when they were issued for the Outlook scopes (rule token-shape). Check the scopes \
             you ask for instead, with `mailscope explain`.",
            input.form
        ),
        Decoded::NotAToken => {
            "This is not an access token: not a JWT (three base64url parts), not an opaque \
             token, and not a Bearer credential, Authorization header or XOAUTH2/OAUTHBEARER response \
             holding one."
                .to_owned()
        }
        Decoded::Jwt(explanation) => render_explanation(explanation),
    }
}

fn render_explanation(explanation: &Explanation) -> String {
    let mut text = format!("Input: {}", explanation.input.form);
    if let Some(user) = &explanation.input.user {
        text.push_str(&format!(", user={user}"));
    }
    text.push_str("\n\nClaims (read without verifying):\n");
    for (name, value) in &explanation.claims {
        text.push_str(&format!("  {name:<16} {value}\n"));
    }
    text.push_str("\nSignature: ");
    text.push_str(&match &explanation.signature {
        Signature::Simulated => {
            "signed by mailscope's test key: a token of the simulated cloud, verified.\n".to_owned()
        }
        Signature::Unverifiable { kid } => format!(
            "RS256 with key {}, which mailscope does not have. Exchange verifies it against Microsoft's \
             published keys; offline it cannot be verified, so the verdicts below assume it is genuine.\n",
            kid.as_deref().unwrap_or("(no kid)")
        ),
        Signature::Refused(error) => format!("refused: {error}. Exchange refuses such a token outright.\n"),
    });
    text.push_str("\nExchange Online's checks (rules in docs/rules.md):\n");
    for (protocol, verdict) in &explanation.verdicts {
        match verdict {
            Ok(()) => text.push_str(&format!("  {:<5} passes the token checks\n", protocol.name())),
            Err(refusal) => text.push_str(&format!("  {:<5} refused: {refusal}\n", protocol.name())),
        }
    }
    if !explanation.decisions.is_empty() {
        text.push_str("\nDecisions:\n");
        for (protocol, decision) in &explanation.decisions {
            text.push_str(&format!("  {:<5} {}\n", protocol.name(), decision.line()));
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

#[cfg(test)]
#[path = "decode_tests.rs"]
mod tests;
