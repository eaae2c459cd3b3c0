//! The IMAP session driven as transcripts.

use super::*;
use crate::directory::{ADELE, Directory};
use crate::exchange::testing::{assert_dialogue, context, token_for};
use crate::sasl::encode_xoauth2;

const GREETING: &str = "S: * OK The Microsoft Exchange IMAP4 service is ready. [...]";
const IMAP_SCOPE: &str = "https://outlook.office.com/IMAP.AccessAsUser.All";

#[test]
fn sasl_ir_authenticates_and_capabilities_grow() {
    // fidelity: imap-greeting-capability, imap-xoauth2-sasl-ir, imap-capability-postauth
    let response = encode_xoauth2(ADELE, &token_for(IMAP_SCOPE));
    assert_dialogue(ImapSession::new(context(Directory::contoso())), &format!("{GREETING}
C: A0 CAPABILITY
S: * CAPABILITY IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS ID UNSELECT CHILDREN IDLE NAMESPACE LITERAL+
S: A0 OK CAPABILITY completed.
C: A1 AUTHENTICATE XOAUTH2 {response}
S: A1 OK AUTHENTICATE completed.
C: A2 CAPABILITY
S: * CAPABILITY IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS MOVE ID UNSELECT CLIENTACCESSRULES CLIENTNETWORKPRESENCELOCATION BACKENDAUTHENTICATE CHILDREN IDLE NAMESPACE LITERAL+
S: A2 OK CAPABILITY completed.
C: A3 SELECT INBOX
S: * 0 EXISTS
S: * 0 RECENT
S: * FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft $MDNSent)
S: * OK [PERMANENTFLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft $MDNSent)] Permanent flags
S: * OK [UIDVALIDITY ...
S: * OK [UIDNEXT 1] The next unique identifier value
S: A3 OK [READ-WRITE] SELECT completed.
C: A9 LOGOUT
S: * BYE Microsoft Exchange Server IMAP4 server signing off.
S: A9 OK LOGOUT completed.
-- CLOSE
"));
}

#[test]
fn graph_token_via_continuation_gets_no_with_no_challenge() {
    // fidelity: deleg-bare-imap-scope, imap-xoauth2-continuation, imap-xoauth2-rejected
    let response = encode_xoauth2(ADELE, &token_for("IMAP.AccessAsUser.All"));
    assert_dialogue(
        ImapSession::new(context(Directory::contoso())),
        &format!(
            "{GREETING}
C: A1 AUTHENTICATE XOAUTH2
S: + 
C: {response}
S: A1 NO AUTHENTICATE failed.
C: A2 NAMESPACE
S: A2 BAD Command received in Invalid state.
C: A3 LOGIN adele secret
S: A3 NO LOGIN failed.
C: A4 AUTHENTICATE OAUTHBEARER bixhPWFkZWxlLAFhdXRoPUJlYXJlciB4AQE=
S: A4 NO AUTHENTICATE failed.
C: garbage
S: * BAD Command Error. 12
"
        ),
    );
}

#[test]
fn a_mailbox_the_token_cannot_open_is_authenticated_but_not_connected() {
    // fidelity: imap-authenticated-not-connected
    let mut directory = Directory::contoso();
    directory.signed_in_user_mut().imap_enabled = false;
    let response = encode_xoauth2(ADELE, &token_for(IMAP_SCOPE));
    assert_dialogue(
        ImapSession::new(context(directory)),
        &format!(
            "{GREETING}
C: A1 AUTHENTICATE XOAUTH2 {response}
S: A1 OK AUTHENTICATE completed.
C: A2 NAMESPACE
S: A2 BAD User is authenticated but not connected.
C: 4 ID NIL
S: 4 BAD User is authenticated but not connected.
C: A5 CAPABILITY
S: A5 BAD User is authenticated but not connected.
C: A6 NOOP
S: A6 BAD User is authenticated but not connected.
C: A3 LOGOUT
S: * BYE Connection closed. 14
S: A3 OK LOGOUT completed.
-- CLOSE
"
        ),
    );
}

#[test]
fn an_smtp_only_token_is_refused() {
    let response = encode_xoauth2(ADELE, &token_for("https://outlook.office.com/SMTP.Send"));
    assert_dialogue(
        ImapSession::new(context(Directory::contoso())),
        &format!(
            "{GREETING}
C: A1 AUTHENTICATE XOAUTH2 {response}
S: A1 NO AUTHENTICATE failed.
"
        ),
    );
}

#[test]
fn the_generic_profile_offers_oauthbearer_and_challenges_before_failing() {
    // Rule `generic-profile`; RFC 7628 §3.2.2 (error challenge, then failure).
    use crate::exchange::testing::generic_context;
    let good = crate::sasl::encode_oauthbearer(ADELE, &token_for(IMAP_SCOPE));
    let graph = encode_xoauth2(ADELE, &token_for("IMAP.AccessAsUser.All"));
    let challenge = crate::exchange::replies::generic::error_challenge(
        "XOAUTH2",
        "https://outlook.office.com/IMAP.AccessAsUser.All",
    );
    assert_dialogue(
        ImapSession::new(generic_context()),
        &format!(
            "{GREETING}
C: a1 CAPABILITY
S: * CAPABILITY IMAP4rev1 AUTH=XOAUTH2 AUTH=OAUTHBEARER SASL-IR ID UNSELECT CHILDREN IDLE NAMESPACE LITERAL+
S: a1 OK CAPABILITY completed.
C: a2 AUTHENTICATE XOAUTH2 {graph}
S: + {challenge}
-- DEADLINE
C: 
S: a2 NO [AUTHENTICATIONFAILED] Authentication failed.
C: a3 AUTHENTICATE OAUTHBEARER {good}
S: a3 OK AUTHENTICATE completed.
"
        ),
    );
}

#[test]
fn passwords_are_refused_and_a_personal_account_is_told_why_and_closed() {
    // fidelity: imap-basic-login-disabled, consumer-basic-auth-removed
    assert_dialogue(
        ImapSession::new(context(Directory::contoso())),
        &format!(
            "{GREETING}
C: a1 LOGIN \"adele@contoso.onmicrosoft.com\" \"correct horse battery staple\"
S: a1 NO LOGIN failed.
C: a2 AUTHENTICATE PLAIN
S: + 
C: AGFkZWxlQGNvbnRvc28ub25taWNyb3NvZnQuY29tAHNlY3JldA==
S: a2 NO AUTHENTICATE failed.
"
        ),
    );
    let mut personal = Directory::contoso();
    personal.signed_in_user_mut().account = crate::directory::AccountKind::Personal;
    personal.signed_in_user_mut().upn = "adele@outlook.com".into();
    assert_dialogue(
        ImapSession::new(context(personal)),
        &format!(
            "{GREETING}
C: a1 LOGIN adele@outlook.com secret
S: a1 NO Basic authentication is disabled.
S: * BYE Microsoft Exchange Server IMAP4 server signing off.
-- CLOSE
"
        ),
    );
}

#[test]
fn a_delegate_opens_a_shared_mailbox_with_its_own_token_but_not_in_the_old_syntax() {
    // fidelity: imap-shared-mailbox
    let mut directory = Directory::contoso();
    directory.signed_in_user_mut().full_access = vec!["info@contoso.onmicrosoft.com".into()];
    let token = token_for(IMAP_SCOPE);
    let shared = encode_xoauth2("info@contoso.onmicrosoft.com", &token);
    let old_syntax = encode_xoauth2("adele@contoso.onmicrosoft.com\\info", &token);
    assert_dialogue(
        ImapSession::new(context(directory)),
        &format!(
            "{GREETING}
C: A1 AUTHENTICATE XOAUTH2 {old_syntax}
S: A1 NO AUTHENTICATE failed.
C: A2 AUTHENTICATE XOAUTH2 {shared}
S: A2 OK AUTHENTICATE completed.
"
        ),
    );
}

#[test]
fn the_tcpproxy_greeting_is_the_2025_form() {
    // Rule imap-front-door (holon-run/uxc #445, 2026)
    let mut directory = Directory::contoso();
    directory.tenant.greeting = crate::directory::GreetingForm::Tcpproxy;
    assert_dialogue(
        ImapSession::new(context(directory)),
        "S: * OK Microsoft Exchange IMAP4 service ready. 08DD...",
    );
}
