//! IMAP's mailbox commands against the store (rule `imap-mailbox`): everything the capability
//! list advertises, from SELECT to IDLE, with Exchange's texts where a transcript or Exchange's own
//! code shows them (RFC 9051's forms elsewhere, marked so).
//!
//! A session keeps a view of its selected folder: the UIDs it has announced, in sequence order,
//! and their flags. Before each tagged reply the view is brought up to date and the changes are
//! announced (`EXISTS`, `EXPUNGE`, `FETCH (FLAGS ...)`), except that an expunge is never
//! announced while answering FETCH, STORE or SEARCH (RFC 9051 §7.5.1).

use std::num::NonZeroU32;

use imap_codec::ResponseCodec;
use imap_codec::encode::Encoder;
use imap_codec::imap_types::command::CommandBody;
use imap_codec::imap_types::core::{Atom, NonEmptyVec};
use imap_codec::imap_types::datetime::DateTime;
use imap_codec::imap_types::fetch::{
    Macro, MacroOrMessageDataItemNames, MessageDataItem, MessageDataItemName,
};
use imap_codec::imap_types::flag::{Flag, FlagFetch, StoreResponse, StoreType};
use imap_codec::imap_types::mailbox::{ListMailbox, Mailbox as WireMailbox};
use imap_codec::imap_types::response::{Data, Response};
use imap_codec::imap_types::search::SearchKey;
use imap_codec::imap_types::sequence::SequenceSet;
use imap_codec::imap_types::status::StatusDataItemName;

use crate::decision::{Part, Rule};
use crate::net::{Action, Watcher};
use crate::store::mailbox::{DELIMITER, FolderError, INBOX, matches};
use crate::store::message::Flags;
use crate::store::shared::{Store, StoreError};

use super::context::ExchangeContext;
use super::imap_fetch::Parsed;
use super::imap_search::Candidate;
use super::imap_view::{Selected, SetError, flag_list, tagged};
use super::replies::imap as reply;

/// Rule: the mailbox commands.
pub(crate) const IMAP_MAILBOX: Rule = Rule {
    id: "imap-mailbox",
    part: Part::Exchange,
    title: "IMAP after authentication: every advertised command works on the mailbox, with Exchange's texts",
    text: "SELECT and EXAMINE give EXISTS, RECENT, FLAGS, PERMANENTFLAGS, UNSEEN, UIDVALIDITY and            UIDNEXT; LIST and LSUB follow their patterns; APPEND takes synchronizing (`+ Ready for            additional command text.`) and non-synchronizing literals and answers `[APPENDUID]`;            COPY and MOVE answer `[COPYUID]`; FETCH, SEARCH, STORE, EXPUNGE and UID EXPUNGE, STATUS,            CREATE, DELETE, RENAME, SUBSCRIBE, CLOSE, UNSELECT and IDLE (`+ IDLE accepted, awaiting            DONE command.`, with EXISTS and EXPUNGE pushed as mail arrives and goes) work as RFC 9051            describes. A literal larger than the mailbox's 36 MB receive size is answered `BAD            command line limit exceeded`; a message set outside the folder, `The specified message set            is invalid.`; the third malformed command, `* BYE Connection closed. 14`.",
    cases: &["imap-mailbox-commands"],
    sources: &[
        "https://www.rfc-editor.org/rfc/rfc9051",
        "https://github.com/evilashz/exchange-server-27065/blob/main/Microsoft.Exchange.Imap4/Imap4RequestAppend.cs",
        "https://github.com/jstedfast/MailKit/issues/1493",
        "https://github.com/mscdex/node-imap/issues/561",
    ],
};

/// The largest literal taken: the default `MaxReceiveSize` of an Exchange Online mailbox (36 MB);
/// Exchange's APPEND skips a larger one and refuses the command.
pub(crate) const MAX_LITERAL: usize = 36 * 1024 * 1024;

/// The mailbox an authenticated session works on, and what it has selected.
#[derive(Debug)]
pub(crate) struct Mail {
    /// The mailbox's address.
    pub(crate) address: String,
    /// The selected folder.
    pub(crate) selected: Option<Selected>,
}

/// What a command asks of the session besides its replies.
pub(crate) enum Next {
    /// Nothing.
    Stay,
    /// Enter IDLE with this tag.
    Idle(String),
}

