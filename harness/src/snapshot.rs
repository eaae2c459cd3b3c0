//! `mailscope run --check-snapshots`: each outcome compared with the snapshot kept for its case,
//! so a suite of scenarios is a regression suite outside `cargo test` too.
//!
//! Simulated outcomes are compared with the insta snapshots the test suite keeps
//! (`snapshots/<case id>.snap`), rendered by insta's own serializer so "differs" means exactly
//! what `cargo insta test` would say. Live outcomes are compared, redacted, with those saved by
//! `--save` (`snapshots/live/<case id>.json`), naming each difference as `mailscope diff` does.

use std::path::Path;

use insta::internals::TextSnapshotContents;
use insta::{Snapshot, TextSnapshotKind};

use crate::drift;
use crate::outcome::{Expectation, Outcome};

/// Lines of context around each change in a snapshot diff.
const CONTEXT_LINES: usize = 1;

/// How an outcome compares with its kept snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Comparison {
    /// The snapshot holds exactly this outcome.
    Matches,
    /// No snapshot is kept for the case.
    Missing,
    /// The snapshot differs: a unified diff (kept → now), or one line per difference.
    Differs(Vec<String>),
}

/// Renders `outcome` as the body of its insta snapshot, byte for byte as the test suite writes it.
pub fn render(outcome: &Outcome) -> String {
    // insta's own serializer, the one `assert_yaml_snapshot!` calls. It is hidden from insta's
    // docs, but Cargo.lock pins the version, so a change breaks the build rather than the check.
    insta::_macro_support::serialize_value(outcome, insta::_macro_support::SerializationFormat::Yaml)
}

/// Compares a simulated outcome with `directory/<id>.snap`.
pub fn compare_simulated(directory: &Path, outcome: &Outcome) -> Comparison {
    let path = directory.join(format!("{}.snap", outcome.id));
    if !path.is_file() {
        return Comparison::Missing;
    }
    let kept = match Snapshot::from_file(&path) {
        Ok(snapshot) => snapshot,
        Err(error) => return Comparison::Differs(vec![format!("{}: unreadable: {error}", path.display())]),
    };
    let Some(kept) = kept.as_text() else {
        return Comparison::Differs(vec![format!("{}: not a text snapshot", path.display())]);
    };
    let now = TextSnapshotContents::new(render(outcome), TextSnapshotKind::File);
    if kept.matches_latest(&now) {
        return Comparison::Matches;
    }
    let (kept, now) = (kept.to_string(), now.to_string());
    let diff = similar::TextDiff::from_lines(&kept, &now)
        .unified_diff()
        .context_radius(CONTEXT_LINES)
        .header("kept", "now")
        .to_string();
    Comparison::Differs(diff.lines().map(str::to_owned).collect())
}

/// Compares a live outcome, redacted, with `directory/<id>.json` as saved by `--save`.
pub fn compare_live(directory: &Path, outcome: &Outcome) -> Comparison {
    let path = drift::path_for(directory, &outcome.id);
    let kept = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Comparison::Missing,
        Err(error) => return Comparison::Differs(vec![format!("{}: {error}", path.display())]),
    };
    let kept: serde_json::Value = match serde_json::from_str(&kept) {
        Ok(value) => value,
        Err(error) => return Comparison::Differs(vec![format!("{}: not JSON: {error}", path.display())]),
    };
    let differences = drift::differences_between(("kept", &kept), ("now", &drift::redact(outcome)));
    if differences.is_empty() {
        Comparison::Matches
    } else {
        Comparison::Differs(differences)
    }
}

/// With `--check-snapshots` the snapshot is an expectation too (docs/scenarios.md: a case's snapshot
/// is its expectation when it states none): a missing or different snapshot makes the case unmet.
pub fn apply(outcome: &mut Outcome, comparison: Comparison) {
    let mismatch = match comparison {
        Comparison::Matches => return,
        Comparison::Missing => "snapshot: none is kept for this case".to_owned(),
        Comparison::Differs(lines) => format!("snapshot differs:\n{}", lines.join("\n")),
    };
    outcome.mismatches.push(mismatch);
    outcome.expectation = Expectation::Unmet;
}
