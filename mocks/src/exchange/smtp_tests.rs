//! The SMTP session driven as transcripts, with no runtime and no sockets.

use rstest::rstest;

use super::*;
use crate::directory::{ADELE, ADELE_PASSWORD, AccountKind, BasicAuthStage, ConditionalAccess, Directory};
use crate::exchange::testing::{assert_dialogue, context, token_for};

fn session_with(directory: Directory) -> SmtpSession {
    let connection = ConnectionInfo {
        peer: "203.0.113.5:50000".parse().unwrap(),
    };
    SmtpSession::new(context(directory), connection, false)
}

fn xoauth2(user: &str, token: &str) -> String {
    crate::sasl::encode_xoauth2(user, token)
}

#[test]
fn outlook_token_authenticates_after_starttls_with_the_initial_response_inline() {
    // fidelity: smtp-greeting-ehlo-prestarttls, smtp-ehlo-post-starttls, smtp-xoauth2-initial-response
    let token = token_for("https://outlook.office.com/SMTP.Send");
    assert_dialogue(session_with(Directory::contoso()), &format!("
S: 220 SN7PR00CA0001.outlook.office365.com Microsoft ESMTP MAIL Service ready at Sat, 26 Apr 2025 18:08:13 +0000 [...]
C: EHLO client.example.org
S: 250-SN7PR00CA0001.outlook.office365.com Hello [203.0.113.5]
S: 250-SIZE 157286400
S: 250-PIPELINING
S: 250-DSN
S: 250-ENHANCEDSTATUSCODES
S: 250-STARTTLS
S: 250-8BITMIME
S: 250-BINARYMIME
S: 250-CHUNKING
S: 250 SMTPUTF8
C: STARTTLS
S: 220 2.0.0 SMTP server ready
-- STARTTLS
C: EHLO client.example.org
S: 250-SN7PR00CA0001.outlook.office365.com Hello [203.0.113.5]
S: 250-SIZE 157286400
S: 250-PIPELINING
S: 250-DSN
S: 250-ENHANCEDSTATUSCODES
S: 250-AUTH LOGIN XOAUTH2
S: 250-8BITMIME
S: 250-BINARYMIME
S: 250-CHUNKING
S: 250 SMTPUTF8
C: AUTH XOAUTH2 {}
S: 235 2.7.0 Authentication successful
C: QUIT
S: 221 2.0.0 Service closing transmission channel
-- CLOSE
", xoauth2(ADELE, &token)));
}

fn after_starttls() -> &'static str {
    "
S: 220 SN7PR00CA0001.outlook.office365.com Microsoft ESMTP MAIL Service ready at Sat, 26 Apr 2025 18:08:13 +0000 [...]
C: STARTTLS
S: 220 2.0.0 SMTP server ready
-- STARTTLS
C: HELO client.example.org
S: 250 SN7PR00CA0001.outlook.office365.com Hello [203.0.113.5]
"
}

#[test]
fn graph_token_gets_535_5_7_3_with_no_challenge_via_the_continuation() {
    // fidelity: deleg-graph-prefixed-smtp, smtp-xoauth2-continuation, smtp-xoauth2-rejected
    let token = token_for("SMTP.Send");
    assert_dialogue(
        session_with(Directory::contoso()),
        &format!(
            "{}
C: AUTH XOAUTH2
S: 334 
C: {}
S: 535 5.7.3 Authentication unsuccessful [...]
",
            after_starttls(),
            xoauth2(ADELE, &token)
        ),
    );
}

#[test]
fn tenant_and_mailbox_switches_answer_5_7_139() {
    // fidelity: smtp-auth-disabled-tenant, smtp-auth-disabled-mailbox
    let token = token_for("https://outlook.office.com/SMTP.Send");
    let mut tenant_off = Directory::contoso();
    tenant_off.tenant.smtp_client_authentication = false;
    assert_dialogue(session_with(tenant_off), &format!("{}
C: AUTH XOAUTH2 {}
S: 535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. [...]
", after_starttls(), xoauth2(ADELE, &token)));

    let mut mailbox_off = Directory::contoso();
    mailbox_off.signed_in_user_mut().smtp_client_authentication = crate::directory::MailboxSetting::Disabled;
    assert_dialogue(session_with(mailbox_off), &format!("{}
C: AUTH XOAUTH2 {}
S: 535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information. [...]
", after_starttls(), xoauth2(ADELE, &token)));
}

#[test]
fn plain_mail_before_auth_and_garbage_get_exchanges_errors() {
    // fidelity: smtp-unadvertised-mechanism, smtp-mail-from-without-auth, smtp-misc-transport,
    // smtp-cancel-exchange
    assert_dialogue(
        session_with(Directory::contoso()),
        &format!(
            "{}
C: AUTH PLAIN AGFkZWxlAHBhc3N3b3Jk
S: 504 5.7.4 Unrecognized authentication type [...]
C: MAIL FROM:<adele@contoso.onmicrosoft.com>
S: 530 5.7.57 Client not authenticated to send mail. [...]
C: EHLO MacBook..
S: 501 5.5.4 Invalid domain name [...]
C: XYZZY
S: 500 5.3.3 Unrecognized command 'XYZZY' [...]
C: AUTH XOAUTH2 bm90IGEgeG9hdXRoMiByZXNwb25zZQ==
S: 535 5.7.3 Authentication unsuccessful [...]
C: AUTH XOAUTH2 !!!not base64!!!
S: 535 5.7.3 Authentication unsuccessful [...]
C: AUTH XOAUTH2
S: 334 
C: *
S: 535 5.7.3 Authentication unsuccessful [...]
C: AUTH LOGIN
S: 334 VXNlcm5hbWU6
C: YWRlbGU=
S: 334 UGFzc3dvcmQ6
C: cGFzc3dvcmQ=
S: 535 5.7.139 Authentication unsuccessful, the user credentials were incorrect. [...]
",
            after_starttls()
        ),
    );
}

#[test]
fn auth_is_refused_before_starttls() {
    let token = token_for("https://outlook.office.com/SMTP.Send");
    assert_dialogue(session_with(Directory::contoso()), &format!("
S: 220 SN7PR00CA0001.outlook.office365.com Microsoft ESMTP MAIL Service ready at Sat, 26 Apr 2025 18:08:13 +0000 [...]
C: AUTH XOAUTH2 {0}
S: 503 5.5.2 Send hello first [...]
C: EHLO client.example.org
S: 250-SN7PR00CA0001.outlook.office365.com Hello [203.0.113.5]
S: 250-SIZE 157286400
S: 250-PIPELINING
S: 250-DSN
S: 250-ENHANCEDSTATUSCODES
S: 250-STARTTLS
S: 250-8BITMIME
S: 250-BINARYMIME
S: 250-CHUNKING
S: 250 SMTPUTF8
C: AUTH XOAUTH2 {0}
S: 504 5.7.4 Unrecognized authentication type [...]
", xoauth2(ADELE, &token)));
}

#[test]
fn sends_as_the_mailbox_and_refuses_another_sender_after_the_dot() {
    // fidelity: smtp-sendas-denied
    let token = token_for("https://outlook.office.com/SMTP.Send");
    assert_dialogue(session_with(Directory::contoso()), &format!("{}
C: AUTH XOAUTH2 {}
S: 235 2.7.0 Authentication successful
C: MAIL FROM:<adele@contoso.onmicrosoft.com>
S: 250 2.1.0 Sender OK
C: RCPT TO:<adele@contoso.onmicrosoft.com>
S: 250 2.1.5 Recipient OK
C: DATA
S: 354 Start mail input; end with <CRLF>.<CRLF>
C: From: <adele@contoso.onmicrosoft.com>
C: Subject: test
C: 
C: hello
C: .
S: 250 2.0.0 OK <08DD...
C: MAIL FROM:<ceo@contoso.onmicrosoft.com>
S: 250 2.1.0 Sender OK
C: RCPT TO:<adele@contoso.onmicrosoft.com>
S: 250 2.1.5 Recipient OK
C: DATA
S: 354 Start mail input; end with <CRLF>.<CRLF>
C: .
S: 554 5.2.252 SendAsDenied; adele@contoso.onmicrosoft.com not allowed to send as ceo@contoso.onmicrosoft.com; STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; Failed to process message due to a permanent exception with message [BeginDiagnosticData]Cannot submit message. 0.35250:1F009983, 1.36674:0A000000, ...
", after_starttls(), xoauth2(ADELE, &token)));
}

#[test]
fn the_transcript_never_shows_a_sasl_payload() {
    let session = session_with(Directory::contoso());
    assert_eq!(
        session.describe_client_line(b"AUTH XOAUTH2 dXNlcj1hAWF1dGg9QmVhcmVyIHNlY3JldAEB"),
        "AUTH XOAUTH2 <redacted 36 B>"
    );
    let mut awaiting = session_with(Directory::contoso());
    awaiting.state = State::AwaitingBearer(BearerMechanism::Xoauth2);
    assert_eq!(
        awaiting.describe_client_line(b"dXNlcj1hAWF1dGg9QmVhcmVyIHNlY3JldAEB"),
        "<redacted 36 B>"
    );
}

#[test]
fn the_generic_profile_challenges_and_fails_even_without_an_answer() {
    use crate::exchange::testing::generic_context;
    let connection = ConnectionInfo {
        peer: "203.0.113.5:50000".parse().unwrap(),
    };
    let mut session = SmtpSession::new(generic_context(), connection, false);
    session.greeting();
    session.on_line(b"STARTTLS");
    let ehlo = session.on_line(b"EHLO client.example.org");
    assert!(
        matches!(&ehlo[0], Action::Reply(lines) if lines.contains(&"250-AUTH XOAUTH2 OAUTHBEARER".to_owned()))
    );

    let graph = crate::sasl::encode_oauthbearer(ADELE, &token_for("SMTP.Send"));
    let challenge: Vec<Action> = session
        .on_line(format!("AUTH OAUTHBEARER {graph}").as_bytes())
        .into_iter()
        .filter(|action| !matches!(action, Action::Observe(_)))
        .collect();
    assert!(
        matches!(&challenge[0], Action::Reply(lines) if lines[0].starts_with("334 eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIi"))
    );
    assert!(matches!(challenge[1], Action::Deadline(_)));

    assert_eq!(
        session.on_deadline(),
        vec![Action::reply("535 5.7.8 Authentication credentials invalid")]
    );
}

/// A password at `AUTH LOGIN`, in a tenant set up by `setup`: the final reply, and XOAUTH2 with an
/// Outlook token in the same tenant.
fn password_then_token(setup: fn(&mut Directory), password: &str) -> (String, String) {
    let mut directory = Directory::contoso();
    setup(&mut directory);
    let last_reply = |actions: Vec<Action>| {
        actions
            .into_iter()
            .rev()
            .find_map(|action| match action {
                Action::Reply(lines) => lines.last().cloned(),
                _ => None,
            })
            .unwrap_or_default()
    };
    let mut session = session_with(directory.clone());
    session.greeting();
    session.on_line(b"STARTTLS");
    session.on_line(b"EHLO client.example.org");
    session.on_line(b"AUTH LOGIN");
    let encode = |text: &str| base64::Engine::encode(&base64::engine::general_purpose::STANDARD, text);
    session.on_line(encode(ADELE).as_bytes());
    let password = encode(password);
    let to_password = last_reply(session.on_line(password.as_bytes()));
    let mut session = session_with(directory);
    session.greeting();
    session.on_line(b"STARTTLS");
    session.on_line(b"EHLO client.example.org");
    let token = token_for("https://outlook.office.com/SMTP.Send");
    let to_token = last_reply(session.on_line(format!("AUTH XOAUTH2 {}", xoauth2(ADELE, &token)).as_bytes()));
    (without_suffix(&to_password), without_suffix(&to_token))
}

fn without_suffix(reply: &str) -> String {
    match reply.rfind(" [") {
        Some(start) if reply.ends_with(']') => reply[..start].to_owned(),
        _ => reply.to_owned(),
    }
}

#[rstest]
#[case::smtp_basic_auth_responses(|_: &mut Directory| {}, ADELE_PASSWORD, "235 2.7.0 Authentication successful")]
#[case::smtp_basic_auth_responses_wrong_password(
    |_: &mut Directory| {},
    "wrong",
    "535 5.7.139 Authentication unsuccessful, the user credentials were incorrect."
)]
#[case::basic_auth_policy_per_protocol(
    |directory: &mut Directory| directory.tenant.smtp_basic_auth = BasicAuthStage::Disabled,
    ADELE_PASSWORD,
    "535 5.7.139 Authentication unsuccessful, basic authentication is disabled."
)]
#[case::smtp_basic_retirement_timeline(
    |directory: &mut Directory| directory.tenant.smtp_basic_auth = BasicAuthStage::Retired,
    ADELE_PASSWORD,
    "550 5.7.30 Basic authentication is not supported for Client Submission."
)]
#[case::consumer_basic_auth_removed(
    |directory: &mut Directory| directory.signed_in_user_mut().account = AccountKind::Personal,
    ADELE_PASSWORD,
    "535 5.7.139 Authentication unsuccessful, basic authentication is disabled."
)]
#[case::smtp_auth_disabled_tenant(
    |directory: &mut Directory| directory.tenant.smtp_client_authentication = false,
    ADELE_PASSWORD,
    "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information."
)]
#[case::smtp_auth_disabled_mailbox(
    |directory: &mut Directory| {
        directory.tenant.smtp_basic_auth = BasicAuthStage::Retired;
        directory.signed_in_user_mut().smtp_client_authentication = crate::directory::MailboxSetting::Disabled;
    },
    ADELE_PASSWORD,
    "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information."
)]
#[case::security_defaults_with_smtp_auth_on_for_the_mailbox(
    |directory: &mut Directory| {
        directory.tenant.security_defaults = true;
        directory.signed_in_user_mut().smtp_client_authentication = crate::directory::MailboxSetting::Enabled;
    },
    ADELE_PASSWORD,
    "535 5.7.139 Authentication unsuccessful, user is locked by your organization's security defaults policy."
)]
#[case::conditional_access_blocks_passwords(
    |directory: &mut Directory| directory.tenant.conditional_access = ConditionalAccess::Block,
    ADELE_PASSWORD,
    "535 5.7.139 Authentication unsuccessful, the request did not meet the criteria to be authenticated successfully. Contact your administrator."
)]
fn basic_auth_stages_answer_passwords_and_never_touch_xoauth2(
    #[case] setup: fn(&mut Directory),
    #[case] password: &str,
    #[case] expected: &str,
) {
    let (to_password, to_token) = password_then_token(setup, password);

    assert_eq!(to_password, expected);
    // XOAUTH2 is refused only by the SMTP AUTH switches (and the work token does not fit a
    // personal account).
    let token_refused = expected.contains("SmtpClientAuthentication") || setup_is_personal(setup);
    if !token_refused {
        assert_eq!(
            to_token, "235 2.7.0 Authentication successful",
            "XOAUTH2 is never affected"
        );
    }
}

