//! The browser's part of the authorization-code flow and of admin consent: following the simulated
//! platform's redirect, or a loopback redirect listener for a person's sign-in (RFC 8252 §7.3).

use std::time::Duration;

use oauth2::CsrfToken;
use tokio::io::AsyncReadExt as _;

use super::http::progress;
use super::types::{AcquireError, Denial, EntraError};
use crate::secret::Secret;

/// How long a person has to sign in before the harness gives up.
const SIGN_IN_TIMEOUT: Duration = Duration::from_secs(300);

/// Shows the URL (or, with `follow`, plays the browser against a simulated platform), then
/// waits for the redirect back to the loopback listener, and returns it.
pub(super) async fn loopback_redirect(
    http: &oauth2::reqwest::Client,
    url: url::Url,
    browser: crate::live::Browser,
    listener: tokio::net::TcpListener,
) -> Result<Result<url::Url, Denial>, AcquireError> {
    use crate::live::Browser;
    let waiting = tokio::spawn(async move { receive_redirect(listener).await });
    progress("signing in through the loopback redirect listener");
    match browser {
        Browser::Follow => {
            let location = match authorize_redirect(http, &url).await {
                Ok(Ok(location)) => location,
                Ok(Err(denial)) => {
                    waiting.abort();
                    return Ok(Err(denial));
                }
                Err(error) => {
                    waiting.abort();
                    return Err(error);
                }
            };
            // Deliver the redirect to our own listener, as the browser would.
            let _ = http.get(location.as_str()).send().await;
        }
        Browser::Print | Browser::System => {
            progress(&format!(
                "Sign in at this address; the harness waits for the redirect:\n  {url}"
            ));
            if browser == Browser::System {
                let _ = std::process::Command::new(if cfg!(target_os = "macos") {
                    "open"
                } else {
                    "xdg-open"
                })
                .arg(url.as_str())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn();
            }
        }
    }
    let redirect = tokio::time::timeout(SIGN_IN_TIMEOUT, waiting)
        .await
        .map_err(|_| AcquireError::Authorize(format!("no sign-in within {SIGN_IN_TIMEOUT:?}")))?
        .map_err(|error| AcquireError::Authorize(error.to_string()))??;
    Ok(Ok(redirect))
}

/// Accepts the browser's one request on the redirect listener and answers it with a page.
async fn receive_redirect(listener: tokio::net::TcpListener) -> Result<url::Url, AcquireError> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    loop {
        let (stream, _) = listener
            .accept()
            .await
            .map_err(|error| AcquireError::Http(error.to_string()))?;
        let mut reader = tokio::io::BufReader::new(stream);
        let mut request_line = String::new();
        let read = (&mut reader).take(8192).read_line(&mut request_line).await;
        let target = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        let page = "<!DOCTYPE html><html><body><p>mailscope received the sign-in. You can close this window.</p></body></html>";
        let _ = reader
            .get_mut()
            .write_all(
                format!("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}", page.len())
                    .as_bytes(),
            )
            .await;
        // Browsers also ask for /favicon.ico; only the redirect carries a query.
        if read.is_ok() && target.contains('?') {
            return Ok(url::Url::parse(&format!("http://localhost{target}"))?);
        }
    }
}

/// Requests the authorize URL as a browser would, without following: the redirect's target, or
/// the denial an error page shows.
pub(super) async fn authorize_redirect(
    http: &oauth2::reqwest::Client,
    url: &url::Url,
) -> Result<Result<url::Url, Denial>, AcquireError> {
    let response = http
        .get(url.as_str())
        .send()
        .await
        .map_err(|error| AcquireError::Http(error.to_string()))?;
    let status = response.status();
    let location = response
        .headers()
        .get("location")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    if let Some(location) = location {
        return Ok(Ok(url::Url::parse(&location)?));
    }
    let body = response.text().await.unwrap_or_default();
    match error_from_page(&body) {
        Some(error) => Ok(Err(Denial {
            stage: "authorize",
            http_status: Some(status.as_u16()),
            error,
        })),
        None => Err(AcquireError::Authorize(format!(
            "HTTP {status} without a redirect"
        ))),
    }
}

/// Reads the code, or the error, from the redirect back to the app.
pub(super) fn read_code(
    redirect: &url::Url,
    state: &CsrfToken,
) -> Result<Result<Secret, Denial>, AcquireError> {
    if let Some(denial) = read_error(redirect, state)? {
        return Ok(Err(denial));
    }
    let code = parameter(redirect, "code")
        .ok_or_else(|| AcquireError::Authorize("a redirect without a code".into()))?;
    Ok(Ok(Secret::new("authorization-code", code)))
}

/// Reads the administrator's answer from the redirect back from the admin consent endpoint.
pub(super) fn read_admin_consent(
    redirect: &url::Url,
    state: &CsrfToken,
) -> Result<Option<Denial>, AcquireError> {
    if let Some(denial) = read_error(redirect, state)? {
        return Ok(Some(denial));
    }
    match parameter(redirect, "admin_consent").as_deref() {
        Some(granted) if granted.eq_ignore_ascii_case("true") => Ok(None),
        _ => Err(AcquireError::Authorize(
            "a redirect from the admin consent endpoint without admin_consent=True".into(),
        )),
    }
}

fn parameter(redirect: &url::Url, name: &str) -> Option<String> {
    redirect
        .query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// Checks the redirect's `state`, then reads the error it carries, if any.
fn read_error(redirect: &url::Url, state: &CsrfToken) -> Result<Option<Denial>, AcquireError> {
    let parameter = |name: &str| parameter(redirect, name);
    if parameter("state").as_deref() != Some(state.secret().as_str()) {
        return Err(AcquireError::Authorize(
            "a redirect whose state does not match the request".into(),
        ));
    }
    let Some(error) = parameter("error") else {
        return Ok(None);
    };
    let description = parameter("error_description").unwrap_or_default();
    // The redirect carries only the description; its trailing lines hold the ids.
    let line = |label: &str| {
        description.lines().find_map(|line| {
            line.trim()
                .strip_prefix(label)
                .map(|value| value.trim().to_owned())
        })
    };
    Ok(Some(Denial {
        stage: "authorize",
        http_status: None,
        error: EntraError {
            error,
            error_codes: aadsts_code(&description).into_iter().collect(),
            trace_id: line("Trace ID:"),
            correlation_id: line("Correlation ID:"),
            timestamp: line("Timestamp:"),
            suberror: None,
            error_description: Some(description),
        },
    }))
}

/// Reads `AADSTSnnnn: text` out of an error page.
fn error_from_page(body: &str) -> Option<EntraError> {
    let start = body.find("AADSTS")?;
    let headline: String = body[start..]
        .chars()
        .take_while(|&c| c != '<' && c != '\n')
        .collect();
    Some(EntraError {
        error: "error_page".into(),
        error_codes: aadsts_code(&headline).into_iter().collect(),
        error_description: Some(headline),
        trace_id: None,
        correlation_id: None,
        timestamp: None,
        suberror: None,
    })
}

fn aadsts_code(text: &str) -> Option<u32> {
    let digits: String = text
        .strip_prefix("AADSTS")?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_codes_from_descriptions_and_pages() {
        assert_eq!(aadsts_code("AADSTS28000: Provided value"), Some(28000));
        let error = error_from_page("<p>AADSTS50011: The redirect URI 'x' ...</p>").unwrap();
        assert_eq!(error.error_codes, vec![50011]);
        assert_eq!(
            error.error_description.as_deref(),
            Some("AADSTS50011: The redirect URI 'x' ...")
        );
    }
}
