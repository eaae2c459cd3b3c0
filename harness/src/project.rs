//! Where a suite's files are: `mailscope.toml` at a project's root, or conventions from the
//! scenario files' own places, never the current directory alone.
//!
//! `mailscope.toml` (optional):
//!
//! ```toml
//! scenarios = ["scenarios"]   # what `mailscope run` runs when given no path
//! snapshots = "snapshots"     # where snapshots are kept (live ones under snapshots/live)
//! ```
//!
//! Both are relative to the file. Without one, a scenario file under a directory named
//! `scenarios` keeps its snapshots in the sibling `snapshots` directory (this repository's
//! layout); any other scenario file keeps them in a `snapshots` directory beside it.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The file name looked for in the current directory and its parents.
pub const FILE_NAME: &str = "mailscope.toml";

/// A `mailscope.toml`, its paths made absolute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// The file itself.
    pub file: PathBuf,
    /// What `run` runs when given no path.
    pub scenarios: Vec<PathBuf>,
    /// Where snapshots are kept, when the file says.
    pub snapshots: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProjectFile {
    #[serde(default)]
    scenarios: Vec<PathBuf>,
    snapshots: Option<PathBuf>,
}

impl Project {
    /// Finds `mailscope.toml` in `start` or the nearest parent that has one; a wrong file is an
    /// error `path:line:column: what is wrong`.
    pub fn find(start: &Path) -> Result<Option<Self>, String> {
        let Some(file) = start
            .ancestors()
            .map(|directory| directory.join(FILE_NAME))
            .find(|candidate| candidate.is_file())
        else {
            return Ok(None);
        };
        let text = std::fs::read_to_string(&file).map_err(|error| format!("{}: {error}", file.display()))?;
        let parsed: ProjectFile = toml::from_str(&text)
            .map_err(|error| crate::scenario::load::toml_error(&file, &text, &error).to_string())?;
        let root = file.parent().unwrap_or(Path::new(".")).to_owned();
        Ok(Some(Self {
            scenarios: parsed.scenarios.iter().map(|path| root.join(path)).collect(),
            snapshots: parsed.snapshots.map(|path| root.join(path)),
            file,
        }))
    }
}

impl Project {
    /// The project's snapshot directory, for a scenario file inside the project.
    pub fn snapshots_for(&self, scenario_file: &Path) -> Option<PathBuf> {
        let root = self.file.parent()?;
        let absolute = std::path::absolute(scenario_file).ok()?;
        absolute
            .starts_with(root)
            .then(|| self.snapshots.clone())
            .flatten()
    }
}

/// Where the snapshots of the cases of `scenario_file` are kept, when neither `--snapshots` nor
/// `mailscope.toml` says.
pub fn snapshots_beside(scenario_file: &Path) -> PathBuf {
    let absolute = std::path::absolute(scenario_file).unwrap_or_else(|_| scenario_file.to_owned());
    if let Some(scenarios) = absolute
        .ancestors()
        .skip(1)
        .find(|directory| directory.file_name().is_some_and(|name| name == "scenarios"))
    {
        return scenarios.with_file_name("snapshots");
    }
    absolute.parent().unwrap_or(Path::new(".")).join("snapshots")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_sit_beside_a_scenarios_directory_or_the_file() {
        assert_eq!(
            snapshots_beside(Path::new("/repo/scenarios/seed/a.toml")),
            Path::new("/repo/snapshots")
        );
        assert_eq!(
            snapshots_beside(Path::new("/home/me/suite/login.toml")),
            Path::new("/home/me/suite/snapshots")
        );
    }
}
