//! Minting and verifying RS256 JWTs, and the JWKS that publishes the signing key.
//!
//! The key is a committed test key (`mocks/keys/`), so a token minted with the same claims is the
//! same string in every run. The header carries `kid` and `x5t`, both the base64url SHA-1
//! thumbprint of the signing certificate, as Entra's v1 tokens do (rule `token-shape`).
//!
//! RS256 is RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3), signed and verified with ring: a
//! JWT is three base64url parts (RFC 7515 §7.1), and only `RS256` by a published `kid` passes.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::digest;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;
use serde::{Deserialize, Serialize};

use super::claims::Claims;

const TEST_KEY_PEM: &str = include_str!("../../keys/signing-key.pem");
const TEST_CERT_PEM: &str = include_str!("../../keys/signing-cert.pem");

/// Clock skew tolerated on `nbf` and `exp` (rule `exchange-token-checks`: "a few minutes").
pub const CLOCK_SKEW_SECONDS: i64 = 300;

/// The prefix of personal-account (MSA) access tokens, which are opaque (fidelity:
/// consumer-outlook-com-oauth: Microsoft's sample `EwBAAl3BAAUF…`).
pub const OPAQUE_PREFIX: &str = "EwA";

/// Wraps a signed JWT as an opaque personal-account token: no dots, so no client can decode it;
/// only the simulated Exchange unwraps it.
pub fn wrap_opaque(jwt: &str) -> String {
    format!("{OPAQUE_PREFIX}{}", URL_SAFE_NO_PAD.encode(jwt))
}

fn unwrap_opaque(token: &str) -> Option<String> {
    let inner = URL_SAFE_NO_PAD.decode(token.strip_prefix(OPAQUE_PREFIX)?).ok()?;
    String::from_utf8(inner).ok()
}

/// The identity platform's token-signing key.
pub struct SigningKey {
    /// ring signs: RSA in pure Rust took most of a simulated case's time (a token is minted for
    /// nearly every case). PKCS#1 v1.5 signatures are deterministic, so the bytes are the same.
    signer: ring::signature::RsaKeyPair,
    jwk: Jwk,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.jwk.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Loads the committed test key and certificate.
    pub fn test_key() -> Self {
        Self::from_pem(TEST_KEY_PEM, TEST_CERT_PEM)
            .expect("the committed test key and certificate are valid PEM")
    }

    /// Loads an RSA key (PKCS#8 PEM) and its certificate (PEM).
    pub fn from_pem(key_pem: &str, cert_pem: &str) -> Result<Self, KeyError> {
        let der = rustls::pki_types::PrivatePkcs8KeyDer::from_pem_slice(key_pem.as_bytes())
            .map_err(|_| KeyError::Key)?;
        let signer =
            ring::signature::RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()).map_err(|_| KeyError::Key)?;
        let certificate =
            CertificateDer::from_pem_slice(cert_pem.as_bytes()).map_err(|_| KeyError::Certificate)?;
        let thumbprint = digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, certificate.as_ref());
        let thumbprint = URL_SAFE_NO_PAD.encode(thumbprint.as_ref());
        let public_key = ring::rsa::PublicKeyComponents::<Vec<u8>>::from(signer.public());
        let jwk = Jwk {
            kty: "RSA".into(),
            use_: "sig".into(),
            kid: thumbprint.clone(),
            x5t: thumbprint,
            n: URL_SAFE_NO_PAD.encode(&public_key.n),
            e: URL_SAFE_NO_PAD.encode(&public_key.e),
            x5c: vec![STANDARD.encode(certificate.as_ref())],
        };
        Ok(Self { signer, jwk })
    }

    /// Returns the key id (`kid`) tokens carry.
    pub fn kid(&self) -> &str {
        &self.jwk.kid
    }

    /// Returns the JWKS that publishes this key.
    pub fn jwks(&self) -> Jwks {
        Jwks {
            keys: vec![self.jwk.clone()],
        }
    }

    /// Signs `claims` as an RS256 JWT with `typ`, `alg`, `x5t` and `kid` in the header.
    pub fn mint(&self, claims: &Claims) -> String {
        self.mint_json(claims)
    }

    /// Signs any claims set (an ID token's, for one).
    pub(crate) fn mint_json(&self, claims: &impl serde::Serialize) -> String {
        let header = Header {
            typ: Some("JWT".into()),
            alg: "RS256".into(),
            kid: Some(self.jwk.kid.clone()),
            x5t: Some(self.jwk.x5t.clone()),
        };
        let part = |json: Vec<u8>| URL_SAFE_NO_PAD.encode(json);
        let message = format!(
            "{}.{}",
            part(serde_json::to_vec(&header).expect("a header always serializes")),
            part(serde_json::to_vec(claims).expect("claims always serialize"))
        );
        let mut signature = vec![0u8; self.signer.public().modulus_len()];
        self.signer
            .sign(
                &ring::signature::RSA_PKCS1_SHA256,
                &ring::rand::SystemRandom::new(),
                message.as_bytes(),
                &mut signature,
            )
            .expect("an RSA key always signs");
        format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

/// A JOSE header, in the order its fields are written: `typ`, `alg`, `kid`, `x5t`.
#[derive(Debug, Serialize, Deserialize)]
struct Header {
    #[serde(skip_serializing_if = "Option::is_none")]
    typ: Option<String>,
    alg: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    kid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    x5t: Option<String>,
}

/// A signing key that could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The private key is not PKCS#8 RSA PEM.
    #[error("the signing key is not a PKCS#8 RSA key in PEM")]
    Key,
    /// The certificate is not PEM.
    #[error("the signing certificate is not PEM")]
    Certificate,
}

