//! Exchange Online's POP3 front door (implicit TLS) as a sans-IO session (rules
//! `pop3-front-door`, `basic-auth`).
//!
//! `AUTH XOAUTH2` only in the two-step form; an inline initial response gets
//! `-ERR Protocol error. Connection is closed. 10` and the connection closes
//! (fidelity: pop-xoauth2-inline-rejected). After authentication the maildrop is the INBOX as it
//! was then (RFC 1939 §4): STAT, LIST, UIDL, RETR, TOP, DELE, RSET and NOOP, with the deletions
//! applied at QUIT and nowhere else.

use std::sync::Arc;

use crate::decision::{Decision, Part, Rule};
use crate::journal::Observation;
use crate::net::{Action, Session};
use crate::sasl::{BearerMechanism, Mechanism};

use super::access::{self, Protocol, Refusal};
use super::basic::BASIC_AUTH;
use super::context::ExchangeContext;
use super::replies::generic;
use super::replies::pop3 as reply;

/// Rule: the POP3 front door.
pub(crate) const POP3_FRONT_DOOR: Rule = Rule {
    id: "pop3-front-door",
    part: Part::Exchange,
    title: "outlook.office365.com:995: AUTH XOAUTH2 in two lines only; an inline response closes the connection",
    text: "The greeting carries the back end's name in base64; CAPA lists TOP, UIDL, `SASL PLAIN            XOAUTH2` and USER. `AUTH XOAUTH2` must come alone, answered by an empty `+`, with the            base64 response on the next line; a response on the AUTH line itself gets `-ERR            Protocol error. Connection is closed. 10` and the connection closes, although RFC 5034            allows it. Success is `+OK User successfully authenticated.`; every refusal is `-ERR            Authentication failure: unknown user name or bad password.` POP disabled for the            mailbox fails the authentication itself.",
    cases: &[
        "pop-greeting-capa",
        "pop-xoauth2-two-step",
        "pop-xoauth2-inline-rejected",
        "pop-xoauth2-rejected",
        "long-token-protocol-error",
    ],
    sources: &["https://www.rfc-editor.org/rfc/rfc5034"],
};

/// One POP3 connection's state.
#[derive(Debug)]
pub(crate) struct Pop3Session {
    context: Arc<ExchangeContext>,
    state: State,
    /// The name `USER` gave, for the `PASS` after it.
    username: String,
    /// The mailbox, once authenticated.
    address: String,
    /// The maildrop: the INBOX when the session authenticated.
    maildrop: Vec<Dropped>,
    /// The INBOX's UIDVALIDITY, for UIDL.
    validity: u32,
}

/// A message of the maildrop.
#[derive(Debug, Clone, Copy)]
struct Dropped {
    uid: u32,
    size: usize,
    deleted: bool,
}

