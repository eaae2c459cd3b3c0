//! One user's mailbox: Exchange Online's default folders and the user's own, each with its
//! messages, UIDVALIDITY and next UID (rule `mailbox-store`).

use std::collections::BTreeMap;
use std::sync::Arc;

use super::message::{Flags, Message};

/// The hierarchy delimiter (`* NAMESPACE (("" "/")) NIL NIL` in Mailspring #1983).
pub(crate) const DELIMITER: char = '/';

/// The most folders a mailbox may hold: a guard against a client creating folders without end.
pub(crate) const MAX_FOLDERS: usize = 10_000;

/// The longest folder name taken, in octets.
pub(crate) const MAX_NAME_LEN: usize = 1024;

/// A default folder of a new Exchange Online mailbox, as its IMAP LIST shows it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DefaultFolder {
    /// The name, in an English-language mailbox.
    pub(crate) name: &'static str,
    /// Its special-use attribute; Exchange lists them although it does not advertise
    /// SPECIAL-USE.
    pub(crate) special_use: Option<&'static str>,
    /// Whether LSUB lists it in a new mailbox.
    pub(crate) subscribed: bool,
}

// fidelity: mailbox-default-folders. The names are those libremail #105 lists for an
// outlook.office365.com mailbox (2020); `\Drafts`, `\Sent` and `\Trash` follow Mailspring #1983
// (an Exchange Online LIST, 2020), and `\Junk` and INBOX's `\Marked` a published telnet session
// against an Exchange mailbox. omamail #90 (2026) describes Exchange's LIST as carrying no
// special-use flags: the verbatim transcripts are followed. Which folders a new mailbox
// subscribes is that session's LSUB (INBOX, Deleted Items, Drafts, Junk Email, Sent Items;
// Archive is unverified).
/// The folders every mailbox starts with.
pub(crate) const DEFAULT_FOLDERS: [DefaultFolder; 15] = [
    folder("Archive", None, true),
    folder("Calendar", None, false),
    folder("Calendar/Birthdays", None, false),
    folder("Contacts", None, false),
    folder("Conversation History", None, false),
    folder("Deleted Items", Some("\\Trash"), true),
    folder("Drafts", Some("\\Drafts"), true),
    folder("INBOX", None, true),
    folder("Journal", None, false),
    folder("Junk Email", Some("\\Junk"), true),
    folder("Notes", None, false),
    folder("Outbox", None, false),
    folder("RSS Feeds", None, false),
    folder("Sent Items", Some("\\Sent"), true),
    folder("Tasks", None, false),
];

const fn folder(name: &'static str, special_use: Option<&'static str>, subscribed: bool) -> DefaultFolder {
    DefaultFolder {
        name,
        special_use,
        subscribed,
    }
}

/// The INBOX.
pub(crate) const INBOX: &str = "INBOX";
/// Where SMTP submissions are saved.
pub(crate) const SENT_ITEMS: &str = "Sent Items";

/// A folder and its messages, in UID order.
#[derive(Debug, Clone)]
pub(crate) struct Folder {
    /// The name as the client sees it (modified UTF-7, RFC 3501 §5.1.3).
    pub(crate) name: String,
    /// RFC 9051 §2.3.1.1: changes only when UIDs may have been reused.
    pub(crate) uid_validity: u32,
    /// The UID the next message will get.
    pub(crate) uid_next: u32,
    /// Whether LSUB lists it.
    pub(crate) subscribed: bool,
    /// The messages, ascending by UID.
    pub(crate) messages: Vec<Message>,
    /// Bumped on every change to the folder's messages, so a session sees whether to look.
    pub(crate) version: u64,
}

impl Folder {
    fn new(name: &str, uid_validity: u32, subscribed: bool) -> Self {
        Self {
            name: name.to_owned(),
            uid_validity,
            uid_next: 1,
            subscribed,
            messages: Vec::new(),
            version: 0,
        }
    }

    /// The index of the message with `uid`.
    pub(crate) fn index_of(&self, uid: u32) -> Option<usize> {
        self.messages
            .binary_search_by_key(&uid, |message| message.uid)
            .ok()
    }

    /// How many messages are not `\Seen`.
    pub(crate) fn unseen(&self) -> usize {
        self.messages
            .iter()
            .filter(|message| !message.flags.contains(Flags::SEEN))
            .count()
    }

