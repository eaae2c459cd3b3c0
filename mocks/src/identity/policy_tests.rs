//! Table tests of the token policy: one row per catalog case, from sign-in to the token's claims.

use rstest::rstest;

use super::*;
use crate::directory::{
    Consent, MAIL_CLIENT_ID, MAIL_DAEMON_ID, MAIL_DAEMON_SECRET, MultiResourceScopes, Permission,
    RefreshWithoutScope,
};
use crate::identity::grant::ACCESS_TOKEN_LIFETIME;
use crate::identity::refresh::REFRESH_TOKEN_INACTIVITY;
use crate::identity::request::{AuthorizeOutcome, AuthorizeRequest, PkceMethod};
use crate::token::ResourceApi;

const NOW: i64 = 1_745_690_893;
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"; // RFC 7636 Appendix B

fn sign_in(state: &mut IdentityState, directory: &Directory, scope: &str) -> Result<String, Denial> {
    sign_in_at(state, directory, scope, NOW)
}

fn sign_in_at(
    state: &mut IdentityState,
    directory: &Directory,
    scope: &str,
    now: i64,
) -> Result<String, Denial> {
    let request = AuthorizeRequest {
        tenant_segment: "organizations".into(),
        client_id: MAIL_CLIENT_ID.into(),
        response_type: "code".into(),
        redirect_uri: "http://localhost:53682/".into(),
        scope: scope.into(),
        code_challenge: Some(CHALLENGE.into()),
        code_challenge_method: Some(PkceMethod::S256),
        nonce: Some("n-0S6_WzA2Mj".into()),
        login_hint: None,
    };
    match state.authorize(directory, &request, now) {
        AuthorizeOutcome::Code(code) => Ok(code),
        AuthorizeOutcome::RedirectError(denial) | AuthorizeOutcome::ErrorPage(denial) => Err(denial),
    }
}

fn redeem(
    state: &mut IdentityState,
    directory: &Directory,
    code: &str,
    scope: Option<&str>,
) -> Result<Grant, Denial> {
    let request = TokenRequest {
        tenant_segment: "organizations".into(),
        grant_type: GrantType::AuthorizationCode,
        client_id: Some(MAIL_CLIENT_ID.into()),
        code: Some(code.into()),
        redirect_uri: Some("http://localhost:53682/".into()),
        code_verifier: Some(VERIFIER.into()),
        scope: scope.map(str::to_owned),
        ..TokenRequest::default()
    };
    state.token(directory, &request, NOW)
}

/// Signs in and redeems with the same scopes, as a mail client does.
fn code_flow(directory: &Directory, scope: &str) -> Result<Grant, Denial> {
    let mut state = IdentityState::new(directory);
    let code = sign_in(&mut state, directory, scope)?;
    redeem(&mut state, directory, &code, Some(scope))
}

fn aud_scp(grant: &Grant) -> (String, String) {
    (
        grant.claims.aud.clone(),
        grant.claims.scp.clone().unwrap_or_default(),
    )
}

/// Signs in and redeems `scope`; returns `(aud, scp)` or the AADSTS code, and the rule ids of
/// the redemption's decisions.
#[rstest]
#[case::deleg_outlook_smtp_only(
    "offline_access https://outlook.office.com/SMTP.Send",
    Ok(("https://outlook.office.com", "SMTP.Send")),
    "first-scope-wins"
)]
#[case::deleg_graph_prefixed_smtp(
    "SMTP.Send",
    Ok(("00000003-0000-0000-c000-000000000000", "SMTP.Send")),
    "scope-resource"
)]
#[case::deleg_graph_prefixed_smtp_with_prefix(
    "https://graph.microsoft.com/SMTP.Send",
    Ok(("00000003-0000-0000-c000-000000000000", "SMTP.Send")),
    "audience"
)]
#[case::deleg_mixed_graph_first(
    "offline_access Mail.Send https://outlook.office.com/SMTP.Send",
    Ok(("00000003-0000-0000-c000-000000000000", "Mail.Send SMTP.Send")),
    "first-scope-wins"
)]
#[case::deleg_mixed_outlook_first(
    "offline_access https://outlook.office.com/SMTP.Send Mail.Read",
    Ok(("https://outlook.office.com", "SMTP.Send Mail.Read")),
    "first-scope-wins"
)]
#[case::mixed_resources_at_token_endpoint_28000(
    "https://outlook.office.com/IMAP.AccessAsUser.All https://graph.microsoft.com/User.Read",
    Err(28000),
    "first-scope-wins"
)]
#[case::deleg_outlook_imap_pop_smtp_one_token(
    "offline_access https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/POP.AccessAsUser.All https://outlook.office.com/SMTP.Send",
    Ok(("https://outlook.office.com", "IMAP.AccessAsUser.All POP.AccessAsUser.All SMTP.Send")),
    "granted-permissions"
)]
fn delegated_code_flow_follows_the_catalog(
    #[case] scope: &str,
    #[case] expected: Result<(&str, &str), u32>,
    #[case] deciding_rule: &str,
) {
    let directory = Directory::contoso();
    let mut state = IdentityState::new(&directory);
    let code = sign_in(&mut state, &directory, scope).unwrap();
    state.take_decisions();

    let actual = redeem(&mut state, &directory, &code, Some(scope))
        .map(|grant| aud_scp(&grant))
        .map_err(|denial| denial.code.unwrap_or(0));

    let expected = expected.map(|(aud, scp)| (aud.to_owned(), scp.to_owned()));
    assert_eq!(actual, expected, "{scope}");
    let rules: Vec<&str> = state
        .take_decisions()
        .iter()
        .map(|decision| decision.rule.id)
        .collect();
    assert!(rules.contains(&deciding_rule), "{rules:?}");
}

