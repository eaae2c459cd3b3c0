//! Loading scenario files: parsing, checking, merging `[defaults]` into each case, expanding
//! `[matrix]`, and naming cases. Any problem is reported as `path:line:column: what is wrong`.

use std::collections::BTreeSet;
use std::ops::Range;
use std::path::{Path, PathBuf};

use super::file_error::line_and_column;
pub use super::file_error::{ScenarioError, error_at, toml_error};
use super::request::Request;
use super::types::{
    CaseSpec, Endpoint, Expect, Flow, Matrix, ProbeResult, ProbeSpec, Protocol, ScenarioFile,
};

/// A loaded scenario: its file's metadata and directory changes, and its cases.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Where it was read from.
    pub path: PathBuf,
    /// The file as written (title, source, tags, directory changes).
    pub file: ScenarioFile,
    /// The cases, in file order, matrix cases last.
    pub cases: Vec<Case>,
}

/// One case, `[defaults]` merged in.
#[derive(Debug, Clone)]
pub struct Case {
    /// `<path-under-scenarios>/<case-name>`: names the snapshot.
    pub id: String,
    /// The case's name.
    pub name: String,
    /// What it asks the identity platform for.
    pub request: Request,
    /// The mail protocols to try.
    pub probes: Vec<ProbeSpec>,
    /// What must hold, if anything.
    pub expect: Option<Expect>,
}

/// Finds every `.toml` file under `paths` (files are taken as given), sorted. Each file is found
/// once, however many symbolic links lead to it, and a link back up the tree is not followed.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ScenarioError> {
    let mut found = BTreeSet::new();
    let mut seen = Seen::default();
    for path in paths {
        if path.is_dir() {
            walk(path, &mut found, &mut seen)?;
        } else if path.is_file() {
            if seen
                .files
                .insert(path.canonicalize().unwrap_or_else(|_| path.clone()))
            {
                found.insert(path.clone());
            }
        } else {
            return Err(ScenarioError {
                path: path.clone(),
                line: 0,
                column: 0,
                message: "no such file or directory".into(),
            });
        }
    }
    Ok(found.into_iter().collect())
}

/// Directories and files already found, by canonical path.
#[derive(Debug, Default)]
struct Seen {
    directories: std::collections::HashSet<PathBuf>,
    files: std::collections::HashSet<PathBuf>,
}

fn walk(directory: &Path, found: &mut BTreeSet<PathBuf>, seen: &mut Seen) -> Result<(), ScenarioError> {
    let canonical = directory.canonicalize().unwrap_or_else(|_| directory.to_owned());
    if !seen.directories.insert(canonical) {
        return Ok(());
    }
    let entries = std::fs::read_dir(directory).map_err(|error| ScenarioError {
        path: directory.to_owned(),
        line: 0,
        column: 0,
        message: format!("cannot read the directory: {error}"),
    })?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, found, seen)?;
        } else if path.extension().is_some_and(|extension| extension == "toml")
            && seen
                .files
                .insert(path.canonicalize().unwrap_or_else(|_| path.clone()))
        {
            found.insert(path);
        }
    }
    Ok(())
}

/// The most cases one scenario file may hold, `[matrix]` expansion included.
pub const MAX_CASES_PER_FILE: usize = 100_000;

/// Reads and parses the scenario file at `path`.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let bytes = std::fs::read(path).map_err(|error| ScenarioError {
        path: path.to_owned(),
        line: 0,
        column: 0,
        message: format!("cannot read the file: {error}"),
    })?;
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => {
            // TOML is UTF-8: say where the first byte that is not is.
            let at = error.utf8_error().valid_up_to();
            let valid = std::str::from_utf8(&error.as_bytes()[..at]).unwrap_or_default();
            let (line, column) = line_and_column(valid, valid.len());
            return Err(ScenarioError {
                path: path.to_owned(),
                line,
                column,
                message: format!(
                    "byte 0x{:02x} is not UTF-8; a scenario file is UTF-8 text",
                    error.as_bytes()[at]
                ),
            });
        }
    };
    parse(path, &text)
}

/// How many cases `matrix` expands to (`None`: more than fit a `usize`).
fn matrix_size(matrix: &Matrix) -> Option<usize> {
    [
        matrix.scopes.as_ref().map(Vec::len),
        matrix.initial_scopes.as_ref().map(Vec::len),
        matrix.flow.as_ref().map(Vec::len),
        matrix.endpoint.as_ref().map(Vec::len),
        matrix.probes.as_ref().map(Vec::len),
    ]
    .into_iter()
    .flatten()
    .try_fold(1usize, usize::checked_mul)
}

