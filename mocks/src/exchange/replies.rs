//! Exchange Online's reply texts, each with its source, and the host names and suffixes they carry.
//!
//! Host names are made up but of the real form (FIDELITY.md rule 11): the greeting names a
//! front end such as `PN4P287CA0064.outlook.office365.com`; 2024+ reply suffixes read
//! `[SGXP274CA0016.SGPP274.PROD.OUTLOOK.COM 2025-03-20T11:25:21.972Z 08DD66EDEFB0DFDF]`.
//! Texts no source confirms are marked *unverified*.

use time::OffsetDateTime;
use time::macros::format_description;

use crate::clock::Clock;
use crate::ids::IdSource;

/// The simulated front end's short name.
pub const FRONT_END: &str = "SN7PR00CA0001";

/// Builds the replies that carry a host, a time or an id.
#[derive(Debug)]
pub struct ReplyStamp {
    clock: Clock,
    ids: IdSource,
}

impl ReplyStamp {
    /// Returns a stamp telling time by `clock`.
    pub fn new(clock: Clock) -> Self {
        Self {
            clock,
            ids: IdSource::new("exchange"),
        }
    }

    /// `SN7PR00CA0001.outlook.office365.com`: the name in greetings and EHLO replies.
    pub fn greeting_host(&self) -> String {
        format!("{FRONT_END}.outlook.office365.com")
    }

    /// The 16-hex-digit id Exchange appends to greetings and replies (`08DD…`).
    pub fn next_hex_id(&self) -> String {
        format!("08DD{}", self.ids.hex_upper("reply", 12))
    }

    /// `[HOST timestamp hexid]`, the 2024+ suffix (fidelity: smtp-xoauth2-rejected).
    pub fn suffix(&self) -> String {
        let timestamp = self
            .clock
            .now()
            .format(format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
            ))
            .unwrap_or_default();
        format!(
            "[{FRONT_END}.NAMPRD00.PROD.OUTLOOK.COM {timestamp} {}]",
            self.next_hex_id()
        )
    }

    /// The time as the SMTP greeting writes it: `Sat, 26 Apr 2025 18:08:13 +0000`.
    pub fn greeting_date(&self) -> String {
        format_greeting_date(self.clock.now())
    }
}

fn format_greeting_date(now: OffsetDateTime) -> String {
    now.format(format_description!(
        "[weekday repr:short], [day padding:none] [month repr:short] [year] [hour]:[minute]:[second] +0000"
    ))
    .unwrap_or_default()
}

/// The back-end server's name, which the IMAP and POP greetings carry base64-encoded.
pub const BACK_END: &str = "SN7PR00MB0001.namprd00.prod.outlook.com";

/// Base64 of the UTF-16LE back-end name, the bracketed token of IMAP and POP greetings
/// (fidelity: imap-greeting-capability, pop-greeting-capa).
pub fn back_end_token() -> String {
    use base64::Engine as _;
    let utf16: Vec<u8> = BACK_END.encode_utf16().flat_map(u16::to_le_bytes).collect();
    base64::engine::general_purpose::STANDARD.encode(utf16)
}

/// The `generic` server profile's replies: RFC behaviour, never Exchange's
/// (FIDELITY.md, "Beyond Exchange Online").
pub mod generic {
    use std::time::Duration;

    use base64::Engine as _;

    /// How long a server waits for the client's answer to an error challenge before failing the
    /// exchange anyway (some clients never answer: shared/interop/README.md, mbsync).
    pub const CHALLENGE_WAIT: Duration = Duration::from_secs(10);

