//! One test per scenario case: run it against the simulated cloud, check its `expect`, then
//! snapshot the whole outcome under `snapshots/<case id>.snap`. Scenario files are discovered at
//! run time, so a new file is picked up without a rebuild.
//!
//! The cases share one runtime and its pool of simulated clouds, reset between cases, as
//! `mailscope run` runs them: `make test` runs this binary in one process.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use libtest_mimic::{Arguments, Failed, Trial};
use mailscope::outcome::Expectation;
use mailscope::runner::run_case;
use mailscope::scenario::{self, Case, Scenario};
use mailscope::target::Target;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the harness crate sits in the workspace")
        .to_owned()
}

fn snapshots() -> PathBuf {
    workspace().join("snapshots")
}

fn load_scenarios() -> Vec<Scenario> {
    let files = scenario::discover(&[workspace().join("scenarios")]).expect("scenarios/ exists");
    files
        .iter()
        .map(|file| scenario::load(file).unwrap_or_else(|error| panic!("{error}")))
        .collect()
}

/// The runtime every case runs on, and the clouds it keeps between cases.
fn runtime_and_target() -> &'static (tokio::runtime::Runtime, Target) {
    static SHARED: std::sync::OnceLock<(tokio::runtime::Runtime, Target)> = std::sync::OnceLock::new();
    SHARED.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime starts");
        (runtime, Target::Pooled(Arc::default()))
    })
}

fn run_and_snapshot(scenario: &Scenario, case: &Case) -> Result<(), Failed> {
    let (runtime, target) = runtime_and_target();
    let outcome = runtime
        .block_on(run_case(target, scenario, case))
        .map_err(|error| error.to_string())?;

    // A readable verdict first; the snapshot diff is for the details.
    if outcome.expectation == Expectation::Unmet {
        return Err(format!("expectations not met:\n  - {}", outcome.mismatches.join("\n  - ")).into());
    }

    let (directory, name) = case.id.rsplit_once('/').expect("case ids are prefix/name");
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(snapshots().join(directory));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_description(scenario.file.title.clone());
    settings.set_input_file(&scenario.path);
    settings.bind(|| insta::assert_yaml_snapshot!(name.to_owned(), &outcome));
    Ok(())
}

/// Every `.snap` under `snapshots/` (live runs aside) belongs to a case that still exists.
fn every_snapshot_has_a_case(case_ids: &BTreeSet<String>) -> Result<(), Failed> {
    let mut orphans = Vec::new();
    let mut stack = vec![snapshots()];
    while let Some(directory) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&directory) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|name| name != "live") {
                    stack.push(path);
                }
                continue;
            }
            let Ok(relative) = path.strip_prefix(snapshots()) else {
                continue;
            };
            let Some(id) = relative.to_str().and_then(|text| text.strip_suffix(".snap")) else {
                continue;
            };
            if !case_ids.contains(id) {
                orphans.push(relative.display().to_string());
            }
        }
    }
    orphans.sort();
    if orphans.is_empty() {
        Ok(())
    } else {
        Err(format!("snapshots without a case (delete them or restore the case): {orphans:?}").into())
    }
}

fn main() {
    let arguments = Arguments::from_args();
    let scenarios: Vec<Arc<Scenario>> = load_scenarios().into_iter().map(Arc::new).collect();
    let case_ids: BTreeSet<String> = scenarios
        .iter()
        .flat_map(|scenario| scenario.cases.iter().map(|case| case.id.clone()))
        .collect();

    let mut trials = vec![Trial::test("every_snapshot_has_a_case", move || {
        every_snapshot_has_a_case(&case_ids)
    })];
    for scenario in &scenarios {
        for case in &scenario.cases {
            let scenario = scenario.clone();
            let case = case.clone();
            trials.push(Trial::test(case.id.clone(), move || {
                run_and_snapshot(&scenario, &case)
            }));
        }
    }
    libtest_mimic::run(&arguments, trials).exit();
}
