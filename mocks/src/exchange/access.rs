//! Decides whether Exchange Online lets a bearer token open a mailbox over a protocol.
//!
//! FIDELITY.md rules 12, 13 and 16, in the documented order: signature by a published key,
//! `nbf`/`exp`, issuer and tenant, an accepted audience, the protocol's permission, then for
//! app-only tokens the Exchange service principal and a mailbox permission
//! (fidelity: ccg-missing-service-principal-or-permission), then the mailbox's own settings. Pure.

use crate::directory::{AccountKind, App, CONSUMERS_TENANT_ID, Directory, MailboxPermission, User};
use crate::sasl::BearerResponse;
use crate::token::{Claims, TokenVerifier, VerifyError};

/// A mail protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// SMTP submission.
    Smtp,
    /// IMAP4.
    Imap,
    /// POP3.
    Pop3,
}

impl Protocol {
    /// `SMTP`, `IMAP` or `POP3`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Smtp => "SMTP",
            Self::Imap => "IMAP",
            Self::Pop3 => "POP3",
        }
    }

    /// The delegated permission the protocol needs (rule 13).
    pub fn delegated_permission(self) -> &'static str {
        match self {
            Self::Smtp => "SMTP.Send",
            Self::Imap => "IMAP.AccessAsUser.All",
            Self::Pop3 => "POP.AccessAsUser.All",
        }
    }

    /// The Outlook scope a client asks for to use the protocol (error challenges name it).
    pub fn scope(self) -> &'static str {
        match self {
            Self::Smtp => "https://outlook.office.com/SMTP.Send",
            Self::Imap => "https://outlook.office.com/IMAP.AccessAsUser.All",
            Self::Pop3 => "https://outlook.office.com/POP.AccessAsUser.All",
        }
    }

    /// The application permission the protocol needs (rule 13).
    pub fn application_permission(self) -> &'static str {
        match self {
            Self::Smtp => "SMTP.SendAsApp",
            Self::Imap => "IMAP.AccessAsApp",
            Self::Pop3 => "POP.AccessAsApp",
        }
    }
}

/// The audiences Exchange accepts by default (fidelity: exchange-accepted-audiences).
pub const ACCEPTED_AUDIENCES: [&str; 2] = ["https://outlook.office.com", "https://outlook.office365.com"];

/// An accepted token: whose mailbox is open, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    /// The mailbox (`user=`).
    pub mailbox: String,
    /// The token was issued to an app acting as itself.
    pub app_only: bool,
}

/// Why Exchange refused a token. Only the simulation knows this: the wire says `535 5.7.3` or
/// `NO AUTHENTICATE failed.` whatever the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The token did not verify.
    Token(VerifyError),
    /// `iss` or `tid` names another tenant or issuer.
    Issuer(String),
    /// `aud` is not an Exchange audience.
    Audience(String),
    /// Neither the delegated nor the application permission for the protocol.
    Permission(Protocol),
    /// `user=` names no mailbox of the tenant.
    UnknownMailbox(String),
    /// A delegated token used for another user's mailbox.
    NotTheOwner {
        /// `user=`.
        mailbox: String,
        /// The token's `upn`.
        owner: String,
    },
    /// An app-only token whose app has no Exchange service principal.
    ServicePrincipalMissing,
    /// An app-only token whose app has no permission on the mailbox.
    MailboxPermissionMissing,
    /// SMTP AUTH is off for the organisation (FIDELITY.md rule 14).
    SmtpAuthDisabledForTenant,
    /// SMTP AUTH is off for the mailbox, which overrides the tenant.
    SmtpAuthDisabledForMailbox,
    /// IMAP or POP is off for the mailbox (`Set-CASMailbox -ImapEnabled/-PopEnabled $false`).
    ProtocolDisabledForMailbox(Protocol),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Token(error) => write!(f, "{error}"),
            Self::Issuer(issuer) => write!(f, "issuer {issuer} is not this tenant's"),
            Self::Audience(aud) => write!(f, "aud {aud} is not an Exchange Online audience"),
            Self::Permission(protocol) => write!(
                f,
                "the token has neither scp {} nor role {}",
                protocol.delegated_permission(),
                protocol.application_permission()
            ),
            Self::UnknownMailbox(mailbox) => write!(f, "no mailbox {mailbox} in the tenant"),
            Self::NotTheOwner { mailbox, owner } => {
                write!(f, "a token of {owner} cannot open the mailbox {mailbox}")
            }
            Self::ServicePrincipalMissing => {
                f.write_str("the app's service principal is not registered in Exchange Online")
            }
            Self::MailboxPermissionMissing => {
                f.write_str("the app's service principal has no permission on the mailbox")
            }
            Self::SmtpAuthDisabledForTenant => f.write_str("SMTP AUTH is disabled for the tenant"),
            Self::SmtpAuthDisabledForMailbox => f.write_str("SMTP AUTH is disabled for the mailbox"),
            Self::ProtocolDisabledForMailbox(protocol) => {
                write!(f, "{} is disabled for the mailbox", protocol.name())
            }
        }
    }
}

