//! Exchange Online's POP3 front door (implicit TLS) as a sans-IO session
//! (catalog section 2.6; FIDELITY.md rules 11–16).
//!
//! `AUTH XOAUTH2` only in the two-step form; an inline initial response gets
//! `-ERR Protocol error. Connection is closed. 10` and the connection closes
//! (fidelity: pop-xoauth2-inline-rejected). The mailbox is empty.

use std::sync::Arc;

use super::access::{self, Protocol};
use super::replies::pop3 as reply;
use super::server::ExchangeContext;
use crate::journal::Observation;
use crate::net::{Action, Session};
use crate::sasl::BearerMechanism;

/// One POP3 connection's state.
#[derive(Debug)]
pub struct Pop3Session {
    context: Arc<ExchangeContext>,
    state: State,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Authorization,
    AwaitingBearer(BearerMechanism),
    /// Generic profile: an error challenge was sent; the next line gets the failure.
    AwaitingErrorAck,
    AwaitingPlain,
    Transaction,
}

impl Pop3Session {
    /// Starts a session (the listener speaks implicit TLS).
    pub fn new(context: Arc<ExchangeContext>) -> Self {
        Self {
            context,
            state: State::Authorization,
        }
    }

    fn bearer(&mut self, bearer: BearerMechanism, encoded: &[u8]) -> Vec<Action> {
        self.state = State::Authorization;
        let parsed = bearer.parse(encoded);
        let Some(response) = parsed else {
            return failure("the XOAUTH2 response is not base64 of user=…^Aauth=Bearer …^A^A".into());
        };
        let context = &self.context;
        let now = context.clock.now_unix();
        // Rule 16: POP with POP disabled fails the AUTH itself.
        match access::check(
            &context.directory,
            &context.verifier,
            Protocol::Pop3,
            &response,
            now,
        ) {
            Ok(access) => {
                self.state = State::Transaction;
                vec![
                    Action::Observe(Observation::AuthSucceeded {
                        mechanism: bearer.name().into(),
                        user: access.mailbox,
                    }),
                    Action::reply(reply::AUTHENTICATED),
                ]
            }
            // The generic profile challenges first and fails on the client's answer (RFC 7628 §3.2.2).
            Err(refusal) if context.is_generic() => {
                self.state = State::AwaitingErrorAck;
                let challenge =
                    super::replies::generic::error_challenge(bearer.name(), Protocol::Pop3.scope());
                vec![
                    Action::Observe(Observation::AuthRejected {
                        mechanism: bearer.name().into(),
                        reason: refusal.to_string(),
                    }),
                    Action::reply(format!("+ {challenge}")),
                    Action::Deadline(super::replies::generic::CHALLENGE_WAIT),
                ]
            }
            Err(refusal) => failure(refusal.to_string()),
        }
    }

    fn command(&mut self, verb: &str, arguments: &str) -> Vec<Action> {
        let in_transaction = self.state == State::Transaction;
        match (verb, in_transaction) {
            ("CAPA", _) => {
                let capabilities: &[&str] = if self.context.is_generic() {
                    &reply::CAPA_GENERIC
                } else {
                    &reply::CAPA
                };
                let mut lines: Vec<String> = capabilities.iter().map(|line| (*line).to_owned()).collect();
                lines.push(".".into());
                vec![Action::Reply(lines)]
            }
            ("QUIT", _) => vec![Action::reply(reply::SIGNING_OFF), Action::Close],
            ("NOOP", true) => vec![Action::reply(reply::OK)],
            ("AUTH", false) => self.auth(arguments),
            ("USER", false) => vec![Action::reply(reply::OK)],
            // Basic auth is off in Exchange Online.
            ("PASS", false) => failure("basic authentication is disabled".into()),
            ("STAT", true) => vec![Action::reply("+OK 0 0")],
            ("LIST" | "UIDL", true) if arguments.is_empty() => {
                vec![Action::Reply(vec!["+OK".into(), ".".into()])]
            }
            ("LIST" | "UIDL" | "RETR" | "DELE" | "TOP", true) => {
                vec![Action::reply("-ERR The specified message is out of range.")]
            }
            ("RSET", true) => vec![Action::reply(reply::OK)],
            _ => vec![Action::reply(reply::COMMAND_ERROR)],
        }
    }

