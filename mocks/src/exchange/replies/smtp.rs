//! SMTP replies (rule `smtp-front-door`).

use super::stamp::{FRONT_END, ReplyStamp};

// fidelity: smtp-greeting-ehlo-prestarttls
/// `220 HOST Microsoft ESMTP MAIL Service ready at DATE [ID]`.
pub(crate) fn greeting(stamp: &ReplyStamp) -> String {
    format!(
        "220 {} Microsoft ESMTP MAIL Service ready at {} [{}]",
        stamp.greeting_host(),
        stamp.greeting_date(),
        stamp.next_hex_id()
    )
}

/// The largest message taken, as EHLO's SIZE advertises it (150 MB, Exchange Online's maximum).
pub(crate) const MAX_MESSAGE_SIZE: usize = 157_286_400;

// fidelity: smtp-greeting-ehlo-prestarttls, smtp-ehlo-post-starttls: AUTH only after STARTTLS.
/// The EHLO reply, before or after TLS.
pub(crate) fn ehlo(stamp: &ReplyStamp, client_ip: &str, tls: bool) -> Vec<String> {
    let middle = if tls { "AUTH LOGIN XOAUTH2" } else { "STARTTLS" };
    vec![
        format!("250-{} Hello [{client_ip}]", stamp.greeting_host()),
        format!("250-SIZE {MAX_MESSAGE_SIZE}"),
        "250-PIPELINING".into(),
        "250-DSN".into(),
        "250-ENHANCEDSTATUSCODES".into(),
        format!("250-{middle}"),
        "250-8BITMIME".into(),
        "250-BINARYMIME".into(),
        "250-CHUNKING".into(),
        "250 SMTPUTF8".into(),
    ]
}

/// The HELO reply (RFC 5321 §4.1.1.1; the host line of EHLO).
pub(crate) fn helo(stamp: &ReplyStamp, client_ip: &str) -> String {
    format!("250 {} Hello [{client_ip}]", stamp.greeting_host())
}

// fidelity: smtp-greeting-ehlo-prestarttls
/// `220 2.0.0 SMTP server ready`.
pub(crate) const STARTTLS_READY: &str = "220 2.0.0 SMTP server ready";

// fidelity: smtp-misc-transport
/// `501 5.5.4 Invalid domain name [...]`.
pub(crate) fn invalid_domain(stamp: &ReplyStamp) -> String {
    format!("501 5.5.4 Invalid domain name {}", stamp.suffix())
}

// fidelity: smtp-xoauth2-continuation. Microsoft's page shows `S: 334`; RFC 4954 §4's grammar
// requires the space (`"334" SP [base64]`), and strict clients such as lettre need it.
/// The empty SASL continuation.
pub(crate) const CONTINUE: &str = "334 ";

// fidelity: smtp-basic-auth-responses
/// `334 VXNlcm5hbWU6` (`Username:`).
pub(crate) const LOGIN_USERNAME: &str = "334 VXNlcm5hbWU6";
/// `334 UGFzc3dvcmQ6` (`Password:`).
pub(crate) const LOGIN_PASSWORD: &str = "334 UGFzc3dvcmQ6";

// fidelity: smtp-basic-auth-responses (nodemailer #1714, 2025: with the suffix), consumer-basic-auth-removed
/// `535 5.7.139 Authentication unsuccessful, basic authentication is disabled. [...]`.
pub(crate) fn basic_auth_disabled(stamp: &ReplyStamp) -> String {
    format!(
        "535 5.7.139 Authentication unsuccessful, basic authentication is disabled. {}",
        stamp.suffix()
    )
}

// fidelity: smtp-basic-auth-responses, smtp-basic-retirement-timeline (the Exchange Team blog,
// 2024-04, quotes it without a suffix).
/// `550 5.7.30 Basic authentication is not supported for Client Submission.`: after the final
/// removal of Basic SMTP AUTH.
pub(crate) const BASIC_AUTH_RETIRED: &str =
    "550 5.7.30 Basic authentication is not supported for Client Submission.";

// fidelity: smtp-basic-auth-responses (codassassin/email-bomber-v2.0 #1, 2022, with a host-only
// suffix; freescout #4930, 2025). The 2024+ `[host timestamp id]` suffix is unverified here.
/// `535 5.7.139 Authentication unsuccessful, the user credentials were incorrect. [...]`.
pub(crate) fn credentials_incorrect(stamp: &ReplyStamp) -> String {
    format!(
        "535 5.7.139 Authentication unsuccessful, the user credentials were incorrect. {}",
        stamp.suffix()
    )
}

// A secondary source only (a vendor's troubleshooting page, cited by OfficeDocs-Exchange PR #2740's
// discussion): unverified.
/// `535 5.7.139 Authentication unsuccessful, user is locked by your organization's security
/// defaults policy. [...]`.
pub(crate) fn security_defaults(stamp: &ReplyStamp) -> String {
    format!(
        "535 5.7.139 Authentication unsuccessful, user is locked by your organization's security defaults policy. {}",
        stamp.suffix()
    )
}

