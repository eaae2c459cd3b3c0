//! XOAUTH2 and OAUTHBEARER client responses, both directions. Pure functions, no I/O.
//!
//! XOAUTH2 (fidelity: xoauth2-wire-format): `user=` user `^Aauth=Bearer ` token `^A^A`, base64
//! encoded on the wire. OAUTHBEARER ([RFC 7628 §3.1](https://www.rfc-editor.org/rfc/rfc7628#section-3.1)):
//! a GS2 header `n,a=user,` then `^Aauth=Bearer token^A^A`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// A decoded SASL bearer-token response: who the client says it is, and its token.
#[derive(Clone, PartialEq, Eq)]
pub struct BearerResponse {
    /// The `user=` (XOAUTH2) or `a=` (OAUTHBEARER) value: the mailbox to open.
    pub user: String,
    /// The access token.
    pub token: String,
}

impl std::fmt::Debug for BearerResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BearerResponse")
            .field("user", &self.user)
            .field("token", &"<redacted>")
            .finish()
    }
}

/// A SASL mechanism (or Basic authentication command) a client used, as the journal records it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Mechanism {
    /// Google's and Microsoft's `XOAUTH2`.
    Xoauth2,
    /// RFC 7628's `OAUTHBEARER`.
    OauthBearer,
    /// SASL `PLAIN` (RFC 4616): a password.
    Plain,
    /// SMTP `AUTH LOGIN`, IMAP `LOGIN`, POP3 `USER`/`PASS`: a password.
    Login,
    /// Anything else, as the client named it (upper case).
    Other(String),
}

impl Mechanism {
    /// Reads a mechanism name, case-insensitively.
    pub fn from_name(name: &str) -> Self {
        match name.to_ascii_uppercase().as_str() {
            "XOAUTH2" => Self::Xoauth2,
            "OAUTHBEARER" => Self::OauthBearer,
            "PLAIN" => Self::Plain,
            "LOGIN" => Self::Login,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The mechanism's name (`XOAUTH2`, `LOGIN`).
    pub fn name(&self) -> &str {
        match self {
            Self::Xoauth2 => "XOAUTH2",
            Self::OauthBearer => "OAUTHBEARER",
            Self::Plain => "PLAIN",
            Self::Login => "LOGIN",
            Self::Other(other) => other,
        }
    }

    /// Returns true for the password mechanisms (Basic authentication).
    pub fn is_password(&self) -> bool {
        matches!(self, Self::Plain | Self::Login)
    }
}

impl From<BearerMechanism> for Mechanism {
    fn from(bearer: BearerMechanism) -> Self {
        match bearer {
            BearerMechanism::Xoauth2 => Self::Xoauth2,
            BearerMechanism::OauthBearer => Self::OauthBearer,
        }
    }
}

/// The two bearer-token SASL mechanisms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BearerMechanism {
    /// Google's and Microsoft's `XOAUTH2`.
    Xoauth2,
    /// RFC 7628's `OAUTHBEARER`.
    OauthBearer,
}

impl BearerMechanism {
    /// Reads a mechanism name, case-insensitively.
    pub fn from_name(name: &str) -> Option<Self> {
        if name.eq_ignore_ascii_case("XOAUTH2") {
            Some(Self::Xoauth2)
        } else if name.eq_ignore_ascii_case("OAUTHBEARER") {
            Some(Self::OauthBearer)
        } else {
            None
        }
    }

    /// `XOAUTH2` or `OAUTHBEARER`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Xoauth2 => "XOAUTH2",
            Self::OauthBearer => "OAUTHBEARER",
        }
    }

    /// Decodes and parses a base64 client response for this mechanism.
    pub fn parse(self, encoded: &[u8]) -> Option<BearerResponse> {
        let decoded = decode_base64(encoded)?;
        match self {
            Self::Xoauth2 => parse_xoauth2(&decoded),
            Self::OauthBearer => parse_oauthbearer(&decoded),
        }
    }
}

/// Encodes an XOAUTH2 initial client response, base64 included.
pub fn encode_xoauth2(user: &str, token: &str) -> String {
    STANDARD.encode(format!("user={user}\x01auth=Bearer {token}\x01\x01"))
}

/// Encodes an OAUTHBEARER initial client response, base64 included.
pub fn encode_oauthbearer(user: &str, token: &str) -> String {
    STANDARD.encode(format!("n,a={user},\x01auth=Bearer {token}\x01\x01"))
}

/// Encodes a SASL PLAIN response ([RFC 4616](https://www.rfc-editor.org/rfc/rfc4616)), base64
/// included: no authorization identity, `user`, `password`.
pub fn encode_plain(user: &str, password: &str) -> String {
    STANDARD.encode(format!("\0{user}\0{password}"))
}

