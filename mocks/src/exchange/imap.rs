//! Exchange Online's IMAP4 front door (implicit TLS) as a sans-IO session (rules
//! `imap-front-door`, `imap-not-connected`, `basic-auth`).
//!
//! `AUTHENTICATE XOAUTH2` with SASL-IR or after an empty `+`; `OK AUTHENTICATE completed.` or
//! `NO AUTHENTICATE failed.` with no JSON challenge; and a token that opens no mailbox still gets
//! `OK`, then `BAD User is authenticated but not connected.` on the next mailbox command.

use std::sync::Arc;

use crate::decision::{Decision, Part, Rule};
use crate::journal::Observation;
use crate::net::{Action, Session};
use crate::sasl::{BearerMechanism, Mechanism};

use imap_codec::CommandCodec;
use imap_codec::decode::{CommandDecodeError, Decoder};
use imap_codec::imap_types::command::CommandBody;
use imap_codec::imap_types::core::LiteralMode;

use super::access::{self, Protocol, Refusal};
use super::basic::BASIC_AUTH;
use super::context::ExchangeContext;
use super::imap_mail::{MAX_LITERAL, Mail, Next, Run};
use super::replies::generic;
use super::replies::imap as reply;

/// Rule: the IMAP front door.
pub(crate) const IMAP_FRONT_DOOR: Rule = Rule {
    id: "imap-front-door",
    part: Part::Exchange,
    title: "outlook.office365.com:993: AUTHENTICATE XOAUTH2 with SASL-IR or after +; NO AUTHENTICATE failed. for every refusal",
    text: "The greeting carries the back end's name in base64; CAPABILITY lists `AUTH=PLAIN            AUTH=XOAUTH2 SASL-IR` before authentication and adds MOVE, CLIENTACCESSRULES,            CLIENTNETWORKPRESENCELOCATION and BACKENDAUTHENTICATE after it. `AUTHENTICATE XOAUTH2`            takes the response on the command line or after an empty `+`. Success is `OK            AUTHENTICATE completed.`; every refused token is `NO AUTHENTICATE failed.`, with no JSON            challenge. OAUTHBEARER is not offered. LOGOUT answers `* BYE Microsoft Exchange Server            IMAP4 server signing off.`",
    cases: &[
        "imap-greeting-capability",
        "imap-capability-postauth",
        "imap-xoauth2-sasl-ir",
        "imap-xoauth2-continuation",
        "imap-xoauth2-rejected",
        "oauthbearer-not-offered",
    ],
    sources: &["https://www.rfc-editor.org/rfc/rfc4959"],
};

/// Rule: authenticated but not connected.
pub(crate) const IMAP_NOT_CONNECTED: Rule = Rule {
    id: "imap-not-connected",
    part: Part::Exchange,
    title: "IMAP can accept a token it cannot open the mailbox with: OK, then BAD User is authenticated but not connected.",
    text: "When `user=` names a mailbox the token may not open (another user's, an unknown one,            one the app has no permission on) or IMAP is disabled for the mailbox, AUTHENTICATE            still answers `OK AUTHENTICATE completed.`; every later command but LOGOUT, `ID`,            `CAPABILITY` and `NOOP` included, gets `BAD User is authenticated but not connected.`,            and LOGOUT answers `* BYE Connection closed. 14`. A client that only authenticates            believes it succeeded; mailscope's IMAP probe selects the inbox, so it sees the refusal.",
    cases: &[
        "imap-authenticated-not-connected",
        "imap-shared-mailbox",
        "ccg-missing-service-principal-or-permission",
    ],
    sources: &[],
};

/// One IMAP connection's state.
#[derive(Debug)]
pub(crate) struct ImapSession {
    context: Arc<ExchangeContext>,
    state: State,
    /// The mailbox, once authenticated.
    mail: Option<Mail>,
    /// A command waiting for its literals.
    pending: Option<Pending>,
    /// Malformed commands so far: the third closes the connection (Exchange's code).
    invalid: u32,
}

