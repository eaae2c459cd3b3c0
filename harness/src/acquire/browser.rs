//! The browser's part of the authorization-code flow and of admin consent: following the simulated
//! platform's redirect, or a loopback redirect listener for a person's sign-in (RFC 8252 §7.3).

use std::time::Duration;

use oauth2::CsrfToken;
use tokio::io::AsyncReadExt as _;

use super::http::progress;
use super::types::{AcquireError, Denial, EntraError};
use crate::secret::Secret;

/// How long one connection to the redirect listener may take to send its request line: a
/// browser's idle pre-connection must not hold up the real redirect.
const REQUEST_LINE_TIMEOUT: Duration = Duration::from_secs(5);

/// The loopback redirect listener (RFC 8252 §7.3): `http://localhost:PORT` on 127.0.0.1 and, where
/// the machine has IPv6, on [::1] at the same port, since `localhost` may resolve to either.
pub(super) struct RedirectListener {
    v4: tokio::net::TcpListener,
    v6: Option<tokio::net::TcpListener>,
    /// The port both listen on.
    pub(super) port: u16,
}

impl RedirectListener {
    /// Binds `port` (0: a free one) on both loopback addresses.
    pub(super) async fn bind(port: u16) -> Result<Self, AcquireError> {
        let v4 = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|error| AcquireError::Http(format!("binding the redirect listener: {error}")))?;
        let port = v4
            .local_addr()
            .map_err(|error| AcquireError::Http(error.to_string()))?
            .port();
        let v6 = tokio::net::TcpListener::bind(("::1", port)).await.ok();
        Ok(Self { v4, v6, port })
    }

    async fn accept(&self) -> std::io::Result<tokio::net::TcpStream> {
        let v6 = async {
            match &self.v6 {
                Some(listener) => listener.accept().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            accepted = self.v4.accept() => accepted.map(|(stream, _)| stream),
            accepted = v6 => accepted.map(|(stream, _)| stream),
        }
    }
}

