//! Table tests of Exchange's token checks: one row per catalog case.

use super::*;
use crate::directory::{ADELE, CONTOSO_TENANT_ID, MAIL_CLIENT_ID, MAIL_DAEMON_ID, MailboxSetting};
use crate::token::SigningKey;

const NOW: i64 = 1_745_690_893;

fn delegated(aud: &str, scp: &str) -> Claims {
    Claims {
        aud: aud.into(),
        iss: format!("https://sts.windows.net/{CONTOSO_TENANT_ID}/"),
        iat: NOW,
        nbf: NOW,
        exp: NOW + 4346,
        acr: Some("1".into()),
        aio: None,
        amr: Some(vec!["pwd".into()]),
        app_displayname: Some("Mail Client".into()),
        appid: MAIL_CLIENT_ID.into(),
        appidacr: "0".into(),
        family_name: None,
        given_name: None,
        idtyp: Some("user".into()),
        name: None,
        oid: "3b6f0d2e-8a41-4c95-b7e3-2d9a1f5c8e06".into(),
        rh: None,
        roles: None,
        scp: Some(scp.into()),
        sub: "sub".into(),
        tid: CONTOSO_TENANT_ID.into(),
        unique_name: Some(ADELE.into()),
        upn: Some(ADELE.into()),
        uti: None,
        ver: "1.0".into(),
    }
}

fn app_only(aud: &str, roles: &[&str]) -> Claims {
    Claims {
        appid: MAIL_DAEMON_ID.into(),
        appidacr: "1".into(),
        idtyp: Some("app".into()),
        scp: None,
        roles: Some(roles.iter().map(|role| (*role).to_owned()).collect()),
        upn: None,
        unique_name: None,
        amr: None,
        acr: None,
        ..delegated(aud, "")
    }
}

fn check_claims(
    directory: &Directory,
    protocol: Protocol,
    user: &str,
    claims: &Claims,
) -> Result<Access, Refusal> {
    let key = SigningKey::test_key();
    let verifier = TokenVerifier::new(&key.jwks());
    let response = BearerResponse {
        user: user.into(),
        token: key.mint(claims),
    };
    check(directory, &verifier, protocol, &response, NOW)
}

#[test]
fn checks_tokens_as_the_catalog_documents() {
    let directory = Directory::contoso();
    let outlook = "https://outlook.office.com";
    let graph_guid = "00000003-0000-0000-c000-000000000000";
    let rows: Vec<(&str, Protocol, Claims, Result<(), Refusal>)> = vec![
        (
            "deleg-outlook-smtp-only",
            Protocol::Smtp,
            delegated(outlook, "SMTP.Send"),
            Ok(()),
        ),
        (
            "deleg-outlook-imap-pop-smtp-one-token",
            Protocol::Imap,
            delegated(outlook, "IMAP.AccessAsUser.All POP.AccessAsUser.All SMTP.Send"),
            Ok(()),
        ),
        (
            "exchange-accepted-audiences (office365)",
            Protocol::Smtp,
            delegated("https://outlook.office365.com", "SMTP.Send"),
            Ok(()),
        ),
        (
            "deleg-graph-prefixed-smtp",
            Protocol::Smtp,
            delegated(graph_guid, "SMTP.Send"),
            Err(Refusal::Audience(graph_guid.into())),
        ),
        (
            "deleg-graph-prefixed-smtp (uri form)",
            Protocol::Smtp,
            delegated("https://graph.microsoft.com", "SMTP.Send"),
            Err(Refusal::Audience("https://graph.microsoft.com".into())),
        ),
        (
            "exchange-accepted-audiences (ps.outlook.com unknown)",
            Protocol::Imap,
            app_only("https://ps.outlook.com", &["IMAP.AccessAsApp"]),
            Err(Refusal::Audience("https://ps.outlook.com".into())),
        ),
        (
            "smtp-xoauth2-rejected (no SMTP.Send)",
            Protocol::Smtp,
            delegated(outlook, "IMAP.AccessAsUser.All"),
            Err(Refusal::Permission(Protocol::Smtp)),
        ),
        (
            "ccg-outlook365-default-imap-pop",
            Protocol::Imap,
            app_only(
                "https://outlook.office365.com",
                &["IMAP.AccessAsApp", "POP.AccessAsApp"],
            ),
            Ok(()),
        ),
        (
            "ccg-smtp-sendasapp",
            Protocol::Smtp,
            app_only("https://outlook.office365.com", &["SMTP.SendAsApp"]),
            Ok(()),
        ),
        (
            "ccg-graph-default-to-imap",
            Protocol::Imap,
            app_only(graph_guid, &["Mail.Read"]),
            Err(Refusal::Audience(graph_guid.into())),
        ),
    ];
    for (case, protocol, claims, expected) in rows {
        let actual = check_claims(&directory, protocol, ADELE, &claims).map(|_| ());
        assert_eq!(actual, expected, "{case}");
    }
}

