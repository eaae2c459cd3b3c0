//! Decoding a token's header and claims for the record, without trusting them.
//!
//! The harness never verifies signatures: it records what the token says. An opaque token (a
//! personal account's `EwB…`, fidelity: consumer-outlook-com-oauth) has no claims to record.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

/// A JWT's decoded header and payload.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedToken {
    /// The JOSE header.
    pub header: BTreeMap<String, Value>,
    /// The claims.
    pub claims: BTreeMap<String, Value>,
}

impl DecodedToken {
    /// Returns a string claim.
    pub fn string(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    /// Returns `scp` split on spaces.
    pub fn scopes(&self) -> Option<Vec<String>> {
        self.string("scp")
            .map(|scp| scp.split_ascii_whitespace().map(str::to_owned).collect())
    }

    /// Returns `roles`.
    pub fn roles(&self) -> Option<Vec<String>> {
        self.claims.get("roles").and_then(Value::as_array).map(|roles| {
            roles
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
    }
}

/// Decodes `token` if it is a JWT; `None` for an opaque token.
pub fn decode_unverified(token: &str) -> Option<DecodedToken> {
    let mut parts = token.split('.');
    let (header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let decode = |part: &str| -> Option<BTreeMap<String, Value>> {
        let bytes = URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()?;
        serde_json::from_slice(&bytes).ok()
    };
    Some(DecodedToken {
        header: decode(header)?,
        claims: decode(payload)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_jwts_and_refuses_opaque_tokens() {
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","kid":"k"}"#);
        let payload = URL_SAFE_NO_PAD
            .encode(r#"{"aud":"https://outlook.office.com","scp":"SMTP.Send Mail.Read","roles":["a"]}"#);

        let decoded = decode_unverified(&format!("{header}.{payload}.sig")).unwrap();

        assert_eq!(decoded.string("aud"), Some("https://outlook.office.com"));
        assert_eq!(decoded.scopes().unwrap(), ["SMTP.Send", "Mail.Read"]);
        assert_eq!(decoded.roles().unwrap(), ["a"]);
        assert_eq!(decoded.header["kid"], "k");
        assert_eq!(
            decode_unverified("EwBAAl3BAAUFFpUAo7J3Ve0bjLBWZWCclRC3EoAA"),
            None
        );
    }
}