    /// The base64 error challenge: Gmail's XOAUTH2 form, or RFC 7628 §3.2.2's for OAUTHBEARER.
    pub fn error_challenge(mechanism: &str, scope: &str) -> String {
        let json = if mechanism.eq_ignore_ascii_case("OAUTHBEARER") {
            format!(
                r#"{{"status":"invalid_token","scope":"{scope}","openid-configuration":"https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration"}}"#
            )
        } else {
            format!(r#"{{"status":"401","schemes":"bearer","scope":"{scope}"}}"#)
        };
        base64::engine::general_purpose::STANDARD.encode(json)
    }

    /// SMTP: RFC 4954 §6's `535 5.7.8`.
    pub const SMTP_FAILED: &str = "535 5.7.8 Authentication credentials invalid";
    /// IMAP: RFC 5530's `AUTHENTICATIONFAILED`.
    pub const IMAP_FAILED: &str = "NO [AUTHENTICATIONFAILED] Authentication failed.";
    /// POP3: RFC 3206's `[AUTH]`.
    pub const POP3_FAILED: &str = "-ERR [AUTH] Authentication failed.";
    /// SMTP's EHLO mechanisms.
    pub const SMTP_AUTH: &str = "AUTH XOAUTH2 OAUTHBEARER";
}

/// IMAP replies (catalog section 2.6). Tagged replies take the client's tag.
pub mod imap {
    // fidelity: imap-greeting-capability
    /// The greeting.
    pub fn greeting() -> String {
        format!(
            "* OK The Microsoft Exchange IMAP4 service is ready. [{}]",
            super::back_end_token()
        )
    }

    // fidelity: imap-greeting-capability (the common list; some logs add MOVE, catalog section 3, item 13)
    /// Capabilities before authentication.
    pub const CAPABILITY_PRE_AUTH: &str = "* CAPABILITY IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS ID UNSELECT CHILDREN IDLE NAMESPACE LITERAL+";
    // fidelity: imap-capability-postauth
    /// Capabilities after authentication.
    pub const CAPABILITY_POST_AUTH: &str = "* CAPABILITY IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS MOVE ID UNSELECT CLIENTACCESSRULES CLIENTNETWORKPRESENCELOCATION BACKENDAUTHENTICATE CHILDREN IDLE NAMESPACE LITERAL+";
    /// The generic profile also offers OAUTHBEARER (RFC 7628).
    pub const CAPABILITY_GENERIC: &str = "* CAPABILITY IMAP4rev1 AUTH=XOAUTH2 AUTH=OAUTHBEARER SASL-IR ID UNSELECT CHILDREN IDLE NAMESPACE LITERAL+";

    // fidelity: imap-xoauth2-continuation ("+" with empty text; a trailing space is not verifiable
    // from logs, RFC 3501's `continue-req` has one).
    /// The empty continuation.
    pub const CONTINUE: &str = "+ ";

    // fidelity: imap-xoauth2-sasl-ir
    /// `OK AUTHENTICATE completed.`
    pub const AUTHENTICATED: &str = "OK AUTHENTICATE completed.";
    // fidelity: imap-xoauth2-rejected
    /// `NO AUTHENTICATE failed.`: every refused token, with no JSON challenge.
    pub const AUTHENTICATE_FAILED: &str = "NO AUTHENTICATE failed.";
    // fidelity: imap-basic-login-disabled
    /// `NO LOGIN failed.`: Basic auth.
    pub const LOGIN_FAILED: &str = "NO LOGIN failed.";
    // fidelity: imap-authenticated-not-connected
    /// The answer to a mailbox command after an authentication that opened no mailbox.
    pub const NOT_CONNECTED: &str = "BAD User is authenticated but not connected.";
    /// `* BYE Connection closed. 14` (MailKit #1496), when such a session logs out.
    pub const BYE_NOT_CONNECTED: &str = "* BYE Connection closed. 14";
    // Catalog section 2.6 (LOGOUT).
    /// The untagged LOGOUT reply.
    pub const BYE: &str = "* BYE Microsoft Exchange Server IMAP4 server signing off.";

    /// `BAD Command Error. 12` for a command Exchange does not know (unverified form).
    pub const COMMAND_ERROR: &str = "BAD Command Error. 12";
    /// A mailbox command before authentication (unverified form).
    pub const INVALID_STATE: &str = "BAD Command received in Invalid state.";
    /// A line over the limit (unverified form).
    pub const LINE_TOO_LONG: &str = "* BAD Line too long.";
}

/// POP3 replies (catalog section 2.6).
pub mod pop3 {
    // fidelity: pop-greeting-capa
    /// The greeting.
    pub fn greeting() -> String {
        format!(
            "+OK The Microsoft Exchange POP3 service is ready. [{}]",
            super::back_end_token()
        )
    }

