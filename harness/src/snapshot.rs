//! `mailscope run --check-snapshots`: each outcome compared with the snapshot kept for its case,
//! so a suite of scenarios is a regression suite outside `cargo test` too.
//!
//! Simulated outcomes are compared with the insta snapshots the test suite keeps
//! (`snapshots/<case id>.snap`), rendered by insta's own serializer so "differs" means exactly
//! what `cargo insta test` would say. Live outcomes are compared, redacted, with those saved by
//! `--save` (`snapshots/live/<case id>.json`), naming each difference as `mailscope diff` does.

use std::path::{Path, PathBuf};

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
    /// No snapshot is kept for the case, at this path.
    Missing(PathBuf),
    /// The snapshot at this path differs: a unified diff (kept → now), or one line per difference.
    Differs(PathBuf, Vec<String>),
}

/// `directory/<case id>.snap`.
pub fn path_for(directory: &Path, id: &str) -> PathBuf {
    directory.join(format!("{id}.snap"))
}

/// The pending snapshot beside `kept`: `<case id>.snap.new`, as insta names it.
pub fn pending_path(kept: &Path) -> PathBuf {
    let mut name = kept.as_os_str().to_owned();
    name.push(".new");
    PathBuf::from(name)
}

/// Writes `outcome` as the pending snapshot of its case under `directory`, in insta's file format
/// (so `cargo insta review` reads it too), and returns its path. `title` and `input_file` go into
/// the header, as the test suite writes them.
pub fn write_pending(
    directory: &Path,
    outcome: &Outcome,
    title: &str,
    input_file: &Path,
) -> std::io::Result<PathBuf> {
    let path = pending_path(&path_for(directory, &outcome.id));
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let quoted = |text: &str| serde_json::to_string(text).unwrap_or_default();
    let header = format!(
        "---\nsource: mailscope run\ndescription: {}\ninput_file: {}\n---\n",
        quoted(title),
        quoted(&input_file.display().to_string())
    );
    let mut body = render(outcome);
    if !body.ends_with('\n') {
        body.push('\n');
    }
    std::fs::write(&path, header + &body)?;
    Ok(path)
}

/// Removes the pending snapshot of case `id`, if any: the kept one matches again.
pub fn clear_pending(directory: &Path, id: &str) {
    let _ = std::fs::remove_file(pending_path(&path_for(directory, id)));
}

/// Every pending snapshot (`*.snap.new`) under `directory`, sorted.
pub fn pending(directory: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![directory.to_owned()];
    while let Some(directory) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&directory) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else { continue };
            if kind.is_dir() {
                stack.push(path);
            } else if path.to_string_lossy().ends_with(".snap.new") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// The change a pending snapshot makes, as a unified diff from the kept one (or from nothing).
pub fn pending_diff(pending: &Path) -> std::io::Result<String> {
    let new = body_of(&std::fs::read_to_string(pending)?);
    let kept_path = PathBuf::from(pending.to_string_lossy().trim_end_matches(".new"));
    let kept = std::fs::read_to_string(&kept_path)
        .map(|text| body_of(&text))
        .unwrap_or_default();
    Ok(similar::TextDiff::from_lines(&kept, &new)
        .unified_diff()
        .context_radius(2)
        .header(&kept_path.display().to_string(), &pending.display().to_string())
        .to_string())
}

/// Accepts a pending snapshot: it becomes the kept one.
pub fn accept(pending: &Path) -> std::io::Result<()> {
    std::fs::rename(pending, pending.to_string_lossy().trim_end_matches(".new"))
}

/// A snapshot file's contents without insta's header.
fn body_of(text: &str) -> String {
    text.strip_prefix("---\n")
        .and_then(|rest| rest.split_once("\n---\n"))
        .map_or_else(|| text.to_owned(), |(_, body)| body.to_owned())
}

/// Renders `outcome` as the body of its insta snapshot, byte for byte as the test suite writes it.
pub fn render(outcome: &Outcome) -> String {
    // insta's own serializer, the one `assert_yaml_snapshot!` calls. It is hidden from insta's
    // docs, but Cargo.lock pins the version, so a change breaks the build rather than the check.
    insta::_macro_support::serialize_value(outcome, insta::_macro_support::SerializationFormat::Yaml)
}

/// Compares a simulated outcome with `directory/<id>.snap`.
pub fn compare_simulated(directory: &Path, outcome: &Outcome) -> Comparison {
    let path = path_for(directory, &outcome.id);
    if !path.is_file() {
        return Comparison::Missing(path);
    }
    let kept = match Snapshot::from_file(&path) {
        Ok(snapshot) => snapshot,
        Err(error) => return Comparison::Differs(path, vec![format!("unreadable: {error}")]),
    };
    let Some(kept) = kept.as_text() else {
        return Comparison::Differs(path, vec!["not a text snapshot".into()]);
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
    Comparison::Differs(path, diff.lines().map(str::to_owned).collect())
}

/// Compares a live outcome, redacted, with `directory/<id>.json` as saved by `--save`.
pub fn compare_live(directory: &Path, outcome: &Outcome) -> Comparison {
    let path = drift::path_for(directory, &outcome.id);
    let kept = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Comparison::Missing(path),
        Err(error) => return Comparison::Differs(path, vec![error.to_string()]),
    };
    let kept: serde_json::Value = match serde_json::from_str(&kept) {
        Ok(value) => value,
        Err(error) => return Comparison::Differs(path, vec![format!("not JSON: {error}")]),
    };
    let differences = drift::differences_between(("kept", &kept), ("now", &drift::redact(outcome)));
    if differences.is_empty() {
        Comparison::Matches
    } else {
        Comparison::Differs(path, differences)
    }
}

/// With `--check-snapshots` the snapshot is an expectation too (docs/scenarios.md: a case's snapshot
/// is its expectation when it states none): a missing or different snapshot makes the case unmet.
pub fn apply(outcome: &mut Outcome, comparison: Comparison) {
    let mismatch = match comparison {
        Comparison::Matches => return,
        Comparison::Missing(path) => format!(
            "snapshot: none is kept at {} (`mailscope run --update-snapshots` writes one to review)",
            path.display()
        ),
        Comparison::Differs(path, lines) => {
            format!("snapshot differs from {}:\n{}", path.display(), lines.join("\n"))
        }
    };
    outcome.mismatches.push(mismatch);
    outcome.expectation = Expectation::Unmet;
}
