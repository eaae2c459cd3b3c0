//! Basic authentication (passwords) at Exchange's front doors: the SMTP AUTH switches, the tenant's
//! stage on Microsoft's retirement schedule, security defaults, Conditional Access, and the
//! password itself (rules `basic-auth`, `security-defaults`). Pure.

use crate::decision::{Decision, Part, Rule};
use crate::directory::{AccountKind, BasicAuthStage, ConditionalAccess, Directory, MailboxSetting};

use super::access::{Access, PROTOCOL_SWITCHES, Protocol, Refusal};

/// Rule: passwords at the front doors, and Basic SMTP AUTH's retirement.
pub(crate) const BASIC_AUTH: Rule = Rule {
    id: "basic-auth",
    part: Part::Exchange,
    title: "Passwords: refused on IMAP and POP; on SMTP, accepted until Basic SMTP AUTH is disabled, then retired",
    text: "The password paths still exist on the wire: SMTP `AUTH LOGIN` (advertised; `AUTH PLAIN` \
           is not), IMAP `LOGIN` and `AUTHENTICATE PLAIN`, POP3 `USER`/`PASS` and `AUTH PLAIN`. Work \
           tenants lost Basic authentication for IMAP and POP in 2022: IMAP answers `NO LOGIN \
           failed.`, POP its one authentication failure. Personal accounts lost it everywhere in \
           September 2024: IMAP answers `NO Basic authentication is disabled.` and closes with BYE, \
           SMTP `535 5.7.139 … basic authentication is disabled.` For work tenants, SMTP follows \
           Microsoft's schedule (Exchange Team blog, 2026-01-27), chosen by \
           `tenant.smtp_basic_auth`: `\"enabled\"` until the end of December 2026 (the right password \
           gets `235 2.7.0`, a wrong one `535 5.7.139 … the user credentials were incorrect.`), \
           `\"disabled\"` by default after it (`535 5.7.139 … basic authentication is disabled.`; an \
           administrator can enable it again), `\"retired\"` after the final removal, to be dated in \
           the second half of 2027 (`550 5.7.30 Basic authentication is not supported for Client \
           Submission.`). The order: the SMTP AUTH switches with their own texts, then the stage, \
           then security defaults, then Conditional Access, then the password. None of this ever \
           affects XOAUTH2.",
    cases: &[
        "smtp-basic-auth-responses",
        "smtp-basic-retirement-timeline",
        "imap-basic-login-disabled",
        "consumer-basic-auth-removed",
        "basic-auth-policy-per-protocol",
    ],
    sources: &[
        "https://techcommunity.microsoft.com/blog/exchange/updated-exchange-online-smtp-auth-basic-authentication-deprecation-timeline/4489835",
        "https://techcommunity.microsoft.com/t5/exchange-team-blog/exchange-online-to-retire-basic-auth-for-client-submission-smtp/ba-p/4114750",
        "https://github.com/codassassin/email-bomber-v2.0/issues/1",
        "https://learn.microsoft.com/en-us/exchange/clients-and-mobile-in-exchange-online/deprecation-of-basic-authentication-exchange-online",
    ],
};

/// Rule: the two effects of security defaults.
pub(crate) const SECURITY_DEFAULTS: Rule = Rule {
    id: "security-defaults",
    part: Part::Exchange,
    title: "Security defaults switch SMTP AUTH off for the organisation and block every password",
    text: "Two documented effects, modelled together when `tenant.security_defaults = true`. SMTP \
           AUTH is off for the organisation, so XOAUTH2 on SMTP gets the Tenant's 535 5.7.139, \
           unless the mailbox's own SMTP AUTH switch is on, which overrides the organisation as \
           always (Microsoft's SMTP AUTH page). And Basic authentication is blocked on every \
           protocol whatever the switches say (OfficeDocs-Exchange PR #2740: the option, \"in \
           conjunction with Basic Authentication, is not compatible with Microsoft Security \
           Defaults\"): a password on SMTP gets `535 5.7.139 … user is locked by your \
           organization's security defaults policy.` (a secondary source: unverified), and on IMAP \
           and POP their Basic refusal. XOAUTH2 on IMAP and POP is not affected.",
    cases: &["smtp-auth-disabled-tenant", "basic-auth-policy-per-protocol"],
    sources: &[
        "https://github.com/MicrosoftDocs/OfficeDocs-Exchange/pull/2740",
        "https://learn.microsoft.com/en-us/exchange/clients-and-mobile-in-exchange-online/authenticated-client-smtp-submission",
        "https://learn.microsoft.com/en-us/entra/fundamentals/security-defaults",
    ],
};

