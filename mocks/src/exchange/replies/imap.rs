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

/// `BAD Command Error. 12` for a command Exchange does not know (unverified form).
pub(crate) const COMMAND_ERROR: &str = "BAD Command Error. 12";
/// A mailbox command before authentication (unverified form).
pub(crate) const INVALID_STATE: &str = "BAD Command received in Invalid state.";
/// A line over the limit (unverified form).
pub(crate) const LINE_TOO_LONG: &str = "* BAD Line too long.";