    // fidelity: pop-greeting-capa (port 995)
    /// The CAPA reply, without the terminating dot.
    pub const CAPA: [&str; 5] = ["+OK", "TOP", "UIDL", "SASL PLAIN XOAUTH2", "USER"];
    /// The generic profile's CAPA.
    pub const CAPA_GENERIC: [&str; 4] = ["+OK", "TOP", "UIDL", "SASL XOAUTH2 OAUTHBEARER"];

    // fidelity: pop-xoauth2-two-step (RFC 5034's `continue-req` is "+" SP).
    /// The empty continuation.
    pub const CONTINUE: &str = "+ ";
    /// `+OK User successfully authenticated.`
    pub const AUTHENTICATED: &str = "+OK User successfully authenticated.";
    // fidelity: pop-xoauth2-rejected
    /// Every refused authentication.
    pub const AUTHENTICATION_FAILURE: &str =
        "-ERR Authentication failure: unknown user name or bad password.";
    // fidelity: pop-xoauth2-inline-rejected
    /// The answer to an inline initial response; the connection closes after it.
    pub const PROTOCOL_ERROR: &str = "-ERR Protocol error. Connection is closed. 10";

    /// QUIT (unverified form).
    pub const SIGNING_OFF: &str = "+OK Microsoft Exchange Server POP3 server signing off.";
    /// An unknown command (unverified form).
    pub const COMMAND_ERROR: &str = "-ERR Command is not valid in this state.";
    /// `+OK` with no text.
    pub const OK: &str = "+OK";
}

/// SMTP replies (catalog section 2.6).
pub mod smtp {
    use super::ReplyStamp;

    // fidelity: smtp-greeting-ehlo-prestarttls
    /// `220 HOST Microsoft ESMTP MAIL Service ready at DATE [ID]`.
    pub fn greeting(stamp: &ReplyStamp) -> String {
        format!(
            "220 {} Microsoft ESMTP MAIL Service ready at {} [{}]",
            stamp.greeting_host(),
            stamp.greeting_date(),
            stamp.next_hex_id()
        )
    }

