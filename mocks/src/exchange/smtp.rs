//! Exchange Online's SMTP submission front door as a sans-IO session (rules `smtp-front-door`,
//! `send-as`, `basic-auth`).
//!
//! AUTH is offered only after STARTTLS, as `AUTH LOGIN XOAUTH2`; XOAUTH2 may carry its initial
//! response inline or after an empty `334`; a refused token gets `535 5.7.3` with no JSON
//! challenge; the tenant's and mailbox's SMTP AUTH settings answer `535 5.7.139`.

use std::sync::Arc;

use crate::decision::{Decision, Part, Rule};
use crate::journal::Observation;
use crate::net::{Action, ConnectionInfo, Session};
use crate::sasl::{BearerMechanism, Mechanism};

use super::access::{self, Access, Protocol, Refusal};
use super::basic::BASIC_AUTH;
use super::context::ExchangeContext;
use super::replies::generic;
use super::replies::smtp as reply;
use crate::store::MAILBOX_STORE;

/// The most recipients a message may have (Exchange Online's recipient limit: 1,000).
const MAX_RECIPIENTS: usize = 1000;

/// Rule: the SMTP submission front door.
pub(crate) const SMTP_FRONT_DOOR: Rule = Rule {
    id: "smtp-front-door",
    part: Part::Exchange,
    title: "smtp.office365.com:587: AUTH only after STARTTLS, XOAUTH2 inline or after 334, one reply for every failure",
    text: "The greeting names a front-end host and the date; EHLO before STARTTLS advertises no            AUTH, and after it `AUTH LOGIN XOAUTH2` (never PLAIN or OAUTHBEARER). XOAUTH2 takes its            response on the AUTH line or after an empty `334`. Success is `235 2.7.0 Authentication            successful`; every failed token check is `535 5.7.3 Authentication unsuccessful` with a            `[host timestamp id]` suffix and no JSON error challenge, so the client cannot tell a            Graph token from a wrong password. SMTP AUTH switched off answers `535 5.7.139` naming            the Tenant or the Mailbox. A cancelled exchange (`*`) gets 535, `AUTH PLAIN` 504 5.7.4,            `MAIL FROM` before AUTH 530 5.7.57, and an invalid EHLO domain 501 5.5.4. A front end that            cannot reach the back end answers AUTH with `451 4.7.0 Temporary server error. Please try            again later. PRX4` (a serve started with `--transient-smtp-auth N` does so N times).",
    cases: &[
        "smtp-greeting-ehlo-prestarttls",
        "smtp-ehlo-post-starttls",
        "smtp-xoauth2-initial-response",
        "smtp-xoauth2-continuation",
        "smtp-xoauth2-rejected",
        "smtp-auth-disabled-tenant",
        "smtp-auth-disabled-mailbox",
        "smtp-unadvertised-mechanism",
        "smtp-mail-from-without-auth",
        "smtp-cancel-exchange",
        "smtp-misc-transport",
        "oauthbearer-not-offered",
    ],
    sources: &[
        "https://www.rfc-editor.org/rfc/rfc4954",
        "https://github.com/harishkrupo/oauth2ms/issues/5",
    ],
};

/// Rule: sending as another address.
pub(crate) const SEND_AS: Rule = Rule {
    id: "send-as",
    part: Part::Exchange,
    title: "Sending as another address needs SendAs; the refusal comes after DATA",
    text: "After AUTH, `MAIL FROM`, `RCPT TO` and `DATA` are accepted whatever the sender. When            the envelope sender or the `From:` header is not the authenticated mailbox, and no            SendAs permission covers it, the message is refused after the final dot with `554            5.2.252 SendAsDenied`.",
    cases: &["smtp-sendas-denied"],
    sources: &[],
};

