//! A simulated Microsoft cloud for OAuth 2.0 mail: Entra ID's v2.0 endpoints on a wiremock server,
//! and Exchange Online's SMTP, IMAP and POP3 front doors, each reproducing the behaviours of the
//! fidelity catalog, reply for reply. Every decision it makes is recorded with the rule it
//! follows, so a test can assert not only what was answered but why.
//!
//! Start one in a test as you would start `wiremock::MockServer`: it listens on loopback ports,
//! and dropping it stops it. The example gets a token by the client credentials grant over HTTP,
//! as a mail daemon does, and logs in over IMAP with XOAUTH2:
//!
//! ```
//! use async_imap::Authenticator;
//! use mailscope_mocks::directory::{ADELE, CONTOSO_TENANT_ID, MAIL_DAEMON_ID, MAIL_DAEMON_SECRET};
//! use mailscope_mocks::{Protocol, SimulatedCloud};
//! use oauth2::basic::BasicClient;
//! use oauth2::{AuthType, ClientId, ClientSecret, Scope, TokenResponse, TokenUrl};
//!
//! struct Xoauth2(String);
//! impl Authenticator for Xoauth2 {
//!     type Response = String;
//!     fn process(&mut self, _challenge: &[u8]) -> String {
//!         self.0.clone()
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let cloud = SimulatedCloud::start().await?;
//! let endpoints = cloud.endpoints();
//!
//! // A token, by a real flow over HTTP.
//! let client = BasicClient::new(ClientId::new(MAIL_DAEMON_ID.into()))
//!     .set_client_secret(ClientSecret::new(MAIL_DAEMON_SECRET.into()))
//!     .set_auth_type(AuthType::RequestBody)
//!     .set_token_uri(TokenUrl::new(endpoints.token_url(CONTOSO_TENANT_ID))?);
//! let http = oauth2::reqwest::Client::new();
//! let token = client
//!     .exchange_client_credentials()
//!     .add_scope(Scope::new("https://outlook.office365.com/.default".into()))
//!     .request_async(&http)
//!     .await?;
//!
//! // IMAP over TLS, trusting the cloud's CA.
//! let tcp = tokio::net::TcpStream::connect(endpoints.imap).await?;
//! let tls = tokio_rustls::TlsConnector::from(cloud.client_tls_config())
//!     .connect("localhost".try_into()?, tcp)
//!     .await?;
//! let mut imap = async_imap::Client::new(tls);
//! imap.read_response().await?; // the greeting
//! let response = format!("user={ADELE}\x01auth=Bearer {}\x01\x01", token.access_token().secret());
//! let mut session = imap.authenticate("XOAUTH2", Xoauth2(response)).await.map_err(|(error, _)| error)?;
//! session.select("INBOX").await?;
//! session.logout().await?;
//!
//! // What the simulation decided, and why.
//! let connection = &cloud.journal(Protocol::Imap).connections()[0];
//! let rules: Vec<&str> = connection.decisions().map(|decision| decision.rule.id).collect();
//! assert!(rules.contains(&"exchange-audiences"));
//! assert!(rules.contains(&"mailbox-access"));
//! # Ok(())
//! # }
//! ```
//!
//! This crate knows protocols, not scenarios: it is configured with plain structs
//! ([`Directory`], [`Clock`]). The root re-exports what a test needs; the modules hold the rest.

pub mod catalog;
pub mod clock;
mod cloud;
pub mod decision;
pub mod directory;
pub mod exchange;
pub mod identity;
mod ids;
pub mod journal;
mod net;
pub mod rulebook;
pub mod sasl;
pub mod store;
mod tls;
pub mod token;

pub use clock::Clock;
pub use cloud::{Endpoints, HttpsFront, Listeners, SimulatedCloud, issue_token, shared_signing_key};
pub use decision::{Decision, Part, Rule};
pub use directory::Directory;
pub use exchange::Protocol;
pub use identity::{IdentityJournal, RequestRecord};
pub use journal::{ConnectionRecord, Journal, Observation};
pub use net::Limits;
pub use store::Mailboxes;
