//! The host names, dates and ids Exchange's replies carry.
//!
//! Host names are made up but of the real form (rule `exchange-front-doors`): the greeting names a
//! front end such as `PN4P287CA0064.outlook.office365.com`; 2024+ reply suffixes read
//! `[SGXP274CA0016.SGPP274.PROD.OUTLOOK.COM 2025-03-20T11:25:21.972Z 08DD66EDEFB0DFDF]`.
//! Texts no source confirms are marked *unverified*.

use time::OffsetDateTime;
use time::macros::format_description;

use crate::clock::Clock;
use crate::ids::IdSource;

/// The version the 2025–2026 greetings carry, `(tcpproxy/15.20.9137.005)` (MailKit #1948).
pub(crate) const TCPPROXY_VERSION: &str = "15.20.9137.005";

/// The simulated front end's short name.
pub(crate) const FRONT_END: &str = "SN7PR00CA0001";

/// Builds the replies that carry a host, a time or an id.
#[derive(Debug)]
pub(crate) struct ReplyStamp {
    clock: Clock,
    ids: IdSource,
}

impl ReplyStamp {
    /// Returns a stamp telling time by `clock`.
    pub(crate) fn new(clock: Clock) -> Self {
        Self {
            clock,
            ids: IdSource::new("exchange"),
        }
    }

    /// `SN7PR00CA0001.outlook.office365.com`: the name in greetings and EHLO replies.
    pub(crate) fn greeting_host(&self) -> String {
        format!("{FRONT_END}.outlook.office365.com")
    }

    /// The 16-hex-digit id Exchange appends to greetings and replies (`08DD…`).
    pub(crate) fn next_hex_id(&self) -> String {
        format!("08DD{}", self.ids.hex_upper("reply", 12))
    }

    /// `[HOST timestamp hexid]`, the 2024+ suffix (fidelity: smtp-xoauth2-rejected).
    pub(crate) fn suffix(&self) -> String {
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
    pub(crate) fn greeting_date(&self) -> String {
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
pub(crate) const BACK_END: &str = "SN7PR00MB0001.namprd00.prod.outlook.com";

/// Base64 of the UTF-16LE back-end name, the bracketed token of IMAP and POP greetings
/// (fidelity: imap-greeting-capability, pop-greeting-capa).
pub(crate) fn back_end_token() -> String {
    use base64::Engine as _;
    let utf16: Vec<u8> = BACK_END.encode_utf16().flat_map(u16::to_le_bytes).collect();
    base64::engine::general_purpose::STANDARD.encode(utf16)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::replies::smtp;

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
