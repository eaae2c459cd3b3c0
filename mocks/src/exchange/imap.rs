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

use super::access::{self, Protocol, Refusal};
use super::basic::BASIC_AUTH;
use super::context::ExchangeContext;
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
    Authenticated {
        selected: bool,
    },
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
        }
    }

    fn tagged(tag: &str, text: &str) -> Action {
        Action::reply(format!("{tag} {text}"))
    }

    fn command(&mut self, tag: &str, verb: &str, arguments: &str) -> Vec<Action> {
        let verb = verb.to_ascii_uppercase();
        // fidelity: imap-authenticated-not-connected: every command but LOGOUT, ID, CAPABILITY and
        // NOOP included (imapsync #411 shows `4 ID (...)` answered so).
        if self.state == State::NotConnected && verb != "LOGOUT" {
            return vec![Self::tagged(tag, reply::NOT_CONNECTED)];
        }
        match verb.as_str() {
            "CAPABILITY" => {
                let list = match self.state {
                    _ if self.context.is_generic() => reply::CAPABILITY_GENERIC,
                    State::NotAuthenticated => reply::CAPABILITY_PRE_AUTH,
                    _ => reply::CAPABILITY_POST_AUTH,
                };
                vec![Action::reply(list), Self::tagged(tag, "OK CAPABILITY completed.")]
            }
            "NOOP" => vec![Self::tagged(tag, "OK NOOP completed.")],
            "ID" => vec![Action::reply("* ID NIL"), Self::tagged(tag, "OK ID completed.")],
            "LOGOUT" => {
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
            "AUTHENTICATE" => self.authenticate(tag, arguments),
            "LOGIN" => match self.state {
                State::NotAuthenticated => self.login(tag, arguments),
                _ => vec![Self::tagged(tag, reply::INVALID_STATE)],
            },
            _ if is_mailbox_command(&verb) => self.mailbox_command(tag, &verb, arguments),
            _ => vec![Self::tagged(tag, reply::COMMAND_ERROR)],
        }
    }

    /// `LOGIN user password`: Basic authentication, which Exchange Online refuses (rule
    /// `basic-auth`); a personal account is told so, and the connection closes.
    fn login(&mut self, tag: &str, arguments: &str) -> Vec<Action> {
        let username = first_argument(arguments);
        let mut decisions = Vec::new();
        let (refusal, personal) =
            super::basic::refuse_password(&self.context.directory, Protocol::Imap, &username, &mut decisions);
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
            return vec![Self::tagged(tag, reply::INVALID_STATE)];
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
                self.state = State::Authenticated { selected: false };
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

    fn mailbox_command(&mut self, tag: &str, verb: &str, arguments: &str) -> Vec<Action> {
        let selected = match self.state {
            State::NotAuthenticated
            | State::AwaitingResponse { .. }
            | State::AwaitingErrorAck { .. }
            | State::AwaitingPlain { .. }
            | State::Idling { .. } => {
                return vec![Self::tagged(tag, reply::INVALID_STATE)];
            }
            State::NotConnected => return vec![Self::tagged(tag, reply::NOT_CONNECTED)],
            State::Authenticated { selected } => selected,
        };
        let mailbox = arguments
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .trim_matches('"');
        let completed = |name: &str| Self::tagged(tag, &format!("OK {name} completed."));
        match verb {
            "NAMESPACE" => vec![
                Action::reply("* NAMESPACE ((\"\" \"/\")) NIL NIL"),
                completed("NAMESPACE"),
            ],
            "LIST" | "LSUB" => {
                let wants_root = arguments.split_whitespace().nth(1) == Some("\"\"");
                let line = if wants_root {
                    format!("* {verb} (\\Noselect \\HasChildren) \"/\" \"\"")
                } else {
                    format!("* {verb} (\\Marked \\HasNoChildren) \"/\" INBOX")
                };
                vec![Action::reply(line), completed(verb)]
            }
            "SELECT" | "EXAMINE" if mailbox.eq_ignore_ascii_case("INBOX") => {
                self.state = State::Authenticated { selected: true };
                let access = if verb == "SELECT" {
                    "READ-WRITE"
                } else {
                    "READ-ONLY"
                };
                vec![
                    Action::Reply(vec![
                        "* 0 EXISTS".into(),
                        "* 0 RECENT".into(),
                        "* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft $MDNSent)".into(),
                        "* OK [PERMANENTFLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft $MDNSent)] Permanent flags".into(),
                        "* OK [UIDVALIDITY 14] UIDVALIDITY value".into(),
                        "* OK [UIDNEXT 1] The next unique identifier value".into(),
                    ]),
                    Self::tagged(tag, &format!("OK [{access}] {verb} completed.")),
                ]
            }
            "SELECT" | "EXAMINE" | "STATUS" if !mailbox.eq_ignore_ascii_case("INBOX") => {
                vec![Self::tagged(tag, "NO Mailbox doesn't exist.")]
            }
            "STATUS" => vec![
                Action::reply("* STATUS INBOX (MESSAGES 0 UIDNEXT 1 UIDVALIDITY 14 UNSEEN 0)"),
                completed("STATUS"),
            ],
            "IDLE" => {
                self.state = State::Idling { tag: tag.to_owned() };
                vec![Action::reply("+ IDLE accepted, awaiting DONE command.")]
            }
            "CLOSE" | "UNSELECT" => {
                self.state = State::Authenticated { selected: false };
                vec![completed(verb)]
            }
            _ if !selected
                && matches!(
                    verb,
                    "FETCH" | "SEARCH" | "UID" | "STORE" | "EXPUNGE" | "COPY" | "MOVE"
                ) =>
            {
                vec![Self::tagged(tag, reply::INVALID_STATE)]
            }
            "SEARCH" => vec![Action::reply("* SEARCH"), completed("SEARCH")],
            "UID" if arguments.to_ascii_uppercase().starts_with("SEARCH") => {
                vec![Action::reply("* SEARCH"), completed("SEARCH")]
            }
            _ => vec![completed(verb)],
        }
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

fn is_mailbox_command(verb: &str) -> bool {
    matches!(
        verb,
        "SELECT"
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
            | "NAMESPACE"
            | "IDLE"
            | "ENABLE"
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
                self.state = State::Authenticated { selected: true };
                return if line.eq_ignore_ascii_case(b"DONE") {
                    vec![Self::tagged(&tag, "OK IDLE completed.")]
                } else {
                    vec![Self::tagged(&tag, "BAD Command Argument Error. 11")]
                };
            }
            state => self.state = state,
        }
        let text = String::from_utf8_lossy(line);
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
        self.command(tag, verb, arguments)
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
        ) {
            return format!("<redacted {} B>", line.len());
        }
        let text = String::from_utf8_lossy(line);
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
