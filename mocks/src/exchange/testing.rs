//! Test helpers shared by the session tests: tokens minted as the platform would, and transcripts.

use std::collections::VecDeque;
use std::sync::Arc;

use super::context::{ExchangeConfig, ExchangeContext};
use crate::clock::Clock;
use crate::directory::{Directory, MAIL_CLIENT_ID};
use crate::identity::request::{AuthorizeOutcome, AuthorizeRequest, GrantType, TokenRequest};
use crate::identity::state::IdentityState;
use crate::net::{Action, Session};
use crate::tls::TestPki;
use crate::token::SigningKey;

/// The shared context of a front door with the generic profile.
pub(super) fn generic_context() -> Arc<ExchangeContext> {
    let mut directory = Directory::contoso();
    directory.tenant.server_profile = crate::directory::ServerProfile::Generic;
    context(directory)
}

/// The shared context of a front door for `directory`.
pub(super) fn context(directory: Directory) -> Arc<ExchangeContext> {
    let config = ExchangeConfig {
        jwks: SigningKey::test_key().jwks(),
        clock: Clock::default(),
        pki: TestPki::shared(),
        limits: crate::net::Limits::default(),
        store: Arc::new(crate::store::shared::Store::new(
            crate::store::addresses(&directory),
            crate::net::Limits::default().mail_store,
            Clock::default().now_unix(),
        )),
        directory,
    };
    Arc::new(ExchangeContext::new(&config))
}

/// A token for `scope`, minted the way the identity platform would for the default user.
pub(super) fn token_for(scope: &str) -> String {
    let directory = Directory::contoso();
    let mut state = IdentityState::new(&directory);
    let request = AuthorizeRequest {
        tenant_segment: "organizations".into(),
        client_id: MAIL_CLIENT_ID.into(),
        response_type: "code".into(),
        redirect_uri: "http://localhost".into(),
        scope: scope.into(),
        ..AuthorizeRequest::default()
    };
    let AuthorizeOutcome::Code(code) = state.authorize(&directory, &request, Clock::default().now_unix())
    else {
        panic!("sign-in failed");
    };
    let redemption = TokenRequest {
        tenant_segment: "organizations".into(),
        grant_type: GrantType::AuthorizationCode,
        client_id: Some(MAIL_CLIENT_ID.into()),
        code: Some(code),
        redirect_uri: Some("http://localhost".into()),
        scope: Some(scope.into()),
        ..TokenRequest::default()
    };
    let grant = state
        .token(&directory, &redemption, Clock::default().now_unix())
        .unwrap();
    SigningKey::test_key().mint(&grant.claims)
}

/// Plays `script`: `C:` lines are sent, `B:` lines are octets the session asked for (`\r\n`
/// written out), `S:` lines must be the replies, in order; `-- STARTTLS`, `-- DEADLINE`,
/// `-- READ n` and `-- CLOSE` mark those actions. A reply written with ` [...]` at its end matches any
/// `[host timestamp id]` suffix; `...` in a reply stands for any text.
pub(super) fn assert_dialogue(session: impl Session, script: &str) {
    play(session, script, |_| {});
}

/// [`assert_dialogue`], with two more kinds of line: `! ...` is handed to `step` (a test puts
/// mail in the store there), and `-- CHANGE` tells the session what it watches changed.
pub(super) fn play(mut session: impl Session, script: &str, mut step: impl FnMut(&str)) {
    let collect = |actions: Vec<Action>, pending: &mut VecDeque<String>| {
        for action in actions {
            match action {
                Action::Reply(lines) => pending.extend(lines),
                Action::StartTls => pending.push_back("-- STARTTLS".into()),
                Action::Close => pending.push_back("-- CLOSE".into()),
                Action::Deadline(_) => pending.push_back("-- DEADLINE".into()),
                Action::Bytes { bytes, .. } => pending.extend(
                    String::from_utf8_lossy(&bytes)
                        .split_terminator("\r\n")
                        .map(str::to_owned),
                ),
                Action::ReadExact(count) => pending.push_back(format!("-- READ {count}")),
                Action::Skip(count) => pending.push_back(format!("-- SKIP {count}")),
                Action::Observe(_) | Action::Watch(_) | Action::Unwatch | Action::IdleTimeout(_) => {}
            }
        }
    };
    let mut pending = VecDeque::new();
    collect(session.greeting(), &mut pending);
    for expected in script.lines().filter(|line| !line.is_empty()) {
        if let Some(instruction) = expected.strip_prefix("! ") {
            step(instruction);
            continue;
        }
        if expected == "-- CHANGE" {
            assert!(
                pending.is_empty(),
                "unexpected replies before a change: {pending:?}"
            );
            collect(session.on_change(), &mut pending);
            continue;
        }
        if let Some(octets) = expected.strip_prefix("B: ") {
            assert!(
                pending.is_empty(),
                "unexpected replies before {octets:?}: {pending:?}"
            );
            let actions = session.on_bytes(octets.replace("\\r\\n", "\r\n").into_bytes());
            collect(actions, &mut pending);
            continue;
        }
        if let Some(client_line) = expected.strip_prefix("C: ") {
            assert!(
                pending.is_empty(),
                "unexpected replies before {client_line:?}: {pending:?}"
            );
            let actions = session.on_line(client_line.as_bytes());
            collect(actions, &mut pending);
            continue;
        }
        let expected = expected.strip_prefix("S: ").unwrap_or(expected);
        let actual = pending
            .pop_front()
            .unwrap_or_else(|| panic!("no reply where {expected:?} was expected"));
        if let Some(prefix) = expected.strip_suffix(" [...]") {
            assert!(
                actual.starts_with(prefix)
                    && actual[prefix.len()..].starts_with(" [")
                    && actual.ends_with(']'),
                "expected {expected:?}, got {actual:?}"
            );
        } else if expected.contains("...") {
            // `...` stands for any text: the pieces between must appear in order, the first at
            // the start and the last at the end.
            let pieces: Vec<&str> = expected.split("...").collect();
            let mut rest = actual.as_str();
            let mut matched = true;
            for (index, piece) in pieces.iter().enumerate() {
                if index == 0 {
                    matched &= rest.starts_with(piece);
                    rest = &rest[piece.len().min(rest.len())..];
                } else if index == pieces.len() - 1 {
                    matched &= rest.ends_with(piece);
                } else if let Some(at) = rest.find(piece) {
                    rest = &rest[at + piece.len()..];
                } else {
                    matched = false;
                }
            }
            assert!(matched, "expected {expected:?}, got {actual:?}");
        } else {
            assert_eq!(actual, expected);
        }
    }
    assert!(pending.is_empty(), "replies left over: {pending:?}");
}