/// `scopes 100 × flow 5`.
fn matrix_axes(matrix: &Matrix) -> String {
    [
        ("scopes", matrix.scopes.as_ref().map(Vec::len)),
        ("initial_scopes", matrix.initial_scopes.as_ref().map(Vec::len)),
        ("flow", matrix.flow.as_ref().map(Vec::len)),
        ("endpoint", matrix.endpoint.as_ref().map(Vec::len)),
        ("probes", matrix.probes.as_ref().map(Vec::len)),
    ]
    .into_iter()
    .filter_map(|(key, length)| length.map(|length| format!("{key} {length}")))
    .collect::<Vec<_>>()
    .join(" × ")
}

/// Parses scenario `text` read from `path`.
pub fn parse(path: &Path, text: &str) -> Result<Scenario, ScenarioError> {
    let at = |span: Range<usize>, message: String| error_at(path, text, span, message);
    let file: ScenarioFile = toml::from_str(text).map_err(|error| toml_error(path, text, &error))?;

    if let Some(name) = &file.defaults.name {
        return Err(at(
            name.span(),
            "[defaults] cannot set `name`: each [[case]] names itself".into(),
        ));
    }
    if let Some(name) = &file.app.name
        && !super::directory::is_known_app(name.get_ref())
    {
        return Err(at(
            name.span(),
            format!(
                "unknown app `{}`: the directory has `mail-client` and `mail-daemon`",
                name.get_ref()
            ),
        ));
    }
    if file.cases.is_empty() && file.matrix.is_none() {
        return Err(at(
            0..0,
            "a scenario needs at least one [[case]] or a [matrix]".into(),
        ));
    }

    let prefix = case_id_prefix(path);
    let mut names = BTreeSet::new();
    let mut cases = Vec::new();
    for spec in &file.cases {
        let Some(name) = &spec.get_ref().name else {
            return Err(at(spec.span(), "this [[case]] has no `name`".into()));
        };
        let valid = !name.get_ref().is_empty()
            && name
                .get_ref()
                .bytes()
                .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-');
        if !valid {
            return Err(at(
                name.span(),
                format!("case name `{}` may use only a-z, 0-9 and -", name.get_ref()),
            ));
        }
        if !names.insert(name.get_ref().clone()) {
            return Err(at(
                name.span(),
                format!("duplicate case name `{}`", name.get_ref()),
            ));
        }
        let merged = merge(&file.defaults, spec.get_ref());
        let case = finish(&prefix, name.get_ref(), merged).map_err(|message| at(spec.span(), message))?;
        cases.push(case);
    }
    if let Some(matrix) = &file.matrix {
        // Counted before anything is expanded: a few lines of TOML can ask for millions.
        let size = matrix_size(matrix.get_ref());
        if size.is_none_or(|size| size + cases.len() > MAX_CASES_PER_FILE) {
            return Err(at(
                matrix.span(),
                format!(
                    "the matrix expands to {} cases ({}); a file may hold at most {MAX_CASES_PER_FILE}: split it into several files",
                    size.map_or_else(|| "more than 2^64".to_owned(), |size| size.to_string()),
                    matrix_axes(matrix.get_ref()),
                ),
            ));
        }
        for (name, spec) in expand(&file.defaults, matrix.get_ref()) {
            if !names.insert(name.clone()) {
                return Err(at(
                    matrix.span(),
                    format!("matrix case `{name}` has the name of a [[case]]"),
                ));
            }
            let case = finish(&prefix, &name, spec).map_err(|message| at(matrix.span(), message))?;
            cases.push(case);
        }
    }
    // The cases are built: their specs as written are not kept (a suite of thousands of cases
    // would hold each twice).
    let mut file = file;
    file.cases = Vec::new();
    file.matrix = None;
    file.defaults = CaseSpec::default();
    Ok(Scenario {
        path: path.to_owned(),
        file,
        cases,
    })
}

/// Returns `seed/graph-scope-added` for `…/scenarios/seed/graph-scope-added.toml`, and the file
/// stem for a file outside a `scenarios` directory.
pub fn case_id_prefix(path: &Path) -> String {
    let without_extension = path.with_extension("");
    let components: Vec<String> = without_extension
        .components()
        .map(|component| component.as_os_str().to_string_lossy().into_owned())
        .collect();
    match components.iter().rposition(|component| component == "scenarios") {
        Some(index) if index + 1 < components.len() => components[index + 1..].join("/"),
        _ => components.last().cloned().unwrap_or_default(),
    }
}

