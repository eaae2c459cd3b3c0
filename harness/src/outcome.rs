//! What one case observed: the snapshot's shape, with every secret replaced by a marker, and the
//! check of the case's expectations against it.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use mailscope_mocks::Decision;

use crate::acquire::{Denial, TokenOutcome};
use crate::claims::{DecodedToken, decode_unverified};
use crate::scenario::types::{Expect, ExpectProbe, Mechanism, ProbeResult, Protocol};
use crate::scenario::{Case, Request};

/// Everything a case observed. Contains no ports, wall-clock times, random values or secrets.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// The case id.
    pub id: String,
    /// The scenario's title.
    pub title: String,
    /// Where the behaviour is documented.
    pub source: String,
    /// `simulated` or `live`.
    pub target: &'static str,
    /// What the case asked the identity platform for.
    #[serde(flatten)]
    pub request: Request,
    /// What the identity platform answered.
    pub token: TokenRecord,
    /// What each mail server answered.
    pub probes: Vec<ProbeRecord>,
    /// Whether the expectations held.
    pub expectation: Expectation,
    /// Each expectation that did not hold.
    pub mismatches: Vec<String>,
    /// Why the case did not run on this target (live: the tenant is not set up as it needs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// The simulation's decisions, in order, with where each was made (simulated target only).
    /// Not part of the snapshot: the snapshot records what was observed, the decisions why.
    #[serde(skip)]
    pub decisions: Vec<StagedDecision>,
    /// Live runs: values that name the tenant or the user (live.toml's `user` and `tenant`),
    /// which saved outcomes and reports replace with placeholders. Never serialized.
    #[serde(skip)]
    pub personal: Vec<(String, &'static str)>,
}

/// A decision of the simulated cloud, and the request or connection that made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StagedDecision {
    /// Where: `authorize`, `token`, `devicecode`, `adminconsent`, `token (v1.0)`, `smtp`, `imap`, `pop3`.
    pub stage: String,
    /// The decision.
    pub decision: Decision,
}

/// The token side of an outcome.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum TokenRecord {
    /// A token was issued.
    Issued {
        /// A marker for the access token, never the token.
        access_token: String,
        /// The response's `scope`.
        #[serde(skip_serializing_if = "Option::is_none")]
        scope: Option<String>,
        /// Whether a refresh token came too.
        refresh_token: bool,
        /// Live runs: how the token was obtained (`the case's flow`, or `a refresh of the cached
        /// token`), so a result is read for what it is.
        #[serde(skip_serializing_if = "Option::is_none")]
        obtained_by: Option<&'static str>,
        /// Live runs: the access token's length in octets (Exchange's front ends refuse lines
        /// and tokens past some sizes; a size is what such a refusal would be about).
        #[serde(skip_serializing_if = "Option::is_none")]
        octets: Option<usize>,
        /// The JOSE header (`None` for an opaque token).
        header: Option<BTreeMap<String, Value>>,
        /// The claims (`None` for an opaque token).
        claims: Option<BTreeMap<String, Value>>,
    },
    /// The identity platform refused.
    Denied(Denial),
    /// No token was asked for (`flow = "none"`).
    NotRequested,
}

impl TokenRecord {
    /// Records a token outcome; the token itself becomes a marker.
    pub fn from_outcome(outcome: &TokenOutcome) -> Self {
        match outcome {
            TokenOutcome::Issued(token) => {
                let decoded = decode_unverified(token.access_token.secret());
                Self::Issued {
                    access_token: token.access_token.marker(),
                    scope: token.scope.clone(),
                    refresh_token: token.refresh_token.is_some(),
                    obtained_by: None,
                    octets: None,
                    header: decoded.as_ref().map(|decoded| decoded.header.clone()),
                    claims: decoded.map(|decoded| decoded.claims),
                }
            }
            TokenOutcome::Denied(denial) => Self::Denied(denial.clone()),
            TokenOutcome::NotRequested => Self::NotRequested,
        }
    }

