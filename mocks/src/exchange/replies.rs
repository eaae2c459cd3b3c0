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
    fn greeting_dates_do_not_pad_the_day() {
        // fidelity: smtp-greeting-ehlo-prestarttls ("Wed, 9 Nov 2022 10:09:41 +0000")
        let date = OffsetDateTime::from_unix_timestamp(1_667_988_581).unwrap();
        assert_eq!(format_greeting_date(date), "Wed, 9 Nov 2022 10:09:41 +0000");
    }
}
