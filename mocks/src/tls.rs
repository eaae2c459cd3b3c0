//! A throwaway certificate authority and the server certificate the mail front doors present.
//!
//! One ECDSA P-256 CA per process (ECDSA keeps handshakes cheap), a server certificate for
//! `localhost` and `127.0.0.1`, and one shared rustls `ServerConfig`. Clients trust the CA's
//! certificate, which [`TestPki::ca_pem`] hands out; certificate checks stay on.

use std::sync::{Arc, OnceLock};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// The simulated cloud's CA and server certificate.
pub(crate) struct TestPki {
    ca_pem: String,
    ca_der: CertificateDer<'static>,
    server_config: Arc<ServerConfig>,
}

impl std::fmt::Debug for TestPki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestPki").finish_non_exhaustive()
    }
}

/// Certificates that could not be made.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PkiError {
    /// rcgen refused the parameters or the key.
    #[error("generating a certificate")]
    Certificate(#[from] rcgen::Error),
    /// rustls refused the key or chain.
    #[error("building the TLS configuration")]
    Tls(#[from] rustls::Error),
}

impl TestPki {
    /// Returns the process-wide PKI, generating it on first use.
    pub(crate) fn shared() -> Arc<Self> {
        static SHARED: OnceLock<Arc<TestPki>> = OnceLock::new();
        SHARED
            .get_or_init(|| {
                Arc::new(Self::generate().expect("rcgen and rustls accept fixed, valid parameters"))
            })
            .clone()
    }

    /// Generates a CA and a server certificate for `localhost` and `127.0.0.1`.
    pub(crate) fn generate() -> Result<Self, PkiError> {
        let ca_key = KeyPair::generate()?;
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "mailscope simulated cloud CA");
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca_params.self_signed(&ca_key)?;
        let issuer = Issuer::new(ca_params, ca_key);

        let server_key = KeyPair::generate()?;
        let mut server_params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])?;
        server_params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        let server_cert = server_params.signed_by(&server_key, &issuer)?;

        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let server_config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(
                vec![server_cert.der().clone(), ca_cert.der().clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der())),
            )?;
        Ok(Self {
            ca_pem: ca_cert.pem(),
            ca_der: ca_cert.der().clone(),
            server_config: Arc::new(server_config),
        })
    }

    /// Returns the CA certificate in PEM, for clients to trust.
    pub(crate) fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// Returns the CA certificate in DER.
    pub(crate) fn ca_der(&self) -> &CertificateDer<'static> {
        &self.ca_der
    }

    /// Returns the shared server configuration.
    pub(crate) fn server_config(&self) -> Arc<ServerConfig> {
        self.server_config.clone()
    }
}