    /// Records, for a live run, how the token of `outcome` was obtained and its size.
    pub fn note_provenance(&mut self, outcome: &TokenOutcome) {
        if let (
            Self::Issued {
                obtained_by, octets, ..
            },
            TokenOutcome::Issued(token),
        ) = (self, outcome)
        {
            *obtained_by = Some(match token.obtained {
                crate::acquire::Obtained::Flow => "the case's flow",
                crate::acquire::Obtained::CachedRefresh => "a refresh of the cached token",
                crate::acquire::Obtained::Reused => "an earlier case of the run, which asked for the same",
            });
            *octets = Some(token.access_token.secret().len());
        }
    }

    fn decoded(&self) -> Option<DecodedToken> {
        match self {
            Self::Issued {
                header: Some(header),
                claims: Some(claims),
                ..
            } => Some(DecodedToken {
                header: header.clone(),
                claims: claims.clone(),
            }),
            _ => None,
        }
    }

    /// Returns the token's `aud`, `scp`, `roles` and `ver`, and the error code, for reports.
    pub fn summary(&self) -> TokenSummary {
        let decoded = self.decoded();
        let string = |name: &str| {
            decoded
                .as_ref()
                .and_then(|decoded| decoded.string(name).map(str::to_owned))
        };
        TokenSummary {
            aud: string("aud"),
            scp: decoded.as_ref().and_then(DecodedToken::scopes),
            roles: decoded.as_ref().and_then(DecodedToken::roles),
            ver: string("ver"),
            error: match self {
                Self::Denied(denial) => Some(denial.code()),
                Self::Issued { .. } | Self::NotRequested => None,
            },
        }
    }
}

/// The token fields of the JSON report contract (docs/scenarios.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenSummary {
    /// `aud`.
    pub aud: Option<String>,
    /// `scp` split on spaces.
    pub scp: Option<Vec<String>>,
    /// `roles`.
    pub roles: Option<Vec<String>>,
    /// `ver`.
    pub ver: Option<String>,
    /// `AADSTS<n>` or the OAuth error.
    pub error: Option<String>,
}

/// One probe's record.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeRecord {
    /// The protocol.
    pub protocol: Protocol,
    /// The mechanism.
    pub mechanism: Mechanism,
    /// Authenticated, rejected, or not attempted.
    pub result: ProbeResult,
    /// The server's final reply to the authentication, as the client saw it.
    pub reply: Option<String>,
    /// The reply to the test message, when one was sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub send_reply: Option<String>,
    /// Why the simulated server decided so (the wire never says; simulated target only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diagnosis: Option<String>,
    /// The server's transcript, secrets hidden (simulated target only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transcript: Option<Vec<String>>,
}

/// Whether a case's expectations held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Expectation {
    /// Every expectation held.
    Met,
    /// At least one did not.
    Unmet,
    /// The case states none: recorded and snapshotted only.
    None,
}

