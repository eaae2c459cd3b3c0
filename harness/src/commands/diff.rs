//! `mailscope diff`: saved live outcomes against the simulation, case by case (the drift report).

use std::path::PathBuf;
use std::process::ExitCode;

use mailscope::target::Target;

use crate::commands::run::{find_case, load_all};
use crate::{EXIT_UNMET, EXIT_USAGE, eprint_line, print_line, runtime};

#[derive(Debug, clap::Args)]
pub(crate) struct DiffArgs {
    /// Outcomes saved by `mailscope run --target live --save DIR`.
    saved: PathBuf,
    /// Scenario files or directories: the ones the live run was given. Each of their cases needs a
    /// saved outcome.
    /// (Default: `mailscope.toml`'s `scenarios`, else ./scenarios.)
    paths: Vec<PathBuf>,
}

pub(crate) fn diff(args: DiffArgs) -> ExitCode {
    let saved = match mailscope::drift::load_saved(&args.saved) {
        Ok(saved) => saved,
        Err(error) => {
            eprint_line(&format!("error: {}: {error}", args.saved.display()));
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let project = match crate::commands::run::project() {
        Ok(project) => project,
        Err(status) => return status,
    };
    let paths = crate::commands::run::default_paths(args.paths.clone(), project.as_ref());
    let scenarios = match load_all(&paths) {
        Ok(scenarios) => scenarios,
        Err(status) => return status,
    };
    let Some(runtime) = runtime() else {
        return ExitCode::from(EXIT_USAGE);
    };
    let mut drifted = 0;
    let mut same = 0;
    let mut missing = 0;
    let mut extra = 0;
    // Every case of the scenario files needs a saved outcome: a result deleted or never saved is
    // drift too, named, or a partial live run would pass as a clean one.
    for scenario in &scenarios {
        for case in &scenario.cases {
            if !saved.iter().any(|(id, _)| *id == case.id) {
                print_line(&crate::paint(&format!(
                    "MISSING {}: no live outcome was saved",
                    case.id
                )));
                missing += 1;
            }
        }
    }
    for (id, live) in &saved {
        if live.get("skipped").is_some_and(|reason| !reason.is_null()) {
            print_line(&format!("skip  {id}: not run live"));
            continue;
        }
        let Some((scenario, case)) = find_case(&scenarios, id) else {
            print_line(&crate::paint(&format!(
                "EXTRA {id}: a saved outcome with no such case in the scenario files"
            )));
            extra += 1;
            continue;
        };
        let simulated =
            match runtime.block_on(mailscope::runner::run_case(&Target::Simulated, scenario, case)) {
                Ok(outcome) => mailscope::drift::redact(&outcome),
                Err(error) => {
                    print_line(&format!("ERROR {id}: {}", error.message));
                    drifted += 1;
                    continue;
                }
            };
        let differences = mailscope::drift::differences(live, &simulated);
        if differences.is_empty() {
            same += 1;
            print_line(&format!("same  {id}"));
        } else {
            drifted += 1;
            print_line(&crate::paint(&format!("DRIFT {id}")));
            for difference in differences {
                print_line(&format!("      - {difference}"));
            }
        }
    }
    print_line(&format!(
        "{same} same, {} drifted ({missing} missing, {extra} extra)",
        drifted + missing + extra
    ));
    if drifted + missing + extra == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_UNMET)
    }
}
