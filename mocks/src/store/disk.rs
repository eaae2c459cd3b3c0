//! The state directory's copy of the mailboxes, so that `serve --state-dir` keeps its mail across
//! a restart: under `mail/`, one directory per mailbox with an `index.json` (folders, UIDs, flags,
//! dates) and one `.eml` file per message, written as changes happen.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::mailbox::{Folder, Mailbox, message_file};
use super::message::{Flags, Message};

/// The index's format version.
const FORMAT: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Index {
    format: u32,
    address: String,
    next_uid_validity: u32,
    folders: Vec<IndexFolder>,
}

#[derive(Serialize, Deserialize)]
struct IndexFolder {
    name: String,
    uid_validity: u32,
    uid_next: u32,
    subscribed: bool,
    /// `[uid, flags, internal date]` per message.
    messages: Vec<(u32, u8, i64)>,
}

/// Where the mailboxes are kept.
#[derive(Debug, Clone)]
pub(crate) struct Disk {
    root: PathBuf,
}

/// A mailbox's directory name: its address in lower case, with anything but letters, digits and
/// `@._+-` (and a leading dot) written as `%XX`, so no address names a path outside `mail/`.
fn directory_name(address: &str) -> String {
    let mut name = String::with_capacity(address.len());
    for (index, byte) in address.to_lowercase().bytes().enumerate() {
        let dot_allowed = index > 0 || byte != b'.';
        if byte.is_ascii_alphanumeric()
            || matches!(byte, b'@' | b'_' | b'+' | b'-')
            || (byte == b'.' && dot_allowed)
        {
            name.push(char::from(byte));
        } else {
            name.push_str(&format!("%{byte:02X}"));
        }
    }
    name
}

impl Disk {
    /// Uses `state_dir/mail`, creating it.
    pub(crate) fn open(state_dir: &Path) -> std::io::Result<Self> {
        let root = state_dir.join("mail");
        std::fs::create_dir_all(&root)?;
        Ok(Self { root })
    }

    fn mailbox_dir(&self, address: &str) -> PathBuf {
        self.root.join(directory_name(address))
    }

    /// Reads the mailbox of `address`, if the directory has one.
    pub(crate) fn load(&self, address: &str) -> std::io::Result<Option<Mailbox>> {
        let directory = self.mailbox_dir(address);
        let index_path = directory.join("index.json");
        let text = match std::fs::read(&index_path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(error),
        };
        let index: Index = serde_json::from_slice(&text).map_err(|error| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{}: {error}", index_path.display()),
            )
        })?;
        if index.format != FORMAT {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "{}: format {} is not the {FORMAT} this mailscope writes",
                    index_path.display(),
                    index.format
                ),
            ));
        }
        let mut folders = Vec::with_capacity(index.folders.len());
        for folder in index.folders {
            let mut messages = Vec::with_capacity(folder.messages.len());
            for (uid, flags, internal_date) in folder.messages {
                let path = directory.join(message_file(folder.uid_validity, uid));
                let data: Arc<[u8]> = std::fs::read(&path)
                    .map_err(|error| {
                        std::io::Error::new(error.kind(), format!("{}: {error}", path.display()))
                    })?
                    .into();
                messages.push(Message {
                    uid,
                    flags: Flags::from_bits(flags),
                    internal_date,
                    data,
                });
            }
            messages.sort_by_key(|message| message.uid);
            folders.push(Folder {
                name: folder.name,
                uid_validity: folder.uid_validity,
                uid_next: folder.uid_next,
                subscribed: folder.subscribed,
                messages,
                version: 0,
            });
        }
        Ok(Some(Mailbox::restored(address, index.next_uid_validity, folders)))
    }

    /// Writes what changed in `mailbox` since the last save: new message files, removals, and
    /// the index (whole, through a temporary file, so a crash leaves the old or the new one).
    pub(crate) fn save(&self, mailbox: &mut Mailbox) -> std::io::Result<()> {
        let changes = std::mem::take(&mut mailbox.changes);
        if !changes.dirty && changes.written.is_empty() && changes.removed.is_empty() {
            return Ok(());
        }
        let directory = self.mailbox_dir(&mailbox.address);
        std::fs::create_dir_all(&directory)?;
        for (name, data) in &changes.written {
            std::fs::write(directory.join(name), data)?;
        }
        let index = Index {
            format: FORMAT,
            address: mailbox.address.clone(),
            next_uid_validity: mailbox.next_uid_validity,
            folders: mailbox
                .folders()
                .map(|folder| IndexFolder {
                    name: folder.name.clone(),
                    uid_validity: folder.uid_validity,
                    uid_next: folder.uid_next,
                    subscribed: folder.subscribed,
                    messages: folder
                        .messages
                        .iter()
                        .map(|message| (message.uid, message.flags.bits(), message.internal_date))
                        .collect(),
                })
                .collect(),
        };
        let json = serde_json::to_vec(&index).map_err(std::io::Error::other)?;
        let partial = directory.join("index.json.partial");
        std::fs::write(&partial, json)?;
        std::fs::rename(&partial, directory.join("index.json"))?;
        for name in &changes.removed {
            // A file written and removed in the same change may never have existed.
            let _ = std::fs::remove_file(directory.join(name));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {

    use std::sync::Arc;

    use super::{Disk, directory_name};
    use crate::store::mailbox::Mailbox;
    use crate::store::message::Flags;

    #[test]
    fn a_mailbox_survives_a_save_and_a_load() {
        let directory = tempfile::tempdir().unwrap();
        let disk = Disk::open(directory.path()).unwrap();
        let mut mailbox = Mailbox::new("Adele@Contoso.onmicrosoft.com", 100);
        let data: Arc<[u8]> = b"Subject: one\r\n\r\nbody\r\n".as_slice().into();
        mailbox
            .append("INBOX", data.clone(), Flags::SEEN, 1_700_000_000)
            .unwrap();
        mailbox
            .append("INBOX", data, Flags::default(), 1_700_000_001)
            .unwrap();
        mailbox.create("Projects/2026").unwrap();
        mailbox.remove("INBOX", &[1]);
        disk.save(&mut mailbox).unwrap();

        let loaded = disk.load("adele@contoso.onmicrosoft.com").unwrap().unwrap();
        let inbox = loaded.folder("inbox").unwrap();
        assert_eq!(inbox.uid_next, 3);
        assert_eq!(inbox.messages.len(), 1);
        assert_eq!(inbox.messages[0].uid, 2);
        assert_eq!(&*inbox.messages[0].data, b"Subject: one\r\n\r\nbody\r\n");
        assert!(loaded.folder("Projects/2026").is_some());
        assert_eq!(loaded.next_uid_validity, mailbox.next_uid_validity);
        let files = std::fs::read_dir(
            directory
                .path()
                .join("mail")
                .join(directory_name("adele@contoso.onmicrosoft.com")),
        )
        .unwrap()
        .count();
        assert_eq!(files, 2, "the index and the one message left");
    }

    #[test]
    fn directory_names_cannot_climb_out() {
        assert_eq!(directory_name("../x@y"), "%2E.%2Fx@y");
        assert_eq!(directory_name(".."), "%2E.");
        assert_eq!(directory_name("A b@C"), "a%20b@c");
    }
}
