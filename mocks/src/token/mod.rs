//! Access tokens: scopes and the resources they name, claims, and RS256 JWTs with their JWKS.

pub mod claims;
pub mod jwt;
pub mod scope;

pub use claims::Claims;
pub use jwt::{Jwks, SigningKey, TokenVerifier, VerifyError};
pub use scope::{OidcScope, ResourceApi, ResourceUri, Scope, ScopeKind};
