//! The mail behind the front doors (rule `mailbox-store`): a mailbox per user and per shared
//! mailbox, with Exchange Online's default folders, in memory or kept under a state directory.
//! SMTP delivers into it, IMAP and POP3 read and change it.

pub(crate) mod disk;
pub(crate) mod mailbox;
pub(crate) mod message;
pub(crate) mod seed;
pub(crate) mod shared;

use std::path::Path;
use std::sync::Arc;

pub use seed::SeedError;

use crate::clock::Clock;
use crate::decision::{Part, Rule};
use crate::directory::Directory;
use crate::net::Limits;
use shared::Store;

/// Rule: the mailboxes behind the front doors.
pub(crate) const MAILBOX_STORE: Rule = Rule {
    id: "mailbox-store",
    part: Part::Exchange,
    title: "A mailbox per user with Exchange's default folders; SMTP delivers to the tenant's inboxes and saves a copy in Sent Items",
    text: "Every user of the directory, and every shared mailbox a user has FullAccess on, has a            mailbox with Exchange Online's default folders (INBOX, Archive, Calendar, Contacts,            Conversation History, Deleted Items, Drafts, Journal, Junk Email, Notes, Outbox, RSS            Feeds, Sent Items, Tasks), listed with `\\Drafts`, `\\Sent`, `\\Trash` and `\\Junk` although            SPECIAL-USE is not advertised. A message accepted over SMTP goes to the INBOX of each            recipient that is a mailbox of the tenant, and a copy to the sender's Sent Items            (Exchange saves SMTP AUTH submissions there since 2018). IMAP and POP3 read and change            the same mailboxes, so a message sent is a message received.",
    cases: &["mailbox-default-folders", "smtp-submission-saved-to-sent-items"],
    sources: &[
        "https://github.com/mikegioia/libremail/issues/105",
        "https://github.com/Foundry376/Mailspring/issues/1983",
        "https://techcommunity.microsoft.com/t5/exchange-team-blog/changes-coming-to-the-smtp-authenticated-submission-client/ba-p/607825",
    ],
};

/// The addresses with a mailbox: every user, and every shared mailbox some user has FullAccess on.
pub(crate) fn addresses(directory: &Directory) -> Vec<String> {
    let mut addresses: Vec<String> = Vec::new();
    let candidates = directory
        .users
        .iter()
        .flat_map(|user| std::iter::once(user.upn.clone()).chain(user.full_access.iter().cloned()));
    for address in candidates {
        if !addresses.iter().any(|known| known.eq_ignore_ascii_case(&address)) {
            addresses.push(address);
        }
    }
    addresses
}

/// The mailboxes of a simulated cloud: what its SMTP front door delivers into and its IMAP and
/// POP3 front doors serve. A test can put mail in and read it back without a protocol.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let cloud = mailscope_mocks::SimulatedCloud::start().await?;
/// let adele = &cloud.directory().signed_in_user().upn;
/// assert!(cloud.mailboxes().deliver(adele, b"Subject: hello\r\n\r\nHi.\r\n"));
/// let inbox = cloud.mailboxes().messages(adele, "INBOX").unwrap();
/// assert_eq!(inbox, [b"Subject: hello\r\n\r\nHi.\r\n".to_vec()]);
/// assert!(cloud.mailboxes().messages(adele, "Sent Items").unwrap().is_empty());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Mailboxes {
    pub(crate) store: Arc<Store>,
    clock: Clock,
    restored: bool,
}

impl Mailboxes {
    /// Empty mailboxes for `directory`, in memory, holding at most `limits.mail_store` octets.
    pub fn in_memory(directory: &Directory, clock: &Clock, limits: &Limits) -> Self {
        Self {
            store: Arc::new(Store::new(
                addresses(directory),
                limits.mail_store,
                clock.now_unix(),
            )),
            clock: clock.clone(),
            restored: false,
        }
    }

    /// Mailboxes for `directory` kept under `state_dir/mail`: read back when a previous run left
    /// them there, created otherwise; every change is written as it happens.
    pub fn open(
        directory: &Directory,
        clock: &Clock,
        limits: &Limits,
        state_dir: &Path,
    ) -> std::io::Result<Self> {
        let restored = state_dir.join("mail").is_dir();
        let store = Store::open(
            state_dir,
            addresses(directory),
            limits.mail_store,
            clock.now_unix(),
        )?;
        Ok(Self {
            store: Arc::new(store),
            clock: clock.clone(),
            restored,
        })
    }

    /// Whether [`Mailboxes::open`] found mail a previous run had kept.
    pub fn restored(&self) -> bool {
        self.restored
    }

    /// Puts the messages of `directory` into the mailboxes: `ADDRESS/*.eml` into that mailbox's
    /// INBOX, `ADDRESS/FOLDER/*.eml` into FOLDER (created when missing), and `ADDRESS.mbox` into
    /// the INBOX. Returns how many messages were stored.
    pub fn seed(&self, directory: &Path) -> Result<usize, SeedError> {
        seed::seed(&self.store, directory, self.clock.now_unix())
    }

    /// Delivers `message` to the INBOX of `address`, as mail from outside arrives; false when
    /// the tenant has no such mailbox or the store is full.
    pub fn deliver(&self, address: &str, message: &[u8]) -> bool {
        self.store
            .append(
                address,
                mailbox::INBOX,
                message.into(),
                message::Flags::default(),
                self.clock.now_unix(),
            )
            .is_ok()
    }

    /// The messages of `folder` in the mailbox of `address`, in UID order.
    pub fn messages(&self, address: &str, folder: &str) -> Option<Vec<Vec<u8>>> {
        self.store
            .read(address, |mailbox| {
                mailbox.folder(folder).map(|folder| {
                    folder
                        .messages
                        .iter()
                        .map(|message| message.data.to_vec())
                        .collect()
                })
            })
            .flatten()
    }

    /// The names of the folders of the mailbox of `address`, in LIST's order.
    pub fn folders(&self, address: &str) -> Option<Vec<String>> {
        self.store.read(address, |mailbox| {
            mailbox.folders().map(|folder| folder.name.clone()).collect()
        })
    }
}
