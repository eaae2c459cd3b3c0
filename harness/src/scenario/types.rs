//! The scenario file format, v1.1: the types serde reads a file into.
//!
//! `docs/scenarios.md` is the normative description; every key here is documented there and
//! on its field. Unknown keys are errors (`deny_unknown_fields`), so a typo never passes silently.

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer};
use toml::Spanned;

pub use super::changes::{
    AccountKind, AppChanges, AppOnlyAccess, ConditionalAccess, Consent, DeviceCodeAnswer, DirectoryFile,
    GraphAudience, Greeting, MailboxPermission, MailboxSetting, MultiResourceScopes, PermissionLists,
    RefreshWithoutScope, ServerProfile, SignInAudience, SmtpBasicAuth, TenantChanges, UserChanges,
};

/// A scenario file as written.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// One line: the behaviour, as a sentence.
    pub title: String,
    /// Where the behaviour is documented: a URL, or the title of a public document.
    pub source: String,
    /// Free labels, usable with `--tag`.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Changes to the simulated tenant.
    #[serde(default)]
    pub tenant: TenantChanges,
    /// Changes to the app registration the cases use.
    #[serde(default)]
    pub app: AppChanges,
    /// Changes to the signed-in user and their mailbox.
    #[serde(default)]
    pub user: UserChanges,
    /// Values every `[[case]]` starts from.
    #[serde(default)]
    pub defaults: CaseSpec,
    /// The cases.
    #[serde(default, rename = "case")]
    #[schemars(with = "Vec<CaseSpec>")]
    pub cases: Vec<Spanned<CaseSpec>>,
    /// Generates cases from every combination of its values.
    #[schemars(with = "Option<Matrix>")]
    pub matrix: Option<Spanned<Matrix>>,
}

/// A `[[case]]`, or `[defaults]`: every key optional until the two are merged.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseSpec {
    /// Unique in the file; `[a-z0-9-]`.
    #[schemars(with = "Option<String>", regex(pattern = r"^[a-z0-9-]+$"))]
    pub name: Option<Spanned<String>>,
    /// The grant flow.
    pub flow: Option<Flow>,
    /// Exactly as the client sends them, in order.
    pub scopes: Option<Vec<String>>,
    /// With `flow = "refresh_token"`: the first sign-in's scopes.
    pub initial_scopes: Option<Vec<String>>,
    /// Authorization code (and the first sign-in of `refresh_token`): the scopes sent to
    /// `/authorize` when they differ from those redeemed at `/token`.
    pub authorize_scopes: Option<Vec<String>>,
    /// The authority's path segment.
    pub endpoint: Option<Endpoint>,
    /// With `flow = "refresh_token"`: days the refresh token lies unused first (simulated clock).
    pub refresh_after_days: Option<u32>,
    /// With `flow = "refresh_token"`: the authority segment the refresh token is redeemed at.
    pub refresh_endpoint: Option<Endpoint>,
    /// Before the flow, a tenant administrator approves these scopes at
    /// `/{tenant}/v2.0/adminconsent`: `{resource}/.default` grants every permission the app lists
    /// on the resource, application permissions included.
    pub admin_consent: Option<Vec<String>>,
    /// With `flow = "password"`: ask the v1.0 token endpoint (`/{tenant}/oauth2/token`) for this
    /// resource, as older guides do; `scopes` are sent too, and ignored by the platform.
    pub resource: Option<String>,
    /// The mail protocols to try.
    pub probes: Option<Vec<ProbeSpec>>,
    /// What must hold.
    pub expect: Option<Expect>,
}

/// `flow`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Flow {
    /// Authorization code with PKCE.
    AuthorizationCode,
    /// Device authorization grant.
    DeviceCode,
    /// Client credentials (app-only).
    ClientCredentials,
    /// An interactive sign-in, then a refresh-token redemption.
    RefreshToken,
    /// Resource owner password credentials (ROPC).
    Password,
    /// No token is requested: for cases whose probes send passwords.
    None,
}

