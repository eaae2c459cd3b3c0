//! Helpers shared by the CLI test binaries: the binary run from the workspace, its output, and
//! scenario files written to a test's own directory.

#![allow(dead_code, reason = "each test binary uses a different part of these helpers")]
#![expect(clippy::unwrap_used, reason = "test helpers fail the test by panicking")]

pub(crate) mod live;
pub(crate) mod serve;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The top of a minimal scenario file.
pub(crate) const HEADER: &str = "title = \"t\"\nsource = \"s\"\n";

pub(crate) fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

pub(crate) fn mailscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mailscope"))
        .args(args)
        .current_dir(workspace())
        .output()
        .expect("the binary runs")
}

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Writes `text` to a fresh directory of this test and returns the file's path.
pub(crate) fn scenario_file(test: &str, name: &str, text: &str) -> PathBuf {
    let directory = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli").join(test);
    let _ = std::fs::remove_dir_all(&directory);
    std::fs::create_dir_all(&directory).unwrap();
    let path = directory.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

pub(crate) fn seed_case_count() -> usize {
    let files = mailscope::scenario::discover(&[workspace().join("scenarios/seed")]).unwrap();
    files
        .iter()
        .map(|file| mailscope::scenario::load(file).unwrap().cases.len())
        .sum()
}

/// The Python the tests drive: `$MAILSCOPE_PYTHON`, else the virtual environment
/// `scripts/prerequisites` makes under `target/python`, else `python3`.
pub(crate) fn python() -> Command {
    let program = std::env::var_os("MAILSCOPE_PYTHON")
        .map(PathBuf::from)
        .or_else(|| {
            let venv = workspace().join("target/python/bin/python");
            venv.is_file().then_some(venv)
        })
        .unwrap_or_else(|| PathBuf::from("python3"));
    Command::new(program)
}

/// Every file under `directory`.
pub(crate) fn walk(directory: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(directory).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}
