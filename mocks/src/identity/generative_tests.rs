//! Generative tests of the identity platform's policy: random scope strings and requests through
//! every grant and `/authorize`. Nothing may panic, and every refusal is an Entra error with a code.

use proptest::prelude::*;

use super::request::{AuthorizeOutcome, AuthorizeRequest, GrantType, PkceMethod, TokenRequest};
use super::state::IdentityState;
use crate::directory::{ADELE, ADELE_PASSWORD, Directory, MAIL_DAEMON_SECRET};

const NOW: i64 = 1_745_690_893;

/// A scope string built from real scopes, near misses and noise, joined as clients join them.
fn scope_string() -> impl Strategy<Value = String> {
    let word = prop_oneof![
        3 => proptest::sample::select(vec![
            "https://outlook.office.com/SMTP.Send",
            "https://outlook.office.com/IMAP.AccessAsUser.All",
            "https://outlook.office365.com/.default",
            "https://graph.microsoft.com/Mail.Send",
            "https://graph.microsoft.com/.default",
            "SMTP.Send",
            "Mail.Read",
            "offline_access",
            "openid",
            "profile",
            "email",
            ".default",
            "api://4a7c2e19-3b5d-4f60-8e12-9d0b6c4f1a37/.default",
            "00000002-0000-0ff1-ce00-000000000000/.default",
            "https://ps.outlook.com/.default",
            "https://outlook.office.com/",
            "https://",
            "user.read\n",
        ])
        .prop_map(str::to_owned),
        1 => "[ -~]{0,40}",
        1 => "\\PC{0,20}",
    ];
    (
        proptest::collection::vec(word, 0..6),
        proptest::sample::select(vec![" ", "  ", "\t", "+", "%20"]),
    )
        .prop_map(|(words, separator)| words.join(separator))
}

fn grant_type() -> impl Strategy<Value = GrantType> {
    prop_oneof![
        Just(GrantType::AuthorizationCode),
        Just(GrantType::RefreshToken),
        Just(GrantType::ClientCredentials),
        Just(GrantType::Password),
        Just(GrantType::DeviceCode),
        Just(GrantType::Missing),
        "[a-z_:]{0,20}".prop_map(GrantType::Other),
    ]
}

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("organizations".to_owned()),
        Just("common".to_owned()),
        Just("consumers".to_owned()),
        Just("8f3c1a52-6d4e-4b7a-9c21-5e0f7d3b2a64".to_owned()),
        "[ -~]{0,30}",
    ]
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(256)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_token_request_is_granted_or_refused_with_an_entra_code(
        grant_type in grant_type(),
        scope in proptest::option::of(scope_string()),
        segment in segment(),
        client in proptest::sample::select(vec!["4a7c2e19-3b5d-4f60-8e12-9d0b6c4f1a37", "9b2d51f0-6a3e-4c1d-8f47-2e8a0c6b3d95", "unknown", ""]),
        secret in proptest::option::of(proptest::sample::select(vec![MAIL_DAEMON_SECRET, "wrong"])),
        noise in "[ -~]{0,40}",
    ) {
        let directory = Directory::contoso();
        let mut state = IdentityState::new(&directory);
        let request = TokenRequest {
            tenant_segment: segment,
            grant_type,
            client_id: Some(client.to_owned()),
            client_secret: secret.map(str::to_owned),
            scope,
            code: Some(noise.clone()),
            redirect_uri: Some("http://localhost:53682/".into()),
            code_verifier: Some(noise.clone()),
            refresh_token: Some(noise.clone()),
            username: Some(ADELE.into()),
            password: Some(ADELE_PASSWORD.into()),
            device_code: Some(noise),
            ..TokenRequest::default()
        };
        if let Err(denial) = state.token(&directory, &request, NOW) {
            prop_assert!(denial.code.is_some() || !denial.message.is_empty(), "{denial:?}");
            prop_assert!((400..=503).contains(&denial.status), "{denial:?}");
        }
    }

    #[test]
    fn any_sign_in_gives_a_code_or_an_error(scope in scope_string(), segment in segment(), method in proptest::option::of(proptest::sample::select(vec!["S256", "plain", "S512"]))) {
        let directory = Directory::contoso();
        let mut state = IdentityState::new(&directory);
        let request = AuthorizeRequest {
            tenant_segment: segment,
            client_id: "4a7c2e19-3b5d-4f60-8e12-9d0b6c4f1a37".into(),
            response_type: "code".into(),
            redirect_uri: "http://localhost:53682/".into(),
            scope,
            code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()),
            code_challenge_method: method.map(|method| match method {
                "S256" => PkceMethod::S256,
                "plain" => PkceMethod::Plain,
                other => PkceMethod::Other(other.into()),
            }),
            nonce: None,
            login_hint: None,
        };
        match state.authorize(&directory, &request, NOW) {
            AuthorizeOutcome::Code(code) => prop_assert!(code.starts_with("1.A")),
            AuthorizeOutcome::RedirectError(denial) | AuthorizeOutcome::ErrorPage(denial) => {
                prop_assert!((400..=503).contains(&denial.status), "{denial:?}");
            }
        }
    }
}
