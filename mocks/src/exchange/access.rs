//! Decides whether Exchange Online lets a bearer token open a mailbox over a protocol, in the
//! documented order: the signature by a published key, then the claims (lifetime, issuer and
//! tenant, an accepted audience, the protocol's permission), then the mailbox (its owner, or for
//! app-only tokens the service principal and a mailbox permission), then the mailbox's own
//! settings. Pure.
//!
//! [`check_claims`] is the claims-level entry point: `mailscope decode` calls it on a token it
//! cannot verify the signature of, and [`check`] calls it after verifying.

use crate::decision::{Decision, Part, Rule};
use crate::directory::{
    AccountKind, App, AppOnlyAccess, CONSUMERS_TENANT_ID, Directory, MailboxPermission, MailboxSetting, User,
};
use crate::sasl::BearerResponse;
use crate::token::{Claims, TokenVerifier, VerifyError};

/// Rule: which audiences Exchange accepts.
pub const EXCHANGE_AUDIENCES: Rule = Rule {
    id: "exchange-audiences",
    part: Part::Exchange,
    title: "Exchange accepts only Exchange audiences: https://outlook.office.com and https://outlook.office365.com",
    text: "SMTP, IMAP and POP accept a token only when its `aud` is `https://outlook.office.com` \
           or `https://outlook.office365.com`. Microsoft Graph, in either form, is refused, and so \
           are audiences no source shows Exchange accepting (`https://ps.outlook.com`, Exchange's \
           application id); `tenant.exchange_extra_audiences` admits more, to reproduce reports \
           that disagree. The refusal is the protocol's plain authentication failure: nothing on \
           the wire says the audience was the cause.",
    cases: &[
        "exchange-accepted-audiences",
        "deleg-graph-prefixed-smtp",
        "deleg-bare-imap-scope",
        "ccg-graph-default-to-imap",
        "ccg-ps-outlook-default",
    ],
    sources: &[],
};

/// Rule: the token checks before the mailbox.
pub const TOKEN_CHECKS: Rule = Rule {
    id: "exchange-token-checks",
    part: Part::Exchange,
    title: "Exchange checks the signature, the lifetime, the issuer and the protocol's permission",
    text: "In this order: an RS256 signature by a key of the identity platform's JWKS (`none`, \
           HMAC and unknown `kid` are refused); `nbf` and `exp`, with five minutes of clock skew; \
           `iss` and `tid` naming the tenant (personal accounts: the consumers tenant); the \
           audience (rule `exchange-audiences`); then the protocol's permission: SMTP needs `scp` \
           SMTP.Send or the role SMTP.SendAsApp, IMAP IMAP.AccessAsUser.All or IMAP.AccessAsApp, POP \
           POP.AccessAsUser.All or POP.AccessAsApp.",
    cases: &[
        "smtp-xoauth2-rejected",
        "imap-xoauth2-rejected",
        "pop-xoauth2-rejected",
        "deleg-outlook-imap-pop-smtp-one-token",
        "ccg-smtp-sendasapp",
        "xoauth2-wire-format",
    ],
    sources: &[
        "https://learn.microsoft.com/en-us/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth",
    ],
};

/// Rule: whose mailbox a token opens.
pub const MAILBOX_ACCESS: Rule = Rule {
    id: "mailbox-access",
    part: Part::Exchange,
    title: "A delegated token opens its owner's mailbox; an app-only token needs Exchange's service principal and a mailbox permission",
    text: "XOAUTH2's `user=` names the mailbox to open. A delegated token opens only the mailbox \
           of its `upn`, or over IMAP and POP a mailbox its owner holds FullAccess on \
           (`user.full_access`: a shared mailbox, named by its own address in `user=`). The \
           retired `delegate\\shared` form is no longer supported and fails authentication (the \
           reply is inferred: the sources say only that the form stopped working). An app-only \
           token opens a mailbox only when the app's service principal \
           is registered in Exchange (`New-ServicePrincipal`) and holds a permission on it: \
           FullAccess for IMAP and POP, FullAccess or SendAs for SMTP. Without the service \
           principal the authentication fails; without the permission IMAP authenticates but \
           cannot connect (rule `imap-not-connected`).",
    cases: &[
        "ccg-missing-service-principal-or-permission",
        "ccg-outlook365-default-imap-pop",
        "imap-shared-mailbox",
        "imap-authenticated-not-connected",
    ],
    sources: &[
        "https://learn.microsoft.com/en-us/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth#use-client-credentials-grant-flow-to-authenticate-smtp-imap-and-pop-connections",
        "https://github.com/simonrob/email-oauth2-proxy/blob/main/emailproxy.config",
    ],
};

