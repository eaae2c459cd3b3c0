//! The in-process front doors `explain` asks: the simulation's own sans-IO SMTP, IMAP and POP3
//! sessions, fed the lines a probe would send, with no socket.

use std::sync::Arc;

use mailscope_mocks::clock::Clock;
use mailscope_mocks::cloud::shared_signing_key;
use mailscope_mocks::directory::{Directory, ServerProfile};
use mailscope_mocks::exchange::imap::ImapSession;
use mailscope_mocks::exchange::pop3::Pop3Session;
use mailscope_mocks::exchange::server::{ExchangeConfig, ExchangeContext};
use mailscope_mocks::exchange::smtp::SmtpSession;
use mailscope_mocks::net::{Action, ConnectionInfo, Session};
use mailscope_mocks::sasl;
use mailscope_mocks::tls::TestPki;

use crate::scenario::types::{Mechanism, ProbeResult, ProbeSpec, Protocol};

/// Authenticates `token` against an in-process front door as the probe would, and returns the
/// result and the final reply without Exchange's suffix.
pub(super) fn authenticate(
    directory: &Directory,
    clock: &Clock,
    probe: &ProbeSpec,
    user: &str,
    token: &str,
) -> (ProbeResult, String) {
    let config = ExchangeConfig {
        directory: directory.clone(),
        jwks: shared_signing_key().jwks(),
        clock: clock.clone(),
        pki: TestPki::shared(),
    };
    let context = Arc::new(ExchangeContext::new(&config));
    let (name, response) = match probe.mechanism {
        Mechanism::Xoauth2 => ("XOAUTH2", sasl::encode_xoauth2(user, token)),
        Mechanism::Oauthbearer => ("OAUTHBEARER", sasl::encode_oauthbearer(user, token)),
    };
    let generic = directory.tenant.server_profile == ServerProfile::Generic;
    match probe.protocol {
        Protocol::Smtp => {
            let peer = ConnectionInfo {
                peer: "127.0.0.1:1".parse().expect("a valid socket address"),
            };
            let mut session = SmtpSession::new(context, peer, false);
            session.greeting();
            session.on_line(b"EHLO mailscope.test");
            session.on_line(b"STARTTLS");
            session.on_line(b"EHLO mailscope.test");
            let mut reply = if probe.initial_response.unwrap_or(true) {
                last_reply(session.on_line(format!("AUTH {name} {response}").as_bytes()))
            } else {
                let continuation = last_reply(session.on_line(format!("AUTH {name}").as_bytes()));
                if continuation.starts_with("334") {
                    last_reply(session.on_line(response.as_bytes()))
                } else {
                    continuation
                }
            };
            if generic && reply.starts_with("334 ") {
                reply = last_reply(session.on_line(b""));
            }
            let result = if reply.starts_with("235") {
                ProbeResult::Authenticated
            } else {
                ProbeResult::Rejected
            };
            (result, without_suffix(&reply).to_owned())
        }
        Protocol::Imap => {
            let mut session = ImapSession::new(context);
            session.greeting();
            let mut reply = if probe.initial_response.unwrap_or(true) {
                last_reply(session.on_line(format!("a1 AUTHENTICATE {name} {response}").as_bytes()))
            } else {
                let continuation = last_reply(session.on_line(format!("a1 AUTHENTICATE {name}").as_bytes()));
                if continuation.starts_with('+') {
                    last_reply(session.on_line(response.as_bytes()))
                } else {
                    continuation
                }
            };
            if reply.starts_with("+ ") {
                reply = last_reply(session.on_line(b""));
            }
            let reply = reply.trim_start_matches("a1 ").to_owned();
            if !reply.starts_with("OK") {
                return (ProbeResult::Rejected, reply);
            }
            // The probe selects the inbox: rule 16 shows there.
            let select = last_reply(session.on_line(b"a2 SELECT \"INBOX\""));
            if select.starts_with("a2 OK") {
                (ProbeResult::Authenticated, reply)
            } else {
                (ProbeResult::Rejected, select.trim_start_matches("a2 ").to_owned())
            }
        }
        Protocol::Pop3 => {
            let mut session = Pop3Session::new(context);
            session.greeting();
            let mut reply = if probe.initial_response.unwrap_or(false) {
                last_reply(session.on_line(format!("AUTH {name} {response}").as_bytes()))
            } else {
                let continuation = last_reply(session.on_line(format!("AUTH {name}").as_bytes()));
                if continuation.starts_with("+ ") {
                    last_reply(session.on_line(response.as_bytes()))
                } else {
                    continuation
                }
            };
            if reply.starts_with("+ ") {
                reply = last_reply(session.on_line(b""));
            }
            let result = if reply.starts_with("+OK") {
                ProbeResult::Authenticated
            } else {
                ProbeResult::Rejected
            };
            (result, reply)
        }
    }
}

fn last_reply(actions: Vec<Action>) -> String {
    actions
        .into_iter()
        .rev()
        .find_map(|action| match action {
            Action::Reply(lines) => lines.last().cloned(),
            _ => None,
        })
        .unwrap_or_default()
}

/// Drops Exchange's `[host timestamp id]` suffix.
pub fn without_suffix(reply: &str) -> &str {
    match reply.rfind(" [") {
        Some(start) if reply.ends_with(']') => &reply[..start],
        _ => reply,
    }
}