/// A mailbox name as an IMAP astring: an atom when it can be one, as Exchange writes `INBOX` and
/// `Drafts`, quoted otherwise (`"Sent Items"`).
pub(crate) fn astring(name: &str) -> String {
    let atom = !name.is_empty()
        && name.bytes().all(|byte| {
            byte.is_ascii_graphic() && !matches!(byte, b'(' | b')' | b'{' | b'%' | b'*' | b'"' | b'\\' | b']')
        });
    if atom {
        return name.to_owned();
    }
    let mut quoted = String::with_capacity(name.len() + 2);
    quoted.push('"');
    for character in name.chars() {
        if matches!(character, '"' | '\\') {
            quoted.push('\\');
        }
        quoted.push(character);
    }
    quoted.push('"');
    quoted
}

fn wire_name(mailbox: &WireMailbox<'_>) -> String {
    match mailbox {
        WireMailbox::Inbox => INBOX.to_owned(),
        WireMailbox::Other(other) => String::from_utf8_lossy(other.as_ref()).into_owned(),
    }
}

fn list_pattern(pattern: &ListMailbox<'_>) -> String {
    match pattern {
        ListMailbox::Token(token) => String::from_utf8_lossy(token.as_ref()).into_owned(),
        ListMailbox::String(string) => String::from_utf8_lossy(string.as_ref()).into_owned(),
    }
}

/// The flags of `list` Exchange keeps, and whether the list had a keyword it does not.
fn flags_from(list: &[Flag<'_>]) -> (Flags, bool) {
    let mut flags = Flags::default();
    let mut unsupported = false;
    for flag in list {
        let known = match flag {
            Flag::Seen => Some(Flags::SEEN),
            Flag::Answered => Some(Flags::ANSWERED),
            Flag::Flagged => Some(Flags::FLAGGED),
            Flag::Deleted => Some(Flags::DELETED),
            Flag::Draft => Some(Flags::DRAFT),
            Flag::Keyword(keyword) => Flags::from_name(keyword.inner()),
            Flag::Extension(_) => None,
        };
        match known {
            Some(known) => flags = flags.union(known),
            None => unsupported = true,
        }
    }
    (flags, unsupported)
}

fn flag_fetch(flags: Flags) -> Vec<FlagFetch<'static>> {
    let mut out = Vec::new();
    for (flag, name) in Flags::NAMED {
        if !flags.contains(flag) {
            continue;
        }
        let wire = match name {
            "\\Seen" => Flag::Seen,
            "\\Answered" => Flag::Answered,
            "\\Flagged" => Flag::Flagged,
            "\\Deleted" => Flag::Deleted,
            "\\Draft" => Flag::Draft,
            keyword => match Atom::try_from(keyword.to_owned()) {
                Ok(atom) => Flag::Keyword(atom),
                Err(_) => continue,
            },
        };
        out.push(FlagFetch::Flag(wire));
    }
    out
}

/// The IMAP date-time of a Unix time, in UTC.
fn internal_date(unix: i64) -> Option<DateTime> {
    let utc = chrono::DateTime::from_timestamp(unix, 0)?;
    DateTime::try_from(utc.fixed_offset()).ok()
}

/// Encodes one untagged FETCH response (with literals) for the driver.
fn fetch_response(seq: u32, items: Vec<MessageDataItem<'_>>) -> Option<Action> {
    let seq = NonZeroU32::new(seq)?;
    let items = NonEmptyVec::try_from(items).ok()?;
    let bytes = ResponseCodec::default()
        .encode(&Response::Data(Data::Fetch { seq, items }))
        .dump();
    // The transcript keeps the line's start, never a message's content.
    let head_end = bytes
        .iter()
        .position(|&byte| byte == b'{' || byte == b'\r')
        .unwrap_or(bytes.len())
        .min(160);
    let head = String::from_utf8_lossy(&bytes[..head_end]).into_owned();
    let summary = if head_end + 2 >= bytes.len() {
        head
    } else {
        format!("{head}... <{} octets>", bytes.len())
    };
    Some(Action::Bytes { bytes, summary })
}

/// What one command needs to run: the shared context, the mailbox and the tag.
pub(crate) struct Run<'r> {
    pub(crate) context: &'r ExchangeContext,
    pub(crate) mail: &'r mut Mail,
    pub(crate) tag: &'r str,
}

/// The replies to a mailbox command: untagged lines and FETCH responses, then the tagged line.
struct Replies {
    actions: Vec<Action>,
}

impl Replies {
    fn new() -> Self {
        Self { actions: Vec::new() }
    }

    fn line(&mut self, line: impl Into<String>) {
        self.actions.push(Action::reply(line));
    }

    fn lines(&mut self, lines: Vec<String>) {
        if !lines.is_empty() {
            self.actions.push(Action::Reply(lines));
        }
    }
}

