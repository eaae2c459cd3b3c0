//! Running cases: each against its own prepared target, concurrently, reported in order.

use std::sync::Arc;

use tokio::sync::{Semaphore, mpsc};

use crate::acquire::{self, TokenOutcome, TokenRequest};
use crate::outcome::{Outcome, ProbeRecord, StagedDecision, TokenRecord};
use crate::probe::imap::ImapProbe;
use crate::probe::pop3::Pop3Probe;
use crate::probe::smtp::SmtpProbe;
use crate::scenario::types::{Mechanism, PasswordChoice, ProbeResult, ProbeSpec, Protocol, ServerProfile};
use crate::scenario::{Case, Scenario};
use crate::secret::Secret;
use crate::target::Target;

/// How cases run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Where.
    pub target: Target,
    /// How many cases at once.
    pub jobs: usize,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            target: Target::Simulated,
            jobs: 8,
        }
    }
}

/// A case that could not be run to the end: the harness, a server or the network broke.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{id}: {message}")]
pub struct CaseError {
    /// The case id.
    pub id: String,
    /// What broke.
    pub message: String,
}

/// Runs one case.
pub async fn run_case(target: &Target, scenario: &Scenario, case: &Case) -> Result<Outcome, CaseError> {
    let fail = |message: String| CaseError {
        id: case.id.clone(),
        message: with_hint(target, message),
    };
    if let Some(reason) = target.inapplicable(scenario, case) {
        let mut skipped = Outcome::skipped(
            case,
            &scenario.file.title,
            &scenario.file.source,
            target.name(),
            reason,
        );
        skipped.personal = personal(target);
        return Ok(skipped);
    }
    if matches!(target, Target::Live(_)) {
        crate::acquire::progress(&format!("running {}", case.id));
    }
    let prepared = target
        .prepare(scenario, case)
        .await
        .map_err(|error| fail(format!("starting the target: {error}")))?;
    let http = match target {
        Target::Pooled(pool) => pool.http_client(&prepared.extra_roots),
        _ => acquire::http_client(&prepared.extra_roots),
    }
    .map_err(|error| fail(error.to_string()))?;
    let request = TokenRequest {
        asked: case.request.clone(),
        refresh_segment: prepared.refresh_segment.clone(),
        resource_owner: prepared.resource_owner.clone(),
        expected_error: case
            .expect
            .as_ref()
            .and_then(|expect| expect.token.as_ref())
            .and_then(|token| token.error.clone()),
    };
    let consent_refused = match &case.request.admin_consent {
        Some(scopes) => acquire::admin_consent(&http, &prepared.authority, scopes)
            .await
            .map_err(|error| fail(format!("{}: {error}", prepared.authority.base)))?,
        None => None,
    };
    let token = match consent_refused {
        Some(denial) => TokenOutcome::Denied(denial),
        None => acquire::acquire(&http, &prepared.authority, &request, &prepared.waiting)
            .await
            .map_err(|error| fail(format!("{}: {error}", prepared.authority.base)))?,
    };

    if matches!(target, Target::Live(_))
        && let TokenOutcome::Issued(issued) = &token
        && let Some(signed_in) = signed_in_user(issued.access_token.secret())
        && !signed_in.eq_ignore_ascii_case(&prepared.user)
    {
        // A browser's single sign-on picked another account: Exchange's refusal of that token
        // for this user would be the harness's doing, not Microsoft's.
        return Err(fail(format!(
            "the sign-in was by {signed_in}, and live.toml's user is {}: sign in as that user (a \
             private browser window avoids single sign-on); the case was not run",
            prepared.user
        )));
    }

    let mut probes = Vec::new();
    let mut probe_decisions = Vec::new();
    for probe in &case.probes {
        let secret = if probe.mechanism.is_password() {
            Some(password_for(probe, &prepared).map_err(fail)?)
        } else if let TokenOutcome::Issued(issued) = &token {
            Some(issued.access_token.clone())
        } else {
            None
        };
        let record = match (secret, probe.protocol) {
            (None, _) => ProbeRecord {
                protocol: probe.protocol,
                mechanism: probe.mechanism,
                result: ProbeResult::NotAttempted,
                reply: None,
                send_reply: None,
                diagnosis: None,
                transcript: None,
            },
            (Some(secret), protocol) => {
                let user = probe.user.clone().unwrap_or_else(|| prepared.user.clone());
                // LOGIN's two steps are how clients send passwords over SMTP, and POP3's AUTH
                // XOAUTH2 must come alone (fidelity: pop-xoauth2-two-step); SASL-IR elsewhere.
                let initial_response = probe.initial_response.unwrap_or(!matches!(
                    (protocol, probe.mechanism),
                    (Protocol::Pop3, _) | (_, Mechanism::Login)
                ));
                let mut attempts = 0;
                let report = loop {
                    let server = match protocol {
                        Protocol::Smtp => &prepared.smtp,
                        Protocol::Imap => &prepared.imap,
                        Protocol::Pop3 => &prepared.pop3,
                    };
                    let report = match protocol {
                        Protocol::Smtp => SmtpProbe {
                            server: server.clone(),
                            user: user.clone(),
                            mechanism: probe.mechanism,
                            send: probe.send,
                            from: probe.from.clone(),
                            initial_response,
                            answer_challenges: scenario.file.tenant.server_profile
                                == Some(ServerProfile::Generic),
                        }
                        .run(&secret)
                        .await
                        .map_err(|error| error.to_string()),
                        Protocol::Imap => ImapProbe {
                            server: server.clone(),
                            user: user.clone(),
                            mechanism: probe.mechanism,
                            initial_response,
                        }
                        .run(&secret)
                        .await
                        .map_err(|error| error.to_string()),
                        Protocol::Pop3 => Pop3Probe {
                            server: server.clone(),
                            user: user.clone(),
                            mechanism: probe.mechanism,
                            initial_response,
                        }
                        .run(&secret)
                        .await
                        .map_err(|error| error.to_string()),
                    }
                    .map_err(|error| fail(format!("{}:{}: {error}", server.host, server.port)))?;
                    // Live: a reply that says "try later" (a 4xx, [UNAVAILABLE], [SYS/TEMP]) is
                    // no authentication result. Tried again twice, then the case is an error.
                    let Some(why) = transient(target, protocol, &report) else {
                        break report;
                    };
                    attempts += 1;
                    if attempts > 2 {
                        return Err(fail(format!(
                            "Exchange's {} answered with a transient error three times ({why}): not an authentication result; run the case again later",
                            crate::outcome::protocol_name(protocol)
                        )));
                    }
                    let wait = attempts * 2;
                    crate::acquire::progress(&format!("transient reply ({why}); trying again in {wait} s"));
                    tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
                };
                let server = prepared.server_record(protocol);
                probe_decisions.extend(server.decisions.into_iter().map(|decision| StagedDecision {
                    stage: crate::outcome::protocol_name(protocol).to_owned(),
                    decision,
                }));
                ProbeRecord {
                    protocol,
                    mechanism: probe.mechanism,
                    result: report.result,
                    reply: report.reply,
                    send_reply: report.send_reply,
                    diagnosis: server.diagnosis,
                    transcript: server.transcript,
                }
            }
        };
        probes.push(record);
    }
    let mut outcome = Outcome::new(
        case,
        &scenario.file.title,
        &scenario.file.source,
        target.name(),
        TokenRecord::from_outcome(&token),
        probes,
    );
    outcome.personal = personal(target);
    if matches!(target, Target::Live(_)) {
        outcome.token.note_provenance(&token);
    }
    for request in prepared.identity_requests() {
        let stage = request.endpoint.name();
        outcome
            .decisions
            .extend(request.decisions.into_iter().map(|decision| StagedDecision {
                stage: stage.to_owned(),
                decision,
            }));
    }
    outcome.decisions.extend(probe_decisions);
    Ok(outcome)
}