/// Rule: the per-protocol switches of the tenant and the mailbox.
pub const PROTOCOL_SWITCHES: Rule = Rule {
    id: "protocol-switches",
    part: Part::Exchange,
    title: "SMTP AUTH, IMAP and POP can be switched off; the mailbox's SMTP AUTH setting overrides the tenant's",
    text: "SMTP AUTH can be disabled for the organisation (`Set-TransportConfig \
           -SmtpClientAuthenticationDisabled`, also implied by Entra security defaults) and per \
           mailbox (`Set-CASMailbox -SmtpClientAuthenticationDisabled`); the mailbox's explicit \
           setting wins. Either refuses XOAUTH2 too, with a 535 5.7.139 naming the Tenant or the \
           Mailbox. IMAP and POP are switched per mailbox (`-ImapEnabled`, `-PopEnabled`): IMAP \
           then authenticates but cannot connect, POP fails the authentication.",
    cases: &[
        "smtp-auth-disabled-tenant",
        "smtp-auth-disabled-mailbox",
        "imap-authenticated-not-connected",
        "basic-auth-policy-per-protocol",
    ],
    sources: &[
        "https://learn.microsoft.com/en-us/exchange/clients-and-mobile-in-exchange-online/authenticated-client-smtp-submission",
    ],
};

/// Rule: which protocols accept app-only tokens, by era.
pub(crate) const APP_ONLY_SUPPORT: Rule = Rule {
    id: "app-only-support",
    part: Part::Exchange,
    title: "App-only tokens open IMAP and POP since June 2022, and SMTP since July 2023",
    text: "Exchange Online first accepted only delegated tokens (authorization code and device \
           code, 2020). Client credentials came to IMAP and POP on 2022-06-30 and to SMTP on \
           2023-07-10; before that an app-only token got the protocol's plain failure. The \
           simulation models today (`tenant.app_only_access = \"all\"`); `\"imap-and-pop\"` and \
           `\"none\"` reproduce the earlier reports.",
    cases: &[
        "launch-flows-2020",
        "ccg-smtp-before-support",
        "ccg-smtp-sendasapp",
    ],
    sources: &[],
};

/// A mail protocol.
///
/// ```
/// use mailscope_mocks::Protocol;
///
/// assert_eq!(Protocol::Imap.delegated_permission(), "IMAP.AccessAsUser.All");
/// assert_eq!(Protocol::Smtp.scope(), "https://outlook.office.com/SMTP.Send");
/// ```
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

    /// The delegated permission the protocol needs (rule `exchange-token-checks`).
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

    /// The application permission the protocol needs (rule `exchange-token-checks`).
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