/// One SMTP connection's state.
#[derive(Debug)]
pub(crate) struct SmtpSession {
    context: Arc<ExchangeContext>,
    client_ip: String,
    tls: bool,
    greeted: bool,
    authenticated: Option<Access>,
    state: State,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Command,
    /// After a bare `AUTH XOAUTH2` (or `OAUTHBEARER`): the next line is the base64 response.
    AwaitingBearer(BearerMechanism),
    /// Generic profile: an error challenge was sent; the next line, whatever it is, gets the failure.
    AwaitingErrorAck,
    /// After `AUTH LOGIN`: user name, then password (Basic auth, refused).
    AwaitingLoginUsername,
    AwaitingLoginPassword {
        username: String,
    },
    /// Between MAIL and DATA (or the first BDAT).
    Transaction {
        sender: String,
        recipients: Vec<String>,
    },
    /// After `354`, until the lone dot.
    Data(Body),
    /// Between BDAT chunks; `awaiting` is the size of the chunk being read, if any.
    Chunks {
        body: Box<Body>,
        awaiting: Option<(usize, bool)>,
    },
}

/// A message being received.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Body {
    sender: String,
    recipients: Vec<String>,
    /// The message so far, dot-unstuffed; emptied when it grows past the size limit.
    message: Vec<u8>,
    /// It grew past [`reply::MAX_MESSAGE_SIZE`]: the rest is read and dropped.
    too_big: bool,
}

impl Body {
    fn new(sender: String, recipients: Vec<String>) -> Self {
        Self {
            sender,
            recipients,
            message: Vec::new(),
            too_big: false,
        }
    }

    fn push(&mut self, bytes: &[u8]) {
        if self.too_big {
            return;
        }
        if self.message.len() + bytes.len() > reply::MAX_MESSAGE_SIZE {
            self.too_big = true;
            self.message = Vec::new();
            return;
        }
        self.message.extend_from_slice(bytes);
    }

    /// The `From:` header's address, if the header has one.
    fn sender_header(&self) -> Option<String> {
        let end = self
            .message
            .windows(4)
            .position(|window| window == b"\r\n\r\n")
            .map_or(self.message.len(), |end| end + 2);
        let header = String::from_utf8_lossy(&self.message[..end]);
        let mut from = None;
        for line in header.split("\r\n") {
            if line.len() > 5 && line.is_char_boundary(5) && line[..5].eq_ignore_ascii_case("from:") {
                from = path_argument(line, "FROM:");
            }
        }
        from
    }
}

impl SmtpSession {
    /// Starts a session for a client at `connection`; `tls` is true on an implicit-TLS port.
    pub(crate) fn new(context: Arc<ExchangeContext>, connection: ConnectionInfo, tls: bool) -> Self {
        Self {
            context,
            client_ip: connection.peer.ip().to_string(),
            tls,
            greeted: false,
            authenticated: None,
            state: State::Command,
        }
    }

    fn command(&mut self, line: &str) -> Vec<Action> {
        let stamp = &self.context.stamp;
        let (verb, argument) = match line.split_once(' ') {
            Some((verb, argument)) => (verb, argument.trim()),
            None => (line, ""),
        };
        match verb.to_ascii_uppercase().as_str() {
            "EHLO" | "HELO" if !is_valid_helo_argument(argument) => {
                vec![Action::reply(reply::invalid_domain(stamp))]
            }
            "EHLO" => {
                self.greeted = true;
                self.state = State::Command;
                let mut lines = reply::ehlo(stamp, &self.client_ip, self.tls);
                if self.tls && self.context.is_generic() {
                    lines[5] = format!("250-{}", generic::SMTP_AUTH);
                }
                vec![Action::Reply(lines)]
            }
            "HELO" => {
                self.greeted = true;
                self.state = State::Command;
                vec![Action::reply(reply::helo(stamp, &self.client_ip))]
            }
            "STARTTLS" if self.tls => vec![Action::reply(reply::BAD_SEQUENCE)],
            "STARTTLS" => {
                // RFC 3207 §4.2: the client must greet again, and nothing from before counts.
                self.tls = true;
                self.greeted = false;
                vec![Action::reply(reply::STARTTLS_READY), Action::StartTls]
            }
            "AUTH" => self.auth(argument),
            "MAIL" => self.mail(argument),
            "RCPT" => self.rcpt(argument),
            "DATA" => match &self.state {
                State::Transaction { sender, recipients } if !recipients.is_empty() => {
                    self.state = State::Data(Body::new(sender.clone(), recipients.clone()));
                    vec![Action::reply(reply::START_MAIL_INPUT)]
                }
                _ => vec![Action::reply(reply::BAD_SEQUENCE)],
            },
            "BDAT" => self.bdat(argument),
            "RSET" => {
                self.state = State::Command;
                vec![Action::reply(reply::RESETTING)]
            }
            "NOOP" => vec![Action::reply(reply::OK)],
            "QUIT" => vec![Action::reply(reply::CLOSING), Action::Close],
            _ => vec![Action::reply(reply::unrecognized_command(stamp, verb))],
        }
    }