impl Run<'_> {
    fn store(&self) -> &Store {
        &self.context.store
    }

    /// Finishes a command: the view's news (`expunges` allowed or not), then the tagged line.
    fn finish(&mut self, mut replies: Replies, expunges: bool, text: &str) -> Vec<Action> {
        let store = self.context.store.clone();
        let address = self.mail.address.clone();
        if let Some(selected) = self.mail.selected.as_mut() {
            let news = selected.sync(&store, &address, expunges);
            replies.lines(news);
        }
        replies.line(tagged(self.tag, text));
        replies.actions
    }

    fn done(&self, text: &str) -> Vec<Action> {
        vec![Action::reply(tagged(self.tag, text))]
    }

    /// Runs a command of the authenticated or selected state.
    pub(crate) fn command(&mut self, body: CommandBody<'_>) -> (Vec<Action>, Next) {
        let stay = |actions| (actions, Next::Stay);
        if self.mail.selected.as_ref().is_some_and(|selected| selected.gone) {
            self.mail.selected = None;
            // Exchange's text when the selected folder went away (Imap4Request.MailboxDoesNotExist).
            if !matches!(
                body,
                CommandBody::Select { .. }
                    | CommandBody::Examine { .. }
                    | CommandBody::List { .. }
                    | CommandBody::Lsub { .. }
            ) {
                return stay(self.done(reply::MAILBOX_GONE));
            }
        }
        match body {
            CommandBody::Select { mailbox } => stay(self.select(&wire_name(&mailbox), false)),
            CommandBody::Examine { mailbox } => stay(self.select(&wire_name(&mailbox), true)),
            CommandBody::Create { mailbox } => stay(self.folder_change(
                "CREATE",
                &wire_name(&mailbox),
                |mailbox, name| mailbox.create(name),
            )),
            CommandBody::Delete { mailbox } => stay(self.delete(&wire_name(&mailbox))),
            CommandBody::Rename { from, to } => {
                let to = wire_name(&to);
                stay(
                    self.folder_change("RENAME", &wire_name(&from), move |mailbox, from| {
                        mailbox.rename(from, &to)
                    }),
                )
            }
            CommandBody::Subscribe { mailbox } => stay(self.folder_change(
                "SUBSCRIBE",
                &wire_name(&mailbox),
                |mailbox, name| mailbox.subscribe(name, true),
            )),
            CommandBody::Unsubscribe { mailbox } => stay(self.folder_change(
                "UNSUBSCRIBE",
                &wire_name(&mailbox),
                |mailbox, name| mailbox.subscribe(name, false),
            )),
            CommandBody::List {
                reference,
                mailbox_wildcard,
            } => stay(self.list("LIST", &wire_name(&reference), &list_pattern(&mailbox_wildcard))),
            CommandBody::Lsub {
                reference,
                mailbox_wildcard,
            } => stay(self.list("LSUB", &wire_name(&reference), &list_pattern(&mailbox_wildcard))),
            CommandBody::Status { mailbox, item_names } => {
                stay(self.status(&wire_name(&mailbox), &item_names))
            }
            CommandBody::Append {
                mailbox,
                flags,
                date,
                message,
            } => {
                let date = date.map(|date| date.as_ref().timestamp());
                stay(self.append(&wire_name(&mailbox), &flags, date, message.data()))
            }
            CommandBody::Idle => {
                let mut replies = Replies::new();
                if let Some(selected) = self.mail.selected.as_mut() {
                    replies.lines(selected.sync(&self.context.store, &self.mail.address, true));
                }
                replies.line(reply::IDLE_ACCEPTED);
                replies
                    .actions
                    .push(Action::Watch(Watcher(self.context.store.watch())));
                (replies.actions, Next::Idle(self.tag.to_owned()))
            }
            CommandBody::Check => stay(self.finish(Replies::new(), true, "OK CHECK completed.")),
            CommandBody::Noop => stay(self.finish(Replies::new(), true, "OK NOOP completed.")),
            other => stay(self.selected_command(other)),
        }
    }

    /// Commands of the selected state.
    fn selected_command(&mut self, body: CommandBody<'_>) -> Vec<Action> {
        if self.mail.selected.is_none() {
            return self.done(reply::INVALID_STATE);
        }
        match body {
            CommandBody::Close => {
                if let Some(selected) = self.mail.selected.take()
                    && !selected.read_only
                {
                    let folder = selected.folder.clone();
                    self.context
                        .store
                        .write(&self.mail.address, |mailbox, _| mailbox.expunge(&folder, None));
                }
                self.done("OK CLOSE completed.")
            }
            CommandBody::Unselect => {
                self.mail.selected = None;
                self.done("OK UNSELECT completed.")
            }
            CommandBody::Expunge => self.expunge(None),
            CommandBody::Search {
                charset,
                criteria,
                uid,
            } => {
                let charset = charset.map(|charset| match charset {
                    imap_codec::imap_types::core::Charset::Atom(atom) => atom.inner().to_owned(),
                    imap_codec::imap_types::core::Charset::Quoted(quoted) => quoted.inner().to_owned(),
                });
                self.search(charset.as_deref(), &criteria, uid)
            }
            CommandBody::Fetch {
                sequence_set,
                macro_or_item_names,
                uid,
            } => self.fetch(&sequence_set, &macro_or_item_names, uid),
            CommandBody::Store {
                sequence_set,
                kind,
                response,
                flags,
                uid,
            } => self.store_flags(&sequence_set, &kind, &response, &flags, uid),
            CommandBody::Copy {
                sequence_set,
                mailbox,
                uid,
            } => self.copy(&sequence_set, &wire_name(&mailbox), uid, false),
            CommandBody::Move {
                sequence_set,
                mailbox,
                uid,
            } => self.copy(&sequence_set, &wire_name(&mailbox), uid, true),
            _ => self.done(reply::COMMAND_ERROR),
        }
    }

    fn select(&mut self, name: &str, read_only: bool) -> Vec<Action> {
        // RFC 9051 §6.3.2: a failed SELECT leaves no folder selected.
        self.mail.selected = None;
        let verb = if read_only { "EXAMINE" } else { "SELECT" };
        let access = if read_only { "READ-ONLY" } else { "READ-WRITE" };
        match Selected::open(self.store(), &self.mail.address, name, read_only) {
            Some((view, lines)) => {
                self.mail.selected = Some(view);
                vec![
                    Action::Reply(lines),
                    Action::reply(tagged(self.tag, &format!("OK [{access}] {verb} completed."))),
                ]
            }
            None => self.done(reply::NO_SUCH_MAILBOX),
        }
    }

    fn folder_change(
        &mut self,
        verb: &str,
        name: &str,
        change: impl FnOnce(&mut crate::store::mailbox::Mailbox, &str) -> Result<(), FolderError>,
    ) -> Vec<Action> {
        let result = self
            .context
            .store
            .write(&self.mail.address, |mailbox, _| change(mailbox, name))
            .unwrap_or(Err(FolderError::NotFound));
        match result {
            Ok(()) => self.finish(Replies::new(), true, &format!("OK {verb} completed.")),
            Err(error) => self.done(folder_error(error)),
        }
    }

    fn delete(&mut self, name: &str) -> Vec<Action> {
        if name.eq_ignore_ascii_case(INBOX) {
            return self.done(reply::CANNOT_DELETE);
        }
        self.folder_change("DELETE", name, |mailbox, name| mailbox.delete(name))
    }

    fn list(&mut self, verb: &str, reference: &str, pattern: &str) -> Vec<Action> {
        let mut replies = Replies::new();
        if pattern.is_empty() {
            // RFC 9051 §6.3.9: the hierarchy delimiter and the root of the reference.
            replies.line(format!("* {verb} (\\Noselect \\HasChildren) \"/\" \"\""));
            return self.finish(replies, true, &format!("OK {verb} completed."));
        }
        let full = if reference.is_empty() || pattern.starts_with(DELIMITER) {
            pattern.to_owned()
        } else if reference.ends_with(DELIMITER) {
            format!("{reference}{pattern}")
        } else {
            format!("{reference}{DELIMITER}{pattern}")
        };
        let lsub = verb == "LSUB";
        let lines = self
            .store()
            .read(&self.mail.address, |mailbox| {
                mailbox
                    .folders()
                    .filter(|folder| !lsub || folder.subscribed)
                    .filter(|folder| matches(&full, &folder.name))
                    .map(|folder| {
                        let children = if mailbox.has_children(folder) {
                            "\\HasChildren"
                        } else {
                            "\\HasNoChildren"
                        };
                        let attributes = if folder.name.eq_ignore_ascii_case(INBOX) {
                            format!("\\Marked {children}")
                        } else {
                            match folder.special_use() {
                                Some(special) => format!("{children} {special}"),
                                None => children.to_owned(),
                            }
                        };
                        format!("* {verb} ({attributes}) \"/\" {}", astring(&folder.name))
                    })
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        replies.lines(lines);
        self.finish(replies, true, &format!("OK {verb} completed."))
    }

    fn status(&mut self, name: &str, items: &[StatusDataItemName]) -> Vec<Action> {
        let line = self
            .store()
            .read(&self.mail.address, |mailbox| {
                let folder = mailbox.folder(name)?;
                let values: Vec<String> = items
                    .iter()
                    .filter_map(|item| match item {
                        StatusDataItemName::Messages => Some(format!("MESSAGES {}", folder.messages.len())),
                        StatusDataItemName::Recent => Some("RECENT 0".to_owned()),
                        StatusDataItemName::UidNext => Some(format!("UIDNEXT {}", folder.uid_next)),
                        StatusDataItemName::UidValidity => {
                            Some(format!("UIDVALIDITY {}", folder.uid_validity))
                        }
                        StatusDataItemName::Unseen => Some(format!("UNSEEN {}", folder.unseen())),
                        _ => None,
                    })
                    .collect();
                Some(format!(
                    "* STATUS {} ({})",
                    astring(&folder.name),
                    values.join(" ")
                ))
            })
            .flatten();
        match line {
            Some(line) => {
                let mut replies = Replies::new();
                replies.line(line);
                self.finish(replies, true, "OK STATUS completed.")
            }
            None => self.done(reply::NO_SUCH_MAILBOX),
        }
    }

    fn append(&mut self, name: &str, flags: &[Flag<'_>], date: Option<i64>, data: &[u8]) -> Vec<Action> {
        if flags.iter().any(|flag| matches!(flag, Flag::Extension(_))) {
            return self.done(reply::ARGUMENT_ERROR);
        }
        let (flags, keywords) = flags_from(flags);
        let date = date.unwrap_or_else(|| self.context.clock.now_unix());
        let result = self
            .context
            .store
            .append(&self.mail.address, name, data.into(), flags, date);
        match result {
            Ok((validity, uid)) => {
                let mut replies = Replies::new();
                if keywords {
                    // Exchange keeps no keywords but its own (Imap4RequestAppend).
                    replies.line(reply::NO_KEYWORDS);
                }
                self.finish(
                    replies,
                    true,
                    &format!("OK [APPENDUID {validity} {uid}] APPEND completed."),
                )
            }
            Err(StoreError::Folder(FolderError::NotFound) | StoreError::NoMailbox) => {
                self.done(reply::APPEND_NO_FOLDER)
            }
            Err(StoreError::Full) => self.done(reply::OVER_QUOTA),
            Err(StoreError::Folder(_)) => self.done(reply::ARGUMENT_ERROR),
        }
    }

    fn expunge(&mut self, within: Option<Vec<u32>>) -> Vec<Action> {
        let Some(selected) = &self.mail.selected else {
            return self.done(reply::INVALID_STATE);
        };
        if selected.read_only {
            return self.done(reply::READ_ONLY);
        }
        let folder = selected.folder.clone();
        self.context.store.write(&self.mail.address, |mailbox, _| {
            mailbox.expunge(&folder, within.as_deref())
        });
        self.finish(Replies::new(), true, "OK EXPUNGE completed.")
    }

    /// `UID EXPUNGE set` (RFC 4315, UIDPLUS).
    pub(crate) fn uid_expunge(&mut self, set: &SequenceSet) -> Vec<Action> {
        let Some(selected) = &self.mail.selected else {
            return self.done(reply::INVALID_STATE);
        };
        let Ok(picked) = selected.resolve(set, true) else {
            return self.done(reply::INVALID_SET);
        };
        let uids: Vec<u32> = picked.into_iter().map(|(_, uid)| uid).collect();
        self.expunge(Some(uids))
    }

    fn fetch(
        &mut self,
        set: &SequenceSet,
        names: &MacroOrMessageDataItemNames<'_>,
        uid: bool,
    ) -> Vec<Action> {
        let Some(selected) = &self.mail.selected else {
            return self.done(reply::INVALID_STATE);
        };
        let picked = match selected.resolve(set, uid) {
            Ok(picked) => picked,
            Err(SetError::Invalid) => return self.done(reply::INVALID_SET),
        };
        let mut names: Vec<MessageDataItemName<'_>> = match names {
            MacroOrMessageDataItemNames::Macro(Macro::Fast) => vec![
                MessageDataItemName::Flags,
                MessageDataItemName::InternalDate,
                MessageDataItemName::Rfc822Size,
            ],
            MacroOrMessageDataItemNames::Macro(Macro::All) => vec![
                MessageDataItemName::Flags,
                MessageDataItemName::InternalDate,
                MessageDataItemName::Rfc822Size,
                MessageDataItemName::Envelope,
            ],
            MacroOrMessageDataItemNames::Macro(Macro::Full) => vec![
                MessageDataItemName::Flags,
                MessageDataItemName::InternalDate,
                MessageDataItemName::Rfc822Size,
                MessageDataItemName::Envelope,
                MessageDataItemName::Body,
            ],
            MacroOrMessageDataItemNames::MessageDataItemNames(names) => names.clone(),
            // A macro imap-codec may learn later: FAST's items.
            MacroOrMessageDataItemNames::Macro(_) => vec![
                MessageDataItemName::Flags,
                MessageDataItemName::InternalDate,
                MessageDataItemName::Rfc822Size,
            ],
        };
        if uid && !names.contains(&MessageDataItemName::Uid) {
            names.insert(0, MessageDataItemName::Uid);
        }
        let marks_seen = !selected.read_only
            && names.iter().any(|name| {
                matches!(
                    name,
                    MessageDataItemName::BodyExt { peek: false, .. }
                        | MessageDataItemName::Rfc822
                        | MessageDataItemName::Rfc822Text
                )
            });
        let folder = selected.folder.clone();
        let address = self.mail.address.clone();
        let mut replies = Replies::new();
        let mut missing = false;
        for (seq, message_uid) in picked {
            if marks_seen {
                self.context.store.write(&address, |mailbox, _| {
                    let current = mailbox.folder(&folder).and_then(|folder| {
                        folder
                            .index_of(message_uid)
                            .map(|index| folder.messages[index].flags)
                    });
                    if let Some(current) = current
                        && !current.contains(Flags::SEEN)
                    {
                        mailbox.set_flags(&folder, message_uid, current.union(Flags::SEEN));
                    }
                });
            }
            let message = self
                .store()
                .read(&address, |mailbox| {
                    mailbox.folder(&folder).and_then(|folder| {
                        folder
                            .index_of(message_uid)
                            .map(|index| folder.messages[index].clone())
                    })
                })
                .flatten();
            let Some(message) = message else {
                missing = true;
                continue;
            };
            let mut flags_sent = false;
            let mut items = Vec::with_capacity(names.len() + 1);
            let parsed = names
                .iter()
                .any(|name| {
                    matches!(
                        name,
                        MessageDataItemName::Envelope
                            | MessageDataItemName::Body
                            | MessageDataItemName::BodyStructure
                            | MessageDataItemName::BodyExt { .. }
                            | MessageDataItemName::Rfc822Header
                            | MessageDataItemName::Rfc822Text
                    )
                })
                .then(|| Parsed::new(&message.data));
            for name in &names {
                let item = match name {
                    MessageDataItemName::Uid => NonZeroU32::new(message.uid).map(MessageDataItem::Uid),
                    MessageDataItemName::Flags => {
                        flags_sent = true;
                        Some(MessageDataItem::Flags(flag_fetch(message.flags)))
                    }
                    MessageDataItemName::InternalDate => {
                        internal_date(message.internal_date).map(MessageDataItem::InternalDate)
                    }
                    MessageDataItemName::Rfc822Size => Some(MessageDataItem::Rfc822Size(
                        u32::try_from(message.size()).unwrap_or(u32::MAX),
                    )),
                    MessageDataItemName::Envelope => parsed
                        .as_ref()
                        .map(|parsed| MessageDataItem::Envelope(parsed.envelope())),
                    MessageDataItemName::Body => parsed
                        .as_ref()
                        .map(|parsed| MessageDataItem::Body(parsed.structure(false))),
                    MessageDataItemName::BodyStructure => parsed
                        .as_ref()
                        .map(|parsed| MessageDataItem::BodyStructure(parsed.structure(true))),
                    MessageDataItemName::Rfc822 => Some(MessageDataItem::Rfc822(literal(&message.data))),
                    MessageDataItemName::Rfc822Header => parsed
                        .as_ref()
                        .map(|parsed| MessageDataItem::Rfc822Header(literal(parsed.header()))),
                    MessageDataItemName::Rfc822Text => parsed
                        .as_ref()
                        .map(|parsed| MessageDataItem::Rfc822Text(literal(parsed.text()))),
                    MessageDataItemName::BodyExt { section, partial, .. } => parsed.as_ref().map(|parsed| {
                        let bytes = parsed.section(section.as_ref());
                        let (origin, bytes) = match partial {
                            Some((start, length)) => {
                                let start_index =
                                    usize::try_from(*start).unwrap_or(usize::MAX).min(bytes.len());
                                let end = start_index
                                    .saturating_add(usize::try_from(length.get()).unwrap_or(usize::MAX))
                                    .min(bytes.len());
                                (Some(*start), &bytes[start_index..end])
                            }
                            None => (None, &bytes[..]),
                        };
                        MessageDataItem::BodyExt {
                            section: section.clone(),
                            origin,
                            data: literal(bytes),
                        }
                    }),
                };
                items.extend(item);
            }
            if marks_seen && !flags_sent {
                let flags = message.flags.union(Flags::SEEN);
                items.push(MessageDataItem::Flags(flag_fetch(flags)));
            }
            if let Some(selected) = self.mail.selected.as_mut()
                && let Some(index) = usize::try_from(seq).ok().and_then(|seq| seq.checked_sub(1))
                && index < selected.flags.len()
            {
                selected.flags[index] = if marks_seen {
                    message.flags.union(Flags::SEEN)
                } else {
                    message.flags
                };
            }
            replies.actions.extend(fetch_response(seq, items));
        }
        if missing {
            return self.finish(replies, uid, reply::MESSAGES_GONE);
        }
        self.finish(replies, uid, "OK FETCH completed.")
    }

    fn store_flags(
        &mut self,
        set: &SequenceSet,
        kind: &StoreType,
        response: &StoreResponse,
        flags: &[Flag<'_>],
        uid: bool,
    ) -> Vec<Action> {
        let Some(selected) = &self.mail.selected else {
            return self.done(reply::INVALID_STATE);
        };
        if selected.read_only {
            return self.done(reply::READ_ONLY);
        }
        let picked = match selected.resolve(set, uid) {
            Ok(picked) => picked,
            Err(SetError::Invalid) => return self.done(reply::INVALID_SET),
        };
        let (wanted, _) = flags_from(flags);
        let folder = selected.folder.clone();
        let address = self.mail.address.clone();
        let mut replies = Replies::new();
        let mut missing = false;
        for (seq, message_uid) in picked {
            let updated = self
                .context
                .store
                .write(&address, |mailbox, _| {
                    let current = mailbox.folder(&folder).and_then(|folder| {
                        folder
                            .index_of(message_uid)
                            .map(|index| folder.messages[index].flags)
                    })?;
                    let new = match kind {
                        StoreType::Replace => wanted,
                        StoreType::Add => current.union(wanted),
                        StoreType::Remove => current.difference(wanted),
                    };
                    mailbox.set_flags(&folder, message_uid, new)
                })
                .flatten();
            let Some(updated) = updated else {
                missing = true;
                continue;
            };
            if let Some(selected) = self.mail.selected.as_mut()
                && let Some(index) = usize::try_from(seq).ok().and_then(|seq| seq.checked_sub(1))
                && index < selected.flags.len()
            {
                selected.flags[index] = updated;
            }
            if *response == StoreResponse::Answer {
                let uid_part = if uid {
                    format!("UID {message_uid} ")
                } else {
                    String::new()
                };
                replies.line(format!(
                    "* {seq} FETCH ({uid_part}FLAGS ({}))",
                    flag_list(updated)
                ));
            }
        }
        if missing {
            return self.finish(replies, uid, reply::MESSAGES_GONE);
        }
        self.finish(replies, uid, "OK STORE completed.")
    }

    fn copy(&mut self, set: &SequenceSet, destination: &str, uid: bool, moving: bool) -> Vec<Action> {
        let Some(selected) = &self.mail.selected else {
            return self.done(reply::INVALID_STATE);
        };
        if moving && selected.read_only {
            return self.done(reply::READ_ONLY);
        }
        let picked = match selected.resolve(set, uid) {
            Ok(picked) => picked,
            Err(SetError::Invalid) => return self.done(reply::INVALID_SET),
        };
        let uids: Vec<u32> = picked.iter().map(|(_, uid)| *uid).collect();
        let source = selected.folder.clone();
        let result = self
            .context
            .store
            .write(&self.mail.address, |mailbox, room| {
                let needed: u64 = mailbox
                    .folder(&source)
                    .map(|folder| {
                        uids.iter()
                            .filter_map(|uid| folder.index_of(*uid))
                            .map(|index| folder.messages[index].size() as u64)
                            .sum()
                    })
                    .unwrap_or(0);
                if needed > room {
                    return Err(StoreError::Full);
                }
                let copied = mailbox
                    .copy(&source, &uids, destination)
                    .map_err(StoreError::Folder)?;
                if moving {
                    let moved: Vec<u32> = copied.1.iter().map(|(from, _)| *from).collect();
                    mailbox.remove(&source, &moved);
                }
                Ok(copied)
            })
            .unwrap_or(Err(StoreError::NoMailbox));
        let (validity, pairs) = match result {
            Ok(copied) => copied,
            Err(StoreError::Folder(FolderError::NotFound) | StoreError::NoMailbox) => {
                return self.done(reply::COPY_NO_DESTINATION);
            }
            Err(StoreError::Full) => return self.done(reply::OVER_QUOTA),
            Err(StoreError::Folder(_)) => return self.done(reply::ARGUMENT_ERROR),
        };
        let code = if pairs.is_empty() {
            String::new()
        } else {
            let from: Vec<u32> = pairs.iter().map(|(from, _)| *from).collect();
            let to: Vec<u32> = pairs.iter().map(|(_, to)| *to).collect();
            format!("[COPYUID {validity} {} {}] ", uid_list(&from), uid_list(&to))
        };
        if moving {
            // RFC 6851 §4.3: COPYUID in an untagged OK before the expunges.
            let mut replies = Replies::new();
            if !code.is_empty() {
                replies.line(format!("* OK {}Moved.", code));
            }
            return self.finish(replies, true, "OK MOVE completed.");
        }
        self.finish(Replies::new(), uid, &format!("OK {code}COPY completed."))
    }

    fn search(&mut self, charset: Option<&str>, criteria: &SearchKey<'_>, uid: bool) -> Vec<Action> {
        if let Some(charset) = charset
            && !["US-ASCII", "UTF-8"]
                .iter()
                .any(|known| known.eq_ignore_ascii_case(charset))
        {
            return self.done(reply::BAD_CHARSET);
        }
        let Some(selected) = &self.mail.selected else {
            return self.done(reply::INVALID_STATE);
        };
        let all: Vec<(u32, u32)> = selected
            .uids
            .iter()
            .enumerate()
            .map(|(index, uid)| (u32::try_from(index + 1).unwrap_or(u32::MAX), *uid))
            .collect();
        let folder = selected.folder.clone();
        let address = self.mail.address.clone();
        let mut found = Vec::new();
        for (seq, message_uid) in &all {
            let message = self
                .store()
                .read(&address, |mailbox| {
                    mailbox.folder(&folder).and_then(|folder| {
                        folder
                            .index_of(*message_uid)
                            .map(|index| folder.messages[index].clone())
                    })
                })
                .flatten();
            let Some(message) = message else { continue };
            let mut parsed = None;
            let resolve = |set: &SequenceSet, uid: bool| selected.resolve(set, uid).ok();
            let candidate = Candidate {
                seq: *seq,
                message: &message,
                resolve: &resolve,
            };
            if candidate.matches(criteria, &mut parsed) {
                found.push(if uid { *message_uid } else { *seq });
            }
        }
        let mut replies = Replies::new();
        let numbers: Vec<String> = found.iter().map(ToString::to_string).collect();
        replies.line(if numbers.is_empty() {
            "* SEARCH".to_owned()
        } else {
            format!("* SEARCH {}", numbers.join(" "))
        });
        self.finish(replies, uid, "OK SEARCH completed.")
    }
}

/// A message's octets as a literal (or a quoted string when that is shorter and allowed).
fn literal(bytes: &[u8]) -> imap_codec::imap_types::core::NString<'static> {
    imap_codec::imap_types::core::NString(Some(imap_codec::imap_types::core::IString::Literal(
        imap_codec::imap_types::core::Literal::unvalidated(bytes.to_vec()),
    )))
}

/// `1:3,5` from ascending UIDs (as Exchange's COPYUID writes them).
fn uid_list(uids: &[u32]) -> String {
    let mut sorted = uids.to_vec();
    sorted.sort_unstable();
    let mut parts = Vec::new();
    let mut start: Option<u32> = None;
    let mut previous = 0;
    for uid in sorted {
        match start {
            Some(_) if uid == previous + 1 => {}
            Some(first) => {
                parts.push(if first == previous {
                    first.to_string()
                } else {
                    format!("{first}:{previous}")
                });
                start = Some(uid);
            }
            None => start = Some(uid),
        }
        previous = uid;
    }
    if let Some(first) = start {
        parts.push(if first == previous {
            first.to_string()
        } else {
            format!("{first}:{previous}")
        });
    }
    parts.join(",")
}

fn folder_error(error: FolderError) -> &'static str {
    match error {
        FolderError::NotFound => reply::NO_SUCH_MAILBOX,
        FolderError::Exists => reply::MAILBOX_EXISTS,
        FolderError::InvalidName => reply::ARGUMENT_ERROR,
        FolderError::Default => reply::CANNOT_DELETE,
        FolderError::TooMany => reply::TOO_MANY_FOLDERS,
    }
}

#[cfg(test)]
#[path = "imap_mail_tests.rs"]
mod tests;
