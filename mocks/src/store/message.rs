//! One stored message: its bytes as they arrived, its UID, flags and arrival date.

use std::sync::Arc;

/// The flags Exchange keeps on a message. Its IMAP `FLAGS` and `PERMANENTFLAGS` list these six
/// and no `\*` (dmarc-metrics-exporter #15 shows the SELECT data of an Exchange Online INBOX), so
/// a keyword outside them is not kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub(crate) struct Flags(u8);

impl Flags {
    pub(crate) const SEEN: Self = Self(1);
    pub(crate) const ANSWERED: Self = Self(2);
    pub(crate) const FLAGGED: Self = Self(4);
    pub(crate) const DELETED: Self = Self(8);
    pub(crate) const DRAFT: Self = Self(16);
    pub(crate) const MDN_SENT: Self = Self(32);

    /// Every flag with its IMAP name, in the order Exchange lists them.
    pub(crate) const NAMED: [(Self, &'static str); 6] = [
        (Self::SEEN, "\\Seen"),
        (Self::ANSWERED, "\\Answered"),
        (Self::FLAGGED, "\\Flagged"),
        (Self::DELETED, "\\Deleted"),
        (Self::DRAFT, "\\Draft"),
        (Self::MDN_SENT, "$MDNSent"),
    ];

    /// The flag named `name` (case-insensitive), if Exchange keeps it.
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        Self::NAMED
            .iter()
            .find(|(_, known)| known.eq_ignore_ascii_case(name))
            .map(|(flag, _)| *flag)
    }

    /// The names of the flags set, in Exchange's order.
    pub(crate) fn names(self) -> impl Iterator<Item = &'static str> {
        Self::NAMED
            .into_iter()
            .filter(move |(flag, _)| self.contains(*flag))
            .map(|(_, name)| name)
    }

    pub(crate) fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0 && other.0 != 0
    }

    pub(crate) fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    pub(crate) fn difference(self, other: Self) -> Self {
        Self(self.0 & !other.0)
    }

    /// The bits, for the state directory's index.
    pub(crate) fn bits(self) -> u8 {
        self.0
    }

    /// Flags from the state directory's index; unknown bits are dropped.
    pub(crate) fn from_bits(bits: u8) -> Self {
        Self(bits & 0b11_1111)
    }
}

/// A message in a folder.
#[derive(Debug, Clone)]
pub(crate) struct Message {
    /// Its UID in the folder (RFC 9051 §2.3.1.1), never reused under one UIDVALIDITY.
    pub(crate) uid: u32,
    /// Its flags.
    pub(crate) flags: Flags,
    /// When the folder received it, in seconds since the Unix epoch (the IMAP INTERNALDATE).
    pub(crate) internal_date: i64,
    /// The message as it was delivered or appended, byte for byte.
    pub(crate) data: Arc<[u8]>,
}

impl Message {
    /// Its size in octets (`RFC822.SIZE`, POP3's `LIST`).
    pub(crate) fn size(&self) -> usize {
        self.data.len()
    }
}

#[cfg(test)]
mod tests {
    use super::Flags;

    #[test]
    fn flags_round_trip_through_names_and_bits() {
        let flags = Flags::SEEN.union(Flags::MDN_SENT);
        assert_eq!(flags.names().collect::<Vec<_>>(), ["\\Seen", "$MDNSent"]);
        assert_eq!(Flags::from_name("\\seen"), Some(Flags::SEEN));
        assert_eq!(Flags::from_name("$Forwarded"), None);
        assert_eq!(Flags::from_bits(flags.bits()), flags);
        assert!(!flags.difference(Flags::SEEN).contains(Flags::SEEN));
        assert!(!Flags::default().contains(Flags::default()));
    }
}