/// A command being received: the line so far, with the literals read.
#[derive(Debug)]
struct Pending {
    tag: String,
    verb: String,
    bytes: Vec<u8>,
    /// The literal is being skipped, as too large: the command is refused when it ends.
    skipping: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    NotAuthenticated,
    /// After `AUTHENTICATE XOAUTH2` (or `OAUTHBEARER`) without an initial response.
    AwaitingResponse {
        tag: String,
        bearer: BearerMechanism,
    },
    /// Generic profile: an error challenge was sent; the next line gets the failure.
    AwaitingErrorAck {
        tag: String,
    },
    /// After `AUTHENTICATE PLAIN` without an initial response.
    AwaitingPlain {
        tag: String,
    },
    /// Authenticated and connected to the mailbox.
    Authenticated,
    /// Rule 16: authenticated, but the mailbox could not be opened.
    NotConnected,
    /// After `IDLE`, until `DONE`.
    Idling {
        tag: String,
    },
}

impl ImapSession {
    /// Starts a session (the listener speaks implicit TLS).
    pub(crate) fn new(context: Arc<ExchangeContext>) -> Self {
        Self {
            context,
            state: State::NotAuthenticated,
            mail: None,
            pending: None,
            invalid: 0,
        }
    }

    fn tagged(tag: &str, text: &str) -> Action {
        Action::reply(format!("{tag} {text}"))
    }

    /// A command line, before any literal: the commands read here by hand are those imap-codec
    /// does not know (ID, NAMESPACE, UID EXPUNGE) and those whose arguments are secrets
    /// (AUTHENTICATE, LOGIN); the rest goes through imap-codec's grammar.
    fn command(&mut self, tag: &str, verb: &str, arguments: &str, line: &[u8]) -> Vec<Action> {
        let verb = verb.to_ascii_uppercase();
        // fidelity: imap-authenticated-not-connected: every command but LOGOUT, ID, CAPABILITY and
        // NOOP included (imapsync #411 shows `4 ID (...)` answered so).
        if self.state == State::NotConnected && verb != "LOGOUT" {
            return vec![Self::tagged(tag, reply::NOT_CONNECTED)];
        }
        match verb.as_str() {
            "ID" => vec![Action::reply("* ID NIL"), Self::tagged(tag, "OK ID completed.")],
            "AUTHENTICATE" => self.authenticate(tag, arguments),
            "LOGIN" if !arguments.ends_with('}') => match self.state {
                State::NotAuthenticated => self.login(tag, arguments),
                _ => self.invalid_state(tag),
            },
            "NAMESPACE" if self.mail.is_some() => vec![
                Action::reply("* NAMESPACE ((\"\" \"/\")) NIL NIL"),
                Self::tagged(tag, "OK NAMESPACE completed."),
            ],
            "NAMESPACE" => self.invalid_state(tag),
            "UID" if self.mail.is_some() && is_uid_expunge(arguments) => self.uid_expunge(tag, arguments),
            _ => {
                let mut bytes = Vec::with_capacity(line.len() + 2);
                bytes.extend_from_slice(line);
                bytes.extend_from_slice(b"\r\n");
                self.decode(Pending {
                    tag: tag.to_owned(),
                    verb,
                    bytes,
                    skipping: false,
                })
            }
        }
    }