#[test]
fn outlook_tokens_have_the_v1_shape() {
    // fidelity: deleg-outlook-smtp-only (iss, appid, appidacr, ver)
    let grant = code_flow(
        &Directory::contoso(),
        "offline_access https://outlook.office.com/SMTP.Send",
    )
    .unwrap();
    let claims = &grant.claims;

    assert_eq!(claims.ver, "1.0");
    assert_eq!(
        claims.iss,
        "https://sts.windows.net/8f3c1a52-6d4e-4b7a-9c21-5e0f7d3b2a64/"
    );
    assert_eq!(claims.appid, MAIL_CLIENT_ID);
    assert_eq!(claims.appidacr, "0");
    assert_eq!(claims.upn.as_deref(), Some("adele@contoso.onmicrosoft.com"));
    assert_eq!(claims.exp - claims.iat, ACCESS_TOKEN_LIFETIME);
    assert!(
        grant.refresh_token.is_some(),
        "offline_access gives a refresh token"
    );
    assert_eq!(grant.scope, "https://outlook.office.com/SMTP.Send");
}

#[test]
fn no_refresh_token_without_offline_access() {
    let grant = code_flow(&Directory::contoso(), "https://outlook.office.com/SMTP.Send").unwrap();
    assert_eq!(grant.refresh_token, None);
}

#[test]
fn reject_setting_refuses_a_bare_graph_scope_before_an_outlook_scope() {
    // fidelity: mixed-resources-at-token-endpoint-28000 (the Microsoft forum answer's side)
    let mut directory = Directory::contoso();
    directory.tenant.multi_resource_scopes = MultiResourceScopes::Reject;

    let denial = code_flow(&directory, "Mail.Send https://outlook.office.com/SMTP.Send").unwrap_err();

    assert_eq!(denial.code.unwrap_or(0), 28000);
    assert_eq!(denial.status, 400);
}

#[test]
fn admin_consent_to_graph_listed_mail_permissions_covers_outlook() {
    // fidelity: portal-permission-listing
    let mut directory = Directory::contoso();
    let app = directory.app_by_name_mut("mail-client").unwrap();
    app.consent = Consent::Admin;
    app.delegated = vec![Permission::new(ResourceApi::Graph, "SMTP.Send")];

    let grant = code_flow(&directory, "https://outlook.office.com/SMTP.Send").unwrap();
    assert_eq!(
        aud_scp(&grant),
        ("https://outlook.office.com".into(), "SMTP.Send".into())
    );

    let denial = code_flow(&directory, "https://outlook.office.com/IMAP.AccessAsUser.All").unwrap_err();
    assert_eq!(
        denial.code.unwrap_or(0),
        65001,
        "IMAP was not registered, so not consented"
    );
}

#[test]
fn no_consent_gives_aadsts65001() {
    // fidelity: consent-missing-65001
    let mut directory = Directory::contoso();
    directory.app_by_name_mut("mail-client").unwrap().consent = Consent::None;

    let denial = code_flow(&directory, "https://outlook.office.com/SMTP.Send").unwrap_err();

    assert_eq!(denial.code.unwrap_or(0), 65001);
    assert_eq!(denial.error.as_str(), "invalid_grant");
    assert!(
        denial
            .message
            .contains(&format!("'{MAIL_CLIENT_ID}' named 'Mail Client'"))
    );
}

