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
}

impl RecordingClient {
    pub(super) fn new(http: &oauth2::reqwest::Client) -> Self {
        Self {
            http: http.clone(),
            last: Mutex::new(None),
        }
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
            // Bounded retries with backoff on throttling and server errors, honouring Retry-After.
            let mut attempt = 0u32;
            let response = loop {
                let response = self.http.call(request.clone()).await?;
                let status = response.status().as_u16();
                attempt += 1;
                if !(status == 429 || status >= 500) || attempt >= MAX_ATTEMPTS {
                    break response;
                }
                let wait = response
                    .headers()
                    .get("retry-after")
                    .and_then(|value| value.to_str().ok())
                    .and_then(|value| value.trim().parse::<u64>().ok())
                    .unwrap_or(1 << attempt)
                    .min(30);
                progress(&format!(
                    "the identity platform answered HTTP {status}; retrying in {wait} s"
                ));
                tokio::time::sleep(Duration::from_secs(wait)).await;
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

/// Reports progress on the terminal for interactive runs.
#[expect(clippy::print_stderr, reason = "interactive progress goes to standard error")]
pub fn progress(message: &str) {
    eprintln!("{message}");
}