    /// Parses a whole command, or asks for the literal it stops at.
    fn decode(&mut self, pending: Pending) -> Vec<Action> {
        let decoded = CommandCodec::default().decode(&pending.bytes);
        match decoded {
            Ok((b"", command)) => {
                let body = command.body;
                self.execute(&pending.tag, body)
            }
            Ok(_) | Err(CommandDecodeError::Incomplete) => {
                self.malformed(&pending.tag, reply::ARGUMENT_ERROR)
            }
            Err(CommandDecodeError::LiteralFound { length, mode, .. }) => {
                let length = usize::try_from(length).unwrap_or(usize::MAX);
                let tag = pending.tag.clone();
                if pending.bytes.len().saturating_add(length) > MAX_LITERAL + crate::net::MAX_LINE_LEN {
                    return match mode {
                        // The client waits for `+`: refusing now costs nothing.
                        LiteralMode::Sync => vec![Self::tagged(&tag, reply::LITERAL_TOO_BIG)],
                        // The octets are on their way: they are read and dropped, then refused.
                        LiteralMode::NonSync => {
                            self.pending = Some(Pending {
                                skipping: true,
                                ..pending
                            });
                            vec![Action::Skip(length)]
                        }
                    };
                }
                self.pending = Some(pending);
                let mut actions = Vec::new();
                if mode == LiteralMode::Sync {
                    actions.push(Action::reply(reply::CONTINUE_LITERAL));
                }
                actions.push(Action::ReadExact(length));
                actions
            }
            Err(CommandDecodeError::Failed) => {
                let known = is_known_verb(&pending.verb);
                let text = if known {
                    reply::ARGUMENT_ERROR
                } else {
                    reply::COMMAND_ERROR
                };
                self.malformed(&pending.tag, text)
            }
        }
    }

    /// A malformed command: refused, and the third closes the connection (Exchange's code:
    /// `Imap4ResponseFactory.ProcessParseError`).
    fn malformed(&mut self, tag: &str, text: &str) -> Vec<Action> {
        self.invalid += 1;
        let mut actions = vec![Self::tagged(tag, text)];
        if self.invalid > 2 {
            actions.extend([Action::reply(reply::BYE_INVALID), Action::Close]);
        }
        actions
    }

    /// A command the state does not take (Exchange's code: `ProcessInvalidState`, counted too).
    fn invalid_state(&mut self, tag: &str) -> Vec<Action> {
        self.malformed(tag, reply::INVALID_STATE)
    }

    /// Runs a parsed command.
    fn execute(&mut self, tag: &str, body: CommandBody<'_>) -> Vec<Action> {
        match body {
            CommandBody::Capability => {
                let list = match self.state {
                    _ if self.context.is_generic() => reply::CAPABILITY_GENERIC,
                    State::NotAuthenticated => reply::CAPABILITY_PRE_AUTH,
                    _ => reply::CAPABILITY_POST_AUTH,
                };
                vec![Action::reply(list), Self::tagged(tag, "OK CAPABILITY completed.")]
            }
            CommandBody::Logout => {
                let bye = if self.state == State::NotConnected {
                    reply::BYE_NOT_CONNECTED
                } else {
                    reply::BYE
                };
                vec![
                    Action::reply(bye),
                    Self::tagged(tag, "OK LOGOUT completed."),
                    Action::Close,
                ]
            }
            CommandBody::Noop if self.mail.is_none() => vec![Self::tagged(tag, "OK NOOP completed.")],
            CommandBody::Login { username, .. } => match self.state {
                State::NotAuthenticated => {
                    let username = String::from_utf8_lossy(username.as_ref()).into_owned();
                    self.login_as(tag, &username)
                }
                _ => self.invalid_state(tag),
            },
            CommandBody::Authenticate { .. } => self.invalid_state(tag),
            CommandBody::Enable { .. }
            | CommandBody::Compress { .. }
            | CommandBody::GetQuota { .. }
            | CommandBody::GetQuotaRoot { .. }
            | CommandBody::SetQuota { .. } => self.malformed(tag, reply::COMMAND_ERROR),
            body => {
                let Some(mail) = self.mail.as_mut() else {
                    return self.invalid_state(tag);
                };
                let mut run = Run {
                    context: &self.context,
                    mail,
                    tag,
                };
                let (mut actions, next) = run.command(body);
                if let Next::Idle(tag) = next {
                    self.state = State::Idling { tag };
                }
                if actions.iter().any(|action| matches!(action, Action::Reply(lines) if lines.iter().any(|line| line.starts_with(tag) && line[tag.len()..].starts_with(" BAD")))) {
                    self.invalid += 1;
                    if self.invalid > 2 {
                        actions.extend([Action::reply(reply::BYE_INVALID), Action::Close]);
                    }
                }
                actions
            }
        }
    }