#[test]
fn codes_are_single_use_and_pkce_bound() {
    let directory = Directory::contoso();
    let mut state = IdentityState::new(&directory);
    let code = sign_in(&mut state, &directory, "https://outlook.office.com/SMTP.Send").unwrap();

    let mut wrong_verifier = TokenRequest {
        tenant_segment: "organizations".into(),
        grant_type: GrantType::AuthorizationCode,
        client_id: Some(MAIL_CLIENT_ID.into()),
        code: Some(code.clone()),
        redirect_uri: Some("http://localhost:53682/".into()),
        code_verifier: Some("not-the-verifier".into()),
        ..TokenRequest::default()
    };
    assert_eq!(
        state
            .token(&directory, &wrong_verifier, NOW)
            .unwrap_err()
            .code
            .unwrap_or(0),
        501_481
    );

    // The refused presentation used the code up: the right verifier comes too late.
    wrong_verifier.code_verifier = Some(VERIFIER.into());
    assert_eq!(
        state
            .token(&directory, &wrong_verifier, NOW)
            .unwrap_err()
            .code
            .unwrap_or(0),
        54005
    );

    let code = sign_in(&mut state, &directory, "https://outlook.office.com/SMTP.Send").unwrap();
    let right = TokenRequest {
        code: Some(code),
        ..wrong_verifier
    };
    assert!(
        state.token(&directory, &right, NOW).is_ok(),
        "scope defaults to the sign-in's"
    );
    assert_eq!(
        state.token(&directory, &right, NOW).unwrap_err().code,
        Some(54005)
    );
}

#[test]
fn a_code_expires_after_ten_minutes_and_is_forgotten_after() {
    let directory = Directory::contoso();
    let mut state = IdentityState::new(&directory);
    let code = sign_in(&mut state, &directory, "https://outlook.office.com/SMTP.Send").unwrap();
    let request = TokenRequest {
        tenant_segment: "organizations".into(),
        grant_type: GrantType::AuthorizationCode,
        client_id: Some(MAIL_CLIENT_ID.into()),
        code: Some(code),
        redirect_uri: Some("http://localhost:53682/".into()),
        code_verifier: Some(VERIFIER.into()),
        ..TokenRequest::default()
    };

    let late = state.token(&directory, &request, NOW + 601).unwrap_err();

    assert_eq!(late.code, Some(70000));
    assert_eq!(
        late.message,
        "The provided value for the 'code' parameter is not valid. The code has expired."
    );
    // Ten minutes on, a new sign-in forgets the used code: it is then simply unknown.
    sign_in_at(
        &mut state,
        &directory,
        "https://outlook.office.com/SMTP.Send",
        NOW + 1_300,
    )
    .unwrap();
    assert_eq!(
        state.token(&directory, &request, NOW + 1_300).unwrap_err().code,
        Some(9_002_313)
    );
    assert!(state.codes.len() <= 1 && state.redeemed_codes.is_empty());
}

#[test]
fn a_code_spanning_resources_needs_a_scope_at_redemption() {
    // fidelity: code-redemption-empty-scope, authorize-multi-resource-then-split
    let directory = Directory::contoso();
    let mut state = IdentityState::new(&directory);
    let code = sign_in(
        &mut state,
        &directory,
        "offline_access User.Read https://outlook.office.com/SMTP.Send",
    )
    .unwrap();

    assert_eq!(
        redeem(&mut state, &directory, &code, None)
            .unwrap_err()
            .code
            .unwrap_or(0),
        28003
    );
    let grant = redeem(
        &mut state,
        &directory,
        &code,
        Some("offline_access https://outlook.office.com/SMTP.Send"),
    )
    .unwrap();
    assert_eq!(grant.claims.aud, "https://outlook.office.com");
}