/// Why Exchange refused an authentication. Only the simulation knows this: the wire says
/// `535 5.7.3` or `NO AUTHENTICATE failed.` whatever the reason.
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
    /// SMTP AUTH is off for the organisation.
    SmtpAuthDisabledForTenant,
    /// SMTP AUTH is off for the mailbox, which overrides the tenant.
    SmtpAuthDisabledForMailbox,
    /// IMAP or POP is off for the mailbox (`Set-CASMailbox -ImapEnabled/-PopEnabled $false`).
    ProtocolDisabledForMailbox(Protocol),
    /// IMAP authenticated the token, but the session cannot open the mailbox (rule
    /// `imap-not-connected`); the inner refusal says why.
    NotConnected(Box<Refusal>),
    /// The SASL response is not what the mechanism defines.
    MalformedResponse,
    /// The client cancelled the exchange with `*`.
    Cancelled,
    /// A mechanism the front door does not accept.
    MechanismNotAccepted(String),
    /// POP3's XOAUTH2 with the response on the AUTH line.
    InlineResponse,
    /// A SASL response line longer than the front door takes.
    ResponseTooLong(usize),
    /// `user=` in the retired `delegate\\shared` form.
    MailboxSyntax(String),
    /// An app-only token where the tenant's era does not accept one for the protocol.
    AppOnlyNotSupported(Protocol),
    /// A password, where Basic authentication is off.
    BasicAuthDisabled,
    /// A password, after Basic SMTP AUTH was removed for good.
    BasicAuthRetired,
    /// A password, where security defaults block Basic authentication.
    SecurityDefaults,
    /// A password, where Conditional Access blocks the user's sign-in or demands MFA.
    ConditionalAccess,
    /// A wrong password, or no such user.
    WrongCredentials,
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
            Self::NotConnected(inner) => write!(f, "authenticated but not connected: {inner}"),
            Self::MalformedResponse => {
                f.write_str("the XOAUTH2 response is not base64 of user=…^Aauth=Bearer …^A^A")
            }
            Self::Cancelled => f.write_str("the client cancelled the exchange"),
            Self::MechanismNotAccepted(mechanism) => {
                write!(f, "{mechanism} is not accepted by Exchange Online")
            }
            Self::InlineResponse => {
                f.write_str("the initial response was sent inline; Exchange's POP wants two lines")
            }
            Self::ResponseTooLong(length) => write!(f, "the response line is {length} characters long"),
            Self::MailboxSyntax(user) => write!(f, "user={user} uses the retired delegate\\mailbox form"),
            Self::AppOnlyNotSupported(protocol) => {
                write!(
                    f,
                    "{} does not accept app-only tokens in this tenant's era",
                    protocol.name()
                )
            }
            Self::BasicAuthDisabled => f.write_str("basic authentication is disabled"),
            Self::BasicAuthRetired => f.write_str("basic authentication is retired for client submission"),
            Self::SecurityDefaults => f.write_str("security defaults block basic authentication"),
            Self::ConditionalAccess => f.write_str("Conditional Access blocks the user's password sign-in"),
            Self::WrongCredentials => f.write_str("the user name or password is wrong"),
        }
    }
}

/// What the claims are checked against: the tenant that must have issued them, and the
/// audiences accepted besides Exchange's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimChecks {
    /// The `tid` the token must carry (the consumers tenant for a personal account).
    pub tenant_id: String,
    /// Audiences accepted besides the two Outlook ones (`tenant.exchange_extra_audiences`).
    pub extra_audiences: Vec<String>,
}

impl ClaimChecks {
    /// The checks of `directory`'s Exchange for `claims`: personal accounts of the directory are
    /// issued by the consumers tenant (fidelity: consumer-outlook-com-oauth).
    pub fn for_directory(directory: &Directory, claims: &Claims) -> Self {
        let personal = claims.tid == CONSUMERS_TENANT_ID
            && claims
                .upn
                .as_deref()
                .and_then(|upn| directory.user(upn))
                .is_some_and(|user| user.account == AccountKind::Personal);
        Self {
            tenant_id: if personal {
                CONSUMERS_TENANT_ID.to_owned()
            } else {
                directory.tenant.id.clone()
            },
            extra_audiences: directory.tenant.exchange_extra_audiences.clone(),
        }
    }

    /// Checks that trust the token's own `tid`: for a token read offline, whose tenant is unknown.
    pub fn trusting_token_tenant(claims: &Claims) -> Self {
        Self {
            tenant_id: claims.tid.clone(),
            extra_audiences: Vec::new(),
        }
    }
}