    /// `UID EXPUNGE set` (RFC 4315), which imap-codec 1 does not parse.
    fn uid_expunge(&mut self, tag: &str, arguments: &str) -> Vec<Action> {
        let set = arguments.split_whitespace().nth(1).unwrap_or_default();
        let parsed = imap_codec::imap_types::sequence::SequenceSet::try_from(set);
        let Some(mail) = self.mail.as_mut() else {
            return self.invalid_state(tag);
        };
        match parsed {
            Ok(set) => Run {
                context: &self.context,
                mail,
                tag,
            }
            .uid_expunge(&set),
            Err(_) => self.malformed(tag, reply::INVALID_SET),
        }
    }

    /// `LOGIN user password`: Basic authentication, which Exchange Online refuses (rule
    /// `basic-auth`); a personal account is told so, and the connection closes.
    fn login(&mut self, tag: &str, arguments: &str) -> Vec<Action> {
        let username = first_argument(arguments);
        self.login_as(tag, &username)
    }

    fn login_as(&mut self, tag: &str, username: &str) -> Vec<Action> {
        let mut decisions = Vec::new();
        let (refusal, personal) =
            super::basic::refuse_password(&self.context.directory, Protocol::Imap, username, &mut decisions);
        let mut actions: Vec<Action> = decisions.into_iter().map(Action::decided).collect();
        actions.push(Action::Observe(Observation::AuthRejected {
            mechanism: Mechanism::Login,
            refusal,
        }));
        if personal {
            // fidelity: consumer-basic-auth-removed (holon-run/uxc #445)
            actions.extend([
                Self::tagged(tag, reply::BASIC_DISABLED),
                Action::reply(reply::BYE),
                Action::Close,
            ]);
        } else {
            // fidelity: imap-basic-login-disabled
            actions.push(Self::tagged(tag, reply::LOGIN_FAILED));
        }
        actions
    }

    fn authenticate(&mut self, tag: &str, arguments: &str) -> Vec<Action> {
        if self.state != State::NotAuthenticated {
            return self.invalid_state(tag);
        }
        let (mechanism, initial_response) = match arguments.split_once(' ') {
            Some((mechanism, response)) => (mechanism, Some(response.trim())),
            None => (arguments, None),
        };
        let bearer = BearerMechanism::from_name(mechanism)
            .filter(|bearer| *bearer == BearerMechanism::Xoauth2 || self.context.is_generic());
        let Some(bearer) = bearer else {
            let mechanism = Mechanism::from_name(mechanism);
            // PLAIN is advertised, so a client without SASL-IR gets its continuation first.
            if mechanism == Mechanism::Plain && initial_response.is_none() {
                self.state = State::AwaitingPlain { tag: tag.to_owned() };
                return vec![Action::reply(reply::CONTINUE)];
            }
            if mechanism == Mechanism::Plain {
                return self.plain(tag, initial_response.unwrap_or_default().as_bytes());
            }
            // OAUTHBEARER is not offered (fidelity: oauthbearer-not-offered; the exact reply to it
            // was never captured: unverified).
            let rule = if mechanism.is_password() {
                &BASIC_AUTH
            } else {
                &IMAP_FRONT_DOOR
            };
            return vec![
                Action::decided(
                    Decision::new(
                        rule,
                        format!("{} is not accepted: NO AUTHENTICATE failed.", mechanism.name()),
                    )
                    .with("mechanism", mechanism.name()),
                ),
                Action::Observe(Observation::AuthRejected {
                    refusal: Refusal::MechanismNotAccepted(mechanism.name().to_owned()),
                    mechanism,
                }),
                Self::tagged(tag, reply::AUTHENTICATE_FAILED),
            ];
        };
        match initial_response {
            // RFC 4959 §3: "=" is an empty initial response.
            Some("=") => self.bearer(tag, bearer, b""),
            Some(response) => self.bearer(tag, bearer, response.as_bytes()),
            None => {
                self.state = State::AwaitingResponse {
                    tag: tag.to_owned(),
                    bearer,
                };
                vec![Action::reply(reply::CONTINUE)]
            }
        }
    }