    fn auth(&mut self, argument: &str) -> Vec<Action> {
        let stamp = &self.context.stamp;
        if !self.greeted {
            return vec![Action::reply(reply::send_hello_first(stamp))];
        }
        if self.authenticated.is_some() || matches!(self.state, State::Transaction { .. }) {
            // RFC 4954 §4: AUTH after a successful AUTH, or inside a transaction, is refused.
            return vec![Action::reply(reply::BAD_SEQUENCE)];
        }
        let (mechanism, initial_response) = match argument.split_once(' ') {
            Some((mechanism, response)) => (mechanism, Some(response.trim())),
            None => (argument, None),
        };
        // AUTH is not advertised before STARTTLS (smtp-greeting-ehlo-prestarttls); the reply to
        // trying anyway is unverified, 504 5.7.4 being the catalog's "likely analogue".
        if !self.tls {
            return vec![Action::reply(reply::unrecognized_mechanism(stamp))];
        }
        if self.context.take_transient_auth() {
            return vec![Action::reply(reply::temporary_server_error(stamp))];
        }
        let bearer = BearerMechanism::from_name(mechanism)
            .filter(|bearer| *bearer == BearerMechanism::Xoauth2 || self.context.is_generic());
        if let Some(bearer) = bearer {
            return match initial_response {
                // RFC 4954 §4: "=" is an empty initial response.
                Some("=") => self.bearer(bearer, b""),
                Some(response) => self.bearer(bearer, response.as_bytes()),
                None => {
                    self.state = State::AwaitingBearer(bearer);
                    vec![Action::reply(reply::CONTINUE)]
                }
            };
        }
        match Mechanism::from_name(mechanism) {
            // RFC 4954 §4 lets the user name ride on the AUTH line.
            Mechanism::Login => match initial_response {
                Some(encoded) => {
                    self.state = State::AwaitingLoginPassword {
                        username: decode_text(encoded.as_bytes()),
                    };
                    vec![Action::reply(reply::LOGIN_PASSWORD)]
                }
                None => {
                    self.state = State::AwaitingLoginUsername;
                    vec![Action::reply(reply::LOGIN_USERNAME)]
                }
            },
            // fidelity: smtp-unadvertised-mechanism, oauthbearer-not-offered
            other => vec![
                Action::decided(
                    Decision::new(
                        &SMTP_FRONT_DOOR,
                        format!(
                            "{} is not advertised: 504 5.7.4 Unrecognized authentication type.",
                            other.name()
                        ),
                    )
                    .with("mechanism", other.name()),
                ),
                Action::reply(reply::unrecognized_mechanism(stamp)),
            ],
        }
    }

