//! IMAP replies (rule `imap-front-door`). Tagged replies take the client's tag.

use crate::directory::GreetingForm;

use super::stamp::{ReplyStamp, back_end_token};

// fidelity: imap-greeting-capability. The tcpproxy form (2025–2026: holon-run/uxc #445, MailKit
// #1948 for POP) follows the POP greeting's shape; its id and version in the IMAP greeting are
// unverified.
/// The greeting.
pub(crate) fn greeting(form: GreetingForm, stamp: &ReplyStamp) -> String {
    match form {
        GreetingForm::Classic => format!(
            "* OK The Microsoft Exchange IMAP4 service is ready. [{}]",
            back_end_token()
        ),
        GreetingForm::Tcpproxy => format!(
            "* OK Microsoft Exchange IMAP4 service ready. {} (tcpproxy/{}) [{}]",
            stamp.next_hex_id(),
            super::stamp::TCPPROXY_VERSION,
            back_end_token()
        ),
    }
}

// fidelity: imap-greeting-capability (the common list; some logs add MOVE before authentication too)
/// Capabilities before authentication.
pub(crate) const CAPABILITY_PRE_AUTH: &str = "* CAPABILITY IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS ID UNSELECT CHILDREN IDLE NAMESPACE LITERAL+";
// fidelity: imap-capability-postauth
/// Capabilities after authentication.
pub(crate) const CAPABILITY_POST_AUTH: &str = "* CAPABILITY IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS MOVE ID UNSELECT CLIENTACCESSRULES CLIENTNETWORKPRESENCELOCATION BACKENDAUTHENTICATE CHILDREN IDLE NAMESPACE LITERAL+";
/// The generic profile also offers OAUTHBEARER (RFC 7628).
pub(crate) const CAPABILITY_GENERIC: &str = "* CAPABILITY IMAP4rev1 AUTH=XOAUTH2 AUTH=OAUTHBEARER SASL-IR ID UNSELECT CHILDREN IDLE NAMESPACE LITERAL+";

// fidelity: imap-xoauth2-continuation ("+" with empty text; a trailing space is not verifiable
// from logs, RFC 3501's `continue-req` has one).
/// The empty continuation.
pub(crate) const CONTINUE: &str = "+ ";

// fidelity: imap-xoauth2-sasl-ir
/// `OK AUTHENTICATE completed.`
pub(crate) const AUTHENTICATED: &str = "OK AUTHENTICATE completed.";
// fidelity: imap-xoauth2-rejected
/// `NO AUTHENTICATE failed.`: every refused token, with no JSON challenge.
pub(crate) const AUTHENTICATE_FAILED: &str = "NO AUTHENTICATE failed.";
// fidelity: imap-basic-login-disabled (imapsync #395: `2 NO LOGIN failed.`)
/// `NO LOGIN failed.`: a password, at a work tenant.
pub(crate) const LOGIN_FAILED: &str = "NO LOGIN failed.";
// fidelity: consumer-basic-auth-removed, imap-basic-login-disabled (holon-run/uxc #445, 2026)
/// `NO Basic authentication is disabled.`: a password, at outlook.com; the BYE follows.
pub(crate) const BASIC_DISABLED: &str = "NO Basic authentication is disabled.";
// fidelity: imap-authenticated-not-connected
/// The answer to a mailbox command after an authentication that opened no mailbox.
pub(crate) const NOT_CONNECTED: &str = "BAD User is authenticated but not connected.";
/// `* BYE Connection closed. 14` (MailKit #1496), when such a session logs out.
pub(crate) const BYE_NOT_CONNECTED: &str = "* BYE Connection closed. 14";
// fidelity: imap-xoauth2-rejected (the LOGOUT that follows).
/// The untagged LOGOUT reply.
pub(crate) const BYE: &str = "* BYE Microsoft Exchange Server IMAP4 server signing off.";

// The texts below marked "Exchange's code" are those of Microsoft.Exchange.Imap4 (Exchange Server
// 15.00.1497, decompiled at github.com/evilashz/exchange-server-27065): Imap4Session,
// Imap4Request, Imap4RequestAppend and Imap4RequestCopy. Exchange Online runs the same front end.

