//! The permissions each resource defines, kept as data (FIDELITY.md rule 7).
//!
//! Delegated permissions of Office 365 Exchange Online are those the catalog names
//! (fidelity: portal-permission-listing, deleg-mixed-outlook-first); Microsoft Graph's are a
//! subset of the [Graph permissions reference](https://learn.microsoft.com/en-us/graph/permissions-reference),
//! enough for mail clients. A permission on no resource is `invalid_scope` (AADSTS70011).

use crate::token::ResourceApi;

/// Delegated permissions SMTP, IMAP and POP clients use; registered under Microsoft Graph they
/// still count as consent for the Outlook resource: "in fact the same has been added to the outlook
/// endpoint" (fidelity: portal-permission-listing).
pub const MAIL_PROTOCOL_PERMISSIONS: [&str; 3] =
    ["SMTP.Send", "IMAP.AccessAsUser.All", "POP.AccessAsUser.All"];

const EXCHANGE_DELEGATED: &[&str] = &[
    "SMTP.Send",
    "IMAP.AccessAsUser.All",
    "POP.AccessAsUser.All",
    "EWS.AccessAsUser.All",
    "Mail.Read",
    "Mail.Send",
    "User.Read",
];

const GRAPH_DELEGATED: &[&str] = &[
    "SMTP.Send",
    "IMAP.AccessAsUser.All",
    "POP.AccessAsUser.All",
    "EWS.AccessAsUser.All",
    "Mail.Read",
    "Mail.ReadBasic",
    "Mail.ReadWrite",
    "Mail.Send",
    "MailboxSettings.Read",
    "Calendars.Read",
    "Contacts.Read",
    "Files.Read",
    "User.Read",
    "openid",
    "profile",
    "email",
    "offline_access",
];

// Application permissions of Exchange: fidelity: ccg-outlook365-default-imap-pop, ccg-smtp-sendasapp.
const EXCHANGE_APPLICATION: &[&str] = &[
    "SMTP.SendAsApp",
    "IMAP.AccessAsApp",
    "POP.AccessAsApp",
    "full_access_as_app",
];

const GRAPH_APPLICATION: &[&str] = &["Mail.Read", "Mail.ReadWrite", "Mail.Send", "User.Read.All"];

/// Returns true when `api` defines the delegated permission `name` (case-insensitive).
pub fn is_delegated(api: ResourceApi, name: &str) -> bool {
    let list = match api {
        ResourceApi::Exchange => EXCHANGE_DELEGATED,
        ResourceApi::Graph => GRAPH_DELEGATED,
    };
    canonical(list, name).is_some()
}

/// Returns true when `api` defines the application permission `name`.
pub fn is_application(api: ResourceApi, name: &str) -> bool {
    let list = match api {
        ResourceApi::Exchange => EXCHANGE_APPLICATION,
        ResourceApi::Graph => GRAPH_APPLICATION,
    };
    canonical(list, name).is_some()
}

/// Returns the permission's name as the resource spells it (`smtp.send` -> `SMTP.Send`).
pub fn canonical_delegated(api: ResourceApi, name: &str) -> Option<&'static str> {
    let list = match api {
        ResourceApi::Exchange => EXCHANGE_DELEGATED,
        ResourceApi::Graph => GRAPH_DELEGATED,
    };
    canonical(list, name)
}

fn canonical(list: &[&'static str], name: &str) -> Option<&'static str> {
    list.iter()
        .copied()
        .find(|known| known.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mail_protocol_permissions_exist_on_both_resources() {
        // fidelity: portal-permission-listing
        for name in MAIL_PROTOCOL_PERMISSIONS {
            assert!(is_delegated(ResourceApi::Exchange, name), "{name}");
            assert!(is_delegated(ResourceApi::Graph, name), "{name}");
        }
    }

    #[test]
    fn app_roles_for_mail_exist_only_on_exchange() {
        // fidelity: ccg-outlook365-default-imap-pop
        for name in ["SMTP.SendAsApp", "IMAP.AccessAsApp", "POP.AccessAsApp"] {
            assert!(is_application(ResourceApi::Exchange, name));
            assert!(!is_application(ResourceApi::Graph, name));
        }
    }

    #[test]
    fn mail_read_is_reread_on_outlook_but_files_read_is_not() {
        // fidelity: deleg-mixed-outlook-first ("only works when the unprefixed permission also
        // exists on the Outlook resource")
        assert_eq!(
            canonical_delegated(ResourceApi::Exchange, "mail.read"),
            Some("Mail.Read")
        );
        assert_eq!(canonical_delegated(ResourceApi::Exchange, "Files.Read"), None);
    }
}
