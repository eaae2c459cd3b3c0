//! Table tests of Exchange's token checks: one row per catalog case.

use rstest::rstest;

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
    check_with_decisions(directory, protocol, user, claims).0
}

fn check_with_decisions(
    directory: &Directory,
    protocol: Protocol,
    user: &str,
    claims: &Claims,
) -> (Result<Access, Refusal>, Vec<Decision>) {
    let key = SigningKey::test_key();
    let verifier = TokenVerifier::new(&key.jwks());
    let response = BearerResponse {
        user: user.into(),
        token: key.mint(claims),
    };
    let mut decisions = Vec::new();
    let result = check(directory, &verifier, protocol, &response, NOW, &mut decisions);
    (result, decisions)
}

const OUTLOOK: &str = "https://outlook.office.com";
const OUTLOOK_365: &str = "https://outlook.office365.com";
const GRAPH_GUID: &str = "00000003-0000-0000-c000-000000000000";

/// `(protocol, claims, expected)`: the result and the rule of the deciding (last) decision.
#[rstest]
#[case::deleg_outlook_smtp_only(Protocol::Smtp, delegated(OUTLOOK, "SMTP.Send"), Ok(()), "protocol-switches")]
#[case::deleg_outlook_imap_pop_smtp_one_token(
    Protocol::Imap,
    delegated(OUTLOOK, "IMAP.AccessAsUser.All POP.AccessAsUser.All SMTP.Send"),
    Ok(()),
    "mailbox-access"
)]
#[case::exchange_accepted_audiences(Protocol::Smtp, delegated(OUTLOOK_365, "SMTP.Send"), Ok(()), "protocol-switches")]
#[case::deleg_graph_prefixed_smtp(
    Protocol::Smtp,
    delegated(GRAPH_GUID, "SMTP.Send"),
    Err(Refusal::Audience(GRAPH_GUID.into())),
    "exchange-audiences"
)]
#[case::deleg_graph_prefixed_smtp_uri_form(
    Protocol::Smtp,
    delegated("https://graph.microsoft.com", "SMTP.Send"),
    Err(Refusal::Audience("https://graph.microsoft.com".into())),
    "exchange-audiences"
)]
#[case::ccg_ps_outlook_default(
    Protocol::Imap,
    app_only("https://ps.outlook.com", &["IMAP.AccessAsApp"]),
    Err(Refusal::Audience("https://ps.outlook.com".into())),
    "exchange-audiences"
)]
#[case::smtp_xoauth2_rejected(
    Protocol::Smtp,
    delegated(OUTLOOK, "IMAP.AccessAsUser.All"),
    Err(Refusal::Permission(Protocol::Smtp)),
    "exchange-token-checks"
)]
#[case::ccg_outlook365_default_imap_pop(
    Protocol::Imap,
    app_only(OUTLOOK_365, &["IMAP.AccessAsApp", "POP.AccessAsApp"]),
    Ok(()),
    "mailbox-access"
)]
#[case::ccg_smtp_sendasapp(Protocol::Smtp, app_only(OUTLOOK_365, &["SMTP.SendAsApp"]), Ok(()), "protocol-switches")]
#[case::ccg_graph_default_to_imap(
    Protocol::Imap,
    app_only(GRAPH_GUID, &["Mail.Read"]),
    Err(Refusal::Audience(GRAPH_GUID.into())),
    "exchange-audiences"
)]
fn checks_tokens_as_the_catalog_documents(
    #[case] protocol: Protocol,
    #[case] claims: Claims,
    #[case] expected: Result<(), Refusal>,
    #[case] deciding_rule: &str,
) {
    let (actual, decisions) = check_with_decisions(&Directory::contoso(), protocol, ADELE, &claims);

    assert_eq!(actual.map(|_| ()), expected);
    assert_eq!(
        decisions.last().map(|decision| decision.rule.id),
        Some(deciding_rule)
    );
}

#[test]
fn extra_audiences_admit_a_token_and_say_why() {
    let mut directory = Directory::contoso();
    directory.tenant.exchange_extra_audiences = vec!["https://ps.outlook.com".into()];

    let (result, decisions) = check_with_decisions(
        &directory,
        Protocol::Imap,
        ADELE,
        &app_only("https://ps.outlook.com", &["IMAP.AccessAsApp"]),
    );

    assert!(result.is_ok());
    let audience = decisions
        .iter()
        .find(|decision| decision.rule.id == "exchange-audiences")
        .unwrap();
    assert!(
        audience.outcome.contains("tenant.exchange_extra_audiences"),
        "{}",
        audience.outcome
    );
}

#[test]
fn the_claims_level_checks_need_no_signature_and_no_directory() {
    let claims = delegated(GRAPH_GUID, "SMTP.Send");
    let mut decisions = Vec::new();

    let result = check_claims_level(&claims);

    assert_eq!(result, Err(Refusal::Audience(GRAPH_GUID.into())));
    let ok = super::check_claims(
        &ClaimChecks::trusting_token_tenant(&delegated(OUTLOOK, "SMTP.Send")),
        &delegated(OUTLOOK, "SMTP.Send"),
        Protocol::Smtp,
        NOW,
        &mut decisions,
    );
    assert_eq!(ok, Ok(false));
}

fn check_claims_level(claims: &Claims) -> Result<bool, Refusal> {
    super::check_claims(
        &ClaimChecks::trusting_token_tenant(claims),
        claims,
        Protocol::Smtp,
        NOW,
        &mut Vec::new(),
    )
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