/// One key of a JWKS, in the fields Entra publishes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// Key type: `RSA`.
    pub kty: String,
    /// Key use: `sig`.
    #[serde(rename = "use")]
    pub use_: String,
    /// Key id.
    pub kid: String,
    /// Certificate thumbprint.
    pub x5t: String,
    /// Modulus, base64url.
    pub n: String,
    /// Exponent, base64url.
    pub e: String,
    /// The certificate chain, base64 DER.
    pub x5c: Vec<String>,
}

/// A JSON Web Key Set (`/discovery/v2.0/keys`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    /// The keys.
    pub keys: Vec<Jwk>,
}

/// Verifies tokens against a JWKS, decoded once (rule `exchange-token-checks`, the signature step).
pub struct TokenVerifier {
    keys: HashMap<String, ring::signature::RsaPublicKeyComponents<Vec<u8>>>,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier")
            .field("kids", &self.keys.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Why a token failed verification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// Not three base64url parts with a JSON header: an opaque or mangled token.
    #[error("the token is not a JWT")]
    NotJwt,
    /// `alg` is not RS256 (`none`, HMAC and others are refused).
    #[error("the token is signed with {0}, not RS256")]
    Algorithm(String),
    /// No key of the JWKS has the token's `kid`.
    #[error("no published key has kid {0:?}")]
    UnknownKey(Option<String>),
    /// The signature does not verify.
    #[error("the signature does not verify")]
    Signature,
    /// The payload is not the claims an access token carries.
    #[error("the payload lacks access-token claims")]
    Claims,
    /// `nbf` is in the future.
    #[error("the token is not valid before {nbf} (now {now})")]
    NotYetValid {
        /// The token's `nbf`.
        nbf: i64,
        /// The verifier's time.
        now: i64,
    },
    /// `exp` has passed.
    #[error("the token expired at {exp} (now {now})")]
    Expired {
        /// The token's `exp`.
        exp: i64,
        /// The verifier's time.
        now: i64,
    },
}

impl TokenVerifier {
    /// Decodes every RSA key of `jwks` once.
    pub fn new(jwks: &Jwks) -> Self {
        let keys = jwks
            .keys
            .iter()
            .filter(|jwk| jwk.kty == "RSA")
            .filter_map(|jwk| {
                let key = ring::signature::RsaPublicKeyComponents {
                    n: URL_SAFE_NO_PAD.decode(&jwk.n).ok()?,
                    e: URL_SAFE_NO_PAD.decode(&jwk.e).ok()?,
                };
                Some((jwk.kid.clone(), key))
            })
            .collect();
        Self { keys }
    }

    /// Verifies the signature, then `nbf` and `exp` at `now`, and returns the claims. Opaque
    /// personal-account tokens minted by the simulation are unwrapped first.
    pub fn verify(&self, token: &str, now: i64) -> Result<Claims, VerifyError> {
        let claims = self.verify_signature(token)?;
        check_lifetime(&claims, now)?;
        Ok(claims)
    }

    /// Verifies the signature only (RS256 by a key of the JWKS) and returns the claims.
    pub fn verify_signature(&self, token: &str) -> Result<Claims, VerifyError> {
        let unwrapped = if token.contains('.') {
            None
        } else {
            unwrap_opaque(token)
        };
        let token = unwrapped.as_deref().unwrap_or(token);
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(VerifyError::NotJwt);
        };
        let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).map_err(|_| VerifyError::NotJwt);
        let header: Header = serde_json::from_slice(&decode(header)?).map_err(|_| VerifyError::NotJwt)?;
        if header.alg != "RS256" {
            return Err(VerifyError::Algorithm(header.alg));
        }
        let key = header
            .kid
            .as_ref()
            .and_then(|kid| self.keys.get(kid))
            .ok_or_else(|| VerifyError::UnknownKey(header.kid.clone()))?;
        let signed = &token[..token.len() - signature.len() - 1];
        key.verify(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            signed.as_bytes(),
            &decode(signature)?,
        )
        .map_err(|_| VerifyError::Signature)?;
        serde_json::from_slice(&decode(payload)?).map_err(|_| VerifyError::Claims)
    }
}

