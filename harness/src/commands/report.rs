//! `mailscope report CASE_ID`: runs one case and prints its Markdown bug report, to attach to a
//! Microsoft support case or a mail client's issue tracker as it is.

use std::path::PathBuf;
use std::process::ExitCode;

use mailscope::outcome::Expectation;

use crate::commands::run::{TargetArg, find_case, load_all, target_of};
use crate::{EXIT_UNMET, EXIT_USAGE, eprint_line, print_line, runtime};

#[derive(Debug, clap::Args)]
pub(crate) struct ReportArgs {
    /// The case id, as `mailscope run` prints it (`seed/graph-scope-added/graph-scope-first`).
    case_id: String,
    /// Scenario files or directories holding the case.
    /// (Default: `mailscope.toml`'s `scenarios`, else ./scenarios.)
    paths: Vec<PathBuf>,
    /// Where to run.
    #[arg(long, value_enum, default_value_t = TargetArg::Simulated)]
    target: TargetArg,
    /// The live tenant's configuration (with `--target live`).
    #[arg(long, value_name = "FILE")]
    live_config: Option<PathBuf>,
}

pub(crate) fn report(args: ReportArgs) -> ExitCode {
    let target = match target_of(args.target, args.live_config.as_deref()) {
        Ok(target) => target,
        Err(status) => return status,
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
    let Some((scenario, case)) = find_case(&scenarios, &args.case_id) else {
        eprint_line(&format!(
            "error: no case `{}` under the given paths (`mailscope run` prints every case id)",
            args.case_id
        ));
        return ExitCode::from(EXIT_USAGE);
    };
    let Some(runtime) = runtime() else {
        return ExitCode::from(EXIT_USAGE);
    };
    match runtime.block_on(mailscope::runner::run_case(&target, scenario, case)) {
        Ok(outcome) => {
            let decisions =
                runtime.block_on(mailscope::report::markdown::reasoning(scenario, case, &outcome));
            print_line(&mailscope::report::markdown::render(
                scenario, &outcome, &decisions,
            ));
            if outcome.expectation == Expectation::Unmet {
                ExitCode::from(EXIT_UNMET)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(error) => {
            eprint_line(&format!("error: {error}"));
            ExitCode::from(EXIT_UNMET)
        }
    }
}
