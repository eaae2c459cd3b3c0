//! `mailscope token`: an access token from a running `serve`, through a real flow.

use std::path::Path;

use mailscope_mocks::directory::ClientType;
use rustls::pki_types::pem::PemObject as _;

use super::state::{ServeError, load_directory, wait_for_endpoints};
use crate::acquire::{self, Authority, ResourceOwner, TokenOutcome, TokenRequest, Waiting};
use crate::scenario::types::Flow;
use crate::secret::Secret;

/// Obtains a token from a running `serve` through a real flow, and returns the access token.
pub async fn token(
    state_dir: &Path,
    scopes: &[String],
    app_name: &str,
    flow: Flow,
    user: Option<&str>,
) -> Result<Secret, ServeError> {
    let endpoints = wait_for_endpoints(state_dir).await?;
    let directory = load_directory(endpoints.directory_file.as_deref())?;
    let app = directory.app_by_name(app_name).ok_or_else(|| {
        ServeError::Token(format!(
            "no app `{app_name}`: the directory has `mail-client` and `mail-daemon`"
        ))
    })?;
    let ca = std::fs::read(&endpoints.ca_file).map_err(|source| ServeError::File {
        path: endpoints.ca_file.clone(),
        source,
    })?;
    let ca_der =
        rustls::pki_types::CertificateDer::from_pem_slice(&ca).map_err(|error| ServeError::Endpoints {
            path: endpoints.ca_file.clone(),
            message: error.to_string(),
        })?;
    let http =
        acquire::http_client(&[ca_der.to_vec()]).map_err(|error| ServeError::Token(error.to_string()))?;
    let authority = Authority {
        base: url::Url::parse(&endpoints.authority).map_err(|error| ServeError::Token(error.to_string()))?,
        segment: "organizations".into(),
        client_id: app.client_id.clone(),
        client_secret: match &app.client_type {
            ClientType::Public => None,
            ClientType::Confidential { secret } => Some(Secret::new("client-secret", secret.clone())),
        },
        redirect_uri: app
            .redirect_uris
            .first()
            .cloned()
            .unwrap_or_else(|| "http://localhost".into()),
        sign_in: acquire::SignIn::Simulated,
        login_hint: user.map(str::to_owned),
        cache: None,
    };
    let user = match user {
        None => directory.signed_in_user(),
        Some(upn) => directory.user(upn).ok_or_else(|| {
            ServeError::Token(format!(
                "no user `{upn}` in serve's directory: it has {}",
                directory
                    .users
                    .iter()
                    .map(|user| format!("`{}`", user.upn))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?,
    };
    if user.upn != directory.signed_in_user().upn
        && matches!(flow, Flow::DeviceCode | Flow::ClientCredentials)
    {
        return Err(ServeError::Token(format!(
            "--user goes with the flows where a user signs in by name: authorization-code and \
             refresh-token (sent as login_hint) and password; a device code is entered by {}, the \
             directory's first user, and client credentials sign in no user",
            directory.signed_in_user().upn
        )));
    }
    let request = TokenRequest {
        asked: crate::scenario::Request::new(flow, scopes.to_vec()),
        refresh_segment: None,
        resource_owner: Some(ResourceOwner {
            username: user.upn.clone(),
            password: Secret::new("password", user.password.clone()),
        }),
        expected_error: None,
    };
    match acquire::acquire(&http, &authority, &request, &Waiting::Real).await {
        Ok(TokenOutcome::Issued(token)) => Ok(token.access_token),
        Ok(TokenOutcome::Denied(denial)) => Err(ServeError::Token(format!(
            "{} refused at {}: {}",
            denial.code(),
            denial.stage,
            denial
                .error
                .error_description
                .as_deref()
                .and_then(|description| description.lines().next())
                .unwrap_or(&denial.error.error)
        ))),
        Ok(TokenOutcome::NotRequested) => Err(ServeError::Token("no token was asked for".into())),
        Err(error) => Err(ServeError::Token(format!(
            "{error} (is the serve that wrote {} still running?)",
            state_dir.join("endpoints.json").display()
        ))),
    }
}