/// Checks `nbf` and `exp` at `now`, with [`CLOCK_SKEW_SECONDS`] of tolerance.
pub fn check_lifetime(claims: &Claims, now: i64) -> Result<(), VerifyError> {
    if claims.nbf > now + CLOCK_SKEW_SECONDS {
        return Err(VerifyError::NotYetValid { nbf: claims.nbf, now });
    }
    if claims.exp + CLOCK_SKEW_SECONDS <= now {
        return Err(VerifyError::Expired { exp: claims.exp, now });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(iat: i64) -> Claims {
        Claims {
            aud: "https://outlook.office.com".into(),
            iss: "https://sts.windows.net/tid/".into(),
            iat,
            nbf: iat,
            exp: iat + 3900,
            acr: None,
            aio: None,
            amr: None,
            app_displayname: None,
            appid: "app".into(),
            appidacr: "0".into(),
            family_name: None,
            given_name: None,
            idtyp: Some("user".into()),
            name: None,
            oid: "oid".into(),
            rh: None,
            roles: None,
            scp: Some("SMTP.Send".into()),
            sub: "sub".into(),
            tid: "tid".into(),
            unique_name: None,
            upn: Some("adele@contoso.onmicrosoft.com".into()),
            uti: None,
            ver: "1.0".into(),
        }
    }

    #[test]
    fn minted_tokens_verify_against_the_published_jwks() {
        let key = SigningKey::test_key();
        let verifier = TokenVerifier::new(&key.jwks());

        let token = key.mint(&claims(1_000));

        assert_eq!(verifier.verify(&token, 1_000), Ok(claims(1_000)));
        let header = URL_SAFE_NO_PAD.decode(token.split('.').next().unwrap()).unwrap();
        assert_eq!(
            String::from_utf8(header).unwrap(),
            format!(
                r#"{{"typ":"JWT","alg":"RS256","kid":"{0}","x5t":"{0}"}}"#,
                key.kid()
            )
        );
    }

    #[test]
    fn minting_is_deterministic() {
        let key = SigningKey::test_key();
        assert_eq!(key.mint(&claims(1)), key.mint(&claims(1)));
    }

    #[test]
    fn refuses_expired_and_not_yet_valid_tokens_beyond_the_skew() {
        let key = SigningKey::test_key();
        let verifier = TokenVerifier::new(&key.jwks());
        let token = key.mint(&claims(10_000));

        assert!(verifier.verify(&token, 10_000 + 3900 + 299).is_ok());
        assert!(matches!(
            verifier.verify(&token, 10_000 + 3900 + 300),
            Err(VerifyError::Expired { .. })
        ));
        assert!(verifier.verify(&token, 10_000 - 300).is_ok());
        assert!(matches!(
            verifier.verify(&token, 10_000 - 301),
            Err(VerifyError::NotYetValid { .. })
        ));
    }

    #[test]
    fn refuses_alg_none_hmac_tampering_and_unknown_keys() {
        let key = SigningKey::test_key();
        let verifier = TokenVerifier::new(&key.jwks());
        let token = key.mint(&claims(1_000));
        let (signed, _signature) = token.rsplit_once('.').unwrap();
        let (_header, payload) = signed.split_once('.').unwrap();

        let none = format!(
            "{}.{payload}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#)
        );
        assert!(matches!(
            verifier.verify(&none, 1_000),
            Err(VerifyError::Algorithm(_) | VerifyError::NotJwt)
        ));

        let hmac_header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"HS256","kid":"{}"}}"#, key.kid()));
        let hmac = format!("{hmac_header}.{payload}.c2ln");
        assert_eq!(
            verifier.verify(&hmac, 1_000),
            Err(VerifyError::Algorithm("HS256".into()))
        );

        let other_kid = URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","kid":"other"}"#);
        let unknown = format!("{other_kid}.{payload}.c2ln");
        assert_eq!(
            verifier.verify(&unknown, 1_000),
            Err(VerifyError::UnknownKey(Some("other".into())))
        );

        let tampered = format!("{signed}x.{}", token.rsplit_once('.').unwrap().1);
        assert!(verifier.verify(&tampered, 1_000).is_err());

        assert_eq!(verifier.verify("EwBAAl3BAAUF", 1_000), Err(VerifyError::NotJwt));
    }
}
