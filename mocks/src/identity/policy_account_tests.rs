//! Table tests of the token policy at the tenant aliases: personal accounts, and refresh tokens
//! that stay with the alias that issued them.

use super::*;
use crate::directory::{AccountKind, CONSUMERS_TENANT_ID, SignInAudience};

fn sign_in_at(
    state: &mut IdentityState,
    directory: &Directory,
    segment: &str,
    scope: &str,
) -> Result<String, Denial> {
    let request = AuthorizeRequest {
        tenant_segment: segment.into(),
        client_id: MAIL_CLIENT_ID.into(),
        response_type: "code".into(),
        redirect_uri: "http://localhost".into(),
        scope: scope.into(),
        ..AuthorizeRequest::default()
    };
    match state.authorize(directory, &request, NOW) {
        AuthorizeOutcome::Code(code) => Ok(code),
        AuthorizeOutcome::RedirectError(denial) | AuthorizeOutcome::ErrorPage(denial) => Err(denial),
    }
}

fn redeem_at(
    state: &mut IdentityState,
    directory: &Directory,
    segment: &str,
    code: &str,
    scope: &str,
) -> Result<Grant, Denial> {
    let request = TokenRequest {
        tenant_segment: segment.into(),
        grant_type: GrantType::AuthorizationCode,
        client_id: Some(MAIL_CLIENT_ID.into()),
        code: Some(code.into()),
        redirect_uri: Some("http://localhost".into()),
        scope: Some(scope.into()),
        ..TokenRequest::default()
    };
    state.token(directory, &request, NOW)
}

#[test]
fn personal_accounts_need_a_consumer_enabled_app_and_get_opaque_tokens() {
    // fidelity: consumer-app-not-enabled, consumer-outlook-com-oauth, consumer-graph-scopes-imap
    let mut directory = Directory::contoso();
    directory.signed_in_user_mut().account = AccountKind::Personal;
    directory.signed_in_user_mut().upn = "adele@outlook.com".into();
    let scope = "offline_access https://outlook.office.com/IMAP.AccessAsUser.All";
    let mut state = IdentityState::new(&directory);

    let refused = sign_in_at(&mut state, &directory, "consumers", scope).unwrap_err();
    assert_eq!(
        (refused.error.as_str(), refused.code),
        ("unauthorized_client", None)
    );
    assert_eq!(
        sign_in_at(&mut state, &directory, "organizations", scope)
            .unwrap_err()
            .code,
        Some(50020)
    );

    directory.app_by_name_mut("mail-client").unwrap().sign_in_audience =
        SignInAudience::OrganizationsAndPersonal;
    let code = sign_in_at(&mut state, &directory, "consumers", scope).unwrap();
    let grant = redeem_at(&mut state, &directory, "consumers", &code, scope).unwrap();
    assert!(grant.opaque);
    assert_eq!(grant.claims.tid, CONSUMERS_TENANT_ID);

    let mixed = "openid email User.Read https://outlook.office.com/IMAP.AccessAsUser.All";
    assert_eq!(
        sign_in_at(&mut state, &directory, "consumers", mixed)
            .unwrap_err()
            .code,
        Some(70011)
    );
}

#[test]
fn refresh_tokens_stay_with_their_tenant_alias_and_the_scope_setting_decides_without_scope() {
    // fidelity: refresh-wrong-tenant-alias, refresh-without-scope
    let mut directory = Directory::contoso();
    let scope = "offline_access https://outlook.office.com/SMTP.Send";
    let refresh = |directory: &Directory, segment: &str, scope: Option<&str>| {
        let mut state = IdentityState::new(directory);
        let code = sign_in_at(
            &mut state,
            directory,
            "organizations",
            "offline_access https://outlook.office.com/SMTP.Send",
        )
        .unwrap();
        let first = redeem_at(
            &mut state,
            directory,
            "organizations",
            &code,
            "offline_access https://outlook.office.com/SMTP.Send",
        )
        .unwrap();
        let request = TokenRequest {
            tenant_segment: segment.into(),
            grant_type: GrantType::RefreshToken,
            client_id: Some(MAIL_CLIENT_ID.into()),
            refresh_token: first.refresh_token,
            scope: scope.map(str::to_owned),
            ..TokenRequest::default()
        };
        state
            .token(directory, &request, NOW)
            .map(|grant| grant.claims.aud)
            .map_err(|denial| denial.code)
    };

    assert_eq!(
        refresh(&directory, "consumers", Some(scope)),
        Err(Some(7_000_012))
    );
    assert_eq!(
        refresh(&directory, "organizations", None),
        Ok("https://outlook.office.com".into())
    );
    directory.tenant.refresh_without_scope = RefreshWithoutScope::RequireScope;
    assert_eq!(refresh(&directory, "organizations", None), Err(Some(900_144)));
    directory.tenant.refresh_without_scope = RefreshWithoutScope::TokenForItself;
    assert_eq!(refresh(&directory, "organizations", None), Err(Some(90009)));
}
