//! Reports of a run: the terminal table, JSON lines (the scenario format's output contract), JUnit
//! XML, and Markdown bug reports; and the rule reference.

pub mod json;
pub mod junit;
pub mod markdown;
pub mod rules;
pub mod table;

use crate::outcome::{Expectation, Outcome};
use crate::runner::CaseError;

/// Counts of a run, for the closing line and the exit status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Cases whose expectations held, or that state none.
    pub passed: usize,
    /// Cases whose expectations did not hold, or that could not run.
    pub failed: usize,
    /// Cases the target could not run (live: the tenant is set up otherwise).
    pub skipped: usize,
}

impl Summary {
    /// Counts one result.
    pub fn add(&mut self, result: &Result<Outcome, CaseError>) {
        match result {
            Ok(outcome) if outcome.skipped.is_some() => self.skipped += 1,
            Ok(outcome) if outcome.expectation != Expectation::Unmet => self.passed += 1,
            _ => self.failed += 1,
        }
    }

    /// Returns true when nothing failed.
    pub fn all_passed(&self) -> bool {
        self.failed == 0
    }

    /// `N passed, N failed`, and `, N skipped` when any were.
    pub fn closing_line(&self) -> String {
        let mut line = format!("{} passed, {} failed", self.passed, self.failed);
        if self.skipped > 0 {
            line.push_str(&format!(", {} skipped", self.skipped));
        }
        line
    }
}