    /// The special-use attribute of a default folder with this name.
    pub(crate) fn special_use(&self) -> Option<&'static str> {
        DEFAULT_FOLDERS
            .iter()
            .find(|default| default.name.eq_ignore_ascii_case(&self.name))
            .and_then(|default| default.special_use)
    }

    /// Whether this is one of the folders Exchange creates and a client may not delete.
    pub(crate) fn is_default(&self) -> bool {
        DEFAULT_FOLDERS
            .iter()
            .any(|default| default.name.eq_ignore_ascii_case(&self.name))
    }

    /// The octets of every message.
    fn bytes(&self) -> u64 {
        self.messages.iter().map(|message| message.size() as u64).sum()
    }
}

/// What changed since the state directory last saw the mailbox.
#[derive(Debug, Clone, Default)]
pub(crate) struct Changes {
    /// Message files to write: name and bytes.
    pub(crate) written: Vec<(String, Arc<[u8]>)>,
    /// Message files to remove.
    pub(crate) removed: Vec<String>,
    /// The index must be written again.
    pub(crate) dirty: bool,
}

/// The file a message is kept in under the state directory.
pub(crate) fn message_file(uid_validity: u32, uid: u32) -> String {
    format!("{uid_validity}.{uid}.eml")
}

/// Why a folder operation was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FolderError {
    /// No folder has that name.
    NotFound,
    /// A folder has that name already.
    Exists,
    /// The name is empty, too long, or has an empty level or a wildcard.
    InvalidName,
    /// INBOX and Exchange's other default folders cannot be deleted or renamed away.
    Default,
    /// The mailbox holds [`MAX_FOLDERS`] folders.
    TooMany,
}

/// A user's mailbox.
#[derive(Debug, Clone)]
pub(crate) struct Mailbox {
    /// The mailbox's address, as the directory names it.
    pub(crate) address: String,
    /// The folders by lower-cased name (Exchange's folder names are case-insensitive), so
    /// iteration is LIST's alphabetical order.
    folders: BTreeMap<String, Folder>,
    /// The next UIDVALIDITY handed to a new folder.
    pub(crate) next_uid_validity: u32,
    /// The octets of every message.
    pub(crate) bytes: u64,
    /// What the state directory has not seen yet.
    pub(crate) changes: Changes,
}

fn key(name: &str) -> String {
    if name.eq_ignore_ascii_case(INBOX) {
        return INBOX.to_ascii_lowercase();
    }
    name.to_lowercase()
}

impl Mailbox {
    /// A new mailbox with Exchange's default folders; UIDVALIDITY values start at `first_validity`
    /// (the creation time, as Dovecot does, so that a new mailbox never repeats an old one's).
    pub(crate) fn new(address: &str, first_validity: u32) -> Self {
        let mut mailbox = Self {
            address: address.to_owned(),
            folders: BTreeMap::new(),
            next_uid_validity: first_validity.max(1),
            bytes: 0,
            changes: Changes {
                dirty: true,
                ..Changes::default()
            },
        };
        for default in DEFAULT_FOLDERS {
            let validity = mailbox.take_validity();
            mailbox.folders.insert(
                key(default.name),
                Folder::new(default.name, validity, default.subscribed),
            );
        }
        mailbox
    }

    /// A mailbox read back from the state directory.
    pub(crate) fn restored(address: &str, next_uid_validity: u32, folders: Vec<Folder>) -> Self {
        let bytes = folders.iter().map(Folder::bytes).sum();
        Self {
            address: address.to_owned(),
            folders: folders
                .into_iter()
                .map(|folder| (key(&folder.name), folder))
                .collect(),
            next_uid_validity,
            bytes,
            changes: Changes::default(),
        }
    }

    fn take_validity(&mut self) -> u32 {
        let validity = self.next_uid_validity;
        self.next_uid_validity = self.next_uid_validity.checked_add(1).unwrap_or(1);
        validity
    }

    /// The folder named `name` (case-insensitive).
    pub(crate) fn folder(&self, name: &str) -> Option<&Folder> {
        self.folders.get(&key(name))
    }

    /// Every folder, in LIST's order.
    pub(crate) fn folders(&self) -> impl Iterator<Item = &Folder> {
        self.folders.values()
    }

    /// Whether a folder has children (`\HasChildren`, RFC 3348).
    pub(crate) fn has_children(&self, folder: &Folder) -> bool {
        let prefix = format!("{}{DELIMITER}", key(&folder.name));
        self.folders
            .range(prefix.clone()..)
            .next()
            .is_some_and(|(name, _)| name.starts_with(&prefix))
    }

    fn changed(&mut self, folder: &str) {
        self.changes.dirty = true;
        if let Some(folder) = self.folders.get_mut(&key(folder)) {
            folder.version += 1;
        }
    }