#[test]
fn refresh_tokens_cross_resources_and_first_scope_wins() {
    // fidelity: refresh-cross-resource, refresh-multi-resource-first-wins
    let directory = Directory::contoso();
    let mut state = IdentityState::new(&directory);
    let code = sign_in(
        &mut state,
        &directory,
        "offline_access https://outlook.office.com/SMTP.Send User.Read",
    )
    .unwrap();
    let first = redeem(
        &mut state,
        &directory,
        &code,
        Some("offline_access https://outlook.office.com/SMTP.Send"),
    )
    .unwrap();
    let refresh = |state: &mut IdentityState, token: &str, scope: &str, now: i64| {
        let request = TokenRequest {
            tenant_segment: "organizations".into(),
            grant_type: GrantType::RefreshToken,
            client_id: Some(MAIL_CLIENT_ID.into()),
            refresh_token: Some(token.into()),
            scope: Some(scope.into()),
            ..TokenRequest::default()
        };
        state.token(&directory, &request, now)
    };
    let refresh_token = first.refresh_token.unwrap();

    let outlook = refresh(
        &mut state,
        &refresh_token,
        "https://outlook.office.com/SMTP.Send https://graph.microsoft.com/User.Read",
        NOW,
    )
    .unwrap();
    assert_eq!(outlook.claims.aud, "https://outlook.office.com");
    let renewed = outlook.refresh_token.clone().unwrap();
    assert_ne!(renewed, refresh_token, "each refresh returns a new refresh token");

    let denial = refresh(
        &mut state,
        &renewed,
        "https://outlook.office.com/SMTP.Send",
        NOW + REFRESH_TOKEN_INACTIVITY + 1,
    )
    .unwrap_err();
    assert_eq!(
        denial.code.unwrap_or(0),
        700_082,
        "fidelity: refresh-expired-inactivity"
    );
}

#[test]
fn confidential_clients_must_authenticate() {
    // fidelity: public-client-secret-missing
    let directory = Directory::contoso();
    let mut state = IdentityState::new(&directory);
    let mut request = TokenRequest {
        tenant_segment: "organizations".into(),
        grant_type: GrantType::RefreshToken,
        client_id: Some(MAIL_DAEMON_ID.into()),
        refresh_token: Some("unknown".into()),
        ..TokenRequest::default()
    };

    let missing = state.token(&directory, &request, NOW).unwrap_err();
    assert_eq!((missing.status, missing.code.unwrap_or(0)), (401, 7_000_218));

    request.client_secret = Some("wrong".into());
    assert_eq!(
        state
            .token(&directory, &request, NOW)
            .unwrap_err()
            .code
            .unwrap_or(0),
        7_000_215
    );

    request.client_secret = Some(MAIL_DAEMON_SECRET.into());
    assert_eq!(
        state
            .token(&directory, &request, NOW)
            .unwrap_err()
            .code
            .unwrap_or(0),
        9_002_313
    );
}

#[test]
fn unregistered_redirect_uris_get_an_error_page() {
    let directory = Directory::contoso();
    let mut state = IdentityState::new(&directory);
    let request = AuthorizeRequest {
        client_id: MAIL_CLIENT_ID.into(),
        response_type: "code".into(),
        redirect_uri: "https://evil.example/callback".into(),
        scope: "https://outlook.office.com/SMTP.Send".into(),
        ..AuthorizeRequest::default()
    };

    let outcome = state.authorize(&directory, &request, NOW);

    assert!(matches!(outcome, AuthorizeOutcome::ErrorPage(denial) if denial.code == Some(50011)));
}

// Personal accounts and the tenant aliases (`/consumers`, `/organizations`).
#[path = "policy_account_tests.rs"]
mod accounts;

/// The 2026-12 audit's findings, one per row: the request, and the refusal's code and wording.
#[rstest]
#[case::portal_permission_listing_unknown_permission(
    |_: &mut Directory| {},
    "https://outlook.office.com/SMTP.Sendd",
    650_053,
    "AADSTS650053: The application 'Mail Client' asked for scope 'SMTP.Sendd' that doesn't exist on the resource '00000002-0000-0ff1-ce00-000000000000'. Contact the app vendor."
)]
#[case::portal_permission_listing_line_feed_is_part_of_the_name(
    |_: &mut Directory| {},
    "user.read\n",
    650_053,
    "AADSTS650053: The application 'Mail Client' asked for scope 'user.read\n' that doesn't exist on the resource '00000003-0000-0000-c000-000000000000'. Contact the app vendor."
)]
#[case::ropc_exchange_conditional_access_block(
    |directory: &mut Directory| directory.tenant.conditional_access = crate::directory::ConditionalAccess::Block,
    "https://outlook.office.com/SMTP.Send",
    53003,
    "AADSTS53003: Access has been blocked by Conditional Access policies. The access policy does not allow token issuance."
)]
fn the_audits_findings_are_refused_with_the_public_texts(
    #[case] setup: fn(&mut Directory),
    #[case] scope: &str,
    #[case] code: u32,
    #[case] headline: &str,
) {
    let mut directory = Directory::contoso();
    setup(&mut directory);

    let denial = code_flow(&directory, scope).unwrap_err();

    assert_eq!((denial.code, denial.headline().as_str()), (Some(code), headline));
}