/// The password a password probe sends: the user's (from the directory, or live from the
/// environment variable `live.toml` names), or one that is certainly not the user's.
fn password_for(probe: &ProbeSpec, prepared: &crate::target::Prepared) -> Result<Secret, String> {
    let owner = prepared.resource_owner.as_ref().ok_or_else(|| {
        "a password probe needs the user's password: name its environment variable in live.toml's `password_env`"
            .to_owned()
    })?;
    Ok(match probe.password.unwrap_or_default() {
        PasswordChoice::Right => owner.password.clone(),
        PasswordChoice::Wrong => Secret::new("password", format!("{}-wrong", owner.password.secret())),
    })
}

/// Runs every case of `scenarios`, at most `options.jobs` at once, and hands each result to
/// `report`, with its scenario and case, in case order as soon as it and every case before it are
/// done. A case's slot is freed only when its result has been handed over, so at most `jobs`
/// cases are running or waiting for their turn: memory does not grow with the number of cases.
pub async fn run_all(
    scenarios: Vec<Scenario>,
    options: RunOptions,
    mut report: impl FnMut(&Scenario, &Case, Result<Outcome, CaseError>),
) {
    let scenarios: Vec<Arc<Scenario>> = scenarios.into_iter().map(Arc::new).collect();
    // Simulated clouds are kept and reset between cases, on this runtime.
    let options = RunOptions {
        target: match options.target {
            Target::Simulated => Target::Pooled(Arc::default()),
            other => other,
        },
        ..options
    };
    let total: usize = scenarios.iter().map(|scenario| scenario.cases.len()).sum();
    let permits = Arc::new(Semaphore::new(options.jobs.max(1)));
    let (sender, mut receiver) = mpsc::unbounded_channel();
    // Cases start in file order (permits are taken in order, by one dispatcher): a live tenant's
    // state, consent and the token cache, then evolves the same way in every run.
    let target = options.target.clone();
    let dispatched = scenarios.clone();
    tokio::spawn(async move {
        let mut index = 0;
        for scenario in dispatched {
            for position in 0..scenario.cases.len() {
                let Ok(permit) = permits.clone().acquire_owned().await else {
                    return;
                };
                let sender = sender.clone();
                let target = target.clone();
                let scenario = scenario.clone();
                tokio::spawn(async move {
                    let result = run_case(&target, &scenario, &scenario.cases[position]).await;
                    let _ = sender.send((index, scenario, position, result, permit));
                });
                index += 1;
            }
        }
    });
    let mut pending = std::collections::BTreeMap::new();
    let mut next = 0;
    while next < total {
        let Some((index, scenario, position, result, permit)) = receiver.recv().await else {
            break;
        };
        pending.insert(index, (scenario, position, result, permit));
        while let Some((scenario, position, result, permit)) = pending.remove(&next) {
            report(&scenario, &scenario.cases[position], result);
            drop(permit);
            next += 1;
        }
    }
}

