//! Generative tests of the three sessions: random and mutated command sequences, none of which
//! may panic, and every reply well-formed for its protocol.

use std::sync::Arc;

use proptest::prelude::*;

use super::context::ExchangeContext;
use super::imap::ImapSession;
use super::pop3::Pop3Session;
use super::smtp::SmtpSession;
use super::testing::{context, token_for};
use crate::directory::{ADELE, ADELE_PASSWORD, Directory};
use crate::net::{Action, ConnectionInfo, Session};

/// Commands a client could send, good and bad, with some of the session's own vocabulary.
fn line(verbs: &'static [&'static str], token: Arc<String>) -> impl Strategy<Value = Vec<u8>> {
    let xoauth2 = crate::sasl::encode_xoauth2(ADELE, &token);
    let plain = crate::sasl::encode_plain(ADELE, ADELE_PASSWORD);
    prop_oneof![
        4 => (proptest::sample::select(verbs), proptest::sample::select(vec![
            String::new(),
            " ".into(),
            format!(" {xoauth2}"),
            format!(" XOAUTH2 {xoauth2}"),
            " XOAUTH2".into(),
            " LOGIN".into(),
            format!(" PLAIN {plain}"),
            " PLAIN".into(),
            " OAUTHBEARER bixhPWFkZWxl".into(),
            " FROM:<adele@contoso.onmicrosoft.com>".into(),
            " TO:<adele@contoso.onmicrosoft.com>".into(),
            " INBOX".into(),
            " \"INBOX\"".into(),
            " 1:* (FLAGS)".into(),
            " 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)]<0.10> BODYSTRUCTURE ENVELOPE RFC822.SIZE)".into(),
            " 1 (BODY[1.MIME] BODY[TEXT] BODY[2.HEADER] RFC822)".into(),
            " INBOX (\\Seen) {10}".into(),
            " INBOX {3+}".into(),
            " Drafts {40000000+}".into(),
            " 1:* +FLAGS (\\Deleted)".into(),
            " 2:4 -FLAGS.SILENT (\\Seen $MDNSent)".into(),
            " 1 Drafts".into(),
            " 1:* \"Deleted Items\"".into(),
            " CHARSET UTF-8 TEXT x".into(),
            " OR SEEN NOT UID 1:3".into(),
            " Drafts (MESSAGES UIDNEXT UNSEEN)".into(),
            " \"\" \"*\"".into(),
            " a/b/c".into(),
            " a/b z".into(),
            " EXPUNGE 1:*".into(),
            format!(" {ADELE} {ADELE_PASSWORD}"),
            " {5}".into(),
            " mailscope.test".into(),
        ])).prop_map(|(verb, rest)| format!("{verb}{rest}").into_bytes()),
        1 => Just(xoauth2.clone().into_bytes()),
        1 => Just(b"*".to_vec()),
        1 => Just(b".".to_vec()),
        1 => proptest::collection::vec(any::<u8>(), 0..200),
        1 => "[ -~]{0,300}".prop_map(String::into_bytes),
    ]
}

fn token() -> Arc<String> {
    Arc::new(token_for(
        "https://outlook.office.com/SMTP.Send https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/POP.AccessAsUser.All",
    ))
}

/// Every reply line of `actions` (a reply sent as octets counts as its first line: what follows
/// its literal is data).
fn replies(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .filter_map(|action| match action {
            Action::Reply(lines) => Some(lines.clone()),
            Action::Bytes { bytes, .. } => Some(vec![
                String::from_utf8_lossy(bytes.split(|&byte| byte == b'\r').next().unwrap_or_default())
                    .into_owned(),
            ]),
            _ => None,
        })
        .flatten()
        .collect()
}