/// Checks `response` (the SASL `user=` and token) for `protocol` at `now`.
pub fn check(
    directory: &Directory,
    verifier: &TokenVerifier,
    protocol: Protocol,
    response: &BearerResponse,
    now: i64,
) -> Result<Access, Refusal> {
    let claims = verifier.verify(&response.token, now).map_err(Refusal::Token)?;
    check_issuer(directory, &claims)?;
    check_audience(directory, &claims)?;
    let app_only = claims.is_app_only();
    let permitted = if app_only {
        claims
            .roles()
            .any(|role| role == protocol.application_permission())
    } else {
        claims
            .scopes()
            .any(|scope| scope == protocol.delegated_permission())
    };
    if !permitted {
        return Err(Refusal::Permission(protocol));
    }
    let mailbox = directory
        .user(&response.user)
        .ok_or_else(|| Refusal::UnknownMailbox(response.user.clone()))?;
    if app_only {
        let app = directory
            .app_by_client_id(&claims.appid)
            .filter(|app| app.exchange_service_principal)
            .ok_or(Refusal::ServicePrincipalMissing)?;
        if !app_may_open(app, protocol) {
            return Err(Refusal::MailboxPermissionMissing);
        }
    } else {
        let owner = claims.upn.clone().unwrap_or_default();
        if !owner.eq_ignore_ascii_case(&mailbox.upn) {
            return Err(Refusal::NotTheOwner {
                mailbox: response.user.clone(),
                owner,
            });
        }
    }
    check_mailbox_settings(directory, mailbox, protocol)?;
    Ok(Access {
        mailbox: mailbox.upn.clone(),
        app_only,
    })
}

fn check_issuer(directory: &Directory, claims: &Claims) -> Result<(), Refusal> {
    // Personal accounts sign in through the consumers tenant (fidelity: consumer-outlook-com-oauth).
    let personal = claims.tid == CONSUMERS_TENANT_ID
        && claims
            .upn
            .as_deref()
            .and_then(|upn| directory.user(upn))
            .is_some_and(|user| user.account == AccountKind::Personal);
    let tenant_id = if personal {
        CONSUMERS_TENANT_ID
    } else {
        directory.tenant.id.as_str()
    };
    let issuers = [
        format!("https://sts.windows.net/{tenant_id}/"),
        format!("https://login.microsoftonline.com/{tenant_id}/v2.0"),
    ];
    if claims.tid != *tenant_id || !issuers.contains(&claims.iss) {
        return Err(Refusal::Issuer(claims.iss.clone()));
    }
    Ok(())
}

fn check_audience(directory: &Directory, claims: &Claims) -> Result<(), Refusal> {
    // fidelity: exchange-accepted-audiences (Graph in both forms refused; the unknown ones only
    // with tenant.exchange_extra_audiences)
    let accepted = ACCEPTED_AUDIENCES.contains(&claims.aud.as_str())
        || directory.tenant.exchange_extra_audiences.contains(&claims.aud);
    if accepted {
        Ok(())
    } else {
        Err(Refusal::Audience(claims.aud.clone()))
    }
}

/// Mailbox permissions an app-only login needs: FullAccess for IMAP and POP; for SMTP, FullAccess
/// or SendAs (fidelity: ccg-outlook365-default-imap-pop, ccg-smtp-sendasapp).
fn app_may_open(app: &App, protocol: Protocol) -> bool {
    let permissions = &app.mailbox_permissions;
    match protocol {
        Protocol::Smtp => {
            permissions.contains(&MailboxPermission::FullAccess)
                || permissions.contains(&MailboxPermission::SendAs)
        }
        Protocol::Imap | Protocol::Pop3 => permissions.contains(&MailboxPermission::FullAccess),
    }
}

/// The mailbox's protocol settings come after the token: the mailbox override needs to know the
/// mailbox (fidelity: smtp-auth-disabled-tenant, smtp-auth-disabled-mailbox).
fn check_mailbox_settings(directory: &Directory, mailbox: &User, protocol: Protocol) -> Result<(), Refusal> {
    match protocol {
        Protocol::Smtp if !directory.smtp_auth_enabled_for(mailbox) => {
            let overridden = mailbox.smtp_client_authentication != crate::directory::MailboxSetting::Tenant;
            Err(if overridden {
                Refusal::SmtpAuthDisabledForMailbox
            } else {
                Refusal::SmtpAuthDisabledForTenant
            })
        }
        Protocol::Imap if !mailbox.imap_enabled => Err(Refusal::ProtocolDisabledForMailbox(protocol)),
        Protocol::Pop3 if !mailbox.pop_enabled => Err(Refusal::ProtocolDisabledForMailbox(protocol)),
        _ => Ok(()),
    }
}

#[cfg(test)]
#[path = "access_tests.rs"]
mod tests;