impl Flow {
    /// Returns the flow's name as scenario files write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::DeviceCode => "device_code",
            Self::ClientCredentials => "client_credentials",
            Self::RefreshToken => "refresh_token",
            Self::Password => "password",
            Self::None => "none",
        }
    }
}

/// `endpoint`: the authority's path segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    /// `/organizations`.
    Organizations,
    /// `/common`.
    Common,
    /// `/consumers`.
    Consumers,
    /// `/{tenant id}`.
    Tenant,
}

/// A mail protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// SMTP submission.
    Smtp,
    /// IMAP4.
    Imap,
    /// POP3.
    Pop3,
}

/// A SASL mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mechanism {
    /// `XOAUTH2`.
    #[default]
    Xoauth2,
    /// `OAUTHBEARER` (RFC 7628).
    Oauthbearer,
    /// A password in the protocol's own command: SMTP `AUTH LOGIN`, IMAP `LOGIN`, POP3 `USER`/`PASS`.
    Login,
    /// A password in SASL `PLAIN`: SMTP `AUTH PLAIN`, IMAP `AUTHENTICATE PLAIN`, POP3 `AUTH PLAIN`.
    Plain,
}

impl Mechanism {
    /// Returns true for the password (Basic authentication) paths, which need no token.
    pub fn is_password(self) -> bool {
        matches!(self, Self::Login | Self::Plain)
    }

    /// Returns the mechanism as scenario files write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Xoauth2 => "xoauth2",
            Self::Oauthbearer => "oauthbearer",
            Self::Login => "login",
            Self::Plain => "plain",
        }
    }
}

/// A password probe's `password`: the user's own, or a wrong one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PasswordChoice {
    /// The user's password.
    #[default]
    Right,
    /// A password that is not the user's.
    Wrong,
}

/// An entry of `probes`: `"smtp"`, or `{ protocol = "imap", mechanism = "oauthbearer", send = false }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeSpec {
    /// The protocol.
    pub protocol: Protocol,
    /// The mechanism.
    pub mechanism: Mechanism,
    /// SMTP only: also send one test message from the user to itself.
    pub send: bool,
    /// SMTP with `send`: the sender address, when not the signed-in mailbox.
    pub from: Option<String>,
    /// Send the SASL response on the AUTH line (SASL-IR) rather than after the server's empty
    /// continuation. Default: inline for SMTP and IMAP, two lines for POP3, as careful clients do.
    pub initial_response: Option<bool>,
    /// The SASL `user=`: the mailbox to open, when not the signed-in user's (a shared mailbox);
    /// for a password probe, the login name.
    pub user: Option<String>,
    /// Password probes only: the user's password (`"right"`), or a wrong one.
    pub password: Option<PasswordChoice>,
}

impl ProbeSpec {
    /// A probe with every option at its default.
    pub fn new(protocol: Protocol, mechanism: Mechanism) -> Self {
        Self {
            protocol,
            mechanism,
            send: false,
            from: None,
            initial_response: None,
            user: None,
            password: None,
        }
    }
}

/// A probe as a table. Every key but `protocol` is optional.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ProbeTable {
    /// `"smtp"`, `"imap"` or `"pop3"`.
    protocol: Protocol,
    /// `"xoauth2"` (default), `"oauthbearer"`, or a password path: `"login"`, `"plain"`.
    #[serde(default)]
    mechanism: Mechanism,
    /// SMTP only: also send one test message.
    #[serde(default)]
    send: bool,
    /// SMTP with `send`: the sender address.
    from: Option<String>,
    /// The SASL response on the AUTH line rather than after the server's continuation.
    initial_response: Option<bool>,
    /// The mailbox to open (XOAUTH2's `user=`), or a password probe's login name.
    user: Option<String>,
    /// Password probes only: `"right"` (default) or `"wrong"`.
    password: Option<PasswordChoice>,
}