    /// Stores a message at the end of `folder`; returns its UIDVALIDITY and UID.
    pub(crate) fn append(
        &mut self,
        folder: &str,
        data: Arc<[u8]>,
        flags: Flags,
        internal_date: i64,
    ) -> Result<(u32, u32), FolderError> {
        let target = self.folders.get_mut(&key(folder)).ok_or(FolderError::NotFound)?;
        let uid = target.uid_next;
        target.uid_next += 1;
        self.bytes += data.len() as u64;
        self.changes
            .written
            .push((message_file(target.uid_validity, uid), data.clone()));
        target.messages.push(Message {
            uid,
            flags,
            internal_date,
            data,
        });
        let validity = target.uid_validity;
        self.changed(folder);
        Ok((validity, uid))
    }

    /// Replaces the flags of the message `uid` of `folder`; returns the new flags.
    pub(crate) fn set_flags(&mut self, folder: &str, uid: u32, flags: Flags) -> Option<Flags> {
        let target = self.folders.get_mut(&key(folder))?;
        let index = target.index_of(uid)?;
        if target.messages[index].flags == flags {
            return Some(flags);
        }
        target.messages[index].flags = flags;
        self.changed(folder);
        Some(flags)
    }

    /// Removes the messages of `folder` whose UIDs are in `uids` (ascending); returns the UIDs
    /// removed.
    pub(crate) fn remove(&mut self, folder: &str, uids: &[u32]) -> Vec<u32> {
        let Some(target) = self.folders.get_mut(&key(folder)) else {
            return Vec::new();
        };
        let mut removed = Vec::new();
        let validity = target.uid_validity;
        let mut freed = 0u64;
        target.messages.retain(|message| {
            if uids.binary_search(&message.uid).is_ok() {
                removed.push(message.uid);
                freed += message.size() as u64;
                false
            } else {
                true
            }
        });
        if removed.is_empty() {
            return removed;
        }
        self.bytes -= freed;
        self.changes
            .removed
            .extend(removed.iter().map(|uid| message_file(validity, *uid)));
        self.changed(folder);
        removed
    }

    /// Removes the `\Deleted` messages of `folder` (only those in `within`, when given).
    pub(crate) fn expunge(&mut self, folder: &str, within: Option<&[u32]>) -> Vec<u32> {
        let Some(target) = self.folder(folder) else {
            return Vec::new();
        };
        let doomed: Vec<u32> = target
            .messages
            .iter()
            .filter(|message| message.flags.contains(Flags::DELETED))
            .filter(|message| within.is_none_or(|uids| uids.binary_search(&message.uid).is_ok()))
            .map(|message| message.uid)
            .collect();
        self.remove(folder, &doomed)
    }

    /// Copies the messages `uids` (ascending) of `from` to the end of `to`, flags and dates kept;
    /// returns the destination's UIDVALIDITY and the (source, destination) UID pairs.
    pub(crate) fn copy(
        &mut self,
        from: &str,
        uids: &[u32],
        to: &str,
    ) -> Result<(u32, Vec<(u32, u32)>), FolderError> {
        let source = self.folder(from).ok_or(FolderError::NotFound)?;
        let copies: Vec<Message> = uids
            .iter()
            .filter_map(|uid| source.index_of(*uid).map(|index| source.messages[index].clone()))
            .collect();
        let validity = self.folder(to).ok_or(FolderError::NotFound)?.uid_validity;
        let mut pairs = Vec::with_capacity(copies.len());
        for message in copies {
            let (_, uid) = self.append(to, message.data, message.flags, message.internal_date)?;
            pairs.push((message.uid, uid));
        }
        Ok((validity, pairs))
    }

    /// Creates `name`, and any missing parents (RFC 9051 §6.3.4).
    pub(crate) fn create(&mut self, name: &str) -> Result<(), FolderError> {
        let name = name.strip_suffix(DELIMITER).unwrap_or(name);
        if !is_valid_name(name) {
            return Err(FolderError::InvalidName);
        }
        if self.folder(name).is_some() {
            return Err(FolderError::Exists);
        }
        let levels: Vec<&str> = name.split(DELIMITER).collect();
        let missing = (1..=levels.len())
            .map(|depth| levels[..depth].join("/"))
            .filter(|path| self.folder(path).is_none())
            .count();
        if self.folders.len() + missing > MAX_FOLDERS {
            return Err(FolderError::TooMany);
        }
        for depth in 1..=levels.len() {
            let path = levels[..depth].join("/");
            if self.folder(&path).is_none() {
                let validity = self.take_validity();
                self.folders
                    .insert(key(&path), Folder::new(&path, validity, false));
            }
        }
        self.changes.dirty = true;
        Ok(())
    }