/// Rule: the POP3 maildrop.
pub(crate) const POP3_MAILDROP: Rule = Rule {
    id: "pop3-maildrop",
    part: Part::Exchange,
    title: "POP3 after authentication: the INBOX as a maildrop, deletions applied at QUIT",
    text: "STAT, LIST, UIDL, RETR, TOP, DELE, RSET and NOOP work on the INBOX as it was when the            session authenticated (RFC 1939). RETR marks the message read; DELE marks it for            deletion, RSET unmarks, and only QUIT deletes. A message number past the maildrop is            `-ERR The specified message is out of range.`, a deleted one `-ERR The requested message            is no longer available; it may have been deleted.` (Exchange's code).",
    cases: &["pop3-maildrop"],
    sources: &[
        "https://www.rfc-editor.org/rfc/rfc1939",
        "https://github.com/evilashz/exchange-server-27065/blob/main/Microsoft.Exchange.Pop3/Pop3RequestWithIntParameters.cs",
    ],
};

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
    pub(crate) fn new(context: Arc<ExchangeContext>) -> Self {
        Self {
            context,
            state: State::Authorization,
            username: String::new(),
            address: String::new(),
            maildrop: Vec::new(),
            validity: 0,
        }
    }

    /// Takes the INBOX of `address` as the maildrop.
    fn open_maildrop(&mut self, address: &str) {
        self.address = address.to_owned();
        let snapshot = self.context.store.read(address, |mailbox| {
            mailbox.folder(crate::store::mailbox::INBOX).map(|inbox| {
                (
                    inbox.uid_validity,
                    inbox
                        .messages
                        .iter()
                        .map(|message| Dropped {
                            uid: message.uid,
                            size: message.size(),
                            deleted: false,
                        })
                        .collect::<Vec<_>>(),
                )
            })
        });
        if let Some(Some((validity, maildrop))) = snapshot {
            self.validity = validity;
            self.maildrop = maildrop;
        }
    }

    /// The message numbered `argument` (RFC 1939: from 1), or Exchange's refusal.
    fn message(&self, argument: &str) -> Result<(usize, Dropped), &'static str> {
        let number: usize = argument
            .trim()
            .parse()
            .map_err(|_| reply::PROTOCOL_ERROR_ARGUMENT)?;
        let dropped = number
            .checked_sub(1)
            .and_then(|index| self.maildrop.get(index))
            .ok_or(reply::OUT_OF_RANGE)?;
        if dropped.deleted {
            return Err(reply::NO_LONGER_AVAILABLE);
        }
        Ok((number, *dropped))
    }

    /// The stored octets of a maildrop message.
    fn data(&self, uid: u32) -> Option<std::sync::Arc<[u8]>> {
        self.context
            .store
            .read(&self.address, |mailbox| {
                mailbox.folder(crate::store::mailbox::INBOX).and_then(|inbox| {
                    inbox
                        .index_of(uid)
                        .map(|index| inbox.messages[index].data.clone())
                })
            })
            .flatten()
    }

    /// `+OK`, the message (its first `lines` body lines for TOP) dot-stuffed, and the final dot.
    fn send(&mut self, dropped: Dropped, lines: Option<usize>) -> Vec<Action> {
        let Some(data) = self.data(dropped.uid) else {
            // Expunged over IMAP since the maildrop was taken.
            return vec![Action::reply(reply::NO_LONGER_AVAILABLE)];
        };
        let mut out = Vec::with_capacity(data.len() + 64);
        out.extend_from_slice(b"+OK\r\n");
        let mut in_body = false;
        let mut body_lines = 0usize;
        for line in data.split_inclusive(|&byte| byte == b'\n') {
            if in_body && lines.is_some_and(|limit| body_lines >= limit) {
                break;
            }
            if line.starts_with(b".") {
                out.push(b'.');
            }
            out.extend_from_slice(line);
            if in_body {
                body_lines += 1;
            } else if line == b"\r\n" || line == b"\n" {
                in_body = true;
            }
        }
        if !out.ends_with(b"\r\n") {
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b".\r\n");
        if lines.is_none() {
            // RETR marks the message read (Exchange's Pop3RequestRetr).
            let uid = dropped.uid;
            self.context.store.write(&self.address, |mailbox, _| {
                let inbox = crate::store::mailbox::INBOX;
                let flags = mailbox
                    .folder(inbox)
                    .and_then(|folder| folder.index_of(uid).map(|index| folder.messages[index].flags));
                if let Some(flags) = flags {
                    mailbox.set_flags(inbox, uid, flags.union(crate::store::message::Flags::SEEN));
                }
            });
        }
        let summary = format!("+OK <message, {} octets>", data.len());
        vec![Action::Bytes { bytes: out, summary }]
    }

    /// QUIT in the transaction state: the deletions are applied (RFC 1939 §6).
    fn update(&mut self) -> Vec<Action> {
        let mut doomed: Vec<u32> = self
            .maildrop
            .iter()
            .filter(|dropped| dropped.deleted)
            .map(|dropped| dropped.uid)
            .collect();
        doomed.sort_unstable();
        let mut actions = Vec::new();
        if !doomed.is_empty() {
            self.context.store.write(&self.address, |mailbox, _| {
                mailbox.remove(crate::store::mailbox::INBOX, &doomed)
            });
            actions.push(Action::decided(Decision::new(
                &POP3_MAILDROP,
                format!("QUIT: {} message(s) deleted from the INBOX.", doomed.len()),
            )));
        }
        actions.extend([Action::reply(reply::SIGNING_OFF), Action::Close]);
        actions
    }

    fn bearer(&mut self, bearer: BearerMechanism, encoded: &[u8]) -> Vec<Action> {
        self.state = State::Authorization;
        let parsed = bearer.parse(encoded);
        let Some(response) = parsed else {
            return failure(bearer.into(), Refusal::MalformedResponse);
        };
        let context = &self.context;
        let now = context.clock.now_unix();
        let mut decisions = Vec::new();
        // POP with POP disabled fails the AUTH itself (rule `protocol-switches`).
        let checked = access::check(
            &context.directory,
            &context.verifier,
            Protocol::Pop3,
            &response,
            now,
            &mut decisions,
        );
        let mut actions: Vec<Action> = decisions.into_iter().map(Action::decided).collect();
        match checked {
            Ok(access) => {
                self.state = State::Transaction;
                let idle = context.limits.authenticated_idle;
                self.open_maildrop(&access.mailbox);
                actions.push(Action::IdleTimeout(idle));
                actions.extend([
                    Action::decided(Decision::new(
                        &POP3_FRONT_DOOR,
                        "Accepted: +OK User successfully authenticated.",
                    )),
                    Action::Observe(Observation::AuthSucceeded {
                        mechanism: bearer.into(),
                        user: access.mailbox,
                    }),
                    Action::reply(reply::AUTHENTICATED),
                ]);
            }
            // The generic profile challenges first and fails on the client's answer (RFC 7628 §3.2.2).
            Err(refusal) if context.is_generic() => {
                self.state = State::AwaitingErrorAck;
                let challenge = generic::error_challenge(bearer.name(), Protocol::Pop3.scope());
                actions.extend([
                    Action::decided(Decision::new(
                        &generic::GENERIC_PROFILE,
                        "Refused: a JSON error challenge first (RFC 7628), then -ERR [AUTH].",
                    )),
                    Action::Observe(Observation::AuthRejected {
                        mechanism: bearer.into(),
                        refusal,
                    }),
                    Action::reply(format!("+ {challenge}")),
                    Action::Deadline(generic::CHALLENGE_WAIT),
                ]);
            }
            Err(refusal) => actions.extend(failure(bearer.into(), refusal)),
        }
        actions
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
            ("QUIT", true) => self.update(),
            ("QUIT", false) => vec![Action::reply(reply::SIGNING_OFF), Action::Close],
            ("NOOP", true) => vec![Action::reply(reply::OK)],
            ("AUTH", false) => self.auth(arguments),
            ("USER", false) => {
                self.username = arguments.to_owned();
                vec![Action::reply(reply::OK)]
            }
            // Basic auth is off in Exchange Online (rule `basic-auth`; the reply is unverified).
            ("PASS", false) => {
                let username = std::mem::take(&mut self.username);
                self.password(Mechanism::Login, &username)
            }
            ("STAT", true) => {
                let live = self.maildrop.iter().filter(|dropped| !dropped.deleted);
                let (count, size) =
                    live.fold((0, 0), |(count, size), dropped| (count + 1, size + dropped.size));
                vec![Action::reply(format!("+OK {count} {size}"))]
            }
            ("LIST" | "UIDL", true) if arguments.trim().is_empty() => {
                let mut lines = vec!["+OK".to_owned()];
                for (index, dropped) in self
                    .maildrop
                    .iter()
                    .enumerate()
                    .filter(|(_, dropped)| !dropped.deleted)
                {
                    lines.push(match verb {
                        "LIST" => format!("{} {}", index + 1, dropped.size),
                        _ => format!("{} {}", index + 1, self.unique_id(dropped.uid)),
                    });
                }
                lines.push(".".into());
                vec![Action::Reply(lines)]
            }
            ("LIST" | "UIDL" | "RETR" | "DELE", true) => match self.message(arguments) {
                Err(text) => vec![Action::reply(text)],
                Ok((number, dropped)) => match verb {
                    "LIST" => vec![Action::reply(format!("+OK {number} {}", dropped.size))],
                    "UIDL" => vec![Action::reply(format!(
                        "+OK {number} {}",
                        self.unique_id(dropped.uid)
                    ))],
                    "RETR" => self.send(dropped, None),
                    _ => {
                        self.maildrop[number - 1].deleted = true;
                        vec![Action::reply(reply::OK)]
                    }
                },
            },
            ("TOP", true) => {
                let mut words = arguments.split_whitespace();
                let (Some(number), Some(lines), None) = (words.next(), words.next(), words.next()) else {
                    return vec![Action::reply(reply::PROTOCOL_ERROR_ARGUMENTS)];
                };
                let Ok(lines) = lines.parse::<usize>() else {
                    return vec![Action::reply(reply::PROTOCOL_ERROR_ARGUMENT)];
                };
                match self.message(number) {
                    Err(text) => vec![Action::reply(text)],
                    Ok((_, dropped)) => self.send(dropped, Some(lines)),
                }
            }
            ("RSET", true) => {
                for dropped in &mut self.maildrop {
                    dropped.deleted = false;
                }
                vec![Action::reply(reply::OK)]
            }
            _ => vec![Action::reply(reply::COMMAND_ERROR)],
        }
    }

    /// A message's UIDL: unique and kept while the INBOX lives (RFC 1939 §7).
    fn unique_id(&self, uid: u32) -> String {
        format!("{}.{uid}", self.validity)
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
                Action::decided(Decision::new(
                    &POP3_FRONT_DOOR,
                    "The response came on the AUTH line: -ERR Protocol error. Connection is closed. 10, and the connection closes.",
                )),
                Action::Observe(Observation::AuthRejected {
                    mechanism: Mechanism::Xoauth2,
                    refusal: Refusal::InlineResponse,
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
            _ => failure(
                Mechanism::from_name(&mechanism),
                Refusal::MechanismNotAccepted(mechanism.clone()),
            ),
        }
    }
}

