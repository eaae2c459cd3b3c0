//! The permissions each resource defines, kept as data (rule `permission-registration`).
//!
//! Delegated permissions of Office 365 Exchange Online are those the catalog names
//! (fidelity: portal-permission-listing, deleg-mixed-outlook-first); Microsoft Graph's are a
//! subset of the [Graph permissions reference](https://learn.microsoft.com/en-us/graph/permissions-reference),
//! enough for mail clients. A permission on no resource is `invalid_scope` (AADSTS70011).

use crate::decision::{Part, Rule};
use crate::token::ResourceApi;

/// Rule: permissions are data per resource, and the mail ones count on both.
pub(crate) const PERMISSION_REGISTRATION: Rule = Rule {
    id: "permission-registration",
    part: Part::Identity,
    title: "Each resource defines its permissions; the mail permissions listed under Graph count for Outlook too",
    text: "The simulation keeps each resource's delegated and application permissions as data. A \
           permission is looked up on the resource the token is for, case-insensitively, and named \
           as the resource spells it. The portal lists the delegated SMTP.Send, \
           IMAP.AccessAsUser.All and POP.AccessAsUser.All under Microsoft Graph; consenting to them \
           there also consents to them on Office 365 Exchange Online, so an Outlook token can carry \
           them. Application permissions for mail (SMTP.SendAsApp, IMAP.AccessAsApp, \
           POP.AccessAsApp) exist only on Exchange. A permission a resource does not define is \
           refused as an invalid scope.",
    cases: &[
        "portal-permission-listing",
        "deleg-mixed-outlook-first",
        "dot-default-delegated-outlook365",
    ],
    sources: &["https://learn.microsoft.com/en-us/graph/permissions-reference"],
};

/// Delegated permissions SMTP, IMAP and POP clients use; registered under Microsoft Graph they
/// still count as consent for the Outlook resource: "in fact the same has been added to the outlook
/// endpoint" (fidelity: portal-permission-listing).
pub(crate) const MAIL_PROTOCOL_PERMISSIONS: [&str; 3] =
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

/// Returns the permission's name as the resource spells it (`smtp.send` -> `SMTP.Send`).
pub(crate) fn canonical_delegated(api: ResourceApi, name: &str) -> Option<&'static str> {
    let list = match api {
        ResourceApi::Exchange => EXCHANGE_DELEGATED,
        ResourceApi::Graph => GRAPH_DELEGATED,
    };
    canonical(list, name)
}

/// The resources a consent to `name`, registered under `api`, covers: the mail protocol
/// permissions count for Graph and Exchange alike (rule `permission-registration`).
pub(crate) fn consent_targets(api: ResourceApi, name: &str) -> Vec<ResourceApi> {
    let is_mail_protocol = MAIL_PROTOCOL_PERMISSIONS
        .iter()
        .any(|known| known.eq_ignore_ascii_case(name));
    if is_mail_protocol {
        vec![ResourceApi::Graph, ResourceApi::Exchange]
    } else {
        vec![api]
    }
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
            assert!(
                canonical_delegated(ResourceApi::Exchange, name).is_some(),
                "{name}"
            );
            assert!(canonical_delegated(ResourceApi::Graph, name).is_some(), "{name}");
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