/// Feeds `lines` to `session` until it closes, checking each reply with `well_formed`. When the
/// session asks for octets (a literal), the next input is cut or padded to that many.
fn drive<S: Session>(
    mut session: S,
    lines: &[Vec<u8>],
    well_formed: impl Fn(&[String]) -> Result<(), String>,
) -> Result<(), TestCaseError> {
    let greeting = session.greeting();
    well_formed(&replies(&greeting)).map_err(TestCaseError::fail)?;
    let mut wanted: Option<usize> = None;
    for line in lines {
        let actions = match wanted.take() {
            Some(count) => {
                let mut octets = line.clone();
                octets.resize(count.min(4096), b'x');
                session.on_bytes(octets)
            }
            None => session.on_line(line),
        };
        for action in &actions {
            match action {
                Action::ReadExact(count) => wanted = Some(*count),
                Action::Skip(_) => wanted = Some(0),
                _ => {}
            }
        }
        well_formed(&replies(&actions))
            .map_err(|why| TestCaseError::fail(format!("{why} after {:?}", String::from_utf8_lossy(line))))?;
        if actions.contains(&Action::Close) {
            break;
        }
        // The transcript's description never fails either.
        let _ = session.describe_client_line(line);
    }
    let _ = session.on_line_too_long();
    let _ = session.on_deadline();
    Ok(())
}

/// RFC 5321 §4.2: `NNN text` or, for all but the last line of a reply, `NNN-text`.
fn smtp_reply(lines: &[String]) -> Result<(), String> {
    for (index, line) in lines.iter().enumerate() {
        let bytes = line.as_bytes();
        let code_ok = bytes.len() >= 3
            && bytes[..3].iter().all(u8::is_ascii_digit)
            && (b'2'..=b'5').contains(&bytes[0]);
        let separator = bytes.get(3).copied();
        let last = index + 1 == lines.len();
        let separator_ok = match separator {
            None => bytes.len() == 3,
            Some(b' ') => true,
            Some(b'-') => !last,
            _ => false,
        };
        if !code_ok || !separator_ok || line.contains('\r') || line.contains('\n') {
            return Err(format!("not an SMTP reply line: {line:?}"));
        }
    }
    Ok(())
}

/// RFC 9051 §7: untagged `* `, a continuation `+ ` (or `+`), or `tag OK|NO|BAD ...`.
fn imap_reply(lines: &[String]) -> Result<(), String> {
    for line in lines {
        let ok = line.starts_with("* ")
            || line == "+"
            || line.starts_with("+ ")
            || line.split_once(' ').is_some_and(|(tag, rest)| {
                !tag.is_empty()
                    && tag
                        .bytes()
                        .all(|byte| byte.is_ascii_graphic() && byte != b'*' && byte != b'+')
                    && (rest.starts_with("OK") || rest.starts_with("NO") || rest.starts_with("BAD"))
            });
        if !ok || line.contains('\r') || line.contains('\n') {
            return Err(format!("not an IMAP response line: {line:?}"));
        }
    }
    Ok(())
}

/// RFC 1939 §3: a reply starts `+OK` or `-ERR` (or is a SASL continuation `+ `); a multi-line
/// one ends with a lone `.`.
fn pop3_reply(lines: &[String]) -> Result<(), String> {
    let Some(first) = lines.first() else { return Ok(()) };
    let ok = first.starts_with("+OK") || first.starts_with("-ERR") || first == "+" || first.starts_with("+ ");
    let multi_line_ends = lines.len() == 1 || lines.last().is_some_and(|last| last == ".");
    if !ok
        || !multi_line_ends
        || lines
            .iter()
            .any(|line| line.contains('\r') || line.contains('\n'))
    {
        return Err(format!("not a POP3 reply: {lines:?}"));
    }
    Ok(())
}

/// Three messages in the INBOX: plain, multipart with a message inside, and not MIME at all.
fn seed_mail(context: &ExchangeContext) {
    let messages: [&[u8]; 3] = [
        b"Subject: one\r\n\r\n.first\r\n",
        b"Subject: two\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\ntext\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: in\r\n\r\nx\r\n--b--\r\n",
        b"garbage \x00\xff without a header",
    ];
    for message in messages {
        let _ = context.store.append(
            ADELE,
            "INBOX",
            message.into(),
            crate::store::message::Flags::default(),
            0,
        );
    }
}

fn connection() -> ConnectionInfo {
    ConnectionInfo {
        peer: "203.0.113.5:50000".parse().expect("a literal address"),
    }
}

fn contexts() -> Arc<ExchangeContext> {
    context(Directory::contoso())
}

