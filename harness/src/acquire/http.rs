//! The HTTP side: the client every flow uses, and the recording wrapper that keeps Entra's raw
//! error bodies and retries throttled requests.

use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

use super::types::{AcquireError, EntraError};

/// Builds the HTTP client every flow uses: no redirects (the runner plays the browser and reads
/// them), a timeout, and the given extra trust roots on top of the web PKI.
pub fn http_client(extra_roots: &[Vec<u8>]) -> Result<oauth2::reqwest::Client, AcquireError> {
    // One client per set of trust roots and process: building one (its TLS configuration, its
    // connector) cost more than a simulated case's own token request.
    static CLIENTS: std::sync::OnceLock<Mutex<Vec<ClientFor>>> = std::sync::OnceLock::new();
    let clients = CLIENTS.get_or_init(Mutex::default);
    if let Some((_, client)) = clients
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .iter()
        .find(|(roots, _)| roots == extra_roots)
    {
        return Ok(client.clone());
    }
    let client = build_http_client(extra_roots)?;
    clients
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .push((extra_roots.to_vec(), client.clone()));
    Ok(client)
}

/// A client, and the extra trust roots it was built with.
type ClientFor = (Vec<Vec<u8>>, oauth2::reqwest::Client);

fn build_http_client(extra_roots: &[Vec<u8>]) -> Result<oauth2::reqwest::Client, AcquireError> {
    // No idle connections are kept: the client outlives the runtime of any one case (the test
    // harness runs each case on its own), and a pooled connection belongs to the runtime that
    // opened it.
    build_client(extra_roots, 0)
}

/// An HTTP client that keeps idle connections: for the cases of one run, on one runtime.
pub fn pooling_http_client(extra_roots: &[Vec<u8>]) -> Result<oauth2::reqwest::Client, AcquireError> {
    build_client(extra_roots, usize::MAX)
}

fn build_client(
    extra_roots: &[Vec<u8>],
    idle_per_host: usize,
) -> Result<oauth2::reqwest::Client, AcquireError> {
    let mut builder = oauth2::reqwest::Client::builder()
        .pool_max_idle_per_host(idle_per_host)
        .redirect(oauth2::reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30));
    for der in extra_roots {
        let certificate = oauth2::reqwest::Certificate::from_der(der)
            .map_err(|error| AcquireError::Http(error.to_string()))?;
        builder = builder.add_root_certificate(certificate);
    }
    builder
        .build()
        .map_err(|error| AcquireError::Http(error.to_string()))
}

/// An HTTP client for the `oauth2` crate that remembers the last response. The crate turns
/// device-code polling errors into its own type, dropping Entra's `error_codes` (STACK.md
/// gotcha 8), and passes no status through; the raw response keeps both.
pub(super) struct RecordingClient {
    http: oauth2::reqwest::Client,
    last: Mutex<Option<(u16, Vec<u8>)>>,
    /// Why the platform was still throttling after the last retry, if it was.
    gave_up: Mutex<Option<String>>,
}

/// Until when every token request of this run waits: the platform's `Retry-After`, which holds
/// for the whole client, not only the request it answered.
static QUIET_UNTIL: Mutex<Option<tokio::time::Instant>> = Mutex::new(None);

/// The authorities where Entra detected a loop (AADSTS50196), and what it said: every later token
/// request of the run to one of them is refused before it is sent.
static STOPPED: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

/// Stops the run's token requests to `authority`, saying why.
pub(super) fn stop_run(authority: &str, why: String) {
    if let Ok(mut stopped) = STOPPED.lock()
        && !stopped.iter().any(|(known, _)| known == authority)
    {
        stopped.push((authority.to_owned(), why));
    }
}

/// Why the run's token requests to `authority` were stopped, if they were.
pub(super) fn run_stopped(authority: &str) -> Option<String> {
    let stopped = STOPPED.lock().ok()?;
    stopped
        .iter()
        .find(|(known, _)| known == authority)
        .map(|(_, why)| why.clone())
}

