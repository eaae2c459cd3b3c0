//! The mailboxes one cloud's front doors share: SMTP delivers into them, IMAP and POP3 read and
//! change them, and an IMAP session in IDLE is told when they change.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

use super::disk::Disk;
use super::mailbox::{FolderError, INBOX, Mailbox, SENT_ITEMS};
use super::message::Flags;

/// Why the store refused a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StoreError {
    /// The tenant has no such mailbox.
    NoMailbox,
    /// The folder operation was refused.
    Folder(FolderError),
    /// The store holds as much as it may ([`crate::Limits::mail_store`]).
    Full,
}

impl From<FolderError> for StoreError {
    fn from(error: FolderError) -> Self {
        Self::Folder(error)
    }
}

/// Every mailbox of the tenant, by lower-cased address.
#[derive(Debug)]
pub(crate) struct Store {
    inner: Mutex<Inner>,
    changed: watch::Sender<u64>,
    disk: Option<Disk>,
    limit: u64,
}

#[derive(Debug, Default)]
struct Inner {
    mailboxes: HashMap<String, Mailbox>,
    /// The octets of every message of every mailbox.
    total: u64,
}

impl Store {
    /// Mailboxes for `addresses`, in memory, holding at most `limit` octets of mail.
    pub(crate) fn new(addresses: impl IntoIterator<Item = String>, limit: u64, now: i64) -> Self {
        let validity = u32::try_from(now.max(1)).unwrap_or(1);
        let mailboxes = addresses
            .into_iter()
            .map(|address| (address.to_lowercase(), Mailbox::new(&address, validity)))
            .collect();
        Self::with(mailboxes, None, limit)
    }

    /// Mailboxes for `addresses`, kept under `state_dir/mail`: those it holds are read back,
    /// the others are created.
    pub(crate) fn open(
        state_dir: &Path,
        addresses: impl IntoIterator<Item = String>,
        limit: u64,
        now: i64,
    ) -> std::io::Result<Self> {
        let disk = Disk::open(state_dir)?;
        let validity = u32::try_from(now.max(1)).unwrap_or(1);
        let mut mailboxes = HashMap::new();
        for address in addresses {
            let mut mailbox = match disk.load(&address)? {
                Some(mailbox) => mailbox,
                None => Mailbox::new(&address, validity),
            };
            disk.save(&mut mailbox)?;
            mailboxes.insert(address.to_lowercase(), mailbox);
        }
        Ok(Self::with(mailboxes, Some(disk), limit))
    }

