//! Every rule the simulation follows, in the order the shipped rule reference presents them.
//! Each rule is declared beside the code that applies it; this module only lists them.

use crate::decision::Rule;
use crate::exchange::{access, basic, imap, imap_mail, pop3, replies, smtp};
use crate::identity::{
    admin_consent, app_only, client, code, denial, device, grant, password, permissions, policy, refresh,
    resolve, v1,
};

/// Returns every rule: the identity platform's first, then Exchange Online's.
pub fn rules() -> [&'static Rule; 40] {
    [
        &resolve::SCOPE_SYNTAX,
        &resolve::SCOPE_RESOURCE,
        &resolve::FIRST_SCOPE_WINS,
        &resolve::AUDIENCE,
        &grant::TOKEN_SHAPE,
        &grant::ID_TOKEN,
        &grant::GRANTED_PERMISSIONS,
        &permissions::PERMISSION_REGISTRATION,
        &grant::CONSENT,
        &client::AUTHORITY,
        &client::CLIENT_AUTHENTICATION,
        &client::REDIRECT_URI,
        &client::ACCOUNT_KIND,
        &client::CONDITIONAL_ACCESS,
        &policy::GRANT_TYPES,
        &code::AUTHORIZATION_CODE,
        &device::DEVICE_CODE,
        &app_only::CLIENT_CREDENTIALS,
        &refresh::REFRESH_TOKEN,
        &password::ROPC,
        &v1::V1_ENDPOINT,
        &admin_consent::ADMIN_CONSENT,
        &denial::ERROR_SHAPE,
        &grant::TOKEN_LIFETIME,
        &access::TOKEN_CHECKS,
        &access::EXCHANGE_AUDIENCES,
        &access::MAILBOX_ACCESS,
        &access::APP_ONLY_SUPPORT,
        &access::PROTOCOL_SWITCHES,
        &smtp::SMTP_FRONT_DOOR,
        &smtp::SEND_AS,
        &imap::IMAP_FRONT_DOOR,
        &imap::IMAP_NOT_CONNECTED,
        &imap_mail::IMAP_MAILBOX,
        &pop3::POP3_FRONT_DOOR,
        &pop3::POP3_MAILDROP,
        &basic::BASIC_AUTH,
        &basic::SECURITY_DEFAULTS,
        &crate::store::MAILBOX_STORE,
        &replies::generic::GENERIC_PROFILE,
    ]
}

/// Catalog cases no rule follows, and why: the simulation models today's Exchange Online and its
/// standard endpoints.
pub const NOT_SIMULATED: &[(&str, &str)] = &[
    (
        "smtp-hve-endpoint",
        "The High Volume Email endpoint (smtp-hve.office365.com) is a separate service; the simulation has only the standard submission endpoint.",
    ),
    (
        "smtp-ccg-mailbox-logon-failure",
        "The transient 430 4.2.0 STOREDRV reply after DATA is not simulated: a mailbox an app may not open fails at AUTH instead (rule mailbox-access).",
    ),
    (
        "outlook-token-on-graph",
        "The simulation has no Microsoft Graph resource server, only the mail front doors.",
    ),
    (
        "ccg-smtp-client-credentials-2024-fail",
        "The report names no cause; its 535 5.7.3 is what every failed check produces (rule smtp-front-door).",
    ),
];

/// Returns the rule with `id`.
pub fn rule(id: &str) -> Option<&'static Rule> {
    rules().into_iter().find(|rule| rule.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_are_unique_kebab_case_and_cite_known_catalog_cases() {
        let rules = rules();
        let mut ids: Vec<&str> = rules.iter().map(|rule| rule.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), rules.len(), "duplicate rule ids");
        for rule in rules {
            assert!(
                rule.id
                    .bytes()
                    .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-'),
                "{}",
                rule.id
            );
            assert!(
                !rule.cases.is_empty() || !rule.sources.is_empty(),
                "{} cites no source",
                rule.id
            );
            for case in rule.cases {
                assert!(
                    crate::catalog::case(case).is_some(),
                    "{}: unknown case {case}",
                    rule.id
                );
            }
        }
    }
}
