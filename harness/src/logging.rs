//! Logging for the `mailscope` binary: `RUST_LOG` selects what is printed (the simulation's
//! decisions at `info`, each connection's dialogue at `trace`), on standard error, with secrets
//! scrubbed from every line whatever crate wrote it.
//!
//! Scrubbing is a last line of defence: no event of mailscope's carries a token, but a dependency
//! at `trace` might. Every line is searched for the shapes of secrets (a signed JWT, a base64
//! XOAUTH2 or OAUTHBEARER response, `Bearer` credentials, Entra's refresh tokens) and for the
//! secrets this process holds (`Secret` values registered once logging is on).

use std::io::Write;
use std::sync::{Mutex, OnceLock};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// Secrets this process holds, while logging is on.
static KNOWN: OnceLock<Mutex<Vec<String>>> = OnceLock::new();

/// Installs the subscriber, when `RUST_LOG` asks for anything.
pub fn init() {
    let Ok(filter) = EnvFilter::try_from_default_env() else {
        return;
    };
    let _ = KNOWN.set(Mutex::new(Vec::new()));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(ScrubbingStderr)
        .try_init();
}

/// Remembers a secret to scrub, when logging is on (otherwise nothing is kept).
pub fn remember(secret: &str) {
    if secret.len() < 8 {
        return;
    }
    if let Some(known) = KNOWN.get()
        && let Ok(mut known) = known.lock()
        && !known.iter().any(|value| value == secret)
    {
        known.push(secret.to_owned());
    }
}

/// Standard error, through [`scrub`].
#[derive(Debug, Clone, Copy)]
struct ScrubbingStderr;

impl<'a> MakeWriter<'a> for ScrubbingStderr {
    type Writer = Scrubber;

    fn make_writer(&'a self) -> Self::Writer {
        Scrubber(Vec::new())
    }
}

/// Collects one event's text and writes it scrubbed when dropped.
#[derive(Debug)]
struct Scrubber(Vec<u8>);

impl Write for Scrubber {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Scrubber {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.0);
        let mut scrubbed = scrub(&text);
        if let Some(known) = KNOWN.get()
            && let Ok(known) = known.lock()
        {
            for secret in known.iter() {
                scrubbed = scrubbed.replace(secret.as_str(), "<secret redacted>");
            }
        }
        let _ = std::io::stderr().lock().write_all(scrubbed.as_bytes());
    }
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+' | '/' | '=' | '~' | '%')
}

/// Replaces every word that has the shape of a secret with `<redacted>`: a signed JWT (two dots,
/// starting `eyJ`), a base64 XOAUTH2 response (`dXNlcj`, base64 of `user=`) or OAUTHBEARER one
/// (`bixh`, of `n,a`), an opaque personal-account token (`EwA`), a refresh token (`0.A…`, `1.A…`),
/// and whatever follows `Bearer `, `password=`, `client_secret=`, `refresh_token=`, `code=`.
pub fn scrub(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(is_token_char) {
        out.push_str(&rest[..start]);
        let word_len = rest[start..]
            .find(|c: char| !is_token_char(c))
            .unwrap_or(rest.len() - start);
        let word = &rest[start..start + word_len];
        out.push_str(&scrub_word(word));
        rest = &rest[start + word_len..];
        let bearer = out.ends_with("Bearer") || out.ends_with("bearer");
        if bearer && rest.starts_with(' ') {
            out.push(' ');
            rest = &rest[1..];
            let next = rest.find(|c: char| !is_token_char(c)).unwrap_or(rest.len());
            if next > 0 {
                out.push_str("<redacted>");
                rest = &rest[next..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn scrub_word(word: &str) -> String {
    for key in [
        "password=",
        "client_secret=",
        "refresh_token=",
        "code=",
        "access_token=",
        "device_code=",
    ] {
        if let Some(position) = word.find(key) {
            let value_start = position + key.len();
            let value_end = word[value_start..]
                .find('&')
                .map_or(word.len(), |end| value_start + end);
            if value_end > value_start {
                return format!(
                    "{}<redacted>{}",
                    &word[..value_start],
                    scrub_word(&word[value_end..])
                );
            }
        }
    }
    // A secret may follow `name=` inside a word (`token=eyJ…`): try every such start.
    let starts = std::iter::once(0).chain(word.match_indices('=').map(|(index, _)| index + 1));
    for start in starts {
        if is_secret_shaped(&word[start..]) {
            return format!("{}<redacted>", &word[..start]);
        }
    }
    word.to_owned()
}

fn is_secret_shaped(word: &str) -> bool {
    let long = word.len() >= 24;
    let jwt = word.starts_with("eyJ") && word.matches('.').count() >= 2;
    let sasl = long && (word.starts_with("dXNlcj") || word.starts_with("bixh") || word.starts_with("eSxh"));
    let opaque = long && word.starts_with("EwA");
    let refresh = long && (word.starts_with("0.A") || word.starts_with("1.A"));
    jwt || sasl || opaque || refresh
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrubs_every_shape_of_secret_and_leaves_the_rest() {
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0.c2lnbmF0dXJlc2lnbmF0dXJl";
        let line = format!(
            "Wrote: AUTH XOAUTH2 dXNlcj1hZGVsZUBjb250b3NvLm9ubWljcm9zb2Z0LmNvbQFhdXRo token={jwt} \
             Authorization: Bearer abc.def-ghi body=grant_type=password&password=hunter2hunter2&scope=x \
             refresh 1.AXYZabcdefghijklmnopqrstuvwxyz0123 kept: 535 5.7.3 Authentication unsuccessful"
        );

        let scrubbed = scrub(&line);

        for secret in [jwt, "dXNlcj1h", "abc.def-ghi", "hunter2", "1.AXYZ"] {
            assert!(!scrubbed.contains(secret), "{secret} in {scrubbed}");
        }
        assert!(
            scrubbed.contains("535 5.7.3 Authentication unsuccessful"),
            "{scrubbed}"
        );
        assert!(
            scrubbed.contains("grant_type=password&password=<redacted>&scope=x"),
            "{scrubbed}"
        );
    }
}