/// Returns the authentication identity of a base64 SASL PLAIN response (`authzid NUL authcid NUL
/// password`), or nothing when it is not one. The password is never returned.
pub fn plain_user(encoded: &[u8]) -> String {
    decode_base64(encoded)
        .unwrap_or_default()
        .split(|byte| *byte == 0)
        .nth(1)
        .map(|part| String::from_utf8_lossy(part).into_owned())
        .unwrap_or_default()
}

/// Encodes bytes as a SASL line carries them (standard base64, padded): `AUTH LOGIN`'s user name
/// and password are sent so.
pub fn encode_base64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Decodes base64 text as sent on a SASL line; `None` if it is not base64.
pub fn decode_base64(line: &[u8]) -> Option<Vec<u8>> {
    STANDARD.decode(line.trim_ascii()).ok()
}

/// Parses a decoded XOAUTH2 response; `None` for anything else.
pub fn parse_xoauth2(response: &[u8]) -> Option<BearerResponse> {
    let text = std::str::from_utf8(response).ok()?;
    let body = text.strip_suffix("\x01\x01")?;
    let (user_field, auth_field) = body.split_once('\x01')?;
    let user = user_field.strip_prefix("user=")?;
    let token = strip_bearer(auth_field)?;
    Some(BearerResponse {
        user: user.to_owned(),
        token: token.to_owned(),
    })
}

/// Parses a decoded OAUTHBEARER response; `None` for anything else.
pub fn parse_oauthbearer(response: &[u8]) -> Option<BearerResponse> {
    let text = std::str::from_utf8(response).ok()?;
    let (gs2_header, rest) = text.split_once('\x01')?;
    let mut gs2_fields = gs2_header.split(',');
    let flag = gs2_fields.next()?;
    if !matches!(flag, "n" | "y") && !flag.starts_with("p=") {
        return None;
    }
    let user = gs2_fields.next()?.strip_prefix("a=").unwrap_or_default();
    let token = rest
        .strip_suffix("\x01\x01")?
        .split('\x01')
        .find_map(strip_bearer)?;
    Some(BearerResponse {
        user: user.to_owned(),
        token: token.to_owned(),
    })
}

fn strip_bearer(field: &str) -> Option<&str> {
    let value = field.strip_prefix("auth=")?;
    let scheme_len = "Bearer ".len();
    if value.len() > scheme_len && value[..scheme_len].eq_ignore_ascii_case("Bearer ") {
        Some(&value[scheme_len..])
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_microsofts_documented_example() {
        // fidelity: xoauth2-wire-format, the example on Microsoft's page.
        assert_eq!(
            encode_xoauth2(
                "test@contoso.onmicrosoft.com",
                "EwBAAl3BAAUFFpUAo7J3Ve0bjLBWZWCclRC3EoAA"
            ),
            "dXNlcj10ZXN0QGNvbnRvc28ub25taWNyb3NvZnQuY29tAWF1dGg9QmVhcmVyIEV3QkFBbDNCQUFVRkZwVUFvN0ozVmUwYmpMQldaV0NjbFJDM0VvQUEBAQ=="
        );
    }

    #[test]
    fn round_trips_both_mechanisms() {
        let xoauth2 = decode_base64(encode_xoauth2("a@b.c", "tok").as_bytes()).unwrap();
        let bearer = decode_base64(encode_oauthbearer("a@b.c", "tok").as_bytes()).unwrap();

        let expected = BearerResponse {
            user: "a@b.c".into(),
            token: "tok".into(),
        };
        assert_eq!(parse_xoauth2(&xoauth2), Some(expected.clone()));
        assert_eq!(parse_oauthbearer(&bearer), Some(expected));
    }

    #[test]
    fn rejects_malformed_responses() {
        for response in [
            &b""[..],
            b"user=a\x01auth=Bearer tok\x01",
            b"user=a\x01auth=Basic tok\x01\x01",
            b"usr=a\x01auth=Bearer tok\x01\x01",
            b"user=a\x01auth=Bearer \x01\x01",
            b"\xff\xfe",
        ] {
            assert_eq!(parse_xoauth2(response), None, "{response:?}");
        }
        assert_eq!(decode_base64(b"not base64!"), None);
    }

    #[test]
    fn plain_responses_name_their_user() {
        let encoded = encode_plain("adele@contoso.onmicrosoft.com", "secret");
        assert_eq!(plain_user(encoded.as_bytes()), "adele@contoso.onmicrosoft.com");
        assert_eq!(plain_user(b"not base64!"), "");
    }

    #[test]
    fn debug_never_shows_the_token() {
        let response = BearerResponse {
            user: "a@b.c".into(),
            token: "secret-token".into(),
        };
        assert!(!format!("{response:?}").contains("secret-token"));
    }
}