    // fidelity: smtp-greeting-ehlo-prestarttls, smtp-ehlo-post-starttls: AUTH only after STARTTLS.
    /// The EHLO reply, before or after TLS.
    pub fn ehlo(stamp: &ReplyStamp, client_ip: &str, tls: bool) -> Vec<String> {
        let middle = if tls { "AUTH LOGIN XOAUTH2" } else { "STARTTLS" };
        vec![
            format!("250-{} Hello [{client_ip}]", stamp.greeting_host()),
            "250-SIZE 157286400".into(),
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
    pub fn helo(stamp: &ReplyStamp, client_ip: &str) -> String {
        format!("250 {} Hello [{client_ip}]", stamp.greeting_host())
    }

    // fidelity: smtp-greeting-ehlo-prestarttls
    /// `220 2.0.0 SMTP server ready`.
    pub const STARTTLS_READY: &str = "220 2.0.0 SMTP server ready";

    // fidelity: smtp-misc-transport
    /// `501 5.5.4 Invalid domain name [...]`.
    pub fn invalid_domain(stamp: &ReplyStamp) -> String {
        format!("501 5.5.4 Invalid domain name {}", stamp.suffix())
    }

    // fidelity: smtp-xoauth2-continuation. Microsoft's page shows `S: 334`; RFC 4954 §4's grammar
    // requires the space (`"334" SP [base64]`), and strict clients such as lettre need it.
    /// The empty SASL continuation.
    pub const CONTINUE: &str = "334 ";

    // fidelity: smtp-basic-auth-responses
    /// `334 VXNlcm5hbWU6` (`Username:`).
    pub const LOGIN_USERNAME: &str = "334 VXNlcm5hbWU6";
    /// `334 UGFzc3dvcmQ6` (`Password:`).
    pub const LOGIN_PASSWORD: &str = "334 UGFzc3dvcmQ6";

    /// `535 5.7.139 Authentication unsuccessful, basic authentication is disabled. [...]`.
    pub fn basic_auth_disabled(stamp: &ReplyStamp) -> String {
        format!(
            "535 5.7.139 Authentication unsuccessful, basic authentication is disabled. {}",
            stamp.suffix()
        )
    }

    // fidelity: smtp-xoauth2-initial-response
    /// `235 2.7.0 Authentication successful`.
    pub const AUTHENTICATED: &str = "235 2.7.0 Authentication successful";

    // fidelity: smtp-xoauth2-rejected
    /// `535 5.7.3 Authentication unsuccessful [...]`: every failed token check.
    pub fn unsuccessful(stamp: &ReplyStamp) -> String {
        format!("535 5.7.3 Authentication unsuccessful {}", stamp.suffix())
    }

    // fidelity: smtp-auth-disabled-tenant
    /// SMTP AUTH off for the organisation.
    pub fn disabled_for_tenant(stamp: &ReplyStamp) -> String {
        format!(
            "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. {}",
            stamp.suffix()
        )
    }

    // fidelity: smtp-auth-disabled-mailbox. The text after "Mailbox." is unverified: inferred from
    // the Tenant variant, as the catalog does.
    /// SMTP AUTH off for the mailbox.
    pub fn disabled_for_mailbox(stamp: &ReplyStamp) -> String {
        format!(
            "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information. {}",
            stamp.suffix()
        )
    }

    // fidelity: smtp-unadvertised-mechanism (also used, unverified, for AUTH before STARTTLS and
    // for OAUTHBEARER, which Exchange does not offer: oauthbearer-not-offered)
    /// `504 5.7.4 Unrecognized authentication type [...]`.
    pub fn unrecognized_mechanism(stamp: &ReplyStamp) -> String {
        format!("504 5.7.4 Unrecognized authentication type {}", stamp.suffix())
    }

    // fidelity: smtp-mail-from-without-auth
    /// `530 5.7.57 Client not authenticated to send mail. [...]`.
    pub fn not_authenticated(stamp: &ReplyStamp) -> String {
        format!(
            "530 5.7.57 Client not authenticated to send mail. {}",
            stamp.suffix()
        )
    }

    // fidelity: smtp-sendas-denied (the note on MAIL, RCPT and DATA replies)
    /// `250 2.1.0 Sender OK`.
    pub const SENDER_OK: &str = "250 2.1.0 Sender OK";
    /// `250 2.1.5 Recipient OK`.
    pub const RECIPIENT_OK: &str = "250 2.1.5 Recipient OK";
    /// `354 Start mail input; end with <CRLF>.<CRLF>`.
    pub const START_MAIL_INPUT: &str = "354 Start mail input; end with <CRLF>.<CRLF>";

    // fidelity: smtp-sendas-denied (current form; the diagnostic tail after "Cannot submit
    // message." is cut here, as in the catalog's quote)
    /// `554 5.2.252 SendAsDenied; USER not allowed to send as ADDRESS; ...`.
    pub fn send_as_denied(stamp: &ReplyStamp, user: &str, address: &str) -> String {
        format!(
            "554 5.2.252 SendAsDenied; {user} not allowed to send as {address}; STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; Failed to process message due to a permanent exception with message [BeginDiagnosticData]Cannot submit message. {}",
            stamp.suffix()
        )
    }

    /// `250 2.0.0 OK <id> [Hostname=HOST]` after the final dot (unverified form).
    pub fn queued(stamp: &ReplyStamp) -> String {
        let host = stamp.greeting_host();
        format!(
            "250 2.0.0 OK <{}@{host}> [Hostname={}.namprd00.prod.outlook.com]",
            stamp.next_hex_id(),
            super::FRONT_END
        )
    }

    /// `221 2.0.0 Service closing transmission channel` (RFC 5321 §4.2's text).
    pub const CLOSING: &str = "221 2.0.0 Service closing transmission channel";

    /// `250 2.0.0 OK` for NOOP (unverified form).
    pub const OK: &str = "250 2.0.0 OK";
    /// `250 2.0.0 Resetting` for RSET (unverified form).
    pub const RESETTING: &str = "250 2.0.0 Resetting";

    /// `500 5.3.3 Unrecognized command 'X' [...]` (unverified form).
    pub fn unrecognized_command(stamp: &ReplyStamp, verb: &str) -> String {
        format!("500 5.3.3 Unrecognized command '{verb}' {}", stamp.suffix())
    }

    /// `503 5.5.2 Send hello first [...]` (unverified form).
    pub fn send_hello_first(stamp: &ReplyStamp) -> String {
        format!("503 5.5.2 Send hello first {}", stamp.suffix())
    }

    /// `503 5.5.1 Bad sequence of commands` (RFC 5321 §4.2.4 text; Exchange's unverified).
    pub const BAD_SEQUENCE: &str = "503 5.5.1 Bad sequence of commands";

    /// `501 5.5.4 Invalid arguments` for MAIL and RCPT without an address (unverified form).
    pub const INVALID_ARGUMENTS: &str = "501 5.5.4 Invalid arguments";

    /// A command line over the limit (RFC 5321 §4.5.3.1.4 and RFC 3463's X.5.2; Exchange's
    /// wording unverified).
    pub const LINE_TOO_LONG: &str = "500 5.5.2 Line too long";

    /// An AUTH line over the limit: RFC 4954 §6's `500 5.5.6` (Exchange's wording unverified).
    pub const AUTH_LINE_TOO_LONG: &str = "500 5.5.6 Authentication Exchange line is too long";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_have_the_catalog_forms() {
        let stamp = ReplyStamp::new(Clock::default());

        assert_eq!(
            smtp::greeting(&stamp)[..89],
            *"220 SN7PR00CA0001.outlook.office365.com Microsoft ESMTP MAIL Service ready at Sat, 26 Apr"
        );
        let suffix = stamp.suffix();
        assert!(
            suffix.starts_with("[SN7PR00CA0001.NAMPRD00.PROD.OUTLOOK.COM 2025-04-26T18:08:13.000Z 08DD"),
            "{suffix}"
        );
        assert_eq!(
            suffix.len(),
            "[SN7PR00CA0001.NAMPRD00.PROD.OUTLOOK.COM 2025-04-26T18:08:13.000Z 08DD66EDEFB0DFDF]".len()
        );
    }

    #[test]
    fn greeting_tokens_are_utf16le_base64_of_the_back_end() {
        // fidelity: imap-greeting-capability: the catalog's example decodes to its FQDN.
        use base64::Engine as _;
        let example = "TQBXAEgAUABSADIAMQBDAEEAMAAwADYAMAAuAG4AYQBtAHAAcgBkADIAMQAuAHAAcgBvAGQALgBvAHUAdABsAG8AbwBrAC4AYwBvAG0A";
        let bytes = base64::engine::general_purpose::STANDARD.decode(example).unwrap();
        let units: Vec<u16> = bytes
            .chunks(2)
            .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
            .collect();
        assert_eq!(
            String::from_utf16(&units).unwrap(),
            "MWHPR21CA0060.namprd21.prod.outlook.com"
        );

        let ours = base64::engine::general_purpose::STANDARD
            .decode(back_end_token())
            .unwrap();
        assert_eq!(ours.len(), BACK_END.len() * 2);
    }

    #[test]
    fn greeting_dates_do_not_pad_the_day() {
        // fidelity: smtp-greeting-ehlo-prestarttls ("Wed, 9 Nov 2022 10:09:41 +0000")
        let date = OffsetDateTime::from_unix_timestamp(1_667_988_581).unwrap();
        assert_eq!(format_greeting_date(date), "Wed, 9 Nov 2022 10:09:41 +0000");
    }
}