impl Pop3Session {
    /// A password (`PASS`, or `AUTH PLAIN`'s response), refused as Basic authentication.
    fn password(&mut self, mechanism: Mechanism, username: &str) -> Vec<Action> {
        let mut decisions = Vec::new();
        let (refusal, _) =
            super::basic::refuse_password(&self.context.directory, Protocol::Pop3, username, &mut decisions);
        let mut actions: Vec<Action> = decisions.into_iter().map(Action::decided).collect();
        actions.extend([
            Action::Observe(Observation::AuthRejected { mechanism, refusal }),
            Action::reply(reply::AUTHENTICATION_FAILURE),
        ]);
        actions
    }
}

/// The refusal's decision, observation and reply.
fn failure(mechanism: Mechanism, refusal: Refusal) -> Vec<Action> {
    let rule = if mechanism.is_password() {
        &BASIC_AUTH
    } else {
        &POP3_FRONT_DOOR
    };
    vec![
        Action::decided(
            Decision::new(
                rule,
                "Refused with -ERR Authentication failure: unknown user name or bad password. (the reply to every failure).",
            )
            .with("mechanism", mechanism.name()),
        ),
        Action::Observe(Observation::AuthRejected { mechanism, refusal }),
        Action::reply(reply::AUTHENTICATION_FAILURE),
    ]
}

