//! SEARCH's keys over one message of the selected folder (rule `imap-mailbox`): flags, sizes,
//! internal and sent dates, sequence and UID sets, header fields and text, case-insensitively as
//! RFC 9051 §6.4.4 asks.

use imap_codec::imap_types::search::SearchKey;
use imap_codec::imap_types::sequence::SequenceSet;

use crate::store::message::{Flags, Message};

use super::imap_fetch::Parsed;

/// The session's view resolving a sequence set (`true`: of UIDs) to `(seq, uid)` pairs, or `None`
/// when the set is invalid.
pub(crate) type Resolve<'c> = &'c dyn Fn(&SequenceSet, bool) -> Option<Vec<(u32, u32)>>;

/// A message being searched.
pub(crate) struct Candidate<'c> {
    /// Its sequence number in the session's view.
    pub(crate) seq: u32,
    /// The message.
    pub(crate) message: &'c Message,
    /// Resolves the sequence sets of `SequenceSet` and `UID` keys.
    pub(crate) resolve: Resolve<'c>,
}

fn contains_text(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty()
        || haystack
            .windows(needle.len())
            .any(|window| window.eq_ignore_ascii_case(needle))
}

fn day(unix: i64) -> Option<chrono::NaiveDate> {
    chrono::DateTime::from_timestamp(unix, 0).map(|time| time.date_naive())
}

impl<'c> Candidate<'c> {
    /// True when the message matches `key`; `parsed` is the message parsed, once, when a key
    /// needs its headers or text.
    pub(crate) fn matches(&self, key: &SearchKey<'_>, parsed: &mut Option<Parsed<'c>>) -> bool {
        let flags = self.message.flags;
        let parse = |parsed: &mut Option<Parsed<'c>>| {
            if parsed.is_none() {
                *parsed = Some(Parsed::new(self.message.data.as_ref()));
            }
        };
        let header_has = |parsed: &mut Option<Parsed<'c>>, name: &str, value: &[u8]| {
            parsed.as_ref().is_some_and(|parsed| {
                parsed
                    .header_values(name)
                    .iter()
                    .any(|field| contains_text(field.as_bytes(), value))
            })
        };
        let internal = day(self.message.internal_date);
        match key {
            SearchKey::All | SearchKey::Old | SearchKey::Unkeyword(_) => true,
            SearchKey::New | SearchKey::Recent | SearchKey::Keyword(_) => false,
            SearchKey::And(keys) => keys.as_ref().iter().all(|key| self.matches(key, parsed)),
            SearchKey::Or(left, right) => self.matches(left, parsed) || self.matches(right, parsed),
            SearchKey::Not(key) => !self.matches(key, parsed),
            SearchKey::Seen => flags.contains(Flags::SEEN),
            SearchKey::Unseen => !flags.contains(Flags::SEEN),
            SearchKey::Answered => flags.contains(Flags::ANSWERED),
            SearchKey::Unanswered => !flags.contains(Flags::ANSWERED),
            SearchKey::Deleted => flags.contains(Flags::DELETED),
            SearchKey::Undeleted => !flags.contains(Flags::DELETED),
            SearchKey::Draft => flags.contains(Flags::DRAFT),
            SearchKey::Undraft => !flags.contains(Flags::DRAFT),
            SearchKey::Flagged => flags.contains(Flags::FLAGGED),
            SearchKey::Unflagged => !flags.contains(Flags::FLAGGED),
            SearchKey::Larger(size) => self.message.size() > *size as usize,
            SearchKey::Smaller(size) => self.message.size() < *size as usize,
            SearchKey::Before(date) => internal.is_some_and(|day| day < *date.as_ref()),
            SearchKey::On(date) => internal.is_some_and(|day| day == *date.as_ref()),
            SearchKey::Since(date) => internal.is_some_and(|day| day >= *date.as_ref()),
            SearchKey::SentBefore(date) | SearchKey::SentOn(date) | SearchKey::SentSince(date) => {
                parse(parsed);
                let sent = parsed.as_ref().and_then(Parsed::sent).and_then(day);
                sent.is_some_and(|sent| match key {
                    SearchKey::SentBefore(_) => sent < *date.as_ref(),
                    SearchKey::SentOn(_) => sent == *date.as_ref(),
                    _ => sent >= *date.as_ref(),
                })
            }
            SearchKey::SequenceSet(set) => (self.resolve)(set, false)
                .is_some_and(|picked| picked.iter().any(|(seq, _)| *seq == self.seq)),
            SearchKey::Uid(set) => (self.resolve)(set, true)
                .is_some_and(|picked| picked.iter().any(|(_, uid)| *uid == self.message.uid)),
            SearchKey::From(value)
            | SearchKey::To(value)
            | SearchKey::Cc(value)
            | SearchKey::Bcc(value)
            | SearchKey::Subject(value) => {
                parse(parsed);
                let name = match key {
                    SearchKey::From(_) => "From",
                    SearchKey::To(_) => "To",
                    SearchKey::Cc(_) => "Cc",
                    SearchKey::Bcc(_) => "Bcc",
                    _ => "Subject",
                };
                header_has(parsed, name, value.as_ref())
            }
            SearchKey::Header(name, value) => {
                parse(parsed);
                let name = String::from_utf8_lossy(name.as_ref()).into_owned();
                header_has(parsed, &name, value.as_ref())
            }
            SearchKey::Body(value) => {
                parse(parsed);
                parsed
                    .as_ref()
                    .is_some_and(|parsed| contains_text(parsed.text(), value.as_ref()))
            }
            SearchKey::Text(value) => contains_text(&self.message.data, value.as_ref()),
        }
    }
}
