//! A session's view of its selected folder (rule `imap-mailbox`): the UIDs it has announced, in
//! sequence order, and their flags; catching up with the store and announcing the changes
//! (`EXISTS`, `EXPUNGE`, `FETCH (FLAGS ...)`); and message sets resolved against it.

use imap_codec::imap_types::sequence::{SeqOrUid, Sequence, SequenceSet};

use crate::store::message::Flags;
use crate::store::shared::Store;

/// A session's view of its selected folder.
#[derive(Debug)]
pub(crate) struct Selected {
    pub(super) folder: String,
    pub(super) uid_validity: u32,
    pub(super) read_only: bool,
    /// UID by sequence number (index + 1).
    pub(super) uids: Vec<u32>,
    /// The flags last announced, by sequence number.
    pub(super) flags: Vec<Flags>,
    /// The folder's version the view last caught up with.
    pub(super) version: u64,
    /// The folder was deleted or renamed away.
    pub(super) gone: bool,
}

/// Why a message set was refused.
pub(crate) enum SetError {
    /// Syntax or a sequence number past the end: `The specified message set is invalid.`
    Invalid,
}

pub(crate) fn tagged(tag: &str, text: &str) -> String {
    format!("{tag} {text}")
}

pub(crate) fn flag_list(flags: Flags) -> String {
    flags.names().collect::<Vec<_>>().join(" ")
}

impl Selected {
    /// Opens `name` of `address`: the view and the untagged data of SELECT or EXAMINE.
    pub(super) fn open(
        store: &Store,
        address: &str,
        name: &str,
        read_only: bool,
    ) -> Option<(Self, Vec<String>)> {
        store
            .read(address, |mailbox| {
                let folder = mailbox.folder(name)?;
                let uids: Vec<u32> = folder.messages.iter().map(|message| message.uid).collect();
                let flags: Vec<Flags> = folder.messages.iter().map(|message| message.flags).collect();
                let flag_names = "\\Seen \\Answered \\Flagged \\Deleted \\Draft $MDNSent";
                let mut lines = vec![
                    format!("* {} EXISTS", uids.len()),
                    "* 0 RECENT".to_owned(),
                    format!("* FLAGS ({flag_names})"),
                    if read_only {
                        "* OK [PERMANENTFLAGS ()] Permanent flags".to_owned()
                    } else {
                        format!("* OK [PERMANENTFLAGS ({flag_names})] Permanent flags")
                    },
                ];
                if let Some(first) = flags.iter().position(|flags| !flags.contains(Flags::SEEN)) {
                    lines.push(format!("* OK [UNSEEN {}] Is the first unseen message", first + 1));
                }
                lines.push(format!(
                    "* OK [UIDVALIDITY {}] UIDVALIDITY value",
                    folder.uid_validity
                ));
                lines.push(format!(
                    "* OK [UIDNEXT {}] The next unique identifier value",
                    folder.uid_next
                ));
                let view = Self {
                    folder: folder.name.clone(),
                    uid_validity: folder.uid_validity,
                    read_only,
                    uids,
                    flags,
                    version: folder.version,
                    gone: false,
                };
                Some((view, lines))
            })
            .flatten()
    }

    /// Brings the view up to date; returns the untagged lines announcing the changes.
    pub(super) fn sync(&mut self, store: &Store, address: &str, expunges_allowed: bool) -> Vec<String> {
        let Some(current) = store
            .read(address, |mailbox| {
                mailbox
                    .folder(&self.folder)
                    .filter(|folder| folder.uid_validity == self.uid_validity)
                    .map(|folder| {
                        (
                            folder.version,
                            folder
                                .messages
                                .iter()
                                .map(|message| (message.uid, message.flags))
                                .collect::<Vec<_>>(),
                        )
                    })
            })
            .flatten()
        else {
            self.gone = true;
            return Vec::new();
        };
        let (version, messages) = current;
        if version == self.version {
            return Vec::new();
        }
        let mut lines = Vec::new();
        let find = |uid: u32| messages.binary_search_by_key(&uid, |(known, _)| *known).ok();
        if expunges_allowed {
            let mut index = 0;
            while index < self.uids.len() {
                if find(self.uids[index]).is_none() {
                    lines.push(format!("* {} EXPUNGE", index + 1));
                    self.uids.remove(index);
                    self.flags.remove(index);
                } else {
                    index += 1;
                }
            }
        }
        for (index, uid) in self.uids.iter().enumerate() {
            if let Some(position) = find(*uid)
                && messages[position].1 != self.flags[index]
            {
                self.flags[index] = messages[position].1;
                lines.push(format!(
                    "* {} FETCH (FLAGS ({}))",
                    index + 1,
                    flag_list(self.flags[index])
                ));
            }
        }
        let last = self.uids.last().copied().unwrap_or(0);
        let before = self.uids.len();
        for (uid, flags) in messages.iter().filter(|(uid, _)| *uid > last) {
            self.uids.push(*uid);
            self.flags.push(*flags);
        }
        if self.uids.len() != before {
            lines.push(format!("* {} EXISTS", self.uids.len()));
        }
        if expunges_allowed {
            self.version = version;
        }
        lines
    }

    /// The (sequence number, UID) pairs a set names, in ascending order.
    pub(super) fn resolve(&self, set: &SequenceSet, uid: bool) -> Result<Vec<(u32, u32)>, SetError> {
        let count = u32::try_from(self.uids.len()).unwrap_or(u32::MAX);
        let largest = if uid {
            self.uids.last().copied().unwrap_or(0)
        } else {
            count
        };
        let value = |value: &SeqOrUid| match value {
            SeqOrUid::Value(number) => number.get(),
            SeqOrUid::Asterisk => largest,
        };
        let mut ranges = Vec::new();
        for sequence in set.0.as_ref() {
            let (from, to) = match sequence {
                Sequence::Single(single) => (value(single), value(single)),
                Sequence::Range(from, to) => (value(from), value(to)),
            };
            let (low, high) = (from.min(to), from.max(to));
            // A sequence number past the end is an error; a UID past the end names nothing
            // (RFC 9051 §6.4.8), except that `N:*` always names the last message.
            if !uid && (high > count || low == 0) {
                return Err(SetError::Invalid);
            }
            ranges.push((low, high));
        }
        let mut picked = Vec::new();
        for (index, message_uid) in self.uids.iter().enumerate() {
            let seq = u32::try_from(index + 1).unwrap_or(u32::MAX);
            let key = if uid { *message_uid } else { seq };
            let star_range = uid && ranges.iter().any(|(low, _)| *low > largest) && *message_uid == largest;
            if ranges.iter().any(|(low, high)| (*low..=*high).contains(&key)) || star_range {
                picked.push((seq, *message_uid));
            }
        }
        Ok(picked)
    }
}