    /// Deletes `name` and the folders under it, with their messages.
    pub(crate) fn delete(&mut self, name: &str) -> Result<(), FolderError> {
        let folder = self.folder(name).ok_or(FolderError::NotFound)?;
        if folder.is_default() {
            return Err(FolderError::Default);
        }
        let own = key(name);
        let prefix = format!("{own}{DELIMITER}");
        let doomed: Vec<String> = self
            .folders
            .keys()
            .filter(|key| **key == own || key.starts_with(&prefix))
            .cloned()
            .collect();
        for key in doomed {
            if let Some(folder) = self.folders.remove(&key) {
                self.bytes -= folder.bytes();
                self.changes.removed.extend(
                    folder
                        .messages
                        .iter()
                        .map(|message| message_file(folder.uid_validity, message.uid)),
                );
            }
        }
        self.changes.dirty = true;
        Ok(())
    }

    /// Renames `from` (and the folders under it) to `to`. Renaming INBOX moves its messages to a
    /// new folder and leaves INBOX empty (RFC 9051 §6.3.6).
    pub(crate) fn rename(&mut self, from: &str, to: &str) -> Result<(), FolderError> {
        let to = to.strip_suffix(DELIMITER).unwrap_or(to);
        let source = self.folder(from).ok_or(FolderError::NotFound)?;
        if !is_valid_name(to) {
            return Err(FolderError::InvalidName);
        }
        if self.folder(to).is_some() {
            return Err(FolderError::Exists);
        }
        if from.eq_ignore_ascii_case(INBOX) {
            let uids: Vec<u32> = source.messages.iter().map(|message| message.uid).collect();
            self.create(to)?;
            self.copy(INBOX, &uids, to)?;
            self.remove(INBOX, &uids);
            return Ok(());
        }
        if source.is_default() {
            return Err(FolderError::Default);
        }
        if let Some(parent) = to.rsplit_once(DELIMITER).map(|(parent, _)| parent)
            && self.folder(parent).is_none()
        {
            self.create(parent)?;
        }
        let old = key(from);
        let prefix = format!("{old}{DELIMITER}");
        let moving: Vec<String> = self
            .folders
            .keys()
            .filter(|key| **key == old || key.starts_with(&prefix))
            .cloned()
            .collect();
        let old_len = from.len();
        for old_key in moving {
            if let Some(mut folder) = self.folders.remove(&old_key) {
                folder.name = format!("{to}{}", &folder.name[old_len.min(folder.name.len())..]);
                folder.version += 1;
                self.folders.insert(key(&folder.name), folder);
            }
        }
        self.changes.dirty = true;
        Ok(())
    }

    /// Subscribes to `name`, or unsubscribes from it.
    pub(crate) fn subscribe(&mut self, name: &str, subscribed: bool) -> Result<(), FolderError> {
        let folder = self.folders.get_mut(&key(name)).ok_or(FolderError::NotFound)?;
        folder.subscribed = subscribed;
        self.changes.dirty = true;
        Ok(())
    }
}

/// A name a client may create: not empty, no empty level, no wildcard, not too long.
fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && !name.split(DELIMITER).any(str::is_empty)
        && !name.contains(['*', '%'])
        && !name.chars().any(char::is_control)
}

/// Whether `name` matches a LIST pattern (RFC 9051 §6.3.9): `*` matches anything, `%` anything
/// but the delimiter; letters compare without case, as Exchange's folder names do. Dynamic
/// programming, row by row: time in the product of the lengths, whatever the pattern.
pub(crate) fn matches(pattern: &str, name: &str) -> bool {
    let (pattern, name) = (pattern.as_bytes(), name.as_bytes());
    // `next[j]`: the rest of the pattern after the current symbol matches `name[j..]`.
    let mut next: Vec<bool> = (0..=name.len()).map(|j| j == name.len()).collect();
    let mut row = vec![false; name.len() + 1];
    for &symbol in pattern.iter().rev() {
        for j in (0..=name.len()).rev() {
            row[j] = match symbol {
                b'*' => next[j] || (j < name.len() && row[j + 1]),
                b'%' => next[j] || (j < name.len() && name[j] != b'/' && row[j + 1]),
                literal => j < name.len() && name[j].eq_ignore_ascii_case(&literal) && next[j + 1],
            };
        }
        std::mem::swap(&mut next, &mut row);
    }
    next[0]
}

#[cfg(test)]
#[path = "mailbox_tests.rs"]
mod tests;