// fidelity: smtp-basic-auth-responses (MailKit #1733; gophish #3220, 2024, with the suffix). The
// sources show the reply, not its cause: giving it to a Conditional Access policy is the
// simulation's reading (unverified).
/// `535 5.7.139 Authentication unsuccessful, the request did not meet the criteria to be
/// authenticated successfully. Contact your administrator. [...]`.
pub(crate) fn criteria_not_met(stamp: &ReplyStamp) -> String {
    format!(
        "535 5.7.139 Authentication unsuccessful, the request did not meet the criteria to be authenticated successfully. Contact your administrator. {}",
        stamp.suffix()
    )
}

// fidelity: smtp-xoauth2-initial-response
/// `235 2.7.0 Authentication successful`.
pub(crate) const AUTHENTICATED: &str = "235 2.7.0 Authentication successful";

// Source: the reply to AUTH in https://github.com/harishkrupo/oauth2ms/issues/5 ("451 4.7.0
// Temporary server error. Please try again later. PRX4 [server.prod.outlook.com] in response to
// AUTH") and https://github.com/jstedfast/MailKit/issues/566 (the same text, a front end's name).
/// `451 4.7.0 Temporary server error. Please try again later. PRX4 [host]`: a front end that
/// could not reach the back end; the same AUTH may succeed later.
pub(crate) fn temporary_server_error(stamp: &ReplyStamp) -> String {
    format!(
        "451 4.7.0 Temporary server error. Please try again later. PRX4 [{}]",
        stamp.greeting_host()
    )
}

// fidelity: smtp-xoauth2-rejected
/// `535 5.7.3 Authentication unsuccessful [...]`: every failed token check.
pub(crate) fn unsuccessful(stamp: &ReplyStamp) -> String {
    format!("535 5.7.3 Authentication unsuccessful {}", stamp.suffix())
}

// fidelity: smtp-auth-disabled-tenant
/// SMTP AUTH off for the organisation.
pub(crate) fn disabled_for_tenant(stamp: &ReplyStamp) -> String {
    format!(
        "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. {}",
        stamp.suffix()
    )
}

// fidelity: smtp-auth-disabled-mailbox. The text after "Mailbox." is unverified: inferred from
// the Tenant variant, as the catalog does.
/// SMTP AUTH off for the mailbox.
pub(crate) fn disabled_for_mailbox(stamp: &ReplyStamp) -> String {
    format!(
        "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information. {}",
        stamp.suffix()
    )
}

// fidelity: smtp-unadvertised-mechanism (also used, unverified, for AUTH before STARTTLS and
// for OAUTHBEARER, which Exchange does not offer: oauthbearer-not-offered)
/// `504 5.7.4 Unrecognized authentication type [...]`.
pub(crate) fn unrecognized_mechanism(stamp: &ReplyStamp) -> String {
    format!("504 5.7.4 Unrecognized authentication type {}", stamp.suffix())
}

// fidelity: smtp-mail-from-without-auth
/// `530 5.7.57 Client not authenticated to send mail. [...]`.
pub(crate) fn not_authenticated(stamp: &ReplyStamp) -> String {
    format!(
        "530 5.7.57 Client not authenticated to send mail. {}",
        stamp.suffix()
    )
}

// fidelity: smtp-sendas-denied (the note on MAIL, RCPT and DATA replies)
/// `250 2.1.0 Sender OK`.
pub(crate) const SENDER_OK: &str = "250 2.1.0 Sender OK";
/// `250 2.1.5 Recipient OK`.
pub(crate) const RECIPIENT_OK: &str = "250 2.1.5 Recipient OK";
/// Past Exchange Online's 1,000 recipients a message: RFC 5321 §4.5.3.1.10's reply (Exchange's
/// wording unverified).
pub(crate) const TOO_MANY_RECIPIENTS: &str = "452 4.5.3 Too many recipients";
/// `354 Start mail input; end with <CRLF>.<CRLF>`.
pub(crate) const START_MAIL_INPUT: &str = "354 Start mail input; end with <CRLF>.<CRLF>";

// fidelity: smtp-sendas-denied. The diagnostic data after "Cannot submit message." are those of
// gophish #2900 (2023), as far as that paste shows them; the real reply goes on. No host suffix:
// no log shows one on this reply.
/// `554 5.2.252 SendAsDenied; USER not allowed to send as ADDRESS; ...`.
pub(crate) fn send_as_denied(user: &str, address: &str) -> String {
    format!(
        "554 5.2.252 SendAsDenied; {user} not allowed to send as {address}; STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; Failed to process message due to a permanent exception with message [BeginDiagnosticData]Cannot submit message. {SEND_AS_DIAGNOSTICS}"
    )
}

