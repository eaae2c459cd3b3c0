//! What a case asks the identity platform for. One type, from the scenario loader through token
//! acquisition to the outcome: adding a scenario key touches this struct and the code using it.

use serde::Serialize;

use super::types::{Endpoint, Flow};

/// The request of one case: the grant flow and everything it sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Request {
    /// The grant flow.
    pub flow: Flow,
    /// The authority's path segment.
    pub endpoint: Endpoint,
    /// The first sign-in's scopes (refresh-token flow).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_scopes: Option<Vec<String>>,
    /// The scopes sent to `/authorize`, when not those redeemed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorize_scopes: Option<Vec<String>>,
    /// The scopes, in the order sent.
    pub scopes: Vec<String>,
    /// Days the refresh token lies unused before it is redeemed (simulated clock).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_after_days: Option<u32>,
    /// Where the refresh token is redeemed, when not at `endpoint`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_endpoint: Option<Endpoint>,
    /// Scopes a tenant administrator approves at the admin consent endpoint before the flow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_consent: Option<Vec<String>>,
    /// The v1.0 endpoint's `resource` (password flow).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
}

impl Request {
    /// A request for `scopes` by `flow`, at `/organizations`, with nothing else set.
    pub fn new(flow: Flow, scopes: Vec<String>) -> Self {
        Self {
            flow,
            endpoint: Endpoint::Organizations,
            initial_scopes: None,
            authorize_scopes: None,
            scopes,
            refresh_after_days: None,
            refresh_endpoint: None,
            admin_consent: None,
            resource: None,
        }
    }

    /// The scopes sent to `/authorize`: `authorize_scopes`, or those redeemed.
    pub fn scopes_to_authorize(&self) -> &[String] {
        self.authorize_scopes.as_deref().unwrap_or(&self.scopes)
    }
}