    /// Checks a bearer response (base64) and answers 235 or 535.
    fn bearer(&mut self, bearer: BearerMechanism, encoded: &[u8]) -> Vec<Action> {
        self.state = State::Command;
        let context = &self.context;
        let parsed = bearer.parse(encoded);
        // A malformed response is answered like a refused token: Exchange sends 535 where RFC
        // 4954 would send 501 (fidelity: smtp-cancel-exchange).
        let Some(response) = parsed else {
            return rejected(
                bearer.into(),
                reply::unsuccessful(&context.stamp),
                Refusal::MalformedResponse,
            );
        };
        let now = context.clock.now_unix();
        let mut decisions = Vec::new();
        let checked = access::check(
            &context.directory,
            &context.verifier,
            Protocol::Smtp,
            &response,
            now,
            &mut decisions,
        );
        let mut actions: Vec<Action> = decisions.into_iter().map(Action::decided).collect();
        match checked {
            Ok(access) => {
                let user = access.mailbox.clone();
                self.authenticated = Some(access);
                actions.extend([
                    Action::decided(Decision::new(
                        &SMTP_FRONT_DOOR,
                        "Accepted: 235 2.7.0 Authentication successful.",
                    )),
                    Action::Observe(Observation::AuthSucceeded {
                        mechanism: bearer.into(),
                        user,
                    }),
                    Action::reply(reply::AUTHENTICATED),
                ]);
            }
            // The generic profile challenges first and fails on the client's answer (RFC 7628 §3.2.2).
            Err(refusal) if context.is_generic() => {
                self.state = State::AwaitingErrorAck;
                let challenge = generic::error_challenge(bearer.name(), Protocol::Smtp.scope());
                actions.extend([
                    Action::decided(Decision::new(
                        &generic::GENERIC_PROFILE,
                        "Refused: a JSON error challenge first (RFC 7628), then 535 5.7.8.",
                    )),
                    Action::Observe(Observation::AuthRejected {
                        mechanism: bearer.into(),
                        refusal,
                    }),
                    Action::reply(format!("334 {challenge}")),
                    Action::Deadline(generic::CHALLENGE_WAIT),
                ]);
            }
            Err(refusal) => {
                let line = match refusal {
                    Refusal::SmtpAuthDisabledForTenant => reply::disabled_for_tenant(&context.stamp),
                    Refusal::SmtpAuthDisabledForMailbox => reply::disabled_for_mailbox(&context.stamp),
                    _ => reply::unsuccessful(&context.stamp),
                };
                actions.extend(rejected(bearer.into(), line, refusal));
            }
        }
        actions
    }

    /// Checks a password given at `AUTH LOGIN` (rules `basic-auth`, `security-defaults`).
    fn password(&mut self, username: &str, password: &str) -> Vec<Action> {
        let context = &self.context;
        let mut decisions = Vec::new();
        let checked =
            super::basic::check_smtp_password(&context.directory, username, password, &mut decisions);
        let mut actions: Vec<Action> = decisions.into_iter().map(Action::decided).collect();
        match checked {
            Ok(access) => {
                let user = access.mailbox.clone();
                self.authenticated = Some(access);
                actions.extend([
                    Action::Observe(Observation::AuthSucceeded {
                        mechanism: Mechanism::Login,
                        user,
                    }),
                    Action::reply(reply::AUTHENTICATED),
                ]);
            }
            Err(refusal) => {
                let stamp = &context.stamp;
                let line = match refusal {
                    Refusal::SmtpAuthDisabledForTenant => reply::disabled_for_tenant(stamp),
                    Refusal::SmtpAuthDisabledForMailbox => reply::disabled_for_mailbox(stamp),
                    Refusal::BasicAuthRetired => reply::BASIC_AUTH_RETIRED.to_owned(),
                    Refusal::SecurityDefaults => reply::security_defaults(stamp),
                    Refusal::ConditionalAccess => reply::criteria_not_met(stamp),
                    Refusal::WrongCredentials => reply::credentials_incorrect(stamp),
                    _ => reply::basic_auth_disabled(stamp),
                };
                actions.extend(rejected(Mechanism::Login, line, refusal));
            }
        }
        actions
    }

