//! Token requests retry, with bounded backoff, when the platform throttles (429) or fails (5xx).

use mailscope::acquire::{self, Authority, SignIn, TokenOutcome, TokenRequest, Waiting};
use mailscope::scenario::types::Flow;
use mailscope::secret::Secret;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn a_throttled_token_request_is_retried_after_retry_after() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/organizations/oauth2/v2.0/token"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .expect(1)
        .named("the throttled first attempt")
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/organizations/oauth2/v2.0/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "token_type": "Bearer", "expires_in": 3599, "access_token": "opaque-test-token"
        })))
        .expect(1)
        .named("the retry")
        .mount(&server)
        .await;
    let authority = Authority {
        base: url::Url::parse(&server.uri()).unwrap(),
        segment: "organizations".into(),
        client_id: "client".into(),
        client_secret: Some(Secret::new("client-secret", "secret")),
        redirect_uri: "http://localhost".into(),
        sign_in: SignIn::Simulated,
        login_hint: None,
        cache: None,
    };
    let request = TokenRequest {
        asked: mailscope::scenario::Request::new(
            Flow::ClientCredentials,
            vec!["https://outlook.office365.com/.default".into()],
        ),
        refresh_segment: None,
        resource_owner: None,
        expected_error: None,
    };

    let outcome = acquire::acquire(
        &acquire::http_client(&[]).unwrap(),
        &authority,
        &request,
        &Waiting::Real,
    )
    .await
    .unwrap();

    assert!(
        matches!(outcome, TokenOutcome::Issued(token) if token.access_token.secret() == "opaque-test-token")
    );
}