fn merge(defaults: &CaseSpec, case: &CaseSpec) -> CaseSpec {
    let expect = match (&defaults.expect, &case.expect) {
        (Some(base), Some(over)) => Some(Expect {
            token: match (&base.token, &over.token) {
                (Some(base), Some(over)) => Some(super::types::ExpectToken {
                    aud: over.aud.clone().or_else(|| base.aud.clone()),
                    scp: over.scp.clone().or_else(|| base.scp.clone()),
                    roles: over.roles.clone().or_else(|| base.roles.clone()),
                    ver: over.ver.clone().or_else(|| base.ver.clone()),
                    error: over.error.clone().or_else(|| base.error.clone()),
                }),
                (base, over) => over.clone().or_else(|| base.clone()),
            },
            smtp: over.smtp.clone().or_else(|| base.smtp.clone()),
            imap: over.imap.clone().or_else(|| base.imap.clone()),
            pop3: over.pop3.clone().or_else(|| base.pop3.clone()),
        }),
        (base, over) => over.clone().or_else(|| base.clone()),
    };
    CaseSpec {
        name: case.name.clone(),
        flow: case.flow.or(defaults.flow),
        scopes: case.scopes.clone().or_else(|| defaults.scopes.clone()),
        initial_scopes: case
            .initial_scopes
            .clone()
            .or_else(|| defaults.initial_scopes.clone()),
        authorize_scopes: case
            .authorize_scopes
            .clone()
            .or_else(|| defaults.authorize_scopes.clone()),
        endpoint: case.endpoint.or(defaults.endpoint),
        refresh_after_days: case.refresh_after_days.or(defaults.refresh_after_days),
        refresh_endpoint: case.refresh_endpoint.or(defaults.refresh_endpoint),
        admin_consent: case
            .admin_consent
            .clone()
            .or_else(|| defaults.admin_consent.clone()),
        resource: case.resource.clone().or_else(|| defaults.resource.clone()),
        probes: case.probes.clone().or_else(|| defaults.probes.clone()),
        expect,
    }
}

/// Every combination of the matrix's values, each starting from `[defaults]`, without `expect`.
fn expand(defaults: &CaseSpec, matrix: &Matrix) -> Vec<(String, CaseSpec)> {
    let mut combinations: Vec<(String, CaseSpec)> = vec![(
        String::new(),
        CaseSpec {
            expect: None,
            ..defaults.clone()
        },
    )];
    fn axis<T: Clone>(
        combinations: Vec<(String, CaseSpec)>,
        key: &str,
        values: &Option<Vec<T>>,
        set: impl Fn(&mut CaseSpec, T),
    ) -> Vec<(String, CaseSpec)> {
        let Some(values) = values else {
            return combinations;
        };
        let mut next = Vec::new();
        for (name, spec) in combinations {
            for (index, value) in values.iter().enumerate() {
                let mut spec = spec.clone();
                set(&mut spec, value.clone());
                let name = if name.is_empty() {
                    format!("{key}-{index}")
                } else {
                    format!("{name}-{key}-{index}")
                };
                next.push((name, spec));
            }
        }
        next
    }
    combinations = axis(combinations, "scopes", &matrix.scopes, |spec, value| {
        spec.scopes = Some(value)
    });
    combinations = axis(
        combinations,
        "initial_scopes",
        &matrix.initial_scopes,
        |spec, value| spec.initial_scopes = Some(value),
    );
    combinations = axis(combinations, "flow", &matrix.flow, |spec, value| {
        spec.flow = Some(value)
    });
    combinations = axis(combinations, "endpoint", &matrix.endpoint, |spec, value| {
        spec.endpoint = Some(value)
    });
    combinations = axis(combinations, "probes", &matrix.probes, |spec, value| {
        spec.probes = Some(value)
    });
    combinations.retain(|(name, _)| !name.is_empty());
    combinations
}