    fn mail(&mut self, argument: &str) -> Vec<Action> {
        let stamp = &self.context.stamp;
        if !self.greeted {
            return vec![Action::reply(reply::send_hello_first(stamp))];
        }
        if self.authenticated.is_none() {
            return vec![Action::reply(reply::not_authenticated(stamp))];
        }
        if !matches!(self.state, State::Command) {
            return vec![Action::reply(reply::BAD_SEQUENCE)];
        }
        let Some(sender) = path_argument(argument, "FROM:") else {
            return vec![Action::reply(reply::INVALID_ARGUMENTS)];
        };
        self.state = State::Transaction {
            sender,
            recipients: Vec::new(),
        };
        vec![Action::reply(reply::SENDER_OK)]
    }

    fn rcpt(&mut self, argument: &str) -> Vec<Action> {
        let State::Transaction { recipients, .. } = &mut self.state else {
            return vec![Action::reply(reply::BAD_SEQUENCE)];
        };
        let Some(recipient) = path_argument(argument, "TO:") else {
            return vec![Action::reply(reply::INVALID_ARGUMENTS)];
        };
        // RFC 5321 §4.5.3.1.8 asks servers to take at least 100 recipients; Exchange Online
        // takes 1,000 a message (the past the limit reply is unverified).
        if recipients.len() >= MAX_RECIPIENTS {
            return vec![Action::reply(reply::TOO_MANY_RECIPIENTS)];
        }
        recipients.push(recipient);
        vec![Action::reply(reply::RECIPIENT_OK)]
    }

    /// `BDAT size [LAST]` (RFC 3030): the chunk's octets follow the command line.
    fn bdat(&mut self, argument: &str) -> Vec<Action> {
        let mut words = argument.split_whitespace();
        let size = words.next().and_then(|size| size.parse::<usize>().ok());
        let last = match words.next() {
            None => false,
            Some(word) if word.eq_ignore_ascii_case("LAST") => true,
            Some(_) => return vec![Action::reply(reply::INVALID_ARGUMENTS)],
        };
        let Some(size) = size.filter(|_| words.next().is_none()) else {
            return vec![Action::reply(reply::INVALID_ARGUMENTS)];
        };
        let body = match std::mem::replace(&mut self.state, State::Command) {
            State::Transaction { sender, recipients } if !recipients.is_empty() => {
                Box::new(Body::new(sender, recipients))
            }
            State::Chunks { body, awaiting: None } => body,
            state => {
                self.state = state;
                return vec![Action::reply(reply::BAD_SEQUENCE)];
            }
        };
        // A chunk the message could not hold is not read into memory: the connection ends.
        if body.message.len() + size > reply::MAX_MESSAGE_SIZE {
            return vec![Action::reply(reply::MESSAGE_TOO_BIG), Action::Close];
        }
        self.state = State::Chunks {
            body,
            awaiting: Some((size, last)),
        };
        if size == 0 {
            return self.chunk(Vec::new());
        }
        vec![Action::ReadExact(size)]
    }

    /// A BDAT chunk's octets.
    fn chunk(&mut self, bytes: Vec<u8>) -> Vec<Action> {
        let State::Chunks {
            mut body,
            awaiting: Some((size, last)),
        } = std::mem::replace(&mut self.state, State::Command)
        else {
            return Vec::new();
        };
        body.push(&bytes);
        if !last {
            self.state = State::Chunks { body, awaiting: None };
            return vec![Action::reply(reply::chunk_received(size))];
        }
        self.finish(*body)
    }

    /// A line of DATA: kept, dot-unstuffed (RFC 5321 §4.5.2), until the lone dot.
    fn data_line(&mut self, line: &[u8]) -> Vec<Action> {
        let State::Data(body) = &mut self.state else {
            return Vec::new();
        };
        if line != b"." {
            let line = line.strip_prefix(b".").unwrap_or(line);
            body.push(line);
            body.push(b"\r\n");
            return Vec::new();
        }
        let State::Data(body) = std::mem::replace(&mut self.state, State::Command) else {
            return Vec::new();
        };
        self.finish(body)
    }