#[test]
fn expired_tokens_and_foreign_tenants_are_refused() {
    let directory = Directory::contoso();
    let mut expired = delegated("https://outlook.office.com", "SMTP.Send");
    expired.exp = NOW - 600;
    let mut foreign = delegated("https://outlook.office.com", "SMTP.Send");
    foreign.tid = "00000000-0000-0000-0000-000000000001".into();

    assert!(matches!(
        check_claims(&directory, Protocol::Smtp, ADELE, &expired),
        Err(Refusal::Token(VerifyError::Expired { .. }))
    ));
    assert!(matches!(
        check_claims(&directory, Protocol::Smtp, ADELE, &foreign),
        Err(Refusal::Issuer(_))
    ));
}

#[test]
fn a_delegated_token_opens_only_its_owners_mailbox() {
    let mut directory = Directory::contoso();
    let mut other = directory.signed_in_user().clone();
    other.upn = "megan@contoso.onmicrosoft.com".into();
    directory.users.push(other);

    let refusal = check_claims(
        &directory,
        Protocol::Smtp,
        "megan@contoso.onmicrosoft.com",
        &delegated("https://outlook.office.com", "SMTP.Send"),
    );

    assert_eq!(
        refusal,
        Err(Refusal::NotTheOwner {
            mailbox: "megan@contoso.onmicrosoft.com".into(),
            owner: ADELE.into()
        })
    );
}

#[test]
fn smtp_auth_settings_apply_after_the_token_and_the_mailbox_overrides_the_tenant() {
    // fidelity: smtp-auth-disabled-tenant, smtp-auth-disabled-mailbox
    let token = delegated("https://outlook.office.com", "SMTP.Send");
    let mut directory = Directory::contoso();
    directory.tenant.smtp_client_authentication = false;
    assert_eq!(
        check_claims(&directory, Protocol::Smtp, ADELE, &token),
        Err(Refusal::SmtpAuthDisabledForTenant)
    );

    directory.signed_in_user_mut().smtp_client_authentication = MailboxSetting::Enabled;
    assert!(check_claims(&directory, Protocol::Smtp, ADELE, &token).is_ok());

    directory.tenant.smtp_client_authentication = true;
    directory.signed_in_user_mut().smtp_client_authentication = MailboxSetting::Disabled;
    assert_eq!(
        check_claims(&directory, Protocol::Smtp, ADELE, &token),
        Err(Refusal::SmtpAuthDisabledForMailbox)
    );

    let graph = delegated("00000003-0000-0000-c000-000000000000", "SMTP.Send");
    assert!(
        matches!(
            check_claims(&directory, Protocol::Smtp, ADELE, &graph),
            Err(Refusal::Audience(_))
        ),
        "the token is checked first"
    );

    let mut security_defaults = Directory::contoso();
    security_defaults.tenant.security_defaults = true;
    assert_eq!(
        check_claims(&security_defaults, Protocol::Smtp, ADELE, &token),
        Err(Refusal::SmtpAuthDisabledForTenant)
    );
}

#[test]
fn app_only_tokens_need_the_service_principal_and_a_mailbox_permission() {
    // fidelity: ccg-missing-service-principal-or-permission
    let token = app_only("https://outlook.office365.com", &["IMAP.AccessAsApp"]);
    let mut directory = Directory::contoso();
    directory
        .app_by_name_mut("mail-daemon")
        .unwrap()
        .mailbox_permissions
        .clear();
    assert_eq!(
        check_claims(&directory, Protocol::Imap, ADELE, &token),
        Err(Refusal::MailboxPermissionMissing)
    );

    directory
        .app_by_name_mut("mail-daemon")
        .unwrap()
        .exchange_service_principal = false;
    assert_eq!(
        check_claims(&directory, Protocol::Imap, ADELE, &token),
        Err(Refusal::ServicePrincipalMissing)
    );
}