/// Applies defaults and checks the rules that span fields.
fn finish(prefix: &str, name: &str, spec: CaseSpec) -> Result<Case, String> {
    let flow = spec.flow.unwrap_or(Flow::AuthorizationCode);
    // `scopes = []` is a deliberate request without `scope`; no `scopes` key at all is a mistake.
    let scopes_given = spec.scopes.is_some();
    let scopes = spec.scopes.unwrap_or_default();
    if spec.authorize_scopes.is_some() && !matches!(flow, Flow::AuthorizationCode | Flow::RefreshToken) {
        return Err(format!(
            "case `{name}`: `authorize_scopes` applies only to the authorization code and refresh token flows"
        ));
    }
    if spec.admin_consent.as_ref().is_some_and(Vec::is_empty) {
        return Err(format!(
            "case `{name}`: `admin_consent` needs at least one scope, such as \"https://outlook.office365.com/.default\""
        ));
    }
    if spec.resource.is_some() && flow != Flow::Password {
        return Err(format!(
            "case `{name}`: `resource` (the v1.0 token endpoint) applies only to flow = \"password\""
        ));
    }
    if flow == Flow::None {
        for (key, given) in [
            ("initial_scopes", spec.initial_scopes.is_some()),
            ("authorize_scopes", spec.authorize_scopes.is_some()),
            ("admin_consent", spec.admin_consent.is_some()),
            ("resource", spec.resource.is_some()),
            ("refresh_after_days", spec.refresh_after_days.is_some()),
            ("refresh_endpoint", spec.refresh_endpoint.is_some()),
        ] {
            if given {
                return Err(format!(
                    "case `{name}`: `{key}` needs a token request, and flow = \"none\" makes none"
                ));
            }
        }
        if spec.expect.as_ref().is_some_and(|expect| expect.token.is_some()) {
            return Err(format!(
                "case `{name}`: flow = \"none\" requests no token, so `expect.token` cannot hold"
            ));
        }
    }
    if !scopes_given
        && flow != Flow::RefreshToken
        && flow != Flow::None
        && spec.authorize_scopes.is_none()
        && spec.resource.is_none()
    {
        return Err(format!("case `{name}` has no `scopes`"));
    }
    if spec.initial_scopes.is_some() && flow != Flow::RefreshToken {
        return Err(format!(
            "case `{name}`: `initial_scopes` applies only to flow = \"refresh_token\""
        ));
    }
    let probes = spec.probes.unwrap_or_default();
    for probe in &probes {
        if probe.password.is_some() && !probe.mechanism.is_password() {
            return Err(format!(
                "case `{name}`: `password` applies only to mechanism = \"login\" or \"plain\", not \"{}\"",
                probe.mechanism.as_str()
            ));
        }
    }
    if let Some(expect) = &spec.expect {
        for (protocol, expected) in [
            (Protocol::Smtp, &expect.smtp),
            (Protocol::Imap, &expect.imap),
            (Protocol::Pop3, &expect.pop3),
        ] {
            let Some(expected) = expected else { continue };
            if !probes.iter().any(|probe| probe.protocol == protocol) {
                return Err(format!(
                    "case `{name}` expects a {protocol:?} result but has no {protocol:?} probe"
                )
                .to_lowercase());
            }
            // A password probe runs whatever became of the token; an OAuth probe needs one.
            let oauth_only = probes
                .iter()
                .filter(|probe| probe.protocol == protocol)
                .all(|probe| !probe.mechanism.is_password());
            let denied = expect.token.as_ref().is_some_and(|token| token.error.is_some());
            if oauth_only && expected.result != ProbeResult::NotAttempted {
                if denied {
                    return Err(format!(
                        "case `{name}` expects no token (`expect.token.error`), so its probes can only be \"not-attempted\""
                    ));
                }
                if flow == Flow::None {
                    return Err(format!(
                        "case `{name}`: flow = \"none\" requests no token, so its OAuth probes can only be \"not-attempted\""
                    ));
                }
            }
        }
        if let Some(token) = &expect.token
            && token.error.is_some()
            && (token.aud.is_some() || token.scp.is_some() || token.roles.is_some() || token.ver.is_some())
        {
            return Err(format!(
                "case `{name}` expects both a token error and token claims"
            ));
        }
    }
    Ok(Case {
        id: format!("{prefix}/{name}"),
        name: name.to_owned(),
        request: Request {
            flow,
            endpoint: spec.endpoint.unwrap_or(Endpoint::Organizations),
            initial_scopes: spec.initial_scopes,
            authorize_scopes: spec.authorize_scopes,
            scopes,
            refresh_after_days: spec.refresh_after_days,
            refresh_endpoint: spec.refresh_endpoint,
            admin_consent: spec.admin_consent,
            resource: spec.resource,
        },
        probes,
        expect: spec.expect,
    })
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;