/// Shows the URL (or, with `follow`, plays the browser against a simulated platform), then
/// waits for the redirect back to the loopback listener whose `state` is `state`, and returns it.
/// A person can instead paste the address bar's final URL, or the AADSTS line of an error page
/// Entra shows instead of redirecting (RFC 6749 §4.1.2.1), on standard input. Nothing outlives
/// the wait: the listener and every connection to it are closed when it ends, however it ends.
pub(super) async fn loopback_redirect(
    http: &oauth2::reqwest::Client,
    url: url::Url,
    browser: crate::live::Browser,
    sign_in_timeout: Duration,
    listener: RedirectListener,
    state: &str,
) -> Result<Result<url::Url, Denial>, AcquireError> {
    use crate::live::Browser;
    let mut delivery = None;
    let mut pasted = None;
    progress("signing in through the loopback redirect listener");
    match browser {
        Browser::Follow => {
            let location = match authorize_redirect(http, &url).await? {
                Ok(location) => location,
                Err(denial) => return Ok(Err(denial)),
            };
            // Deliver the redirect to our own listener, as the browser would.
            let http = http.clone();
            delivery = Some(AbortOnDrop(tokio::spawn(async move {
                let _ = http.get(location.as_str()).send().await;
            })));
        }
        Browser::Print | Browser::System => {
            progress(&format!(
                "Sign in at this address; the harness waits {} s for the redirect. If the browser \
                 stops on an error page instead, paste its AADSTS line here (or the address bar's \
                 final URL) and press Enter:\n  {url}",
                sign_in_timeout.as_secs()
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
            pasted = Some(pasted_lines().lock().await);
        }
    }
    if let Some(lines) = pasted.as_mut() {
        // Lines typed while nobody was waiting belong to no sign-in.
        while lines.try_recv().is_ok() {}
    }
    let received = tokio::time::timeout(
        sign_in_timeout,
        receive_redirect(&listener, state, pasted.as_deref_mut()),
    )
    .await;
    drop(delivery);
    match received {
        Ok(result) => result,
        Err(_) => Err(AcquireError::Authorize(format!(
            "no sign-in within {} s (live.toml's `sign_in_timeout`)",
            sign_in_timeout.as_secs()
        ))),
    }
}

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Standard input, line by line, read by one thread for the whole run: a person's pastes.
fn pasted_lines() -> &'static tokio::sync::Mutex<tokio::sync::mpsc::UnboundedReceiver<String>> {
    static LINES: std::sync::OnceLock<tokio::sync::Mutex<tokio::sync::mpsc::UnboundedReceiver<String>>> =
        std::sync::OnceLock::new();
    LINES.get_or_init(|| {
        let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
        std::thread::spawn(move || {
            for line in std::io::stdin().lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        tokio::sync::Mutex::new(receiver)
    })
}

/// Serves the listener until the redirect this sign-in waits for arrives, or a person pastes
/// it or the error page's AADSTS line. Each connection is read in a task of its own, with a short
/// deadline, so an idle or stray connection holds nothing up.
async fn receive_redirect(
    listener: &RedirectListener,
    state: &str,
    mut pasted: Option<&mut tokio::sync::mpsc::UnboundedReceiver<String>>,
) -> Result<Result<url::Url, Denial>, AcquireError> {
    let (targets, mut arrived) = tokio::sync::mpsc::unbounded_channel::<url::Url>();
    let mut connections = tokio::task::JoinSet::new();
    let state = state.to_owned();
    loop {
        let paste = async {
            match pasted.as_deref_mut() {
                Some(lines) => lines.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            accepted = listener.accept() => {
                let Ok(stream) = accepted else { continue };
                let targets = targets.clone();
                let state = state.clone();
                connections.spawn(async move {
                    let _ = tokio::time::timeout(REQUEST_LINE_TIMEOUT, answer(stream, &state, &targets)).await;
                });
            }
            Some(target) = arrived.recv() => return Ok(Ok(target)),
            Some(line) = paste => match read_pasted(&line) {
                Some(result) => return Ok(result),
                None => progress("not understood: paste the address bar's URL (http://localhost:...) or the error page's AADSTS line"),
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// Reads one request from the listener and answers it: the redirect this sign-in waits for (its
/// `state`, or an error, which Entra may send without one) is passed on; anything else gets 404.
async fn answer(
    stream: tokio::net::TcpStream,
    state: &str,
    targets: &tokio::sync::mpsc::UnboundedSender<url::Url>,
) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let mut reader = tokio::io::BufReader::new(stream);
    let mut request_line = String::new();
    if (&mut reader)
        .take(8192)
        .read_line(&mut request_line)
        .await
        .is_err()
    {
        return;
    }
    let target = request_line.split_whitespace().nth(1).unwrap_or_default();
    let redirect = url::Url::parse(&format!("http://localhost{target}"))
        .ok()
        .filter(|url| parameter(url, "error").is_some() || parameter(url, "state").as_deref() == Some(state));
    let (status, page) = match &redirect {
        Some(url) if parameter(url, "error").is_some() => (
            "200 OK",
            "mailscope received the sign-in's error; the case records it. You can close this window.",
        ),
        Some(_) => (
            "200 OK",
            "mailscope received the sign-in. You can close this window.",
        ),
        None => ("404 Not Found", "This is not the redirect mailscope waits for."),
    };
    let page = format!("<!DOCTYPE html><html><body><p>{page}</p></body></html>");
    let _ = reader
        .get_mut()
        .write_all(
            format!(
                "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
                page.len()
            )
            .as_bytes(),
        )
        .await;
    if let Some(url) = redirect {
        let _ = targets.send(url);
    }
}

/// A person's paste: the final redirect URL, or the AADSTS line of the error page Entra showed.
fn read_pasted(line: &str) -> Option<Result<url::Url, Denial>> {
    let line = line.trim();
    if let Ok(url) = url::Url::parse(line)
        && (parameter(&url, "code").is_some()
            || parameter(&url, "error").is_some()
            || parameter(&url, "admin_consent").is_some())
    {
        return Some(Ok(url));
    }
    let mut error = error_from_page(line)?;
    error.error_description = error
        .error_description
        .map(|text| format!("{text} (as the person who signed in reported it)"));
    Some(Err(Denial {
        stage: "authorize",
        http_status: None,
        error,
    }))
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
        .map_err(|error| AcquireError::Http(super::http::error_chain(&error)))?;
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
    // An error redirect may come without `state` (Entra's do when it cannot trust the request):
    // the error is read first. A `state` that is there must be this request's.
    let returned_state = parameter("state");
    let error = parameter("error");
    if returned_state.as_deref() != Some(state.secret().as_str())
        && (error.is_none() || returned_state.is_some())
    {
        return Err(AcquireError::Authorize(
            "a redirect whose state does not match the request".into(),
        ));
    }
    let Some(error) = error else {
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
    fn a_paste_is_a_redirect_url_or_an_error_pages_aadsts_line() {
        let url = read_pasted(" http://localhost:53682/?code=1.Axyz&state=abc ")
            .unwrap()
            .unwrap();
        assert_eq!(parameter(&url, "code").as_deref(), Some("1.Axyz"));
        let denial = read_pasted(
            "AADSTS50011: The redirect URI 'http://localhost:1' specified in the request does not match.",
        )
        .unwrap()
        .unwrap_err();
        assert_eq!(denial.code(), "AADSTS50011");
        assert_eq!(denial.stage, "authorize");
        assert!(read_pasted("hello").is_none());
        assert!(read_pasted("https://example.com/").is_none());
    }

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
