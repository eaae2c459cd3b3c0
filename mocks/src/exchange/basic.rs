//! Basic authentication (passwords) at Exchange's front doors: which stage the tenant is at, and
//! the reply each protocol gives a password (rule `basic-auth`).

use crate::decision::{Part, Rule};

/// Rule: passwords at the front doors.
pub(crate) const BASIC_AUTH: Rule = Rule {
    id: "basic-auth",
    part: Part::Exchange,
    title: "Exchange Online refuses passwords on IMAP and POP, and on SMTP where Basic authentication is off",
    text: "The password paths still exist on the wire: SMTP `AUTH LOGIN` (advertised; `AUTH \
           PLAIN` is not), IMAP `LOGIN` and `AUTHENTICATE PLAIN`, POP3 `USER`/`PASS`. Work tenants \
           have had Basic authentication off for IMAP and POP since 2022: IMAP answers `NO LOGIN \
           failed.`, POP its authentication failure. SMTP `AUTH LOGIN` prompts for the user name \
           and password in base64, then answers `535 5.7.139 Authentication unsuccessful, basic \
           authentication is disabled.` Authentication policies block Basic authentication per \
           protocol; they never affect XOAUTH2.",
    cases: &[
        "smtp-basic-auth-responses",
        "imap-basic-login-disabled",
        "consumer-basic-auth-removed",
        "basic-auth-policy-per-protocol",
        "smtp-basic-retirement-timeline",
    ],
    sources: &[
        "https://learn.microsoft.com/en-us/exchange/clients-and-mobile-in-exchange-online/deprecation-of-basic-authentication-exchange-online",
    ],
};