/// Compares `expect` with what was observed; returns one line per expectation that did not hold.
pub fn check(expect: &Expect, token: &TokenRecord, probes: &[ProbeRecord]) -> Vec<String> {
    let mut mismatches = Vec::new();
    let summary = token.summary();
    if let Some(expected) = &expect.token {
        let issued = summary.error.is_none();
        let no_token = || {
            format!(
                "no token was issued ({})",
                summary.error.as_deref().unwrap_or_default()
            )
        };
        let mut equals = |name: &str, expected: &Option<String>, actual: &Option<String>| {
            if let Some(expected) = expected {
                if !issued {
                    mismatches.push(format!("token.{name}: expected {expected:?}, but {}", no_token()));
                } else if actual.as_ref() != Some(expected) {
                    mismatches.push(format!(
                        "token.{name}: expected {expected:?}, got {:?}",
                        actual.as_deref().unwrap_or("(absent)")
                    ));
                }
            }
        };
        equals("aud", &expected.aud, &summary.aud);
        equals("ver", &expected.ver, &summary.ver);
        for (name, wanted, actual) in [
            ("scp", &expected.scp, &summary.scp),
            ("roles", &expected.roles, &summary.roles),
        ] {
            let Some(wanted) = wanted else { continue };
            if !issued {
                mismatches.push(format!("token.{name}: expected {wanted:?}, but {}", no_token()));
                continue;
            }
            let actual = actual.clone().unwrap_or_default();
            let missing: Vec<_> = wanted.iter().filter(|item| !actual.contains(item)).collect();
            if !missing.is_empty() {
                mismatches.push(format!(
                    "token.{name}: expected to contain {missing:?}, got {actual:?}"
                ));
            }
        }
        if let Some(expected_error) = &expected.error {
            match &summary.error {
                None => mismatches.push(format!(
                    "token.error: expected {expected_error}, but a token was issued (aud {:?})",
                    summary.aud.as_deref().unwrap_or("(absent)")
                )),
                Some(actual) if actual != expected_error => {
                    mismatches.push(format!("token.error: expected {expected_error}, got {actual}"));
                }
                Some(_) => {}
            }
        }
    }
    for (protocol, expected) in [
        (Protocol::Smtp, &expect.smtp),
        (Protocol::Imap, &expect.imap),
        (Protocol::Pop3, &expect.pop3),
    ] {
        let Some(expected) = expected else { continue };
        for probe in probes.iter().filter(|probe| probe.protocol == protocol) {
            check_probe(probe, expected, &mut mismatches);
        }
    }
    mismatches
}

fn check_probe(probe: &ProbeRecord, expected: &ExpectProbe, mismatches: &mut Vec<String>) {
    let name = protocol_name(probe.protocol);
    let reply = probe.reply.as_deref().unwrap_or("(no reply)");
    if probe.result != expected.result {
        mismatches.push(format!(
            "{name}: expected {}, got {} ({reply})",
            expected.result.as_str(),
            probe.result.as_str()
        ));
    }
    if let Some(wanted) = &expected.reply
        && !probe
            .reply
            .as_deref()
            .unwrap_or_default()
            .contains(wanted.as_str())
    {
        mismatches.push(format!(
            "{name}: expected a reply containing {wanted:?}, got {reply:?}"
        ));
    }
}

/// `smtp`, `imap`, `pop3`.
pub fn protocol_name(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Smtp => "smtp",
        Protocol::Imap => "imap",
        Protocol::Pop3 => "pop3",
    }
}

impl Outcome {
    /// Assembles an outcome and checks the case's expectations against it.
    pub fn new(
        case: &Case,
        title: &str,
        source: &str,
        target: &'static str,
        token: TokenRecord,
        probes: Vec<ProbeRecord>,
    ) -> Self {
        let (expectation, mismatches) = match &case.expect {
            None => (Expectation::None, Vec::new()),
            Some(expect) => {
                let mismatches = check(expect, &token, &probes);
                let verdict = if mismatches.is_empty() {
                    Expectation::Met
                } else {
                    Expectation::Unmet
                };
                (verdict, mismatches)
            }
        };
        Self {
            id: case.id.clone(),
            title: title.to_owned(),
            source: source.to_owned(),
            target,
            request: case.request.clone(),
            token,
            probes,
            expectation,
            mismatches,
            skipped: None,
            decisions: Vec::new(),
            personal: Vec::new(),
        }
    }

    /// An outcome for a case that did not run, and why.
    pub fn skipped(case: &Case, title: &str, source: &str, target: &'static str, reason: String) -> Self {
        Self {
            expectation: Expectation::None,
            mismatches: Vec::new(),
            skipped: Some(reason),
            ..Self::new(
                &Case {
                    expect: None,
                    ..case.clone()
                },
                title,
                source,
                target,
                TokenRecord::Denied(Denial {
                    stage: "skipped",
                    http_status: None,
                    error: crate::acquire::EntraError {
                        error: "not_run".into(),
                        error_description: None,
                        error_codes: Vec::new(),
                        trace_id: None,
                        correlation_id: None,
                        timestamp: None,
                        suberror: None,
                    },
                }),
                Vec::new(),
            )
        }
    }
}
