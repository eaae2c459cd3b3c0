//! Token requests retry, with bounded backoff, when the platform throttles (429) or fails (5xx);
//! throttling that outlasts the retries, and Entra's loop detection, are no answer about a case.

#![expect(clippy::unwrap_used, reason = "test helpers fail the test by panicking")]

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

fn authority(server: &MockServer) -> Authority {
    Authority {
        base: url::Url::parse(&server.uri()).unwrap(),
        segment: "organizations".into(),
        client_id: "client".into(),
        client_secret: Some(Secret::new("client-secret", "secret")),
        redirect_uri: "http://localhost".into(),
        sign_in: SignIn::Simulated,
        login_hint: None,
        cache: None,
    }
}

fn client_credentials() -> TokenRequest {
    TokenRequest {
        asked: mailscope::scenario::Request::new(
            Flow::ClientCredentials,
            vec!["https://outlook.office365.com/.default".into()],
        ),
        refresh_segment: None,
        resource_owner: None,
        expected_error: None,
    }
}

#[tokio::test]
async fn throttling_past_the_retries_and_loop_detection_are_errors_never_results() {
    // Throttled on every attempt, Retry-After as an HTTP date (already past): an error.
    let throttled = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/organizations/oauth2/v2.0/token"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "Sun, 06 Nov 1994 08:49:37 GMT")
                .set_body_json(serde_json::json!({"error": "temporarily_unavailable"})),
        )
        .expect(3)
        .mount(&throttled)
        .await;
    let http = acquire::http_client(&[]).unwrap();
    let error = acquire::acquire(
        &http,
        &authority(&throttled),
        &client_credentials(),
        &Waiting::Real,
    )
    .await
    .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("the identity platform is throttling (HTTP 429, Retry-After 0 s) after 3 attempt(s)"),
        "{error}"
    );

    // AADSTS50196: this request and every later one of the run stop.
    let looping = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/organizations/oauth2/v2.0/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "error": "invalid_grant",
            "error_description": "AADSTS50196: The server terminated an operation because it encountered a client request loop.",
            "error_codes": [50196]
        })))
        .expect(1)
        .mount(&looping)
        .await;
    for _ in 0..2 {
        let error = acquire::acquire(&http, &authority(&looping), &client_credentials(), &Waiting::Real)
            .await
            .unwrap_err();
        assert!(
            error.to_string().contains("Entra detected a loop (AADSTS50196"),
            "{error}"
        );
    }
}