    /// `AUTHENTICATE PLAIN`: a password, refused as Basic authentication (fidelity:
    /// consumer-basic-auth-removed shows `NO AUTHENTICATE failed.` for hotmail; for work tenants
    /// the reply is unverified).
    fn plain(&mut self, tag: &str, encoded: &[u8]) -> Vec<Action> {
        self.state = State::NotAuthenticated;
        let username = crate::sasl::plain_user(encoded);
        let mut decisions = Vec::new();
        let (refusal, _) =
            super::basic::refuse_password(&self.context.directory, Protocol::Imap, &username, &mut decisions);
        let mut actions: Vec<Action> = decisions.into_iter().map(Action::decided).collect();
        actions.extend([
            Action::Observe(Observation::AuthRejected {
                mechanism: Mechanism::Plain,
                refusal,
            }),
            Self::tagged(tag, reply::AUTHENTICATE_FAILED),
        ]);
        actions
    }

    fn bearer(&mut self, tag: &str, bearer: BearerMechanism, encoded: &[u8]) -> Vec<Action> {
        self.state = State::NotAuthenticated;
        let parsed = bearer.parse(encoded);
        let Some(response) = parsed else {
            return rejected(tag, bearer.into(), Refusal::MalformedResponse);
        };
        let context = &self.context;
        let now = context.clock.now_unix();
        let mut decisions = Vec::new();
        let checked = access::check(
            &context.directory,
            &context.verifier,
            Protocol::Imap,
            &response,
            now,
            &mut decisions,
        );
        let mut actions: Vec<Action> = decisions.into_iter().map(Action::decided).collect();
        match checked {
            Ok(access) => {
                self.state = State::Authenticated;
                self.mail = Some(Mail {
                    address: access.mailbox.clone(),
                    selected: None,
                });
                actions.extend([
                    Action::decided(Decision::new(
                        &IMAP_FRONT_DOOR,
                        "Accepted: OK AUTHENTICATE completed.",
                    )),
                    Action::Observe(Observation::AuthSucceeded {
                        mechanism: bearer.into(),
                        user: access.mailbox,
                    }),
                    Self::tagged(tag, reply::AUTHENTICATED),
                    Action::IdleTimeout(self.context.limits.authenticated_idle),
                ]);
            }
            // The generic profile challenges first and fails on the client's answer (RFC 7628 §3.2.2).
            Err(refusal) if context.is_generic() => {
                self.state = State::AwaitingErrorAck { tag: tag.to_owned() };
                let challenge = generic::error_challenge(bearer.name(), Protocol::Imap.scope());
                actions.extend([
                    Action::decided(Decision::new(
                        &generic::GENERIC_PROFILE,
                        "Refused: a JSON error challenge first (RFC 7628), then NO [AUTHENTICATIONFAILED].",
                    )),
                    Action::Observe(Observation::AuthRejected {
                        mechanism: bearer.into(),
                        refusal,
                    }),
                    Action::reply(format!("+ {challenge}")),
                    Action::Deadline(generic::CHALLENGE_WAIT),
                ]);
            }
            // fidelity: imap-authenticated-not-connected (a mailbox the token cannot open, or
            // IMAP disabled on it: the Microsoft employee's script names both; mutt_oauth2.py
            // reports the same for a token of another account).
            Err(
                refusal @ (Refusal::NotTheOwner { .. }
                | Refusal::UnknownMailbox(_)
                | Refusal::ProtocolDisabledForMailbox(_)
                | Refusal::MailboxPermissionMissing),
            ) => {
                self.state = State::NotConnected;
                actions.extend([
                    Action::decided(Decision::new(
                        &IMAP_NOT_CONNECTED,
                        "OK AUTHENTICATE completed., but the mailbox cannot be opened: every later command gets BAD User is authenticated but not connected.",
                    )),
                    Action::Observe(Observation::AuthRejected {
                        mechanism: bearer.into(),
                        refusal: Refusal::NotConnected(Box::new(refusal)),
                    }),
                    Self::tagged(tag, reply::AUTHENTICATED),
                ]);
            }
            Err(refusal) => actions.extend(rejected(tag, bearer.into(), refusal)),
        }
        actions
    }
}

