//! The claims of an Exchange or Graph access token, in the v1 shape those resources receive.
//!
//! Rule `token-shape` (fidelity: deleg-outlook-smtp-only, ccg-outlook365-default-imap-pop): `ver`
//! `1.0`, `iss` `https://sts.windows.net/{tid}/`, `appid` and `appidacr`; delegated tokens carry
//! `scp`, `upn`, `unique_name` and `name`; app-only tokens carry `roles` and `idtyp` `app`, no `scp`.
//! Field order follows the decoded tokens in the catalog (aud, iss, iat, nbf, exp, then alphabetical).

use serde::{Deserialize, Serialize};

/// An access token's payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The resource the token is for.
    pub aud: String,
    /// The issuer: `https://sts.windows.net/{tid}/` for v1 tokens.
    pub iss: String,
    /// Issued at, seconds since the epoch.
    #[serde(default)]
    pub iat: i64,
    /// Not before.
    #[serde(default)]
    pub nbf: i64,
    /// Expiry.
    pub exp: i64,
    /// Authentication context class (`1` for delegated tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    /// An opaque value Entra uses internally.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aio: Option<String>,
    /// How the user authenticated (`pwd`, `mfa`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amr: Option<Vec<String>>,
    /// The client application's display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_displayname: Option<String>,
    /// The client application's id.
    #[serde(default)]
    pub appid: String,
    /// How the client authenticated: `0` public client, `1` secret, `2` certificate.
    #[serde(default)]
    pub appidacr: String,
    /// The user's surname.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    /// The user's given name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    /// `user` or `app`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idtyp: Option<String>,
    /// The user's display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The object id of the user, or of the app's service principal.
    #[serde(default)]
    pub oid: String,
    /// An opaque value Entra uses to revalidate tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rh: Option<String>,
    /// Application permissions (app-only tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    /// Delegated permissions, space-separated (delegated tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scp: Option<String>,
    /// The subject, pairwise per application.
    #[serde(default)]
    pub sub: String,
    /// The tenant id.
    pub tid: String,
    /// The user's name as signed in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique_name: Option<String>,
    /// The user principal name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upn: Option<String>,
    /// A token identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uti: Option<String>,
    /// The token version: `1.0` or `2.0`.
    #[serde(default)]
    pub ver: String,
}

impl Claims {
    /// Returns the delegated permissions, split on spaces.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scp.iter().flat_map(|scp| scp.split_ascii_whitespace())
    }

    /// Returns the application permissions.
    pub fn roles(&self) -> impl Iterator<Item = &str> {
        self.roles.iter().flatten().map(String::as_str)
    }

    /// Returns true when the token was issued to an application acting as itself.
    pub fn is_app_only(&self) -> bool {
        self.idtyp.as_deref() == Some("app") || (self.scp.is_none() && self.roles.is_some())
    }
}