/// The diagnostic entries of gophish #2900's SendAsDenied reply, as far as its paste can be read;
/// the real list goes on. Real clients read it as one line: a PHP client reading 512-byte pieces
/// got the rest of it as the reply to its next command. So the reply is longer than RFC 5321's
/// 512 octets, and longer than some clients accept (lettre reads 1,000).
const SEND_AS_DIAGNOSTICS: &str = "0.35250:1F009983, 1.36674:0A000000, 1.61250:00000000, 1.45378:02000000, 1.44866:3C7C0000, 1.36674:0E000000, 1.61250:00000000, 1.45378:417C0000, 1.44866:26010000, 16.55847:E70F0000, 17.43559:0000000024020000000000000000000000000000, 20.52176:140F7999190010100C000000, 20.50032:140F79998917001000000000, 0.53414:F1030000, 0.35180:00000000, 255.23226:1F009983, 255.27962:0A000000, 255.27962:0E000000, 255.31418:1C930000, 0.35250:FF7F0000, 1.36674:32000000, 1.61250:00000000, 1.45378:02000000, 1.44866:01000000, 16.55847:78000000, 17.43559:0000000068030000000000000000000000000000, 20.52176:140F799919001010FF7F0000, 20.50032:140F799989174010F1030000, 0.53414:50000000, 0.35180:F1030000, 255.23226:14004D67, 255.27962:32000000, 255.17082:DC040000, 0.27745:D0790000, 4.21921:DC040000, 255.27962:FA000000, 255.1494:05000000, 0.38698:86000000, 1.41134:46000000, 0.37692:86000000, 0.37948:86000000";

/// `250 2.0.0 OK <id> [Hostname=HOST]` after the final dot (unverified form).
pub(crate) fn queued(stamp: &ReplyStamp) -> String {
    let host = stamp.greeting_host();
    format!(
        "250 2.0.0 OK <{}@{host}> [Hostname={}.namprd00.prod.outlook.com]",
        stamp.next_hex_id(),
        FRONT_END
    )
}

/// `552 5.3.4 Message size exceeds fixed maximum message size`: a message over SIZE
/// (RFC 3463's X.3.4; Exchange's wording unverified).
pub(crate) const MESSAGE_TOO_BIG: &str = "552 5.3.4 Message size exceeds fixed maximum message size";

/// `452 4.3.1 Insufficient system resources`: the simulated mail store is full (RFC 3463's X.3.1;
/// a real tenant has no such limit short of mailbox quotas).
pub(crate) const STORE_FULL: &str = "452 4.3.1 Insufficient system resources";

/// The reply to a BDAT chunk that is not the last (RFC 3030 §4.2's example, with the enhanced
/// code Exchange adds to every reply; Exchange's wording unverified).
pub(crate) fn chunk_received(octets: usize) -> String {
    format!("250 2.0.0 {octets} octets received")
}

/// `221 2.0.0 Service closing transmission channel` (RFC 5321 §4.2's text).
pub(crate) const CLOSING: &str = "221 2.0.0 Service closing transmission channel";

/// `250 2.0.0 OK` for NOOP (unverified form).
pub(crate) const OK: &str = "250 2.0.0 OK";
/// `250 2.0.0 Resetting` for RSET (unverified form).
pub(crate) const RESETTING: &str = "250 2.0.0 Resetting";

/// `500 5.3.3 Unrecognized command 'X' [...]` (unverified form).
pub(crate) fn unrecognized_command(stamp: &ReplyStamp, verb: &str) -> String {
    // The client's word is echoed printable: a control character would break the reply line.
    let verb: String = verb
        .chars()
        .take(64)
        .map(|c| if c.is_ascii_graphic() { c } else { '?' })
        .collect();
    format!("500 5.3.3 Unrecognized command '{verb}' {}", stamp.suffix())
}

/// `503 5.5.2 Send hello first [...]` (unverified form).
pub(crate) fn send_hello_first(stamp: &ReplyStamp) -> String {
    format!("503 5.5.2 Send hello first {}", stamp.suffix())
}

/// `503 5.5.1 Bad sequence of commands` (RFC 5321 §4.2.4 text; Exchange's unverified).
pub(crate) const BAD_SEQUENCE: &str = "503 5.5.1 Bad sequence of commands";

/// `501 5.5.4 Invalid arguments` for MAIL and RCPT without an address (unverified form).
pub(crate) const INVALID_ARGUMENTS: &str = "501 5.5.4 Invalid arguments";

/// A command line over the limit (RFC 5321 §4.5.3.1.4 and RFC 3463's X.5.2; Exchange's
/// wording unverified).
pub(crate) const LINE_TOO_LONG: &str = "500 5.5.2 Line too long";

/// An AUTH line over the limit: RFC 4954 §6's `500 5.5.6` (Exchange's wording unverified).
pub(crate) const AUTH_LINE_TOO_LONG: &str = "500 5.5.6 Authentication Exchange line is too long";
