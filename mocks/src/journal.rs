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
pub const JOURNAL_CAPACITY: usize = 64;

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
    /// Returns the transcript: `C: ` and `S: ` lines, and `-- ` notes, in order; a very long one
    /// is its first and last lines around a note of how many lines were not kept.
    ///
    /// ```
    /// let journal = mailscope_mocks::Journal::default();
    /// let log = journal.open_connection();
    /// for n in 0..10_000 {
    ///     log.line(format!("C: NOOP {n}"));
    /// }
    /// let transcript = journal.connections()[0].transcript();
    /// assert_eq!(transcript.len(), 401);
    /// assert_eq!(transcript[200], "-- 9600 lines not kept");
    /// assert_eq!(transcript.last().unwrap(), "C: NOOP 9999");
    /// ```
    pub fn transcript(&self) -> Vec<String> {
        let mut lines = self.head.clone();
        if self.dropped > 0 {
            lines.push(format!("-- {} lines not kept", self.dropped));
        }
        lines.extend(self.tail.iter().cloned());
        lines
    }

    fn push_line(&mut self, mut line: String) {
        if line.len() > TRANSCRIPT_LINE {
            let length = line.len();
            let mut cut = TRANSCRIPT_LINE;
            while !line.is_char_boundary(cut) {
                cut -= 1;
            }
            line.truncate(cut);
            line.push_str(&format!("… [{length} bytes]"));
        }
        if self.head.len() < TRANSCRIPT_HEAD {
            self.head.push(line);
            return;
        }
        if self.tail.len() == TRANSCRIPT_TAIL {
            self.tail.pop_front();
            self.dropped += 1;
        }
        self.tail.push_back(line);
    }

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

/// Transcript lines kept from the start of a connection, and from its end: a client that sends
/// millions of lines leaves a transcript of this size, with a note of how many lines were dropped.
pub const TRANSCRIPT_HEAD: usize = 200;
/// See [`TRANSCRIPT_HEAD`].
pub const TRANSCRIPT_TAIL: usize = 200;
/// Observations kept per connection, the most recent.
pub const OBSERVATIONS_KEPT: usize = 1024;
/// The longest transcript line kept; a longer one is cut, with its length noted.
pub const TRANSCRIPT_LINE: usize = 2048;

/// One connection's record.
/// (The crate documentation's example reads one: [`SimulatedCloud::journal`](crate::SimulatedCloud::journal).)
///
/// ```
/// let record = mailscope_mocks::ConnectionRecord::default();
/// assert_eq!(record.decisions().count(), 0);
/// assert!(record.last_refusal().is_none());
/// assert!(record.transcript().is_empty());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectionRecord {
    /// The first lines of the transcript.
    head: Vec<String>,
    /// The last lines, once the head is full.
    tail: VecDeque<String>,
    /// Lines between the head and the tail that were not kept.
    dropped: usize,
    /// The session's observations, in order (the most recent [`OBSERVATIONS_KEPT`]).
    pub observations: VecDeque<Observation>,
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

    /// Forgets every connection (those still open keep writing to their own records).
    pub fn clear(&self) {
        lock(&self.connections).clear();
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
        lock(&self.record).push_line(line);
    }

    /// Appends an observation, forgetting the oldest beyond [`OBSERVATIONS_KEPT`].
    pub fn observe(&self, observation: Observation) {
        let mut record = lock(&self.record);
        if record.observations.len() == OBSERVATIONS_KEPT {
            record.observations.pop_front();
        }
        record.observations.push_back(observation);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned journal still holds valid lines; recording must never take a server down.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