impl Session for Pop3Session {
    fn greeting(&mut self) -> Vec<Action> {
        vec![Action::reply(reply::greeting(
            self.context.directory.tenant.greeting,
        ))]
    }

    fn on_line(&mut self, line: &[u8]) -> Vec<Action> {
        match self.state {
            State::AwaitingErrorAck => {
                self.state = State::Authorization;
                return vec![Action::reply(generic::POP3_FAILED)];
            }
            State::AwaitingBearer(bearer) if line == b"*" => {
                self.state = State::Authorization;
                return failure(bearer.into(), Refusal::Cancelled);
            }
            // fidelity: long-token-protocol-error: a response over 4,096 characters is a protocol
            // error since July 2025 (the exact line was not pasted; the inline-response error is).
            State::AwaitingBearer(bearer)
                if line.len() > reply::MAX_AUTH_LINE && !self.context.is_generic() =>
            {
                self.state = State::Authorization;
                return vec![
                    Action::decided(Decision::new(
                        &POP3_FRONT_DOOR,
                        format!(
                            "The response line is {} characters, over {}: -ERR Protocol error. Connection is closed. 10, and the connection closes.",
                            line.len(),
                            reply::MAX_AUTH_LINE
                        ),
                    )),
                    Action::Observe(Observation::AuthRejected {
                        mechanism: bearer.into(),
                        refusal: Refusal::ResponseTooLong(line.len()),
                    }),
                    Action::reply(reply::PROTOCOL_ERROR),
                    Action::Close,
                ];
            }
            State::AwaitingBearer(bearer) => return self.bearer(bearer, line),
            State::AwaitingPlain => {
                self.state = State::Authorization;
                return self.password(Mechanism::Plain, &crate::sasl::plain_user(line));
            }
            _ => {}
        }
        let text = crate::net::lossy(line);
        let (verb, arguments) = match text.split_once(' ') {
            Some((verb, arguments)) => (verb.to_ascii_uppercase(), arguments.trim()),
            None => (text.trim().to_ascii_uppercase(), ""),
        };
        self.command(&verb, arguments)
    }

    fn on_deadline(&mut self) -> Vec<Action> {
        if self.state == State::AwaitingErrorAck {
            self.state = State::Authorization;
            return vec![Action::reply(generic::POP3_FAILED)];
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
        let text = crate::net::lossy(line);
        let words: Vec<&str> = text.splitn(3, ' ').collect();
        match words.as_slice() {
            [verb, mechanism, response] if verb.eq_ignore_ascii_case("AUTH") => {
                format!("{verb} {mechanism} <redacted {} B>", response.len())
            }
            [verb, ..] if verb.eq_ignore_ascii_case("PASS") => format!("{verb} <redacted>"),
            _ => text.into_owned(),
        }
    }
}

#[cfg(test)]
#[path = "pop3_tests.rs"]
mod tests;