const SMTP_VERBS: &[&str] = &[
    "EHLO", "HELO", "STARTTLS", "AUTH", "MAIL", "RCPT", "DATA", "RSET", "NOOP", "QUIT", "VRFY", "BDAT",
    "ehlo", "auth",
];
const IMAP_VERBS: &[&str] = &[
    "a1 CAPABILITY",
    "a2 AUTHENTICATE",
    "a3 LOGIN",
    "a4 SELECT",
    "a5 ID",
    "a6 NOOP",
    "a7 LOGOUT",
    "a8 FETCH",
    "a9 LIST",
    "b1 STARTTLS",
    "b2 APPEND",
    "b3 UID FETCH",
    "b4 STORE",
    "b5 UID SEARCH",
    "b6 COPY",
    "b7 UID MOVE",
    "b8 UID",
    "b9 IDLE",
    "DONE",
    "c1 EXAMINE",
    "c2 CREATE",
    "c3 RENAME",
    "c4 STATUS",
    "c5 LSUB",
    "c6 EXPUNGE",
    "c7 DELETE",
    "c8 SEARCH",
    "c9 CLOSE",
    "* NOOP",
    "+",
    "a1",
    "A LIST \"\"",
];
const POP3_VERBS: &[&str] = &[
    "CAPA", "AUTH", "USER", "PASS", "STAT", "LIST", "RETR", "DELE", "UIDL", "TOP", "NOOP", "RSET", "QUIT",
    "APOP", "STLS",
];

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(256)
}

proptest! {
    // 256 cases each in `make test`; PROPTEST_CASES asks for more.
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn smtp_never_panics_and_every_reply_is_an_smtp_reply(lines in proptest::collection::vec(line(SMTP_VERBS, token()), 0..40), tls in any::<bool>()) {
        drive(SmtpSession::new(contexts(), connection(), tls), &lines, smtp_reply)?;
    }

    #[test]
    fn imap_never_panics_and_every_reply_is_an_imap_response(lines in proptest::collection::vec(line(IMAP_VERBS, token()), 0..40)) {
        drive(ImapSession::new(contexts()), &lines, imap_reply)?;
    }

    #[test]
    fn imap_with_mail_never_panics_and_every_reply_is_an_imap_response(lines in proptest::collection::vec(line(IMAP_VERBS, token()), 0..60)) {
        let context = contexts();
        seed_mail(&context);
        let mut script = vec![
            format!("s1 AUTHENTICATE XOAUTH2 {}", crate::sasl::encode_xoauth2(ADELE, &token())).into_bytes(),
            b"s2 SELECT INBOX".to_vec(),
        ];
        script.extend(lines);
        drive(ImapSession::new(context), &script, imap_reply)?;
    }

    #[test]
    fn pop3_with_mail_never_panics_and_every_reply_is_a_pop3_reply(lines in proptest::collection::vec(line(POP3_VERBS, token()), 0..40)) {
        let context = contexts();
        seed_mail(&context);
        let mut script = vec![b"AUTH XOAUTH2".to_vec(), crate::sasl::encode_xoauth2(ADELE, &token()).into_bytes()];
        script.extend(lines);
        drive(Pop3Session::new(context), &script, pop3_reply)?;
    }

    #[test]
    fn pop3_never_panics_and_every_reply_is_a_pop3_reply(lines in proptest::collection::vec(line(POP3_VERBS, token()), 0..40)) {
        drive(Pop3Session::new(contexts()), &lines, pop3_reply)?;
    }

    #[test]
    fn the_sasl_decoders_take_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = crate::sasl::BearerMechanism::Xoauth2.parse(&bytes);
        let _ = crate::sasl::BearerMechanism::OauthBearer.parse(&bytes);
        let _ = crate::sasl::plain_user(&bytes);
        let _ = crate::sasl::parse_xoauth2(&bytes);
    }

    #[test]
    fn xoauth2_round_trips_any_user_and_token(user in "[^\\x01]{0,80}", token in "[A-Za-z0-9._-]{1,200}") {
        let encoded = crate::sasl::encode_xoauth2(&user, &token);
        let parsed = crate::sasl::BearerMechanism::Xoauth2.parse(encoded.as_bytes());
        prop_assert!(parsed.is_some());
        let parsed = parsed.expect("checked");
        prop_assert_eq!(parsed.user, user);
    }
}
