//! The POP3 session driven as transcripts.

use super::*;
use crate::directory::{ADELE, Directory};
use crate::exchange::testing::{assert_dialogue, context, token_for};
use crate::sasl::encode_xoauth2;

const GREETING: &str = "S: +OK The Microsoft Exchange POP3 service is ready. [...]";
const POP_SCOPE: &str = "https://outlook.office.com/POP.AccessAsUser.All";

#[test]
fn two_step_xoauth2_authenticates_an_empty_mailbox() {
    // fidelity: pop-greeting-capa, pop-xoauth2-two-step
    let response = encode_xoauth2(ADELE, &token_for(POP_SCOPE));
    assert_dialogue(
        Pop3Session::new(context(Directory::contoso())),
        &format!(
            "{GREETING}
C: CAPA
S: +OK
S: TOP
S: UIDL
S: SASL PLAIN XOAUTH2
S: USER
S: .
C: AUTH XOAUTH2
S: + 
C: {response}
S: +OK User successfully authenticated.
C: STAT
S: +OK 0 0
C: UIDL
S: +OK
S: .
C: QUIT
S: +OK Microsoft Exchange Server POP3 server signing off.
-- CLOSE
"
        ),
    );
}

#[test]
fn an_inline_initial_response_is_a_protocol_error_that_closes() {
    // fidelity: pop-xoauth2-inline-rejected
    let response = encode_xoauth2(ADELE, &token_for(POP_SCOPE));
    assert_dialogue(
        Pop3Session::new(context(Directory::contoso())),
        &format!(
            "{GREETING}
C: AUTH XOAUTH2 {response}
S: -ERR Protocol error. Connection is closed. 10
-- CLOSE
"
        ),
    );
}

#[test]
fn refused_tokens_and_disabled_pop_fail_the_auth() {
    // fidelity: pop-xoauth2-rejected; rule `protocol-switches` (POP disabled fails the AUTH)
    let graph = encode_xoauth2(ADELE, &token_for("POP.AccessAsUser.All"));
    assert_dialogue(
        Pop3Session::new(context(Directory::contoso())),
        &format!(
            "{GREETING}
C: AUTH XOAUTH2
S: + 
C: {graph}
S: -ERR Authentication failure: unknown user name or bad password.
C: STAT
S: -ERR Command is not valid in this state.
"
        ),
    );

    let mut directory = Directory::contoso();
    directory.signed_in_user_mut().pop_enabled = false;
    let valid = encode_xoauth2(ADELE, &token_for(POP_SCOPE));
    assert_dialogue(
        Pop3Session::new(context(directory)),
        &format!(
            "{GREETING}
C: AUTH XOAUTH2
S: + 
C: {valid}
S: -ERR Authentication failure: unknown user name or bad password.
"
        ),
    );
}

#[test]
fn the_generic_profile_takes_inline_responses_and_challenges() {
    use crate::exchange::testing::generic_context;
    let good = encode_xoauth2(ADELE, &token_for(POP_SCOPE));
    let graph = encode_xoauth2(ADELE, &token_for("POP.AccessAsUser.All"));
    let challenge = crate::exchange::replies::generic::error_challenge(
        "XOAUTH2",
        "https://outlook.office.com/POP.AccessAsUser.All",
    );
    assert_dialogue(
        Pop3Session::new(generic_context()),
        &format!(
            "{GREETING}
C: AUTH XOAUTH2 {graph}
S: + {challenge}
-- DEADLINE
C: 
S: -ERR [AUTH] Authentication failed.
C: AUTH XOAUTH2 {good}
S: +OK User successfully authenticated.
"
        ),
    );
}

#[test]
fn a_response_over_4096_characters_is_a_protocol_error() {
    // fidelity: long-token-protocol-error
    let long = encode_xoauth2(ADELE, &"e".repeat(3200));
    assert!(long.len() > 4096);
    assert_dialogue(
        Pop3Session::new(context(Directory::contoso())),
        &format!(
            "{GREETING}
C: AUTH XOAUTH2
S: + 
C: {long}
S: -ERR Protocol error. Connection is closed. 10
-- CLOSE
"
        ),
    );
}

#[test]
fn passwords_fail_and_the_tcpproxy_greeting_is_the_2025_form() {
    // fidelity: basic-auth-policy-per-protocol (the reply to a POP password is unverified),
    // pop-greeting-capa (MailKit #1948)
    let mut directory = Directory::contoso();
    directory.tenant.greeting = crate::directory::GreetingForm::Tcpproxy;
    assert_dialogue(
        Pop3Session::new(context(directory)),
        "S: +OK Microsoft Exchange POP3 server ready (tcpproxy/15.20.9137.005). [...]
C: USER adele@contoso.onmicrosoft.com
S: +OK
C: PASS correct horse battery staple
S: -ERR Authentication failure: unknown user name or bad password.
C: AUTH PLAIN
S: + 
C: AGFkZWxlQGNvbnRvc28ub25taWNyb3NvZnQuY29tAHNlY3JldA==
S: -ERR Authentication failure: unknown user name or bad password.
",
    );
}

#[test]
fn a_password_never_reaches_the_transcript_whatever_it_holds() {
    let session = Pop3Session::new(context(Directory::contoso()));

    for line in ["PASS correct horse battery staple", "pass hunter2", "PASS a:b c"] {
        let described = session.describe_client_line(line.as_bytes());
        assert_eq!(described.to_lowercase(), "pass <redacted>", "{line}");
    }
}

#[test]
fn pop3_maildrop_lists_retrieves_and_deletes_at_quit() {
    // fidelity: pop3-maildrop (texts: Exchange's Pop3RequestWithIntParameters; RFC 1939)
    let context = context(Directory::contoso());
    for body in [
        "Subject: one\r\n\r\n.dot\r\nline 2\r\n",
        "Subject: two\r\n\r\nx\r\n",
    ] {
        context
            .store
            .append(
                ADELE,
                "INBOX",
                body.as_bytes().into(),
                crate::store::message::Flags::default(),
                0,
            )
            .unwrap();
    }
    let response = encode_xoauth2(ADELE, &token_for(POP_SCOPE));
    assert_dialogue(
        Pop3Session::new(context.clone()),
        &format!(
            "{GREETING}
C: AUTH XOAUTH2
S: + 
C: {response}
S: +OK User successfully authenticated.
C: STAT
S: +OK 2 49
C: LIST
S: +OK
S: 1 30
S: 2 19
S: .
C: UIDL 2
S: +OK 2 ....2
C: TOP 1 0
S: +OK
S: Subject: one
S: 
S: .
C: RETR 1
S: +OK
S: Subject: one
S: 
S: ..dot
S: line 2
S: .
C: DELE 1
S: +OK
C: RETR 1
S: -ERR The requested message is no longer available; it may have been deleted.
C: LIST 3
S: -ERR The specified message is out of range.
C: STAT
S: +OK 1 19
C: RSET
S: +OK
C: DELE 2
S: +OK
C: QUIT
S: +OK Microsoft Exchange Server POP3 server signing off.
-- CLOSE
"
        ),
    );
    let left = context
        .store
        .read(ADELE, |mailbox| {
            let inbox = mailbox.folder("INBOX").unwrap();
            inbox
                .messages
                .iter()
                .map(|message| (message.uid, message.flags))
                .collect::<Vec<_>>()
        })
        .unwrap();
    assert_eq!(
        left,
        [(1, crate::store::message::Flags::SEEN)],
        "QUIT deleted message 2 only; RETR marked message 1 read"
    );
}