/// Checks `response` (the SASL `user=` and token) for `protocol` at `now`, recording each step.
pub fn check(
    directory: &Directory,
    verifier: &TokenVerifier,
    protocol: Protocol,
    response: &BearerResponse,
    now: i64,
    decisions: &mut Vec<Decision>,
) -> Result<Access, Refusal> {
    let claims = match verifier.verify_signature(&response.token) {
        Ok(claims) => claims,
        Err(error) => {
            decisions.push(
                Decision::new(&TOKEN_CHECKS, format!("The token is refused: {error}."))
                    .with("protocol", protocol.name()),
            );
            return Err(Refusal::Token(error));
        }
    };
    let checks = ClaimChecks::for_directory(directory, &claims);
    let app_only = check_claims(&checks, &claims, protocol, now, decisions)?;
    check_mailbox(directory, &claims, app_only, protocol, &response.user, decisions)
}

/// The claim checks, after the signature: lifetime, issuer, audience, the protocol's permission.
/// Returns whether the token is app-only.
pub fn check_claims(
    checks: &ClaimChecks,
    claims: &Claims,
    protocol: Protocol,
    now: i64,
    decisions: &mut Vec<Decision>,
) -> Result<bool, Refusal> {
    let refuse = |rule: &'static Rule, refusal: Refusal, decisions: &mut Vec<Decision>| {
        decisions.push(
            Decision::new(rule, format!("The token is refused: {refusal}."))
                .with("protocol", protocol.name()),
        );
        Err(refusal)
    };
    if let Err(error) = crate::token::jwt::check_lifetime(claims, now) {
        return refuse(&TOKEN_CHECKS, Refusal::Token(error), decisions);
    }
    let issuers = [
        format!("https://sts.windows.net/{}/", checks.tenant_id),
        format!("https://login.microsoftonline.com/{}/v2.0", checks.tenant_id),
    ];
    if claims.tid != checks.tenant_id || !issuers.contains(&claims.iss) {
        return refuse(&TOKEN_CHECKS, Refusal::Issuer(claims.iss.clone()), decisions);
    }
    // fidelity: exchange-accepted-audiences (Graph in both forms refused; the unknown ones only
    // with tenant.exchange_extra_audiences)
    if ACCEPTED_AUDIENCES.contains(&claims.aud.as_str()) {
        decisions.push(
            Decision::new(
                &EXCHANGE_AUDIENCES,
                format!("aud {} is an Exchange Online audience.", claims.aud),
            )
            .with("aud", claims.aud.clone()),
        );
    } else if checks.extra_audiences.contains(&claims.aud) {
        decisions.push(
            Decision::new(
                &EXCHANGE_AUDIENCES,
                format!(
                    "aud {} is accepted: tenant.exchange_extra_audiences lists it.",
                    claims.aud
                ),
            )
            .with("aud", claims.aud.clone()),
        );
    } else {
        return refuse(
            &EXCHANGE_AUDIENCES,
            Refusal::Audience(claims.aud.clone()),
            decisions,
        );
    }
    let app_only = claims.is_app_only();
    let (permitted, needed) = if app_only {
        let needed = protocol.application_permission();
        (
            claims.roles().any(|role| role == needed),
            format!("role {needed}"),
        )
    } else {
        let needed = protocol.delegated_permission();
        (
            claims.scopes().any(|scope| scope == needed),
            format!("scp {needed}"),
        )
    };
    if !permitted {
        return refuse(&TOKEN_CHECKS, Refusal::Permission(protocol), decisions);
    }
    decisions.push(
        Decision::new(
            &TOKEN_CHECKS,
            format!(
                "The token is this tenant's, within its lifetime, and carries {needed}, which {} needs.",
                protocol.name()
            ),
        )
        .with("protocol", protocol.name()),
    );
    Ok(app_only)
}