#[test]
fn a_refresh_cannot_consent_and_mfa_stops_the_non_interactive_legs() {
    // Audit F6 (AADSTS70000) and F3 (AADSTS50076 names the resource, suberror basic_action).
    let mut directory = Directory::contoso();
    let mut state = IdentityState::new(&directory);
    let code = sign_in(
        &mut state,
        &directory,
        "offline_access https://outlook.office.com/SMTP.Send",
    )
    .unwrap();
    let first = redeem(&mut state, &directory, &code, None).unwrap();
    let refresh = |state: &mut IdentityState, directory: &Directory, scope: &str| {
        let request = TokenRequest {
            tenant_segment: "organizations".into(),
            grant_type: GrantType::RefreshToken,
            client_id: Some(MAIL_CLIENT_ID.into()),
            refresh_token: first.refresh_token.clone(),
            scope: Some(scope.into()),
            ..TokenRequest::default()
        };
        state.token(directory, &request, NOW)
    };

    let unconsented = refresh(
        &mut state,
        &directory,
        "https://outlook.office.com/IMAP.AccessAsUser.All",
    )
    .unwrap_err();
    assert_eq!(unconsented.code, Some(70000));
    assert_eq!(unconsented.error.as_str(), "invalid_grant");

    directory.tenant.conditional_access = crate::directory::ConditionalAccess::Mfa;
    let mfa = refresh(&mut state, &directory, "https://outlook.office.com/SMTP.Send").unwrap_err();
    assert_eq!(
        mfa.headline(),
        "AADSTS50076: Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '00000002-0000-0ff1-ce00-000000000000'."
    );
    assert_eq!(mfa.suberror, Some("basic_action"));
    assert!(
        code_flow(&directory, "https://outlook.office.com/SMTP.Send").is_ok(),
        "the interactive sign-in passes MFA"
    );
}

#[test]
fn id_token_client_info_openid_brings_an_id_token_with_the_sign_ins_nonce() {
    // fidelity: id-token-client-info (Microsoft's ID token claims reference)
    let directory = Directory::contoso();
    let with_openid = code_flow(
        &directory,
        "openid profile offline_access https://outlook.office.com/IMAP.AccessAsUser.All",
    )
    .unwrap();
    let id_token = with_openid.id_token.expect("openid asks for an ID token");
    assert_eq!(id_token.aud, MAIL_CLIENT_ID);
    assert_eq!(id_token.nonce.as_deref(), Some("n-0S6_WzA2Mj"));
    assert_eq!(id_token.oid, with_openid.claims.oid);
    assert_eq!(
        id_token.sub, with_openid.claims.sub,
        "the pairwise subject of the access token"
    );
    assert_eq!(id_token.preferred_username, directory.signed_in_user().upn);
    assert_eq!(id_token.ver, "2.0");
    assert_eq!(id_token.exp - id_token.iat, 3600);
    let without = code_flow(&directory, "https://outlook.office.com/IMAP.AccessAsUser.All").unwrap();
    assert!(without.id_token.is_none(), "no openid, no ID token");
}

#[test]
fn login_hint_signs_in_the_user_it_names() {
    let mut directory = Directory::contoso();
    directory
        .add_user("bob@contoso.onmicrosoft.com", "bob's password")
        .unwrap();
    let mut state = IdentityState::new(&directory);
    let scope = "offline_access https://outlook.office.com/IMAP.AccessAsUser.All";
    let mut request = AuthorizeRequest {
        tenant_segment: "organizations".into(),
        client_id: MAIL_CLIENT_ID.into(),
        response_type: "code".into(),
        redirect_uri: "http://localhost:53682/".into(),
        scope: scope.into(),
        code_challenge: Some(CHALLENGE.into()),
        code_challenge_method: Some(PkceMethod::S256),
        nonce: None,
        login_hint: Some("Bob@Contoso.onmicrosoft.com".into()),
    };
    let AuthorizeOutcome::Code(code) = state.authorize(&directory, &request, NOW) else {
        panic!("bob signs in");
    };
    let grant = redeem(&mut state, &directory, &code, Some(scope)).unwrap();
    assert_eq!(grant.claims.upn.as_deref(), Some("bob@contoso.onmicrosoft.com"));

    // A hint the directory does not know leaves the sign-in to its first user.
    request.login_hint = Some("nobody@contoso.onmicrosoft.com".into());
    let AuthorizeOutcome::Code(code) = state.authorize(&directory, &request, NOW) else {
        panic!("adele signs in");
    };
    let grant = redeem(&mut state, &directory, &code, Some(scope)).unwrap();
    assert_eq!(
        grant.claims.upn.as_deref(),
        Some(directory.signed_in_user().upn.as_str())
    );
}