    /// The end of a message: SendAs is checked, then the message is delivered.
    fn finish(&mut self, body: Body) -> Vec<Action> {
        self.state = State::Command;
        let stamp = &self.context.stamp;
        let Some(access) = &self.authenticated else {
            return vec![Action::reply(reply::BAD_SEQUENCE)];
        };
        if body.too_big {
            return vec![Action::reply(reply::MESSAGE_TOO_BIG)];
        }
        // fidelity: smtp-sendas-denied: another sender than the authenticated mailbox needs SendAs
        // on that address, which no mailbox of the simulation grants; the refusal comes after the
        // final dot.
        for address in std::iter::once(body.sender.clone()).chain(body.sender_header()) {
            if !address.eq_ignore_ascii_case(&access.mailbox) {
                return vec![
                    Action::decided(
                        Decision::new(
                            &SEND_AS,
                            format!(
                                "{} may not send as {address}: 554 5.2.252 SendAsDenied after DATA.",
                                access.mailbox
                            ),
                        )
                        .with("sender", address.clone()),
                    ),
                    Action::reply(reply::send_as_denied(&access.mailbox, &address)),
                ];
            }
        }
        let data: Arc<[u8]> = body.message.into();
        let now = self.context.clock.now_unix();
        // fidelity: smtp-submission-saved-to-sent-items
        match self
            .context
            .store
            .deliver(&access.mailbox, &body.recipients, &data, now)
        {
            Ok(reached) => vec![
                Action::decided(
                    Decision::new(
                        &MAILBOX_STORE,
                        format!(
                            "Delivered to {} mailbox(es) of the tenant; a copy saved in {}'s Sent Items.",
                            reached.len(),
                            access.mailbox
                        ),
                    )
                    .with("recipients", reached.join(" ")),
                ),
                Action::reply(reply::queued(stamp)),
            ],
            Err(_) => vec![Action::reply(reply::STORE_FULL)],
        }
    }
}

/// The refusal's decision, observation and reply line.
fn rejected(mechanism: Mechanism, line: String, refusal: Refusal) -> Vec<Action> {
    let code = line.split(" [").next().unwrap_or_default().to_owned();
    let rule = if mechanism.is_password() {
        &BASIC_AUTH
    } else {
        &SMTP_FRONT_DOOR
    };
    let why = match &refusal {
        Refusal::SmtpAuthDisabledForTenant | Refusal::SmtpAuthDisabledForMailbox => {
            "the SMTP AUTH switch's own text"
        }
        Refusal::BasicAuthDisabled => "Basic authentication is off",
        _ => "Exchange's reply to every failed check, with no JSON challenge",
    };
    vec![
        Action::decided(
            Decision::new(rule, format!("Refused with {code} ({why}).")).with("mechanism", mechanism.name()),
        ),
        Action::Observe(Observation::AuthRejected { mechanism, refusal }),
        Action::reply(line),
    ]
}

/// A base64 SASL line as text; what is not base64 or UTF-8 reads as nothing.
fn decode_text(line: &[u8]) -> String {
    crate::sasl::decode_base64(line)
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or_default()
}

/// `FROM:<a@b>` / `TO:<a@b>`, parameters after the path ignored.
fn path_argument(argument: &str, keyword: &str) -> Option<String> {
    let head = argument.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = argument[keyword.len()..].trim_start();
    let path = match (rest.find('<'), rest.find('>')) {
        (Some(open), Some(close)) if open < close => &rest[open + 1..close],
        _ => rest.split_whitespace().next().unwrap_or_default(),
    };
    (!path.is_empty() || rest.starts_with("<>")).then(|| path.to_owned())
}