/// Whose mailbox the token opens, and the mailbox's own settings.
fn check_mailbox(
    directory: &Directory,
    claims: &Claims,
    app_only: bool,
    protocol: Protocol,
    user: &str,
    decisions: &mut Vec<Decision>,
) -> Result<Access, Refusal> {
    let refuse = |rule: &'static Rule, refusal: Refusal, decisions: &mut Vec<Decision>| {
        decisions.push(
            Decision::new(rule, format!("The mailbox is refused: {refusal}."))
                .with("user", user)
                .with("protocol", protocol.name()),
        );
        Err(refusal)
    };
    // fidelity: imap-shared-mailbox (Office 365 no longer takes `delegate\shared`; ImapEngine #54
    // shows NO AUTHENTICATE failed).
    if user.contains('\\') {
        return refuse(
            &MAILBOX_ACCESS,
            Refusal::MailboxSyntax(user.to_owned()),
            decisions,
        );
    }
    if app_only && !app_only_supported(directory.tenant.app_only_access, protocol) {
        return refuse(
            &APP_ONLY_SUPPORT,
            Refusal::AppOnlyNotSupported(protocol),
            decisions,
        );
    }
    let shared = directory.user(user).is_none() && directory.is_shared_mailbox(user);
    let mailbox = match directory.user(user) {
        Some(mailbox) => mailbox.clone(),
        None if shared => shared_mailbox(directory, user),
        None => {
            return refuse(
                &MAILBOX_ACCESS,
                Refusal::UnknownMailbox(user.to_owned()),
                decisions,
            );
        }
    };
    if app_only {
        let Some(app) = directory
            .app_by_client_id(&claims.appid)
            .filter(|app| app.exchange_service_principal)
        else {
            return refuse(&MAILBOX_ACCESS, Refusal::ServicePrincipalMissing, decisions);
        };
        if !app_may_open(app, protocol) {
            return refuse(&MAILBOX_ACCESS, Refusal::MailboxPermissionMissing, decisions);
        }
        decisions.push(
            Decision::new(
                &MAILBOX_ACCESS,
                format!(
                    "The app's service principal is registered in Exchange and may open {}.",
                    mailbox.upn
                ),
            )
            .with("user", user),
        );
    } else {
        let owner = claims.upn.clone().unwrap_or_default();
        let delegate = directory.user(&owner).is_some_and(|owner| {
            owner
                .full_access
                .iter()
                .any(|address| address.eq_ignore_ascii_case(user))
        });
        if owner.eq_ignore_ascii_case(&mailbox.upn) {
            decisions.push(
                Decision::new(
                    &MAILBOX_ACCESS,
                    format!("user= names the token's own mailbox, {}.", mailbox.upn),
                )
                .with("user", user),
            );
        } else if delegate && protocol != Protocol::Smtp {
            // fidelity: imap-shared-mailbox: the delegate's own token, user= the shared address.
            decisions.push(
                Decision::new(
                    &MAILBOX_ACCESS,
                    format!("{owner} has FullAccess on the shared mailbox {user}: its own token opens it."),
                )
                .with("user", user),
            );
        } else {
            let refusal = Refusal::NotTheOwner {
                mailbox: user.to_owned(),
                owner,
            };
            return refuse(&MAILBOX_ACCESS, refusal, decisions);
        }
    }
    if let Err(refusal) = check_mailbox_settings(directory, &mailbox, protocol) {
        return refuse(&PROTOCOL_SWITCHES, refusal, decisions);
    }
    if protocol == Protocol::Smtp {
        let why = match mailbox.smtp_client_authentication {
            MailboxSetting::Enabled => "the mailbox's own setting",
            _ => "the tenant's setting applies",
        };
        decisions.push(Decision::new(
            &PROTOCOL_SWITCHES,
            format!("SMTP AUTH is on for {} ({why}).", mailbox.upn),
        ));
    }
    Ok(Access {
        mailbox: mailbox.upn.clone(),
        app_only,
    })
}

/// A shared mailbox as the checks see it: a mailbox with the tenant's default settings.
fn shared_mailbox(directory: &Directory, address: &str) -> User {
    let mut mailbox = directory.signed_in_user().clone();
    mailbox.upn = address.to_owned();
    mailbox.smtp_client_authentication = MailboxSetting::Tenant;
    mailbox.imap_enabled = true;
    mailbox.pop_enabled = true;
    mailbox.full_access = Vec::new();
    mailbox
}

fn app_only_supported(era: AppOnlyAccess, protocol: Protocol) -> bool {
    match era {
        AppOnlyAccess::All => true,
        AppOnlyAccess::ImapAndPop => protocol != Protocol::Smtp,
        AppOnlyAccess::None => false,
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
            let overridden = mailbox.smtp_client_authentication != MailboxSetting::Tenant;
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
