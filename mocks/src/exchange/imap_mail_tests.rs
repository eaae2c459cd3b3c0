//! The mailbox commands driven as transcripts against a real store.

use std::sync::Arc;

use crate::directory::{ADELE, Directory};
use crate::exchange::context::ExchangeContext;
use crate::exchange::imap::ImapSession;
use crate::exchange::testing::{context, play, token_for};
use crate::sasl::encode_xoauth2;
use crate::store::message::Flags;

const GREETING: &str = "S: * OK The Microsoft Exchange IMAP4 service is ready. [...]";
const IMAP_SCOPE: &str = "https://outlook.office.com/IMAP.AccessAsUser.All";

/// A context, and the script's opening: the greeting and a successful login.
fn logged_in() -> (Arc<ExchangeContext>, String) {
    let context = context(Directory::contoso());
    let response = encode_xoauth2(ADELE, &token_for(IMAP_SCOPE));
    let opening =
        format!("{GREETING}\nC: A0 AUTHENTICATE XOAUTH2 {response}\nS: A0 OK AUTHENTICATE completed.\n");
    (context, opening)
}

fn deliver(context: &ExchangeContext, folder: &str, message: &str) {
    context
        .store
        .append(
            ADELE,
            folder,
            message.as_bytes().into(),
            Flags::default(),
            1_745_000_000,
        )
        .unwrap();
}

#[test]
fn mailbox_default_folders_are_listed_as_exchange_lists_them() {
    // fidelity: mailbox-default-folders (names: libremail #105; attributes: Mailspring #1983)
    let (context, opening) = logged_in();
    let script = format!(
        "{opening}
C: A1 LIST \"\" \"*\"
S: * LIST (\\HasNoChildren) \"/\" Archive
S: * LIST (\\HasChildren) \"/\" Calendar
S: * LIST (\\HasNoChildren) \"/\" Calendar/Birthdays
S: * LIST (\\HasNoChildren) \"/\" Contacts
S: * LIST (\\HasNoChildren) \"/\" \"Conversation History\"
S: * LIST (\\HasNoChildren \\Trash) \"/\" \"Deleted Items\"
S: * LIST (\\HasNoChildren \\Drafts) \"/\" Drafts
S: * LIST (\\Marked \\HasNoChildren) \"/\" INBOX
S: * LIST (\\HasNoChildren) \"/\" Journal
S: * LIST (\\HasNoChildren \\Junk) \"/\" \"Junk Email\"
S: * LIST (\\HasNoChildren) \"/\" Notes
S: * LIST (\\HasNoChildren) \"/\" Outbox
S: * LIST (\\HasNoChildren) \"/\" \"RSS Feeds\"
S: * LIST (\\HasNoChildren \\Sent) \"/\" \"Sent Items\"
S: * LIST (\\HasNoChildren) \"/\" Tasks
S: A1 OK LIST completed.
C: A2 LIST \"\" Nope
S: A2 OK LIST completed.
C: A3 LIST \"\" %/%
S: * LIST (\\HasNoChildren) \"/\" Calendar/Birthdays
S: A3 OK LIST completed.
C: A4 LIST Calendar %
S: * LIST (\\HasNoChildren) \"/\" Calendar/Birthdays
S: A4 OK LIST completed.
C: A5 LIST \"\" \"\"
S: * LIST (\\Noselect \\HasChildren) \"/\" \"\"
S: A5 OK LIST completed.
C: A6 LSUB \"\" *
S: * LSUB (\\HasNoChildren) \"/\" Archive
S: * LSUB (\\HasNoChildren \\Trash) \"/\" \"Deleted Items\"
S: * LSUB (\\HasNoChildren \\Drafts) \"/\" Drafts
S: * LSUB (\\Marked \\HasNoChildren) \"/\" INBOX
S: * LSUB (\\HasNoChildren \\Junk) \"/\" \"Junk Email\"
S: * LSUB (\\HasNoChildren \\Sent) \"/\" \"Sent Items\"
S: A6 OK LSUB completed.
C: A7 CREATE Projects/2026
S: A7 OK CREATE completed.
C: A8 CREATE projects
S: A8 NO Mailbox already exists.
C: A9 RENAME Projects Archive/Projects
S: A9 OK RENAME completed.
C: B1 LIST \"\" Archive*
S: * LIST (\\HasChildren) \"/\" Archive
S: * LIST (\\HasChildren) \"/\" Archive/Projects
S: * LIST (\\HasNoChildren) \"/\" Archive/Projects/2026
S: B1 OK LIST completed.
C: B2 DELETE \"Sent Items\"
S: B2 NO Special folders cannot be deleted or renamed.
C: B3 DELETE Archive/Projects
S: B3 OK DELETE completed.
C: B4 SELECT Archive/Projects/2026
S: B4 NO Mailbox doesn't exist.
"
    );
    play(ImapSession::new(context), &script, |_| {});
}