fn setup_is_personal(setup: fn(&mut Directory)) -> bool {
    let mut directory = Directory::contoso();
    setup(&mut directory);
    directory.signed_in_user().account == AccountKind::Personal
}

#[test]
fn smtp_submission_saved_to_sent_items_and_delivered_to_the_tenants_inboxes() {
    // fidelity: smtp-submission-saved-to-sent-items (Exchange Team Blog, 2018), smtp-front-door
    let context = context(Directory::contoso());
    let connection = ConnectionInfo {
        peer: "203.0.113.5:50000".parse().unwrap(),
    };
    let token = token_for("https://outlook.office.com/SMTP.Send");
    assert_dialogue(
        SmtpSession::new(context.clone(), connection, false),
        &format!(
            "{}
C: AUTH XOAUTH2 {}
S: 235 2.7.0 Authentication successful
C: MAIL FROM:<adele@contoso.onmicrosoft.com>
S: 250 2.1.0 Sender OK
C: RCPT TO:<adele@contoso.onmicrosoft.com>
S: 250 2.1.5 Recipient OK
C: RCPT TO:<someone@example.org>
S: 250 2.1.5 Recipient OK
C: DATA
S: 354 Start mail input; end with <CRLF>.<CRLF>
C: From: <adele@contoso.onmicrosoft.com>
C: Subject: by DATA
C: 
C: ..a line that began with a dot
C: .
S: 250 2.0.0 OK <08DD...
C: MAIL FROM:<adele@contoso.onmicrosoft.com>
S: 250 2.1.0 Sender OK
C: RCPT TO:<adele@contoso.onmicrosoft.com>
S: 250 2.1.5 Recipient OK
C: BDAT 12
-- READ 12
B: Subject: by 
S: 250 2.0.0 12 octets received
C: BDAT 11 LAST
-- READ 11
B: BDAT\\r\\n\\r\\nx\\r\\n
S: 250 2.0.0 OK <08DD...
C: BDAT 1 LAST
S: 503 5.5.1 Bad sequence of commands
",
            after_starttls(),
            xoauth2(ADELE, &token)
        ),
    );
    let inbox = context.store.read(ADELE, |mailbox| {
        mailbox
            .folder("INBOX")
            .unwrap()
            .messages
            .iter()
            .map(|message| message.data.to_vec())
            .collect::<Vec<_>>()
    });
    assert_eq!(
        inbox.unwrap(),
        [
            b"From: <adele@contoso.onmicrosoft.com>\r\nSubject: by DATA\r\n\r\n.a line that began with a dot\r\n".to_vec(),
            b"Subject: by BDAT\r\n\r\nx\r\n".to_vec(),
        ]
    );
    let sent = context.store.read(ADELE, |mailbox| {
        mailbox.folder("Sent Items").unwrap().messages.len()
    });
    assert_eq!(sent, Some(2), "both submissions are saved in Sent Items");
}

#[test]
fn a_message_past_size_is_refused_after_it_was_read() {
    // fidelity: smtp-front-door (SIZE 157286400 in EHLO; the 552 text is RFC 3463's)
    let context = context(Directory::contoso());
    let connection = ConnectionInfo {
        peer: "203.0.113.5:50000".parse().unwrap(),
    };
    let mut session = SmtpSession::new(context.clone(), connection, true);
    session.greeting();
    session.on_line(b"EHLO client.example.org");
    let token = token_for("https://outlook.office.com/SMTP.Send");
    session.on_line(format!("AUTH XOAUTH2 {}", xoauth2(ADELE, &token)).as_bytes());
    session.on_line(b"MAIL FROM:<adele@contoso.onmicrosoft.com>");
    session.on_line(b"RCPT TO:<adele@contoso.onmicrosoft.com>");
    let too_big = session.on_line(format!("BDAT {}", reply::MAX_MESSAGE_SIZE + 1).as_bytes());
    assert_eq!(
        too_big,
        [Action::reply(reply::MESSAGE_TOO_BIG), Action::Close],
        "a chunk the limit cannot hold is not read into memory"
    );
}