    fn auth(&mut self, arguments: &str) -> Vec<Action> {
        let (mechanism, initial_response) = match arguments.split_once(' ') {
            Some((mechanism, response)) => (mechanism.to_ascii_uppercase(), Some(response)),
            None => (arguments.to_ascii_uppercase(), None),
        };
        let generic = self.context.is_generic();
        if generic && let Some(bearer) = BearerMechanism::from_name(&mechanism) {
            // RFC 5034 allows the initial response inline; only Exchange refuses it.
            return match initial_response {
                Some(response) => self.bearer(bearer, response.as_bytes()),
                None => {
                    self.state = State::AwaitingBearer(bearer);
                    vec![Action::reply(reply::CONTINUE)]
                }
            };
        }
        match (mechanism.as_str(), initial_response) {
            // fidelity: pop-xoauth2-inline-rejected
            ("XOAUTH2", Some(_)) => vec![
                Action::Observe(Observation::AuthRejected {
                    mechanism: "XOAUTH2".into(),
                    reason: "the initial response was sent inline; Exchange's POP wants two lines".into(),
                }),
                Action::reply(reply::PROTOCOL_ERROR),
                Action::Close,
            ],
            // fidelity: pop-xoauth2-two-step
            ("XOAUTH2", None) => {
                self.state = State::AwaitingBearer(BearerMechanism::Xoauth2);
                vec![Action::reply(reply::CONTINUE)]
            }
            ("PLAIN", None) => {
                self.state = State::AwaitingPlain;
                vec![Action::reply(reply::CONTINUE)]
            }
            _ => failure(format!("{mechanism} is not accepted by Exchange Online")),
        }
    }
}

fn failure(reason: String) -> Vec<Action> {
    vec![
        Action::Observe(Observation::AuthRejected {
            mechanism: "XOAUTH2".into(),
            reason,
        }),
        Action::reply(reply::AUTHENTICATION_FAILURE),
    ]
}

impl Session for Pop3Session {
    fn greeting(&mut self) -> Vec<Action> {
        vec![Action::reply(reply::greeting())]
    }

    fn on_line(&mut self, line: &[u8]) -> Vec<Action> {
        match self.state {
            State::AwaitingErrorAck => {
                self.state = State::Authorization;
                return vec![Action::reply(super::replies::generic::POP3_FAILED)];
            }
            State::AwaitingBearer(_) if line == b"*" => {
                self.state = State::Authorization;
                return failure("the client cancelled the exchange".into());
            }
            State::AwaitingBearer(bearer) => return self.bearer(bearer, line),
            State::AwaitingPlain => {
                self.state = State::Authorization;
                return failure("basic authentication is disabled".into());
            }
            _ => {}
        }
        let text = String::from_utf8_lossy(line);
        let (verb, arguments) = match text.split_once(' ') {
            Some((verb, arguments)) => (verb.to_ascii_uppercase(), arguments.trim()),
            None => (text.trim().to_ascii_uppercase(), ""),
        };
        self.command(&verb, arguments)
    }

    fn on_deadline(&mut self) -> Vec<Action> {
        if self.state == State::AwaitingErrorAck {
            self.state = State::Authorization;
            return vec![Action::reply(super::replies::generic::POP3_FAILED)];
        }
        vec![Action::Close]
    }

    // fidelity: long-token-protocol-error: an overlong line is a protocol error (exact line not
    // pasted; the simulation answers with the inline-response error and closes).
    fn on_line_too_long(&mut self) -> Vec<Action> {
        vec![Action::reply(reply::PROTOCOL_ERROR), Action::Close]
    }

    fn describe_client_line(&self, line: &[u8]) -> String {
        if matches!(
            self.state,
            State::AwaitingBearer(_) | State::AwaitingErrorAck | State::AwaitingPlain
        ) {
            return format!("<redacted {} B>", line.len());
        }
        let text = String::from_utf8_lossy(line);
        let words: Vec<&str> = text.splitn(3, ' ').collect();
        match words.as_slice() {
            [verb, mechanism, response] if verb.eq_ignore_ascii_case("AUTH") => {
                format!("{verb} {mechanism} <redacted {} B>", response.len())
            }
            [verb, _] if verb.eq_ignore_ascii_case("PASS") => format!("{verb} <redacted>"),
            _ => text.into_owned(),
        }
    }
}

#[cfg(test)]
#[path = "pop3_tests.rs"]
mod tests;
