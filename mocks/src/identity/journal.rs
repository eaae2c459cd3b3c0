//! The identity platform's decision journal: one record per request it answered, with the
//! decisions it made, in order. Bounded, like the front doors' journal.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use crate::decision::Decision;

/// How many requests the journal remembers.
pub const IDENTITY_JOURNAL_CAPACITY: usize = 256;

/// Which endpoint a request reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `/oauth2/v2.0/authorize`.
    Authorize,
    /// `/oauth2/v2.0/token`.
    Token,
    /// `/oauth2/v2.0/devicecode`.
    DeviceCode,
    /// `/v2.0/adminconsent`.
    AdminConsent,
    /// The v1.0 `/oauth2/token`.
    TokenV1,
}

impl Endpoint {
    /// A short name: `authorize`, `token`, `devicecode`, `adminconsent`, `token (v1.0)`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Authorize => "authorize",
            Self::Token => "token",
            Self::DeviceCode => "devicecode",
            Self::AdminConsent => "adminconsent",
            Self::TokenV1 => "token (v1.0)",
        }
    }

    /// The endpoint's path after the tenant segment.
    pub fn path(self) -> &'static str {
        match self {
            Self::Authorize => "oauth2/v2.0/authorize",
            Self::Token => "oauth2/v2.0/token",
            Self::DeviceCode => "oauth2/v2.0/devicecode",
            Self::AdminConsent => "v2.0/adminconsent",
            Self::TokenV1 => "oauth2/token",
        }
    }
}

/// One answered request.
/// (An example is at [`IdentityJournal`].)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// The endpoint.
    pub endpoint: Endpoint,
    /// The authority's tenant segment.
    pub tenant_segment: String,
    /// The grant type, at the token endpoints.
    pub grant_type: Option<String>,
    /// The HTTP status answered.
    pub status: u16,
    /// The decisions, in the order they were made.
    pub decisions: Vec<Decision>,
}

/// A shared, bounded log of the identity platform's requests.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let cloud = mailscope_mocks::SimulatedCloud::start().await?;
/// cloud.issue_token("SMTP.Send").unwrap();
/// let record = &cloud.identity_journal().requests()[0];
/// assert_eq!(record.status, 200);
/// assert!(record.decisions.iter().any(|decision| decision.rule.id == "scope-resource"));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Default)]
pub struct IdentityJournal {
    records: Arc<Mutex<VecDeque<RequestRecord>>>,
}

impl IdentityJournal {
    /// Forgets every record.
    pub fn clear(&self) {
        self.records
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clear();
    }

    /// Appends a record, forgetting the oldest beyond the capacity.
    pub fn record(&self, record: RequestRecord) {
        let mut records = self
            .records
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if records.len() == IDENTITY_JOURNAL_CAPACITY {
            records.pop_front();
        }
        records.push_back(record);
    }

    /// Returns a copy of every remembered request, oldest first.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.records
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .iter()
            .cloned()
            .collect()
    }
}