/// Reads `Retry-After` in both of its forms (RFC 9110 §10.2.3): seconds, or an HTTP date.
fn retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let at = time::PrimitiveDateTime::parse(value, &format).ok()?.assume_utc();
    let now = mailscope_mocks::clock::Clock::system().now();
    Some(Duration::try_from(at - now).unwrap_or(Duration::ZERO))
}

impl RecordingClient {
    pub(super) fn new(http: &oauth2::reqwest::Client) -> Self {
        Self {
            http: http.clone(),
            last: Mutex::new(None),
            gave_up: Mutex::new(None),
        }
    }

    /// Why the platform was still throttling after the retries, if it was.
    pub(super) fn gave_up(&self) -> Option<String> {
        self.gave_up.lock().ok().and_then(|gave_up| gave_up.clone())
    }

    pub(super) fn last(&self) -> Option<(u16, Vec<u8>)> {
        self.last.lock().map(|last| last.clone()).unwrap_or_default()
    }

    /// The last response as an Entra error, if it was one.
    pub(super) fn last_error(&self) -> Option<(u16, EntraError)> {
        let (status, body) = self.last()?;
        let error = serde_json::from_slice(&body).ok()?;
        (status >= 400).then_some((status, error))
    }
}

impl<'c> oauth2::AsyncHttpClient<'c> for RecordingClient {
    type Error = oauth2::HttpClientError<oauth2::reqwest::Error>;
    type Future = Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse, Self::Error>> + Send + 'c>>;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(async move {
            // A code is single-use: a second presentation would get AADSTS54005, never the token.
            let single_use =
                String::from_utf8_lossy(request.body()).contains("grant_type=authorization_code");
            // Bounded retries with backoff on throttling and server errors, honouring Retry-After.
            let mut attempt = 0u32;
            let response = loop {
                let quiet = QUIET_UNTIL.lock().ok().and_then(|until| *until);
                if let Some(until) = quiet {
                    tokio::time::sleep_until(until).await;
                }
                let response = self.http.call(request.clone()).await?;
                let status = response.status().as_u16();
                attempt += 1;
                let throttled = status == 429 || status == 503;
                let asked_wait = response
                    .headers()
                    .get("retry-after")
                    .and_then(|value| value.to_str().ok())
                    .and_then(retry_after);
                if let Some(wait) = asked_wait
                    && throttled
                    && let Ok(mut until) = QUIET_UNTIL.lock()
                {
                    let new = tokio::time::Instant::now() + wait.min(MAX_WAIT);
                    *until = Some(until.map_or(new, |old| old.max(new)));
                }
                if !(status == 429 || status >= 500) || single_use || attempt >= MAX_ATTEMPTS {
                    if throttled && let Ok(mut gave_up) = self.gave_up.lock() {
                        *gave_up = Some(format!(
                            "the identity platform is throttling (HTTP {status}{}) after {attempt} attempt(s): \
                             no answer about this case; the run waits before its next token request",
                            asked_wait.map_or(String::new(), |wait| format!(
                                ", Retry-After {} s",
                                wait.as_secs()
                            ))
                        ));
                    }
                    break response;
                }
                let wait = asked_wait
                    .unwrap_or(Duration::from_secs(1 << attempt))
                    .min(MAX_WAIT);
                progress(&format!(
                    "the identity platform answered HTTP {status}; retrying in {} s",
                    wait.as_secs()
                ));
                tokio::time::sleep(wait).await;
            };
            if let Ok(mut last) = self.last.lock() {
                *last = Some((response.status().as_u16(), response.body().clone()));
            }
            Ok(response)
        })
    }
}

/// Token requests are tried at most this many times on HTTP 429 and 5xx.
const MAX_ATTEMPTS: u32 = 3;

/// The longest wait a `Retry-After` is honoured for; a longer one stops the case instead.
const MAX_WAIT: Duration = Duration::from_secs(300);

/// Reports progress on the terminal for interactive runs.
#[expect(clippy::print_stderr, reason = "interactive progress goes to standard error")]
pub fn progress(message: &str) {
    eprintln!("{message}");
}

/// An error with its causes, as `error: cause: cause` (a TLS failure names the certificate problem).
pub(super) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
