//! POP3 replies (rule `pop3-front-door`).

use crate::directory::GreetingForm;

use super::stamp::back_end_token;

// fidelity: pop-greeting-capa (the tcpproxy form: MailKit #1948, 2025)
/// The greeting.
pub(crate) fn greeting(form: GreetingForm) -> String {
    match form {
        GreetingForm::Classic => format!(
            "+OK The Microsoft Exchange POP3 service is ready. [{}]",
            back_end_token()
        ),
        GreetingForm::Tcpproxy => format!(
            "+OK Microsoft Exchange POP3 server ready (tcpproxy/{}). [{}]",
            super::stamp::TCPPROXY_VERSION,
            back_end_token()
        ),
    }
}

/// The longest AUTH continuation line taken (fidelity: long-token-protocol-error: tokens over
/// 4,096 characters get a protocol error since July 2025).
pub(crate) const MAX_AUTH_LINE: usize = 4096;

// fidelity: pop-greeting-capa (port 995)
/// The CAPA reply, without the terminating dot.
pub(crate) const CAPA: [&str; 5] = ["+OK", "TOP", "UIDL", "SASL PLAIN XOAUTH2", "USER"];
/// The generic profile's CAPA.
pub(crate) const CAPA_GENERIC: [&str; 4] = ["+OK", "TOP", "UIDL", "SASL XOAUTH2 OAUTHBEARER"];

// fidelity: pop-xoauth2-two-step (RFC 5034's `continue-req` is "+" SP).
/// The empty continuation.
pub(crate) const CONTINUE: &str = "+ ";
/// `+OK User successfully authenticated.`
pub(crate) const AUTHENTICATED: &str = "+OK User successfully authenticated.";
// fidelity: pop-xoauth2-rejected
/// Every refused authentication.
pub(crate) const AUTHENTICATION_FAILURE: &str =
    "-ERR Authentication failure: unknown user name or bad password.";
// fidelity: pop-xoauth2-inline-rejected
/// The answer to an inline initial response; the connection closes after it.
pub(crate) const PROTOCOL_ERROR: &str = "-ERR Protocol error. Connection is closed. 10";

/// QUIT (unverified form).
pub(crate) const SIGNING_OFF: &str = "+OK Microsoft Exchange Server POP3 server signing off.";
/// An unknown command (unverified form).
pub(crate) const COMMAND_ERROR: &str = "-ERR Command is not valid in this state.";
/// `+OK` with no text.
pub(crate) const OK: &str = "+OK";

// The texts below are those of Microsoft.Exchange.Pop3 (Exchange Server 15.00.1497, decompiled at
// github.com/evilashz/exchange-server-27065): Pop3RequestWithIntParameters, Pop3ResponseFactory.
/// A message number past the maildrop.
pub(crate) const OUT_OF_RANGE: &str = "-ERR The specified message is out of range.";
/// A message marked deleted.
pub(crate) const NO_LONGER_AVAILABLE: &str =
    "-ERR The requested message is no longer available; it may have been deleted.";
/// An argument that is not a number.
pub(crate) const PROTOCOL_ERROR_ARGUMENT: &str = "-ERR Protocol error. 14";
/// The wrong number of arguments.
pub(crate) const PROTOCOL_ERROR_ARGUMENTS: &str = "-ERR Protocol error. 16";