/// Decides a password at SMTP `AUTH LOGIN`, recording each step.
pub(crate) fn check_smtp_password(
    directory: &Directory,
    username: &str,
    password: &str,
    decisions: &mut Vec<Decision>,
) -> Result<Access, Refusal> {
    let user = directory.user(username);
    let refuse = |rule: &'static Rule, refusal: Refusal, why: &str, decisions: &mut Vec<Decision>| {
        decisions
            .push(Decision::new(rule, format!("The password is refused: {why}.")).with("user", username));
        Err(refusal)
    };
    let smtp_on = match user {
        Some(user) => directory.smtp_auth_enabled_for(user),
        None => directory.tenant.allows_smtp_auth(),
    };
    if !smtp_on {
        let mailbox_switch =
            user.is_some_and(|user| user.smtp_client_authentication != MailboxSetting::Tenant);
        let refusal = if mailbox_switch {
            Refusal::SmtpAuthDisabledForMailbox
        } else {
            Refusal::SmtpAuthDisabledForTenant
        };
        let why = refusal.to_string();
        return refuse(&PROTOCOL_SWITCHES, refusal, &why, decisions);
    }
    if user.is_some_and(|user| user.account == AccountKind::Personal) {
        let why = "personal accounts lost Basic authentication in September 2024";
        return refuse(&BASIC_AUTH, Refusal::BasicAuthDisabled, why, decisions);
    }
    match directory.tenant.smtp_basic_auth {
        BasicAuthStage::Retired => {
            let why = "Basic SMTP AUTH is retired (tenant.smtp_basic_auth = \"retired\")";
            return refuse(&BASIC_AUTH, Refusal::BasicAuthRetired, why, decisions);
        }
        BasicAuthStage::Disabled => {
            let why = "Basic SMTP AUTH is disabled (tenant.smtp_basic_auth = \"disabled\")";
            return refuse(&BASIC_AUTH, Refusal::BasicAuthDisabled, why, decisions);
        }
        BasicAuthStage::Enabled => {}
    }
    if directory.tenant.security_defaults {
        let why = "security defaults block Basic authentication, whatever the SMTP AUTH switches say";
        return refuse(&SECURITY_DEFAULTS, Refusal::SecurityDefaults, why, decisions);
    }
    let needs_mfa = user.is_some_and(|user| user.mfa);
    if directory.tenant.conditional_access != ConditionalAccess::None || needs_mfa {
        let why = "Conditional Access blocks the sign-in, or demands MFA a password cannot give";
        return refuse(&BASIC_AUTH, Refusal::ConditionalAccess, why, decisions);
    }
    match user {
        Some(user) if user.password == password => {
            decisions.push(
                Decision::new(
                    &BASIC_AUTH,
                    format!(
                        "Basic SMTP AUTH is enabled and the password is {}'s: 235 2.7.0.",
                        user.upn
                    ),
                )
                .with("user", username),
            );
            Ok(Access {
                mailbox: user.upn.clone(),
                app_only: false,
            })
        }
        _ => refuse(
            &BASIC_AUTH,
            Refusal::WrongCredentials,
            "the user name or password is wrong",
            decisions,
        ),
    }
}

/// Decides a password at IMAP or POP3, which never take one; returns the refusal and whether the
/// account is a personal one (IMAP then says so, and closes).
pub(crate) fn refuse_password(
    directory: &Directory,
    protocol: Protocol,
    username: &str,
    decisions: &mut Vec<Decision>,
) -> (Refusal, bool) {
    let personal = directory
        .user(username)
        .is_some_and(|user| user.account == AccountKind::Personal);
    let why = if personal {
        "personal accounts lost Basic authentication in September 2024"
    } else {
        "work tenants lost Basic authentication for IMAP and POP in 2022"
    };
    let mut decision = Decision::new(
        &BASIC_AUTH,
        format!(
            "The password is refused: {why}. {} takes only XOAUTH2.",
            protocol.name()
        ),
    )
    .with("user", username);
    if directory.tenant.security_defaults {
        decision = decision.with("tenant.security_defaults", "true");
    }
    decisions.push(decision);
    (Refusal::BasicAuthDisabled, personal)
}
