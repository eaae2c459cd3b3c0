//! What the mail front doors saw: a transcript per connection, with secrets hidden, and typed
//! observations the runner turns into an outcome.
//!
//! The journal keeps the most recent connections only, so a long-running `serve` does not grow
//! without bound.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use crate::decision::Decision;
use crate::exchange::access::Refusal;
use crate::sasl::Mechanism;

/// How many connections a journal remembers.
pub const JOURNAL_CAPACITY: usize = 256;

/// Something a session decided, recorded for the runner.
///
/// ```
/// use mailscope_mocks::Observation;
/// use mailscope_mocks::exchange::Refusal;
/// use mailscope_mocks::sasl::Mechanism;
///
/// let refused = Observation::AuthRejected {
///     mechanism: Mechanism::Xoauth2,
///     refusal: Refusal::Audience("00000003-0000-0000-c000-000000000000".into()),
/// };
/// assert!(matches!(refused, Observation::AuthRejected { .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observation {
    /// TLS was negotiated (implicitly or after STARTTLS).
    TlsStarted,
    /// A decision, with the rule it followed.
    Decided(Decision),
    /// A client authenticated.
    AuthSucceeded {
        /// The mechanism.
        mechanism: Mechanism,
        /// The mailbox opened.
        user: String,
    },
    /// An authentication was refused, and why (the reply itself never says).
    AuthRejected {
        /// The mechanism.
        mechanism: Mechanism,
        /// The check that failed.
        refusal: Refusal,
    },
}

impl ConnectionRecord {
    /// Returns the decisions of the connection, in order.
    pub fn decisions(&self) -> impl Iterator<Item = &Decision> {
        self.observations
            .iter()
            .filter_map(|observation| match observation {
                Observation::Decided(decision) => Some(decision),
                _ => None,
            })
    }

    /// Returns the last refusal of the connection, if any.
    pub fn last_refusal(&self) -> Option<&Refusal> {
        self.observations
            .iter()
            .rev()
            .find_map(|observation| match observation {
                Observation::AuthRejected { refusal, .. } => Some(refusal),
                _ => None,
            })
    }
}

/// One connection's record.
/// (The crate documentation's example reads one: [`SimulatedCloud::journal`](crate::SimulatedCloud::journal).)
///
/// ```
/// let record = mailscope_mocks::ConnectionRecord::default();
/// assert_eq!(record.decisions().count(), 0);
/// assert!(record.last_refusal().is_none());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectionRecord {
    /// `C: ` and `S: ` lines, and `-- ` notes, in order.
    pub transcript: Vec<String>,
    /// The session's observations, in order.
    pub observations: Vec<Observation>,
}

/// A shared, bounded log of connections.
///
/// ```
/// let journal = mailscope_mocks::Journal::default();
/// assert!(journal.connections().is_empty());
/// ```
#[derive(Debug, Clone, Default)]
pub struct Journal {
    connections: Arc<Mutex<VecDeque<Arc<Mutex<ConnectionRecord>>>>>,
}

impl Journal {
    /// Starts a record for a new connection.
    pub fn open_connection(&self) -> ConnectionLog {
        let record = Arc::new(Mutex::new(ConnectionRecord::default()));
        let mut connections = lock(&self.connections);
        if connections.len() == JOURNAL_CAPACITY {
            connections.pop_front();
        }
        connections.push_back(record.clone());
        ConnectionLog { record }
    }

    /// Returns a copy of every remembered connection, oldest first.
    pub fn connections(&self) -> Vec<ConnectionRecord> {
        lock(&self.connections)
            .iter()
            .map(|record| lock(record).clone())
            .collect()
    }
}

/// The handle one connection writes its record through.
#[derive(Debug, Clone)]
pub struct ConnectionLog {
    record: Arc<Mutex<ConnectionRecord>>,
}

impl ConnectionLog {
    /// Appends a transcript line.
    pub fn line(&self, line: String) {
        lock(&self.record).transcript.push(line);
    }

    /// Appends an observation.
    pub fn observe(&self, observation: Observation) {
        lock(&self.record).observations.push(observation);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned journal still holds valid lines; recording must never take a server down.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