#[test]
fn imap_mailbox_commands_append_fetch_search_store_copy_move_and_expunge() {
    // fidelity: imap-mailbox-commands (Exchange's texts: its decompiled Imap4 front end)
    let (context, opening) = logged_in();
    let message = "Subject: one\\r\\n\\r\\nfirst\\r\\n";
    let script = format!(
        "{opening}
C: A1 APPEND INBOX (\\Seen) {{23}}
S: + Ready for additional command text.
-- READ 23
B: {message}
C: 
S: A1 OK [APPENDUID ... 1] APPEND completed.
C: A2 APPEND INBOX ($Forwarded) {{23+}}
-- READ 23
B: {message}
C: 
S: * NO Keywords are not supported!
S: A2 OK [APPENDUID ... 2] APPEND completed.
C: A3 APPEND Nowhere {{23}}
S: + Ready for additional command text.
-- READ 23
B: {message}
C: 
S: A3 NO [TRYCREATE] Folder is not found.
C: A4 SELECT INBOX
S: * 2 EXISTS
S: * 0 RECENT
S: * FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft $MDNSent)
S: * OK [PERMANENTFLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft $MDNSent)] Permanent flags
S: * OK [UNSEEN 2] Is the first unseen message
S: * OK [UIDVALIDITY ...
S: * OK [UIDNEXT 3] The next unique identifier value
S: A4 OK [READ-WRITE] SELECT completed.
C: A5 FETCH 1:* (UID FLAGS RFC822.SIZE)
S: * 1 FETCH (UID 1 FLAGS (\\Seen) RFC822.SIZE 23)
S: * 2 FETCH (UID 2 FLAGS () RFC822.SIZE 23)
S: A5 OK FETCH completed.
C: A6 FETCH 2 BODY[]
S: * 2 FETCH (BODY[] {{23}}
S: Subject: one
S: 
S: first
S:  FLAGS (\\Seen))
S: A6 OK FETCH completed.
C: A7 FETCH 3 FLAGS
S: A7 NO The specified message set is invalid.
C: A8 UID SEARCH SUBJECT one NOT DELETED
S: * SEARCH 1 2
S: A8 OK SEARCH completed.
C: A9 STORE 1 +FLAGS (\\Deleted)
S: * 1 FETCH (FLAGS (\\Seen \\Deleted))
S: A9 OK STORE completed.
C: B1 UID COPY 1:2 Drafts
S: B1 OK [COPYUID ... 1:2 1:2] COPY completed.
C: B2 EXPUNGE
S: * 1 EXPUNGE
S: B2 OK EXPUNGE completed.
C: B3 UID MOVE 2 \"Deleted Items\"
S: * OK [COPYUID ... 2 1] Moved.
S: * 1 EXPUNGE
S: B3 OK MOVE completed.
C: B4 STATUS Drafts (MESSAGES UIDNEXT UNSEEN)
S: * STATUS Drafts (MESSAGES 2 UIDNEXT 3 UNSEEN 0)
S: B4 OK STATUS completed.
C: B5 SELECT Drafts
S: * 2 EXISTS
S: * 0 RECENT
S: * FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft $MDNSent)
S: * OK [PERMANENTFLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft $MDNSent)] Permanent flags
S: * OK [UIDVALIDITY ...
S: * OK [UIDNEXT 3] The next unique identifier value
S: B5 OK [READ-WRITE] SELECT completed.
C: B6 UID EXPUNGE 2
S: B6 OK EXPUNGE completed.
C: B7 UID EXPUNGE 1
S: * 1 EXPUNGE
S: B7 OK EXPUNGE completed.
C: B8 FETCH 1 (ENVELOPE BODYSTRUCTURE)
S: * 1 FETCH (ENVELOPE (NIL \"one\" NIL NIL NIL NIL NIL NIL NIL NIL) BODYSTRUCTURE (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 7 1 NIL NIL NIL NIL))
S: B8 OK FETCH completed.
"
    );
    play(ImapSession::new(context), &script, |_| {});
}

#[test]
fn imap_mailbox_commands_refuse_a_literal_past_the_receive_size_and_close_after_three_bad_commands() {
    // fidelity: imap-mailbox-commands (MailKit #1493; Imap4ResponseFactory.ProcessParseError)
    let (context, opening) = logged_in();
    let script = format!(
        "{opening}
C: A1 APPEND INBOX {{40000000}}
S: A1 BAD command line limit exceeded
C: A2 APPEND INBOX {{40000000+}}
-- SKIP 40000000
B: 
C: 
S: A2 BAD command line limit exceeded
C: A3 FETCH
S: A3 BAD Command Argument Error. 11
C: A4 FROB
S: A4 BAD Command Error. 12
C: A5 SELECT
S: A5 BAD Command Argument Error. 11
S: * BYE Connection closed. 14
-- CLOSE
"
    );
    play(ImapSession::new(context), &script, |_| {});
}

#[test]
fn imap_idle_pushes_exists_and_expunge_as_mail_comes_and_goes() {
    // fidelity: imap-idle (node-imap #561: the continuation's text)
    let (context, opening) = logged_in();
    let store_context = context.clone();
    let script = format!(
        "{opening}
C: A1 SELECT INBOX
S: * 0 EXISTS
S: * 0 RECENT
S: * FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft $MDNSent)
S: * OK [PERMANENTFLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft $MDNSent)] Permanent flags
S: * OK [UIDVALIDITY ...
S: * OK [UIDNEXT 1] The next unique identifier value
S: A1 OK [READ-WRITE] SELECT completed.
C: A2 IDLE
S: + IDLE accepted, awaiting DONE command.
! deliver
-- CHANGE
S: * 1 EXISTS
! expunge
-- CHANGE
S: * 1 EXPUNGE
C: DONE
S: A2 OK IDLE completed.
C: A3 NOOP
S: A3 OK NOOP completed.
"
    );
    play(ImapSession::new(context), &script, |step| match step {
        "deliver" => deliver(&store_context, "INBOX", "Subject: new\r\n\r\nx\r\n"),
        "expunge" => {
            store_context
                .store
                .write(ADELE, |mailbox, _| mailbox.remove("INBOX", &[1]));
        }
        other => panic!("unknown step {other}"),
    });
}