fn rejected(tag: &str, mechanism: Mechanism, refusal: Refusal) -> Vec<Action> {
    vec![
        Action::decided(Decision::new(
            &IMAP_FRONT_DOOR,
            "Refused with NO AUTHENTICATE failed. (Exchange's reply to every failed check, with no JSON challenge).",
        )),
        Action::Observe(Observation::AuthRejected { mechanism, refusal }),
        ImapSession::tagged(tag, reply::AUTHENTICATE_FAILED),
    ]
}

/// The first argument of a command: a quoted string (with `\\` and `\"` escapes) or an atom.
fn first_argument(arguments: &str) -> String {
    let arguments = arguments.trim_start();
    let Some(quoted) = arguments.strip_prefix('"') else {
        return arguments.split(' ').next().unwrap_or_default().to_owned();
    };
    let mut value = String::new();
    let mut characters = quoted.chars();
    while let Some(character) = characters.next() {
        match character {
            '\\' => value.extend(characters.next()),
            '"' => break,
            other => value.push(other),
        }
    }
    value
}

/// Whether Exchange knows the command (a malformed one is then an argument error).
fn is_known_verb(verb: &str) -> bool {
    matches!(
        verb,
        "CAPABILITY"
            | "NOOP"
            | "LOGOUT"
            | "LOGIN"
            | "AUTHENTICATE"
            | "SELECT"
            | "EXAMINE"
            | "CREATE"
            | "DELETE"
            | "RENAME"
            | "SUBSCRIBE"
            | "UNSUBSCRIBE"
            | "LIST"
            | "LSUB"
            | "STATUS"
            | "APPEND"
            | "IDLE"
            | "CHECK"
            | "CLOSE"
            | "UNSELECT"
            | "EXPUNGE"
            | "SEARCH"
            | "FETCH"
            | "STORE"
            | "COPY"
            | "MOVE"
            | "UID"
    )
}

/// `EXPUNGE set` after `UID`.
fn is_uid_expunge(arguments: &str) -> bool {
    arguments
        .split_whitespace()
        .next()
        .is_some_and(|word| word.eq_ignore_ascii_case("EXPUNGE"))
        && arguments.split_whitespace().count() == 2
}

impl Session for ImapSession {
    fn greeting(&mut self) -> Vec<Action> {
        let context = &self.context;
        vec![Action::reply(reply::greeting(
            context.directory.tenant.greeting,
            &context.stamp,
        ))]
    }

    fn on_line(&mut self, line: &[u8]) -> Vec<Action> {
        match std::mem::replace(&mut self.state, State::NotAuthenticated) {
            State::AwaitingErrorAck { tag } => {
                return vec![Self::tagged(&tag, generic::IMAP_FAILED)];
            }
            State::AwaitingPlain { tag } => return self.plain(&tag, line),
            State::AwaitingResponse { tag, bearer } => {
                if line == b"*" {
                    // The reply to a cancelled exchange was never captured (unverified).
                    return rejected(&tag, bearer.into(), Refusal::Cancelled);
                }
                return self.bearer(&tag, bearer, line);
            }
            State::Idling { tag } => {
                self.state = State::Authenticated;
                let mut actions = vec![Action::Unwatch];
                if line.eq_ignore_ascii_case(b"DONE") {
                    if let Some(mail) = self.mail.as_mut()
                        && let Some(selected) = mail.selected.as_mut()
                    {
                        let news = selected.sync(&self.context.store, &mail.address, true);
                        if !news.is_empty() {
                            actions.push(Action::Reply(news));
                        }
                    }
                    actions.push(Self::tagged(&tag, "OK IDLE completed."));
                } else {
                    actions.push(Self::tagged(&tag, reply::ARGUMENT_ERROR));
                }
                return actions;
            }
            state => self.state = state,
        }
        if let Some(mut pending) = self.pending.take() {
            if pending.skipping {
                // The rest of a command whose literal was too large.
                return vec![Self::tagged(&pending.tag, reply::LITERAL_TOO_BIG)];
            }
            pending.bytes.extend_from_slice(line);
            pending.bytes.extend_from_slice(b"\r\n");
            return self.decode(pending);
        }
        let text = crate::net::lossy(line);
        let mut words = text.splitn(3, ' ');
        // A tag is ASTRING-CHARs but `+` (RFC 9051 §9): anything else cannot be echoed as a tag,
        // and the error is untagged.
        let valid_tag = |tag: &&str| {
            !tag.is_empty()
                && tag.bytes().all(|byte| {
                    byte.is_ascii_graphic()
                        && !matches!(byte, b'(' | b')' | b'{' | b'%' | b'*' | b'"' | b'\\' | b'+')
                })
        };
        let (Some(tag), Some(verb)) = (words.next().filter(valid_tag), words.next()) else {
            return vec![Action::reply(format!("* {}", reply::COMMAND_ERROR))];
        };
        let arguments = words.next().unwrap_or_default().trim();
        let (tag, verb, arguments) = (tag.to_owned(), verb.to_owned(), arguments.to_owned());
        self.command(&tag, &verb, &arguments, line)
    }