    fn with(mailboxes: HashMap<String, Mailbox>, disk: Option<Disk>, limit: u64) -> Self {
        let total = mailboxes.values().map(|mailbox| mailbox.bytes).sum();
        Self {
            inner: Mutex::new(Inner { mailboxes, total }),
            changed: watch::Sender::new(0),
            disk,
            limit,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether the tenant has a mailbox at `address`.
    pub(crate) fn has_mailbox(&self, address: &str) -> bool {
        self.lock().mailboxes.contains_key(&address.to_lowercase())
    }

    /// Reads the mailbox of `address`.
    pub(crate) fn read<R>(&self, address: &str, read: impl FnOnce(&Mailbox) -> R) -> Option<R> {
        self.lock().mailboxes.get(&address.to_lowercase()).map(read)
    }

    /// Changes the mailbox of `address`; `change` is told how many octets the store may still
    /// take. The change is saved to the state directory and announced to sessions in IDLE.
    pub(crate) fn write<R>(&self, address: &str, change: impl FnOnce(&mut Mailbox, u64) -> R) -> Option<R> {
        let result = {
            let mut inner = self.lock();
            let room = self.limit.saturating_sub(inner.total);
            let mailbox = inner.mailboxes.get_mut(&address.to_lowercase())?;
            let before = mailbox.bytes;
            let result = change(mailbox, room);
            let after = mailbox.bytes;
            if let Some(disk) = &self.disk
                && let Err(error) = disk.save(mailbox)
            {
                // The mail is still served from memory; only a restart would lose it.
                tracing::warn!(%error, "the state directory could not be written");
            }
            inner.total = inner.total - before + after;
            result
        };
        self.changed.send_modify(|version| *version += 1);
        Some(result)
    }

    /// A receiver that changes whenever any mailbox does.
    pub(crate) fn watch(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// Stores `data` in `folder` of `address`, unless the store is full.
    pub(crate) fn append(
        &self,
        address: &str,
        folder: &str,
        data: Arc<[u8]>,
        flags: Flags,
        internal_date: i64,
    ) -> Result<(u32, u32), StoreError> {
        self.write(address, |mailbox, room| {
            if data.len() as u64 > room {
                return Err(StoreError::Full);
            }
            Ok(mailbox.append(folder, data, flags, internal_date)?)
        })
        .unwrap_or(Err(StoreError::NoMailbox))
    }

    /// Delivers a message submitted by `sender` over SMTP: to the INBOX of each recipient that
    /// is a mailbox of the tenant, and a copy to the sender's Sent Items. Returns the mailboxes
    /// it reached; nothing is stored when the store is full.
    pub(crate) fn deliver(
        &self,
        sender: &str,
        recipients: &[String],
        data: &Arc<[u8]>,
        now: i64,
    ) -> Result<Vec<String>, StoreError> {
        let mut targets: Vec<(String, &str, Flags)> = Vec::new();
        for recipient in recipients {
            let address = recipient.to_lowercase();
            if self.has_mailbox(&address) && !targets.iter().any(|(known, ..)| *known == address) {
                targets.push((address, INBOX, Flags::default()));
            }
        }
        if self.has_mailbox(sender) {
            targets.push((sender.to_lowercase(), SENT_ITEMS, Flags::SEEN));
        }
        let needed = data.len() as u64 * targets.len() as u64;
        {
            let inner = self.lock();
            if inner.total + needed > self.limit {
                return Err(StoreError::Full);
            }
        }
        let mut reached = Vec::new();
        for (address, folder, flags) in targets {
            if self.append(&address, folder, data.clone(), flags, now).is_ok() && folder == INBOX {
                reached.push(address);
            }
        }
        Ok(reached)
    }
}

#[cfg(test)]
mod tests {

    use std::sync::Arc;

    use super::{Store, StoreError};
    use crate::store::message::Flags;

    fn store(limit: u64) -> Store {
        Store::new(
            ["adele@contoso.com".to_owned(), "info@contoso.com".to_owned()],
            limit,
            1_700_000_000,
        )
    }

    #[test]
    fn delivery_reaches_tenant_inboxes_and_the_senders_sent_items() {
        let store = store(1 << 20);
        let mut watch = store.watch();
        let data: Arc<[u8]> = b"Subject: hi\r\n\r\nhello\r\n".as_slice().into();
        let reached = store
            .deliver(
                "Adele@Contoso.com",
                &["info@contoso.com".into(), "someone@example.org".into()],
                &data,
                1_700_000_100,
            )
            .unwrap();
        assert_eq!(reached, ["info@contoso.com"]);
        assert!(watch.has_changed().unwrap());
        watch.mark_unchanged();
        let inbox = store.read("info@contoso.com", |mailbox| {
            mailbox.folder("INBOX").unwrap().messages.len()
        });
        assert_eq!(inbox, Some(1));
        let sent = store
            .read("adele@contoso.com", |mailbox| {
                let folder = mailbox.folder("Sent Items").unwrap();
                (folder.messages.len(), folder.messages[0].flags)
            })
            .unwrap();
        assert_eq!(sent, (1, Flags::SEEN));
    }

    #[test]
    fn a_full_store_takes_nothing() {
        let store = store(30);
        let data: Arc<[u8]> = [b'x'; 20].as_slice().into();
        assert_eq!(
            store.deliver("adele@contoso.com", &["info@contoso.com".into()], &data, 0),
            Err(StoreError::Full),
            "two copies of 20 octets do not fit in 30"
        );
        assert!(
            store
                .append("adele@contoso.com", "INBOX", data.clone(), Flags::default(), 0)
                .is_ok()
        );
        assert_eq!(
            store.append("adele@contoso.com", "INBOX", data, Flags::default(), 0),
            Err(StoreError::Full)
        );
        assert_eq!(
            store.append(
                "nobody@contoso.com",
                "INBOX",
                b"x".as_slice().into(),
                Flags::default(),
                0
            ),
            Err(StoreError::NoMailbox)
        );
    }
}