impl<'de> Deserialize<'de> for ProbeSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = ProbeSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(
                    "\"smtp\", \"imap\", \"pop3\", or a table { protocol, mechanism, send, password, ... }",
                )
            }
            fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Self::Value, E> {
                let protocol = Protocol::deserialize(serde::de::value::StrDeserializer::<E>::new(value))?;
                Ok(ProbeSpec::new(protocol, Mechanism::Xoauth2))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let table = ProbeTable::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(ProbeSpec {
                    protocol: table.protocol,
                    mechanism: table.mechanism,
                    send: table.send,
                    from: table.from,
                    initial_response: table.initial_response,
                    user: table.user,
                    password: table.password,
                })
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// `expect`: what must hold for a case to pass.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Expectations on the issued token, or on the error instead of one.
    pub token: Option<ExpectToken>,
    /// The SMTP probe's outcome.
    pub smtp: Option<ExpectProbe>,
    /// The IMAP probe's outcome.
    pub imap: Option<ExpectProbe>,
    /// The POP3 probe's outcome.
    pub pop3: Option<ExpectProbe>,
}

/// `expect.token`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpectToken {
    /// The token's `aud` equals this.
    pub aud: Option<String>,
    /// Every listed scope is in the token's `scp`.
    pub scp: Option<Vec<String>>,
    /// Every listed role is in the token's `roles`.
    pub roles: Option<Vec<String>>,
    /// The token's `ver` equals this.
    pub ver: Option<String>,
    /// No token is issued, and the first `error_codes` entry is this (`"AADSTS28000"`).
    pub error: Option<String>,
}

/// The result a probe must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ProbeResult {
    /// The server accepted the token.
    Authenticated,
    /// The server refused it.
    Rejected,
    /// No token was issued, so nothing was tried.
    NotAttempted,
}

impl ProbeResult {
    /// Returns the result as scenario files write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Authenticated => "authenticated",
            Self::Rejected => "rejected",
            Self::NotAttempted => "not-attempted",
        }
    }
}

/// `expect.smtp` and friends: a result, or `{ result = "...", reply = "..." }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectProbe {
    /// The result.
    pub result: ProbeResult,
    /// Must appear in the server's final reply to the authentication.
    pub reply: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ExpectProbeTable {
    result: ProbeResult,
    reply: Option<String>,
}

impl<'de> Deserialize<'de> for ExpectProbe {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = ExpectProbe;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(
                    "\"authenticated\", \"rejected\", \"not-attempted\", or a table { result, reply }",
                )
            }
            fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Self::Value, E> {
                let result = ProbeResult::deserialize(serde::de::value::StrDeserializer::<E>::new(value))?;
                Ok(ExpectProbe { result, reply: None })
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let table = ExpectProbeTable::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(ExpectProbe {
                    result: table.result,
                    reply: table.reply,
                })
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// `[matrix]`: every combination of the listed values becomes a case, named from the positions
/// (`scopes-0-flow-1-probes-0`, keys in this order).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Matrix {
    /// Scope lists to try.
    pub scopes: Option<Vec<Vec<String>>>,
    /// First sign-in scope lists to try (refresh-token flow).
    pub initial_scopes: Option<Vec<Vec<String>>>,
    /// Flows to try.
    pub flow: Option<Vec<Flow>>,
    /// Endpoints to try.
    pub endpoint: Option<Vec<Endpoint>>,
    /// Probe lists to try.
    pub probes: Option<Vec<Vec<ProbeSpec>>>,
}

impl JsonSchema for ProbeSpec {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ProbeSpec".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let protocol = generator.subschema_for::<Protocol>();
        let table = generator.subschema_for::<ProbeTable>();
        json_schema!({
            "description": "\"smtp\", \"imap\", \"pop3\", or a table { protocol, mechanism, send, from, initial_response, user, password }",
            "oneOf": [protocol, table]
        })
    }
}

impl JsonSchema for ExpectProbe {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ExpectProbe".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let result = generator.subschema_for::<ProbeResult>();
        let table = generator.subschema_for::<ExpectProbeTable>();
        json_schema!({
            "description": "\"authenticated\", \"rejected\", \"not-attempted\", or a table { result, reply }",
            "oneOf": [result, table]
        })
    }
}

/// The JSON Schema of scenario files, generated from these types (`scenarios/scenario.schema.json`).
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(ScenarioFile);
    let mut text = serde_json::to_string_pretty(&schema).expect("schemas always serialize");
    text.push('\n');
    text
}