    fn on_bytes(&mut self, bytes: Vec<u8>) -> Vec<Action> {
        if let Some(pending) = self.pending.as_mut()
            && !pending.skipping
        {
            pending.bytes.extend_from_slice(&bytes);
        }
        Vec::new()
    }

    fn on_change(&mut self) -> Vec<Action> {
        if !matches!(self.state, State::Idling { .. }) {
            return Vec::new();
        }
        let Some(mail) = self.mail.as_mut() else {
            return Vec::new();
        };
        let Some(selected) = mail.selected.as_mut() else {
            return Vec::new();
        };
        let news = selected.sync(&self.context.store, &mail.address, true);
        if news.is_empty() {
            return Vec::new();
        }
        vec![Action::Reply(news)]
    }

    fn on_idle_timeout(&mut self) -> Vec<Action> {
        vec![Action::reply(reply::BYE_TIMEOUT)]
    }

    fn on_deadline(&mut self) -> Vec<Action> {
        match std::mem::replace(&mut self.state, State::NotAuthenticated) {
            State::AwaitingErrorAck { tag } => vec![Self::tagged(&tag, generic::IMAP_FAILED)],
            _ => vec![Action::Close],
        }
    }

    fn on_line_too_long(&mut self) -> Vec<Action> {
        self.state = match std::mem::replace(&mut self.state, State::NotAuthenticated) {
            State::AwaitingResponse { .. } | State::AwaitingErrorAck { .. } | State::AwaitingPlain { .. } => {
                State::NotAuthenticated
            }
            state => state,
        };
        vec![Action::reply(reply::LINE_TOO_LONG)]
    }

    fn describe_client_line(&self, line: &[u8]) -> String {
        if matches!(
            self.state,
            State::AwaitingResponse { .. } | State::AwaitingErrorAck { .. } | State::AwaitingPlain { .. }
        ) || self
            .pending
            .as_ref()
            .is_some_and(|pending| matches!(pending.verb.as_str(), "LOGIN" | "AUTHENTICATE"))
        {
            return format!("<redacted {} B>", line.len());
        }
        let text = crate::net::lossy(line);
        let words: Vec<&str> = text.splitn(4, ' ').collect();
        match words.as_slice() {
            [tag, verb, mechanism, response] if verb.eq_ignore_ascii_case("AUTHENTICATE") => {
                format!("{tag} {verb} {mechanism} <redacted {} B>", response.len())
            }
            [tag, verb, ..] if verb.eq_ignore_ascii_case("LOGIN") => format!("{tag} {verb} <redacted>"),
            _ => text.into_owned(),
        }
    }
}

#[cfg(test)]
#[path = "imap_tests.rs"]
mod tests;