/// A domain or an address literal (fidelity: smtp-misc-transport: `EHLO MacBook..` is refused).
fn is_valid_helo_argument(argument: &str) -> bool {
    if argument.starts_with('[') && argument.ends_with(']') {
        return argument.len() > 2;
    }
    !argument.is_empty()
        && argument.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
        })
}

impl Session for SmtpSession {
    fn greeting(&mut self) -> Vec<Action> {
        vec![Action::reply(reply::greeting(&self.context.stamp))]
    }

    fn on_line(&mut self, line: &[u8]) -> Vec<Action> {
        let stamp = &self.context.stamp;
        match self.state {
            State::AwaitingErrorAck => {
                self.state = State::Command;
                return vec![Action::reply(generic::SMTP_FAILED)];
            }
            State::AwaitingBearer(bearer) => {
                if line == b"*" {
                    self.state = State::Command;
                    // fidelity: smtp-cancel-exchange: 535, exact text not captured (unverified).
                    return rejected(bearer.into(), reply::unsuccessful(stamp), Refusal::Cancelled);
                }
                return self.bearer(bearer, line);
            }
            State::AwaitingLoginUsername => {
                self.state = State::AwaitingLoginPassword {
                    username: decode_text(line),
                };
                return vec![Action::reply(reply::LOGIN_PASSWORD)];
            }
            State::AwaitingLoginPassword { .. } => {
                let State::AwaitingLoginPassword { username } =
                    std::mem::replace(&mut self.state, State::Command)
                else {
                    return Vec::new();
                };
                return self.password(&username, &decode_text(line));
            }
            _ => {}
        }
        if matches!(self.state, State::Data(_)) {
            return self.data_line(line);
        }
        let Ok(text) = std::str::from_utf8(line) else {
            return vec![Action::reply(reply::unrecognized_command(stamp, "?"))];
        };
        self.command(text)
    }

    fn on_bytes(&mut self, bytes: Vec<u8>) -> Vec<Action> {
        self.chunk(bytes)
    }

    fn on_deadline(&mut self) -> Vec<Action> {
        if self.state == State::AwaitingErrorAck {
            self.state = State::Command;
            return vec![Action::reply(generic::SMTP_FAILED)];
        }
        vec![Action::Close]
    }

    fn on_line_too_long(&mut self) -> Vec<Action> {
        match &mut self.state {
            State::AwaitingBearer(_)
            | State::AwaitingErrorAck
            | State::AwaitingLoginUsername
            | State::AwaitingLoginPassword { .. } => {
                self.state = State::Command;
                vec![Action::reply(reply::AUTH_LINE_TOO_LONG)]
            }
            // Inside DATA an overlong line is part of the message, which can no longer be kept
            // whole (RFC 5321 §4.5.3.1.6 lets a server refuse it).
            State::Data(body) => {
                body.too_big = true;
                body.message = Vec::new();
                Vec::new()
            }
            _ => vec![Action::reply(reply::LINE_TOO_LONG)],
        }
    }

    fn describe_client_line(&self, line: &[u8]) -> String {
        let redacted = |len: usize| format!("<redacted {}>", human_size(len));
        match self.state {
            State::AwaitingBearer(_)
            | State::AwaitingErrorAck
            | State::AwaitingLoginUsername
            | State::AwaitingLoginPassword { .. } => {
                return redacted(line.len());
            }
            _ => {}
        }
        let text = crate::net::lossy(line);
        let mut words = text.splitn(3, ' ');
        match (words.next(), words.next(), words.next()) {
            (Some(verb), Some(mechanism), Some(response)) if verb.eq_ignore_ascii_case("AUTH") => {
                format!("{verb} {mechanism} {}", redacted(response.len()))
            }
            _ => text.into_owned(),
        }
    }
}

/// `1.3 KiB`, `512 B`.
fn human_size(len: usize) -> String {
    if len < 1024 {
        format!("{len} B")
    } else {
        format!("{:.1} KiB", len as f64 / 1024.0)
    }
}

#[cfg(test)]
#[path = "smtp_tests.rs"]
mod tests;