#[test]
fn a_session_sees_what_another_did_at_its_next_command() {
    // fidelity: imap-mailbox-commands (untagged news before the tagged reply, Imap4Response)
    let (context, opening) = logged_in();
    deliver(&context, "INBOX", "Subject: a\r\n\r\nx\r\n");
    let store_context = context.clone();
    let script = format!(
        "{opening}
C: A1 EXAMINE INBOX
S: * 1 EXISTS
S: * 0 RECENT
S: * FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft $MDNSent)
S: * OK [PERMANENTFLAGS ()] Permanent flags
S: * OK [UNSEEN 1] Is the first unseen message
S: * OK [UIDVALIDITY ...
S: * OK [UIDNEXT 2] The next unique identifier value
S: A1 OK [READ-ONLY] EXAMINE completed.
! flag and deliver
C: A2 FETCH 1 FLAGS
S: * 1 FETCH (FLAGS (\\Flagged))
S: * 2 EXISTS
S: A2 OK FETCH completed.
C: A3 STORE 1 +FLAGS (\\Seen)
S: A3 NO The folder is open read-only.
"
    );
    play(ImapSession::new(context), &script, |_| {
        store_context
            .store
            .write(ADELE, |mailbox, _| mailbox.set_flags("INBOX", 1, Flags::FLAGGED));
        deliver(&store_context, "INBOX", "Subject: b\r\n\r\ny\r\n");
    });
}