/// The user a delegated token was issued to (`upn` or `unique_name` of v1 tokens,
/// `preferred_username` of v2), or `None` for an app-only or opaque token.
fn signed_in_user(access_token: &str) -> Option<String> {
    let decoded = crate::claims::decode_unverified(access_token)?;
    ["upn", "unique_name", "preferred_username"]
        .iter()
        .find_map(|name| decoded.string(name).map(str::to_owned))
}

/// What names the user and the tenant on a live target: saved outcomes and reports replace it.
fn personal(target: &Target) -> Vec<(String, &'static str)> {
    match target {
        Target::Live(config) => vec![
            (config.user.clone(), "<user>"),
            (config.tenant.clone(), "<tenant>"),
        ],
        Target::Simulated | Target::Pooled(_) => Vec::new(),
    }
}

/// Live: why `report` is a transient reply and no authentication result, if it is: an SMTP 4xx
/// (RFC 5321 §4.2.1: the same command may succeed later; Exchange's `451 4.7.0 Temporary server
/// error`, `421 4.3.2 Service not active`), an IMAP `[UNAVAILABLE]` or `[INUSE]` (RFC 5530), a POP3
/// `[SYS/TEMP]` or `[IN-USE]` (RFC 2449, RFC 3206).
fn transient(target: &Target, protocol: Protocol, report: &crate::probe::ProbeReport) -> Option<String> {
    if !matches!(target, Target::Live(_)) || report.result == ProbeResult::Authenticated {
        return None;
    }
    let reply = report.reply.as_deref()?;
    let transient = match protocol {
        Protocol::Smtp => reply.starts_with('4'),
        Protocol::Imap => reply.contains("[UNAVAILABLE]") || reply.contains("[INUSE]"),
        Protocol::Pop3 => reply.contains("[SYS/TEMP]") || reply.contains("[IN-USE]"),
    };
    transient.then(|| reply.to_owned())
}

/// Live: a certificate the web PKI does not vouch for is nearly always a TLS-inspecting proxy
/// between the machine and Microsoft; say what to do about it.
fn with_hint(target: &Target, message: String) -> String {
    let lower = message.to_ascii_lowercase();
    if matches!(target, Target::Live(_)) && (lower.contains("unknownissuer") || lower.contains("certificate"))
    {
        format!(
            "{message} (live runs trust Mozilla's roots only: behind a TLS-inspecting proxy, add its \
             CA to live.toml's `ca_file`; certificate checks cannot be switched off)"
        )
    } else {
        message
    }
}