/// `BAD Command Error. 12` for a command Exchange does not know (Exchange's code).
pub(crate) const COMMAND_ERROR: &str = "BAD Command Error. 12";
/// A command in a state that does not take it (Exchange's code).
pub(crate) const INVALID_STATE: &str = "BAD Command received in Invalid state.";
/// An argument that cannot be parsed (Exchange's code).
pub(crate) const ARGUMENT_ERROR: &str = "BAD Command Argument Error. 11";
/// What follows a third malformed command, and a LOGOUT after an authentication that opened no
/// mailbox (Exchange's code; MailKit #1496).
pub(crate) const BYE_INVALID: &str = "* BYE Connection closed. 14";
/// An idle client's goodbye (Exchange's code: `TimeoutErrorString`).
pub(crate) const BYE_TIMEOUT: &str = "* BYE Connection is closed. 13";
/// A line over the limit (unverified form).
pub(crate) const LINE_TOO_LONG: &str = "* BAD Line too long.";
/// The continuation asking for a synchronizing literal (Exchange's code).
pub(crate) const CONTINUE_LITERAL: &str = "+ Ready for additional command text.";
/// A literal past the mailbox's receive size (MailKit #1493, Microsoft 365, 2022; Exchange
/// Server 2016's code answered `Command Argument Error. 11` after skipping the data).
pub(crate) const LITERAL_TOO_BIG: &str = "BAD command line limit exceeded";
/// IDLE's continuation (node-imap #561, outlook.office365.com).
pub(crate) const IDLE_ACCEPTED: &str = "+ IDLE accepted, awaiting DONE command.";
/// A message set past the end of the folder (Exchange's code).
pub(crate) const INVALID_SET: &str = "NO The specified message set is invalid.";
/// Messages expunged since the client last looked (Exchange's code).
pub(crate) const MESSAGES_GONE: &str = "NO Some of the requested messages no longer exist.";
/// The selected folder was deleted or renamed (Exchange's code).
pub(crate) const MAILBOX_GONE: &str = "NO Mailbox has been deleted or moved.";
/// APPEND to a folder that does not exist (Exchange's code).
pub(crate) const APPEND_NO_FOLDER: &str = "NO [TRYCREATE] Folder is not found.";
/// APPEND with keywords Exchange does not keep, before its OK (Exchange's code).
pub(crate) const NO_KEYWORDS: &str = "* NO Keywords are not supported!";
/// COPY or MOVE to a folder that does not exist (Exchange's code).
pub(crate) const COPY_NO_DESTINATION: &str = "NO [TRYCREATE] The destination mailbox could not be found.";
/// SEARCH with a charset Exchange does not take (Exchange's code; UTF-8 is taken too).
pub(crate) const BAD_CHARSET: &str = "NO [BADCHARSET (US-ASCII)] The specified charset is not supported.";
/// CREATE of a folder that exists (dmarc-metrics-exporter #15, Office 365).
pub(crate) const MAILBOX_EXISTS: &str = "NO Mailbox already exists.";
/// SELECT, STATUS, DELETE... of a folder that does not exist (unverified form).
pub(crate) const NO_SUCH_MAILBOX: &str = "NO Mailbox doesn't exist.";
/// DELETE or RENAME of a folder Exchange created (unverified form).
pub(crate) const CANNOT_DELETE: &str = "NO Special folders cannot be deleted or renamed.";
/// CREATE past the simulation's folder limit (unverified form).
pub(crate) const TOO_MANY_FOLDERS: &str = "NO [LIMIT] Too many folders.";
/// STORE, EXPUNGE or MOVE in a folder opened with EXAMINE (RFC 9051 §6.3.3's NO; unverified form).
pub(crate) const READ_ONLY: &str = "NO The folder is open read-only.";
/// APPEND, COPY or MOVE when the simulation's store is full (RFC 9051's OVERQUOTA; a real tenant
/// has mailbox quotas instead).
pub(crate) const OVER_QUOTA: &str = "NO [OVERQUOTA] The mail store is full.";
